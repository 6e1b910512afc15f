"""Version comparisons count labelled rows, not rows, before they trust a quality gap (issue 11:
the "enough labels" check counted every row, so a release with thousands of rows and a handful of
labels was compared on noise)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from workbench.evidence import compare_versions
from workbench.rca._versions import RELEASE_QUALITY_THRESHOLDS, _labelled
from workbench.summaries import summarize_frame
from workbench.summaries.binning import fit_binning


def _frame(seed: int, n: int, labelled_b: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2026, 9, 3, tzinfo=dt.timezone.utc)
    v = np.where(np.arange(n) % 2 == 0, "stable", "candidate")
    y = rng.integers(0, 2, n)
    score = np.clip(y * 0.4 + 0.3 + rng.normal(0, 0.2, n), 0, 1)
    label = y.astype(float)
    cand = np.flatnonzero(v == "candidate")
    keep = rng.choice(cand, labelled_b, replace=False)  # the candidate's labels are mostly late
    mask = np.zeros(n, bool)
    mask[v == "stable"] = True
    mask[keep] = True
    return pl.DataFrame({"timestamp": [t0 + dt.timedelta(seconds=20 * i) for i in range(n)], "route": "primary",
                         "model_version": v, "score": score, "prediction": (score > 0.5).astype(int),
                         "label": np.where(mask, label, np.nan)}).with_columns(
        pl.col("label").fill_nan(None).cast(pl.Int64))


@pytest.mark.parametrize(("seed", "n", "labelled_b"), [(3, 8000, 120), (4, 12000, 37), (5, 6000, 199)])
def test_few_labels_on_many_rows_are_not_enough(seed, n, labelled_b):
    df = _frame(seed, n, labelled_b)
    s = summarize_frame(df.lazy(), fit_binning(df.lazy(), numeric=(), categorical=()))
    cmp = compare_versions(s, "stable", "candidate")
    assert cmp.rows["b"] == n // 2 and cmp.rows["labelled_b"] == labelled_b
    assert cmp.rows["labelled_a"] == n // 2
    assert _labelled(cmp) == labelled_b < RELEASE_QUALITY_THRESHOLDS.min_labelled  # rows alone would pass the check
    assert min(cmp.rows["a"], cmp.rows["b"]) >= RELEASE_QUALITY_THRESHOLDS.min_labelled
