"""Drift detection: healthy lakes stay quiet, injected drift and schema changes are caught."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import workbench as wb
from workbench.evidence import detect_drift
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


def _drift(tmp_path, cause, variant, seed, rows=60_000):
    root = tmp_path / f"{cause}-{variant}-{seed}"
    truth = generate_lake(root, cause=cause, variant=variant, seed=seed, rows=rows)
    lake = wb.open_lake(root, mask_key="k")
    onset = truth.onset or (truth.end - dt.timedelta(days=5, hours=seed % 7))
    b0, b1 = onset - dt.timedelta(days=8), onset - dt.timedelta(days=1)
    binning = fit_lake_binning(lake, start=b0, end=b1)
    res = detect_drift(summarize(lake, binning, start=b0, end=b1),
                       summarize(lake, binning, start=onset, end=onset + dt.timedelta(days=2)))
    return truth, res


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_healthy_lakes_stay_quiet(tmp_path, seed):
    _, res = _drift(tmp_path, "none", 0, seed)
    assert res.drifted == (), [(f.feature, f.reasons) for f in res.drifted]
    assert res.baseline_rows > 10_000 and res.window_rows > 3_000  # big samples, still quiet


@pytest.mark.parametrize(("cause", "variant", "seed"), [
    ("data_drift", 0, 11), ("data_drift", 0, 12), ("data_drift", 1, 13), ("data_drift", 1, 14),
    ("schema_mismatch", 0, 15), ("schema_mismatch", 1, 16), ("schema_mismatch", 2, 17),
    ("schema_mismatch", 0, 18),
])
def test_injected_changes_are_caught(tmp_path, cause, variant, seed):
    truth, res = _drift(tmp_path, cause, variant, seed)
    culprit = truth.subject["feature"]
    assert culprit in [f.feature for f in res.drifted]
    f = res.feature(culprit)
    if cause == "schema_mismatch" and variant == 0:
        assert f.scale_power is not None and abs(f.scale_power) >= 1
    if cause == "schema_mismatch" and variant == 1:
        assert f.null_rate_window > 0.9
    if cause == "schema_mismatch" and variant == 2:
        assert f.unseen_share > 0.5
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert culprit in res._repr_html_() and "drifted=" in repr(res)
