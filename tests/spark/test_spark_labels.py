"""Spark picks each request's label by the lake's rule (latest time; ties: a valid label, then the
greatest; a missing time older than any), the same one polars' ``latest_labels`` picks."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench.lake import open_lake
from workbench.lake.tables import latest_labels
from workbench.synthetic import generate_lake

T0 = dt.datetime(2026, 3, 3, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module", params=["int", "float"])
def tied_lake(request, tmp_path_factory):
    """A generated lake whose labels are replaced by relabels with tied, missing and invalid
    times and labels."""
    path = tmp_path_factory.mktemp("labels") / "lake"
    generate_lake(path, cause="none", seed=5, rows=3_000, days=7, n_numeric=2, n_categorical=1)
    ids = pl.read_parquet(path / "predictions").get_column("request_id").unique().sort()
    rng = np.random.default_rng(11)
    n = len(ids)
    rows = []
    for k in range(3):  # up to three labels per id
        take = rng.random(n) < (1.0, 0.6, 0.4)[k]
        m = int(take.sum())
        minutes = rng.integers(0, 3, m)  # few distinct times: many ties
        when = [None if r < 0.1 else T0 + dt.timedelta(minutes=int(x)) for r, x in zip(rng.random(m), minutes)]
        if request.param == "int":
            label = pl.Series(rng.integers(0, 3, m), dtype=pl.Int64)
            label = pl.Series([None if r < 0.08 else v for r, v in zip(rng.random(m), label.to_list())], dtype=pl.Int64)
        else:
            choices = np.array([0.0, 1.0, 2.5, np.nan, np.inf, -np.inf])
            label = pl.Series(choices[rng.integers(0, len(choices), m)])
            label = pl.Series([None if r < 0.08 else v for r, v in zip(rng.random(m), label.to_list())], dtype=pl.Float64)
        rows.append(pl.DataFrame({"request_id": ids.filter(pl.Series(take)), "label": label,
                                  "labeled_at": pl.Series(when, dtype=pl.Datetime("us", "UTC"))}))
    shutil.rmtree(path / "labels")
    (path / "labels").mkdir()
    for k, df in enumerate(rows):
        df.write_parquet(path / "labels" / f"part-{k}.parquet")
    return path


def test_spark_latest_labels_are_polars(tied_lake, spark):
    want = latest_labels(open_lake(tied_lake, mask_key="k").labels()).collect().sort("request_id")
    lake = open_lake(tied_lake, mask_key="k", engine="spark", spark=spark)
    sl = lake.spark_lake
    got = sl.to_polars(sl.latest_labels(), dict(want.schema)).sort("request_id")
    assert got.height == want.height > 2_000
    assert_frame_equal(got.select(want.columns), want)


def test_importance_rows_are_the_labelled_rows_bounded(tied_lake, spark):
    """The labelled rows permutation importance reads come from Spark: the same rows and labels as
    polars' when they fit the bound, at most the bound (the same each time) when they do not."""
    import types
    from dataclasses import replace

    from workbench.rca.context import Context
    from workbench.rca.thresholds import RCA_THRESHOLDS

    polars_lake = open_lake(tied_lake, mask_key="k")
    if polars_lake.labels().collect_schema()["label"].is_float():
        pytest.skip("one kind of label is enough here")
    spark_lake = open_lake(tied_lake, mask_key="k", engine="spark", spark=spark)
    lo, hi = polars_lake.time_range()

    def rows(lake, n):
        ctx = types.SimpleNamespace(lake=lake, thresholds=replace(RCA_THRESHOLDS, importance_sample_rows=n))
        return Context._labelled_sample(ctx, lo, hi)

    cols = ["request_id", "timestamp", "label", *polars_lake.numeric_features]
    n = RCA_THRESHOLDS.importance_sample_rows  # the default bound, above this lake's rows
    want = rows(polars_lake, n).select(cols).sort("request_id")
    got = rows(spark_lake, n).select(cols).sort("request_id")
    assert want.height > 1_000
    assert_frame_equal(got, want)
    a, b = rows(spark_lake, 300), rows(spark_lake, 300)
    assert a.height == 300 and a.equals(b)
