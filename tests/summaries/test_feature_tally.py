"""Feature tallies counted in numpy batches equal those of the polars expressions they replaced.

The reference below is the previous engine's code (one boolean sum per bin, one per vocabulary
value), kept verbatim; the data mixes NaN, ±inf, nulls, values on the edges, few distinct values,
integer and float32 columns, unseen categories, segments, several Parquet row groups and rows in
no particular order (groups that are not contiguous in a batch).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench.evidence import detect_drift
from workbench.summaries import Binning, fit_binning, summarize_frame
from workbench.summaries.engine import _key_exprs

START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
NUMERIC = ("f64", "f32", "i64", "i32", "u8", "ties", "onedge", "sparse", "const", "empty")
CATEGORICAL = ("c", "cenum", "ids", "cnull")


def _reference(frame: pl.LazyFrame, binning: Binning, schema: dict, keys: list[str],
               key_prep: list[pl.Expr]) -> pl.DataFrame:
    """The previous engine's feature tallies (workbench/summaries/engine.py before batch tallies)."""
    prep: list[pl.Expr] = []
    aggs: list[pl.Expr] = []
    for f, edges in binning.numeric.items():
        if f not in schema:
            continue
        x = pl.col(f)
        idx = pl.sum_horizontal([(x > e).cast(pl.Int32) for e in edges]) if edges else pl.lit(0, dtype=pl.Int32)
        prep.append(pl.when(x.is_finite()).then(idx).alias(f"__{f}|bin"))
        finite = pl.when(x.is_finite()).then(x)
        aggs += [(x.is_null() | x.is_nan()).sum().alias(f"{f}|null"), x.is_infinite().sum().alias(f"{f}|inf"),
                 finite.sum().alias(f"{f}|sum"),
                 (finite * finite).sum().alias(f"{f}|sumsq"), finite.min().alias(f"{f}|min"),
                 finite.max().alias(f"{f}|max")]
        aggs += [(pl.col(f"__{f}|bin") == i).sum().alias(f"{f}|h{i}") for i in range(len(edges) + 1)]
    for c, vocab in binning.categorical.items():
        if c not in schema:
            continue
        x = pl.col(c).cast(pl.String)
        aggs += [(x == v).sum().alias(f"{c}|v{i}") for i, v in enumerate(vocab)]
        aggs += [(x.is_not_null() & ~x.is_in(vocab)).sum().alias(f"{c}|other"),
                 (x.is_not_null() & ~x.is_in(binning.seen[c])).sum().alias(f"{c}|unseen"),
                 x.is_null().sum().alias(f"{c}|null")]
    table = frame.with_columns(key_prep + prep).group_by(keys).agg(aggs).collect().sort(keys, nulls_last=True)
    counts = [c for c in table.columns if c not in keys and not c.endswith(("|sum", "|sumsq", "|min", "|max"))]
    return table.with_columns(pl.col(counts).cast(pl.Int64))


def _frame(rng: np.random.Generator, n: int, *, shift: float = 0.0, days: int = 4) -> pl.DataFrame:
    t = np.sort(rng.uniform(0, days * 86400, n))
    f64 = rng.normal(10 + shift, 3, n)
    f64[rng.random(n) < 0.03] = np.nan
    f64[rng.random(n) < 0.01] = np.inf
    f64[rng.random(n) < 0.01] = -np.inf
    ties = rng.integers(0, 4, n).astype(float)  # few distinct values: edges merge, values sit on them
    sparse = np.where(rng.random(n) < 0.98, np.nan, rng.normal(0, 1, n))
    cats = np.array(["a", "b", "c", "d", "e", "f"])
    p = np.array([0.35, 0.25, 0.2, 0.1, 0.07, 0.03])
    c = cats[rng.choice(6, n, p=p)].astype(object)
    if shift:
        c[rng.random(n) < 0.1] = "new"  # unseen in the baseline
    c[rng.random(n) < 0.02] = None
    df = pl.DataFrame({
        "timestamp": pl.Series((START.timestamp() + t) * 1e6).cast(pl.Int64).cast(pl.Datetime("us", "UTC")),
        "model_version": rng.choice(["1.0", "1.1"], n),
        "route": pl.Series(rng.choice(["primary", "canary", None], n, p=[0.7, 0.2, 0.1]).tolist(), dtype=pl.String),
        "region": pl.Series(rng.choice(["eu", "us", None], n, p=[0.5, 0.4, 0.1]).tolist(), dtype=pl.String),
        "tier": rng.integers(0, 3, n),
        "f64": f64,
        "f32": pl.Series(rng.lognormal(1 + shift, 0.5, n).astype(np.float32)),
        "i64": pl.Series(np.where(rng.random(n) < 0.05, None, rng.integers(-10**6, 10**6, n)).tolist(),
                         dtype=pl.Int64),
        "i32": pl.Series(rng.integers(0, 50, n), dtype=pl.Int32),
        "u8": pl.Series(rng.integers(0, 255, n), dtype=pl.UInt8),
        "ties": ties,
        "onedge": np.round(rng.normal(0, 1, n), 1),
        "sparse": sparse,
        "const": np.full(n, 7.0),
        "empty": pl.Series([None] * n, dtype=pl.Float64),
        "c": pl.Series(c.tolist(), dtype=pl.String),
        "cenum": pl.Series(cats[rng.choice(6, n, p=p[::-1])].tolist(), dtype=pl.Categorical),
        "ids": [f"id{i}" for i in rng.integers(0, 10**9, n)],
        "cnull": pl.Series([None] * n, dtype=pl.String),
    })
    return df


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """Baseline and window Parquet files (several row groups each); the window's rows shuffled."""
    rng = np.random.default_rng(5)
    root = tmp_path_factory.mktemp("tally")
    base = _frame(rng, 12_000)
    win = _frame(rng, 9_000, shift=0.5).with_columns(pl.col("timestamp") + pl.duration(days=4))
    base.write_parquet(root / "base.parquet", row_group_size=2_500)
    win.sample(fraction=1.0, shuffle=True, seed=1).write_parquet(root / "win.parquet", row_group_size=1_000)
    frame = pl.scan_parquet(root / "*.parquet")
    split = START + dt.timedelta(days=4)
    binning = fit_binning(frame.filter(pl.col("timestamp") < split), numeric=NUMERIC, categorical=CATEGORICAL,
                          n_bins=10, top_k=4)
    return frame, split, binning


@pytest.mark.parametrize("bucket, segment, one_route", [
    ("1d", None, False), ("1h", None, False), ("1d", "region", False), ("6h", ["region", "tier"], False),
    ("1d", "c", False),
    ("1d", None, True), ("1h", None, True)])  # time-ordered rows of one version and route: groups are runs
def test_tallies_equal_the_previous_expressions(lake, bucket, segment, one_route):
    frame, split, binning = lake
    if one_route:
        frame = frame.filter((pl.col("model_version") == "1.0") & (pl.col("route") == "primary")
                             & (pl.col("timestamp") < split))
    schema = dict(frame.collect_schema())
    segs = [segment] if isinstance(segment, str) else list(segment or ())
    keys = ["bucket", "model_version", "route", *segs]
    s = summarize_frame(frame, binning, bucket=bucket, segment=segment, schema=schema)
    ref = _reference(frame, binning, schema, keys, _key_exprs(bucket, segs))
    assert s.table.select(ref.columns).schema == ref.schema
    exact = [c for c in ref.columns if not c.endswith(("|sum", "|sumsq"))]
    assert_frame_equal(s.table.select(exact), ref.select(exact))
    # sums are added in another order: equal to rounding (float32 columns to float32 rounding)
    sums = [c for c in ref.columns if c.endswith(("|sum", "|sumsq"))]
    f32 = [c for c in sums if c.startswith("f32|")]
    assert_frame_equal(s.table.select(sums).drop(f32), ref.select(sums).drop(f32), check_exact=False, rel_tol=1e-12)
    assert_frame_equal(s.table.select(f32), ref.select(f32), check_exact=False, rel_tol=1e-5)
    # the columns keep the order they had: row tallies, then features, then score and label tallies
    assert [c for c in s.table.columns if c in ref.columns] == ref.columns


def test_the_data_exercises_every_case(lake):
    frame, split, binning = lake
    df = frame.collect()
    assert df["f64"].is_nan().sum() and df["f64"].is_infinite().sum() and df["i64"].null_count()
    assert len(binning.numeric["ties"]) < 9  # tied quantiles merged
    assert df["onedge"].is_in(binning.numeric["onedge"]).sum() > 100  # values equal to an edge
    assert binning.numeric["empty"] == [] and binning.numeric["const"] == [7.0]
    assert "ids" in binning.meta["high_cardinality"]
    assert (df.filter(pl.col("timestamp") >= split)["c"] == "new").sum() > 0


@pytest.mark.parametrize("segment", [None, "region"])
def test_drift_is_the_same(lake, segment):
    frame, split, binning = lake
    schema = dict(frame.collect_schema())
    segs = [segment] if segment else []
    keys = ["bucket", "model_version", "route", *segs]
    out = []
    for side in (pl.col("timestamp") < split, pl.col("timestamp") >= split):
        s = summarize_frame(frame.filter(side), binning, bucket="1d", segment=segment, schema=schema)
        ref = _reference(frame.filter(side), binning, schema, keys, _key_exprs("1d", segs))
        out.append((s, replace(s, table=s.table.with_columns(ref.drop(keys)))))
    new = detect_drift(out[0][0], out[1][0]).to_frame()
    old = detect_drift(out[0][1], out[1][1]).to_frame()
    assert new["drifted"].to_list() == old["drifted"].to_list() and new["drifted"].any()
    assert new["reasons"].to_list() == old["reasons"].to_list()
    f32 = pl.col("feature") == "f32"  # its sums are float32: equal to float32 rounding
    assert_frame_equal(new.filter(~f32), old.filter(~f32), check_exact=False, rel_tol=1e-9)
    assert_frame_equal(new.filter(f32), old.filter(f32), check_exact=False, rel_tol=1e-5)


@pytest.mark.parametrize("few_values", [0, 10**9])
def test_categorical_lookups_in_python_or_polars_agree(lake, few_values, monkeypatch):
    """Each batch's distinct categorical values are looked up in Python when they are few, by polars
    otherwise: forced one way and the other, the tallies are the reference's."""
    from workbench.summaries import tally

    monkeypatch.setattr(tally, "_FEW_VALUES", few_values)
    frame, split, binning = lake
    schema = dict(frame.collect_schema())
    keys = ["bucket", "model_version", "route", "region"]
    s = summarize_frame(frame, binning, bucket="1h", segment="region", schema=schema)
    ref = _reference(frame, binning, schema, keys, _key_exprs("1h", ["region"]))
    cats = [c for c in ref.columns if c.startswith(tuple(f"{c}|" for c in CATEGORICAL))]
    assert cats and any(c.endswith("|unseen") for c in cats)
    assert_frame_equal(s.table.select(keys + cats), ref.select(keys + cats))


@pytest.mark.parametrize("groups", [1, 3, 100])  # one group, a few (sliced), many (reduceat)
def test_sums_past_the_float_range_are_inf_without_a_warning(groups):
    """Finite values whose squares (or sums) pass the float range tally as inf, as polars sums them,
    and raise no numpy warning (found by tests/lake/test_fuzz.py: 1.34e154 squared)."""
    import warnings

    from workbench.summaries.tally import _numeric

    n = 300
    x = np.full(n, 1.3407807929942597e154)
    x[::7] = np.nan
    starts = np.arange(0, n, n // groups)[:groups]
    t = _numeric("amount", [0.0, 1e100], pl.Float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nan, inf, total, squares, lo, hi, *bins = t.tally(pl.Series("amount", x), starts)
    assert np.all(np.isinf(squares)) and np.all(np.isfinite(total))
    assert sum(int(v) for v in nan) == int(np.isnan(x).sum())
