"""Triage on Spark finds what triage on polars finds: same verdict, culprit and onset, scores
within 0.01, on generated lakes of every cause (three in the fast run, the rest marked slow)."""

from __future__ import annotations

import datetime as dt

import pytest

from workbench.lake import open_lake
from workbench.rca import triage
from workbench.synthetic import CAUSES, generate_lake

from same_findings import assert_same_findings

FAST = {"none", "data_drift", "latency_regression"}


def _since(truth, hours=12):
    anchor = truth.onset or truth.start + (truth.end - truth.start) * 0.75
    return anchor - dt.timedelta(hours=hours)


@pytest.mark.parametrize("cause", [c if c in FAST else pytest.param(c, marks=pytest.mark.slow) for c in CAUSES])
def test_same_findings_as_polars(tmp_path, spark, cause):
    path = tmp_path / "lake"
    truth = generate_lake(path, cause=cause, seed=61, rows=8_000, days=8, n_numeric=3, n_categorical=2)
    since = _since(truth)
    fp = triage(open_lake(path, mask_key="k"), since=since)
    fs = triage(open_lake(path, mask_key="k", engine="spark", spark=spark), since=since)
    assert_same_findings(fs, fp)
