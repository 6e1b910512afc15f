"""Stable samples: the same rows whatever order they arrive in, by a hash of the key."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.lake.sampling import stable_sample


def _frame(n: int, prefix: str = "r") -> pl.DataFrame:
    return pl.DataFrame({"request_id": [f"{prefix}{i:05d}" for i in range(n)], "x": list(range(n)),
                         "emb": [[float(i), 1.0] for i in range(n)]})


@pytest.mark.parametrize(("n", "k", "seed"), [(1_000, 25, 0), (5_000, 400, 3), (300, 299, 11)])
def test_same_rows_whatever_the_order(n, k, seed):
    df = _frame(n)
    a = stable_sample(df, k, seed=seed)
    for order in (df.reverse(), df.sample(fraction=1.0, shuffle=True, seed=seed + 1),
                  pl.concat([df.slice(n // 2), df.slice(0, n // 2)])):
        assert stable_sample(order, k, seed=seed).equals(a)
        assert stable_sample(order.lazy(), k, seed=seed).equals(a)
    assert a.height == k and a["request_id"].n_unique() == k


def test_seed_changes_the_sample_and_small_frames_come_back_whole():
    df = _frame(2_000)
    assert set(stable_sample(df, 50, seed=1)["request_id"]) != set(stable_sample(df, 50, seed=2)["request_id"])
    assert set(stable_sample(df, 5_000)["request_id"]) == set(df["request_id"])
    assert stable_sample(df, 0).height == 0


def test_a_sample_is_spread_over_the_frame_not_its_head():
    df = _frame(10_000)
    x = stable_sample(df, 500)["x"]
    assert 3_500 < x.mean() < 6_500 and x.min() < 500 and x.max() > 9_500


def test_without_the_key_whole_rows_are_hashed():
    df = _frame(800).drop("request_id")
    a = stable_sample(df, 30)
    assert stable_sample(df.reverse(), 30).equals(a)
    assert a.columns == df.columns


def test_a_larger_sample_extends_a_smaller_one():
    df = _frame(3_000)
    small, big = stable_sample(df, 20, seed=5), stable_sample(df, 60, seed=5)
    assert big.head(20).equals(small)
