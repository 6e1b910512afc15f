"""Spark and polars give the same summaries of the same lake: counts exactly, float sums to
rounding, bins identical when the edges are given, quantile edges within the stated error."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench.lake import open_lake
from workbench.spark import QUANTILE_ERROR
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


@pytest.fixture(scope="module", params=["parquet", "csv"])
def lakes(request, tmp_path_factory, spark):
    path = tmp_path_factory.mktemp(f"spark-{request.param}") / "lake"
    generate_lake(path, cause="data_drift", seed=41, rows=6_000, days=7, n_numeric=3, n_categorical=2,
                  fmt=request.param)
    return open_lake(path, mask_key="k"), open_lake(path, mask_key="k", engine="spark", spark=spark)


def assert_same_frame(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.schema == b.schema
    assert a.height == b.height
    for c in a.columns:
        x, y = a[c], b[c]
        if x.dtype.is_float():
            assert np.allclose(x.to_numpy(), y.to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True), c
        else:
            assert x.equals(y), c


def test_summaries_are_equal_on_the_same_bins(lakes):
    lp, ls = lakes
    b = fit_lake_binning(lp)
    seg = lp.segments[:1] or None
    sp = summarize(lp, b, bucket="1h", segment=seg)
    ss = summarize(ls, b, bucket="1h", segment=seg)
    assert ss.keys == sp.keys and ss.rows == sp.rows > 0
    assert_same_frame(sp.table, ss.table)
    assert_same_frame(sp.latency, ss.latency)
    assert_same_frame(sp.confusion, ss.confusion)
    # and they merge: a Spark summary of one half plus a polars summary of the other is the whole
    lo, hi = lp.time_range()
    mid = lo + (hi - lo) / 2
    merged = summarize(ls, b, end=mid, segment=seg) + summarize(lp, b, start=mid, segment=seg)
    assert_same_frame(sp.table, merged.table)


def test_spark_binning_within_the_stated_error(lakes):
    lp, ls = lakes
    lo, hi = lp.time_range()
    end = lo + (hi - lo) / 2
    bp, bs = fit_lake_binning(lp, end=end), fit_lake_binning(ls, end=end)
    assert bs.categorical == bp.categorical and bs.seen == bp.seen and bs.rows == bp.rows
    assert bs.meta["quantile_relative_error"] == QUANTILE_ERROR
    base = lp.predictions(list(lp.numeric_features) + ["timestamp"]).filter(pl.col("timestamp") < end).collect()
    qs = np.arange(1, 20) / 20
    for f in lp.numeric_features:
        x = np.sort(base[f].drop_nulls().to_numpy())
        x = x[np.isfinite(x)]
        n = len(x)
        assert bs.numeric[f] == sorted(set(bs.numeric[f]))
        for e in bs.numeric[f]:
            lo_rank, hi_rank = np.searchsorted(x, e, "left") / n, np.searchsorted(x, e, "right") / n
            # some target quantile q has this edge between ranks (q ± error) × n (+ one value)
            assert any(lo_rank - QUANTILE_ERROR - 1 / n <= q <= hi_rank + QUANTILE_ERROR + 1 / n for q in qs), (f, e)
        # every target quantile is represented (ties merge edges, never lose a quantile's place)
        got = np.array(bs.numeric[f])
        for q in qs:
            v = x[min(n - 1, int(q * n))]
            assert np.any(np.isclose(got, v) | ((np.searchsorted(x, got, "left") / n <= q + QUANTILE_ERROR + 1 / n)
                                              & (np.searchsorted(x, got, "right") / n >= q - QUANTILE_ERROR - 1 / n)))


def test_masked_values_are_identical(lakes):
    lp, ls = lakes
    cols = ["request_id", *lp.sensitive]
    assert lp.sensitive
    polars_rows = lp.predictions(cols).collect().sort("request_id")
    spark_rows = ls.spark_lake.to_polars(ls.spark_lake.predictions(cols)).sort("request_id")
    assert polars_rows.equals(spark_rows)
    assert polars_rows[lp.sensitive[0]].drop_nulls().str.starts_with("anon:").all()
