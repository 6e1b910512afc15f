"""Label-free performance estimate: close to what labels later show, intervals that cover it."""

from __future__ import annotations

import datetime as dt

import pytest

import workbench as wb
from workbench.evidence import estimate_performance
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake

CASES = [("none", 0, s) for s in (11, 12, 13, 14)] + [("data_drift", 0, 15), ("data_drift", 1, 16)]


@pytest.fixture(scope="module")
def estimates(tmp_path_factory):
    out = []
    for cause, variant, seed in CASES:
        root = tmp_path_factory.mktemp("e") / "lake"
        truth = generate_lake(root, cause=cause, variant=variant, seed=seed, rows=60_000)
        lake = wb.open_lake(root, mask_key="k")
        onset = truth.onset or (truth.end - dt.timedelta(days=6))
        b = fit_lake_binning(lake, end=onset - dt.timedelta(days=1))
        base = summarize(lake, b, start=onset - dt.timedelta(days=8), end=onset - dt.timedelta(days=1))
        win = summarize(lake, b, start=onset, end=onset + dt.timedelta(days=2))
        unlabelled = summarize(lake, b, start=truth.end - dt.timedelta(hours=20))
        out.append((estimate_performance(base, win), estimate_performance(base, unlabelled)))
    return out


def test_estimates_are_close_to_the_realized_metrics(estimates):
    for est, _ in estimates:
        assert abs(est.accuracy - est.realized_accuracy) < 0.03
        assert abs(est.auc - est.realized_auc) < 0.04


def test_prediction_intervals_cover_most_realized_values(estimates):
    covered_acc = sum(e.accuracy_ci[0] <= e.realized_accuracy <= e.accuracy_ci[1] for e, _ in estimates)
    covered_auc = sum(e.auc_ci[0] <= e.realized_auc <= e.auc_ci[1] for e, _ in estimates)
    assert covered_acc >= len(estimates) - 2 and covered_auc >= len(estimates) - 2


def test_windows_without_labels_get_an_estimate(estimates):
    for _, recent in estimates:
        assert recent.meta["labelled_in_window"] < recent.rows * 0.2
        assert recent.accuracy is not None and recent.accuracy_ci[0] < recent.accuracy < recent.accuracy_ci[1]
