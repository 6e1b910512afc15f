"""Bins fitted in one batch pass equal those of the previous two passes (counts, then a
``gather_every`` sample), whatever the batch boundaries."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench.lake.cardinality import is_high_cardinality
from workbench.summaries import fit_binning


def _reference(frame: pl.LazyFrame, *, numeric, categorical, n_bins=20, top_k=20, max_seen=10_000,
               sample_rows=200_000):
    """The previous fit_binning's edges, vocabularies, seen sets and row count (verbatim)."""
    counts = [frame.select(pl.len().alias("__rows"))]
    for c in categorical:
        counts.append(frame.group_by(c).agg(pl.len().alias("n")).filter(pl.col(c).is_not_null())
                      .sort(["n", c], descending=[True, False]))
    res = pl.collect_all(counts, engine="streaming")
    rows = int(res[0]["__rows"][0])
    edges = {}
    if numeric:
        every = max(1, rows // sample_rows)
        sample = frame.select(list(numeric)).gather_every(every).collect(engine="streaming")
        qs = np.linspace(0, 1, n_bins + 1)[1:-1]
        for f in numeric:
            x = sample[f].cast(pl.Float64).to_numpy()
            x = x[np.isfinite(x)]
            edges[f] = sorted({float(v) for v in np.quantile(x, qs)}) if x.size else []
    vocab, seen, high = {}, {}, {}
    for c, df in zip(categorical, res[1:]):
        values = [str(v) for v in df[c].head(max_seen).to_list()]
        vocab[c] = values[:top_k]
        seen[c] = values
        distinct, nonnull = df.height, int(df["n"].sum())
        if is_high_cardinality(distinct, nonnull):
            high[c] = {"distinct": distinct, "rows": nonnull}
            seen[c] = []
    return edges, vocab, seen, rows, high


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(3)
    root = tmp_path_factory.mktemp("bins")
    for part in range(3):
        n = 7_001 + part * 1_000
        x = rng.normal(0, 1, n)
        x[rng.random(n) < 0.05] = np.nan
        x[rng.random(n) < 0.01] = np.inf
        pl.DataFrame({
            "t": np.arange(n) + part * 10**6,
            "x": x,
            "f32": rng.lognormal(0, 1, n).astype(np.float32),
            "k": pl.Series(np.where(rng.random(n) < 0.1, None, rng.integers(0, 30, n)).tolist(), dtype=pl.Int64),
            "ties": rng.integers(0, 3, n).astype(float),
            "empty": pl.Series([None] * n, dtype=pl.Float64),
            # ties in frequency: the vocabulary breaks them by value
            "c": pl.Series(np.repeat(["b", "a", "d", "c", None], n // 5 + 1)[:n].tolist(), dtype=pl.String),
            "ids": [f"id{i}" for i in rng.integers(0, 10**9, n)],
            "code": rng.integers(0, 12, n),  # an integer categorical: ordered as numbers
        }).write_parquet(root / f"p{part}.parquet", row_group_size=1_500)
    return root


@pytest.mark.parametrize("sample_rows", [200_000, 1_000, 777])
def test_bins_equal_the_two_pass_fit(files, sample_rows):
    frame = pl.scan_parquet(files / "*.parquet").filter(pl.col("t") % 7 != 0)
    kw = dict(numeric=("x", "f32", "k", "ties", "empty"), categorical=("c", "ids", "code"), n_bins=10, top_k=5,
              sample_rows=sample_rows)
    b = fit_binning(frame, **kw)
    edges, vocab, seen, rows, high = _reference(frame, **kw)
    assert (b.numeric, b.categorical, b.seen, b.rows, b.meta["high_cardinality"]) == (edges, vocab, seen, rows, high)
    assert b.meta["quantile_sample_every"] == max(1, rows // sample_rows)


def test_an_empty_baseline_gives_empty_bins(files):
    frame = pl.scan_parquet(files / "*.parquet").filter(pl.col("t") < 0)
    b = fit_binning(frame, numeric=("x",), categorical=("c",))
    assert (b.numeric, b.categorical, b.seen, b.rows) == ({"x": []}, {"c": []}, {"c": []}, 0)


@pytest.mark.parametrize("n", [1, 2, 3, 19, 20, 21, 1_000, 200_000])
def test_quantiles_read_off_the_sorted_sample_equal_numpy(n):
    from workbench.summaries.binning import sorted_quantiles

    rng = np.random.default_rng(n)
    qs = np.linspace(0, 1, 21)[1:-1]
    for x in (rng.normal(0, 1, n), rng.lognormal(3, 2, n), rng.integers(0, 4, n).astype(float),
              np.round(rng.normal(0, 1e6, n), 2), np.full(n, 7.5)):
        got, want = sorted_quantiles(np.sort(x), qs), np.quantile(x, qs)
        assert got.tobytes() == want.tobytes()
    for k in (2, 10, 50):
        q = np.linspace(0, 1, k + 1)[1:-1]
        x = rng.standard_t(2, n)
        assert sorted_quantiles(np.sort(x), q).tobytes() == np.quantile(x, q).tobytes()
