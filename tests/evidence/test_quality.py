"""Quality from tallies, checked against scikit-learn on the same labelled rows."""

from __future__ import annotations


import numpy as np
import polars as pl
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

import workbench as wb
from workbench.evidence import assess_quality
from workbench.evidence.quality import auc_from_counts, wilson
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("q") / "lake"
    truth = generate_lake(root, cause="retrain_regression", variant=0, rows=60_000, seed=5)
    return wb.open_lake(root, mask_key="k"), truth


def test_metrics_match_sklearn(lake):
    lk, truth = lake
    binning = fit_lake_binning(lk, end=truth.onset)
    res = assess_quality(summarize(lk, binning), by=("model_version",))
    rows = lk.predictions(["model_version", "score", "prediction", "label"], with_labels=True).collect()
    rows = rows.filter(pl.col("label").is_not_null())
    for g in res.groups:
        sub = rows.filter(pl.col("model_version") == g["model_version"])
        y, p = sub["label"].cast(pl.Int64).to_numpy(), sub["score"].to_numpy()
        assert g["labelled"] == sub.height and g["positives"] == y.sum()
        # binned AUC (20 score bins, ties in a bin count half): within 0.01 of the exact AUC
        assert g["auc"] == pytest.approx(roc_auc_score(y, p), abs=0.01)
        assert g["auc_ci"][0] < roc_auc_score(y, p) + 0.01 and g["auc_ci"][1] > roc_auc_score(y, p) - 0.01
        assert g["logloss"] == pytest.approx(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)), rel=1e-9)
        assert g["brier"] == pytest.approx(brier_score_loss(y, p), rel=1e-9)
        acc = accuracy_score(sub["label"].cast(pl.String), sub["prediction"].cast(pl.String))
        assert g["accuracy"] == pytest.approx(acc, rel=1e-12)
        lo, hi = g["accuracy_ci"]
        assert lo < acc < hi
        # ECE on the same 20 bins, computed directly
        bins = np.clip(np.floor(p * 20), 0, 19).astype(int)
        ece = sum(abs(p[bins == i].sum() - y[bins == i].sum()) for i in range(20)) / len(y)
        assert g["ece"] == pytest.approx(ece, rel=1e-9)


def test_retrain_regression_shows_as_a_quality_drop(lake):
    lk, truth = lake
    binning = fit_lake_binning(lk, end=truth.onset)
    res = assess_quality(summarize(lk, binning), by=("model_version",))
    q = {g["model_version"]: g for g in res.groups}
    bad = q[truth.subject["model_version"]]
    old = q[truth.versions["benign"]] if truth.versions["benign"] in q else q[truth.versions["baseline"]]
    assert bad["auc_ci"][1] < old["auc_ci"][0]  # intervals apart: not noise


def test_auc_from_counts_and_wilson_by_hand():
    a, ci = auc_from_counts(np.array([0, 0, 5]), np.array([5, 0, 0]))
    assert a == 1.0
    a, _ = auc_from_counts(np.array([1, 1]), np.array([1, 1]))
    assert a == 0.5
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert auc_from_counts(np.array([0, 0]), np.array([1, 2])) == (None, None)
