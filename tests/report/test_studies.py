"""The typed study results: attributes, the findings.json layout, a repr that only shows."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from workbench.report.studies import REPR_WIDTH, CanaryReview, LatencyStudy, Postmortem


def _canary(summary="**GO** for v2 against v1 over 12 shared hours: worse on nothing."):
    checks = pl.DataFrame({"metric": ["auc"], "primary": ["0.91"], "canary": ["0.92"], "p-value": ["0.4"],
                           "test": ["z"], "worse": [False]})
    return CanaryReview(summary=summary, comparison=None, mismapping=None, checks=checks, verdict="go",
                        canary="v2", primary="v1", shared_hours=12)


def test_attributes_and_findings_layout():
    c = _canary()
    assert c.verdict == "go" and c.checks.height == 1 and c.shared_hours == 12
    doc = json.loads(json.dumps(c.to_dict()))
    assert list(doc) == ["kind", "summary", "data"] and doc["kind"] == "canary"
    assert list(doc["data"]) == ["comparison", "mismapping", "checks", "verdict", "canary", "primary", "shared_hours"]
    assert doc["data"]["checks"][0]["canary"] == "0.92"


def test_compatibility_with_the_untyped_study():
    c = _canary()
    assert c.data["verdict"] == c["verdict"] == c.verdict and c.data["checks"] is c.checks
    with pytest.raises(KeyError, match="no field 'table'"):
        c["table"]


@pytest.mark.parametrize("length", [20, REPR_WIDTH, 400])
def test_repr_shows_the_summary_short(length):
    summary = ("x" * length) + "\n\nmore"
    c = _canary(summary)
    r = repr(c)
    assert r.startswith("CanaryReview(") and len(r) <= len("CanaryReview()") + REPR_WIDTH
    assert c._repr_markdown_() == summary  # the notebook shows all of it


def test_postmortem_and_latency_fields():
    t0 = dt.datetime(2026, 3, 12, tzinfo=dt.timezone.utc)
    timeline = pl.DataFrame({"at": ["2026-03-12T00:00:00Z"], "event": ["x"]})
    p = Postmortem(summary="s", findings=None, timeline=timeline,
                   mttd_hours=1.5, mttr_hours=None, verdicts=None, actions=["a"])
    assert p.times is None and p.mttd_hours == 1.5 and p.to_dict()["kind"] == "postmortem"
    lat = LatencyStudy(summary="s", hourly=pl.DataFrame({"bucket": [t0], "p95": [1.0]}), by_version_route=pl.DataFrame(),
                       comparisons=pl.DataFrame(), slo_ms=None, rollouts=pl.DataFrame())
    assert lat.to_dict()["data"]["hourly"] == [{"bucket": "2026-03-12T00:00:00Z", "p95": 1.0}]


def test_notebooks_show_the_whole_summary_as_markdown():
    from IPython.core.formatters import DisplayFormatter

    summary = "Root cause: **x**. " + "y" * 200 + " Time to mitigate: 2.0 h."
    data, _ = DisplayFormatter().format(_canary(summary))
    assert data["text/markdown"] == summary and "text/html" not in data
