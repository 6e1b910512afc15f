"""``grouped`` finds runs of keys without grouping when it can; the answer is the grouping's."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench.summaries import tally


def _by_grouping(batch, keys, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(tally, "_runs", lambda *_: None)
        return tally.grouped(batch, keys)


def _batches():
    rng = np.random.default_rng(7)
    t0 = np.datetime64("2026-03-01T00:00:00")
    for n, runs in [(1, 1), (5, 1), (1_000, 1), (1_000, 7), (997, 40), (3_001, 300)]:
        cuts = np.sort(rng.choice(np.arange(1, n), size=min(runs, n) - 1, replace=False)) if runs > 1 else []
        run = np.zeros(n, dtype=np.int64)
        for c in cuts:
            run[c:] += 1
        bucket = (t0 + run.astype("timedelta64[h]")).astype("datetime64[us]")
        version = np.where(rng.random(n) < 0.5, "1.0", "2.0")
        version = np.array([version[np.flatnonzero(run == r)[0]] for r in run])  # one version per run
        yield pl.DataFrame({"bucket": bucket, "model_version": version, "route": ["primary"] * n})


@pytest.mark.parametrize("case", range(6))
def test_runs_equal_the_grouping(case, monkeypatch):
    batch = list(_batches())[case]
    keys = ["bucket", "model_version", "route"]
    variants = [batch,
                # keys that come back after another key: not runs, grouped
                batch.with_columns(pl.Series("model_version", np.where(np.arange(batch.height) % 3 == 0, "1.0", "2.0"))),
                # null keys, at the start and in runs
                batch.with_columns(pl.when(pl.int_range(pl.len()) < batch.height // 2).then(None)
                                   .otherwise(pl.col("route")).alias("route")),
                batch.with_columns(pl.lit(None, dtype=pl.String).alias("route")),
                batch.reverse()]
    for b in variants:
        got, want = tally.grouped(b, keys), _by_grouping(b, keys, monkeypatch)
        assert got[0].equals(want[0])
        assert (got[1] is None) == (want[1] is None)
        if got[1] is not None:
            assert np.array_equal(got[1], want[1])
        assert np.array_equal(got[2], want[2]) and got[2].dtype == want[2].dtype
        assert np.array_equal(got[3], want[3]) and got[3].dtype == want[3].dtype


def test_a_key_that_comes_back_is_one_group():
    batch = pl.DataFrame({"k": ["a", "a", "b", "b", "a"], "v": [1, 2, 3, 4, 5]})
    groups, order, starts, gid = tally.grouped(batch, ["k"])
    assert groups["k"].to_list() == ["a", "b"]
    assert order.tolist() == [0, 1, 4, 2, 3] and starts.tolist() == [0, 3] and gid.tolist() == [0, 0, 1, 1, 0]
    assert tally._runs(batch, ["k"]) is None


def test_empty_batch():
    batch = pl.DataFrame(schema={"k": pl.String})
    groups, order, starts, gid = tally.grouped(batch, ["k"])
    assert groups.height == 0 and order is None and len(starts) == 0 and len(gid) == 0
