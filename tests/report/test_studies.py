"""The typed study results: attributes, the findings.json layout, a repr that only shows."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from workbench.report.studies import REPR_WIDTH, BiasStudy, CanaryReview, LatencyStudy, Postmortem


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


def test_notebooks_show_the_whole_summary_and_the_main_table():
    from IPython.core.formatters import DisplayFormatter

    summary = "Root cause: **x**. " + "y" * 200 + " Time to mitigate: 2.0 h."
    data, _ = DisplayFormatter().format(_canary(summary))
    assert data["text/markdown"] == summary
    html = data["text/html"]  # the summary as HTML: no repr line, no Markdown marks
    assert "<strong>x</strong>" in html and "Time to mitigate: 2.0 h." in html
    assert "CanaryReview(" not in html and "**" not in html


def test_study_html_shows_its_main_table_readably():
    bias = BiasStudy(summary="v2 against v1: region=<north> regressed.", deltas=[], slices=None, version="v2",
                     previous="v1", table=pl.DataFrame({"segment": ["region", "region"], "value": ["<north>", "south"],
                                                        "rows": [12345, 20], "before": ["0.91", "0.9"],
                                                        "after": ["0.8", "0.9"], "change": ["-0.11", "0"],
                                                        "regressed on": ["accuracy", ""]}))
    html = bias._repr_html_()
    assert '<table class="wb-table">' in html and "12,345" in html
    assert "&lt;north&gt;" in html and "<north>" not in html  # escaped, in the summary and the table
    assert html.count('class="wb-hl"') == 1  # the regressed segment
    assert "shape:" not in html and "BiasStudy(" not in html and '"0.91"' not in html
