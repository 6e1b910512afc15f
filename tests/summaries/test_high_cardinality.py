"""fit_binning: id-like categorical columns are detected and kept out of unseen-code counts."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench.lake.cardinality import HIGH_CARDINALITY_MIN, HIGH_CARDINALITY_SHARE, is_high_cardinality
from workbench.summaries.binning import fit_binning


@pytest.mark.parametrize(("n", "codes"), [(5_000, 30), (40_000, 180), (1_000, 150)])
def test_ordinary_codes_are_not_id_like(n, codes):
    rng = np.random.default_rng(n)
    df = pl.DataFrame({"c": [f"k{v}" for v in rng.integers(0, codes, n)]})
    b = fit_binning(df.lazy(), numeric=(), categorical=("c",))
    assert b.meta["high_cardinality"] == {} and len(b.seen["c"]) <= codes


@pytest.mark.parametrize(("n", "repeat"), [(3_000, 1), (25_000, 1), (9_000, 1.6)])
def test_mostly_distinct_values_are_id_like(n, repeat):
    rng = np.random.default_rng(n)
    k = int(n / repeat)
    df = pl.DataFrame({"ip": [f"10.{v // 65536}.{v // 256 % 256}.{v % 256}" for v in rng.integers(0, k * 50, n)]})
    b = fit_binning(df.lazy(), numeric=(), categorical=("ip",))
    d = b.meta["high_cardinality"]["ip"]
    assert d["rows"] == n and d["distinct"] / n > HIGH_CARDINALITY_SHARE
    assert b.seen["ip"] == []


def test_the_rule_needs_enough_distinct_values():
    assert not is_high_cardinality(HIGH_CARDINALITY_MIN - 1, HIGH_CARDINALITY_MIN - 1)
    assert is_high_cardinality(HIGH_CARDINALITY_MIN, HIGH_CARDINALITY_MIN)
    assert not is_high_cardinality(1_000, 2_001) and is_high_cardinality(1_001, 2_000)
