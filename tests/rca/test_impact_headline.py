"""The headline: impact measured against the lake, and the same parts as Markdown and as the card."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from handmade_lake import T0, write_lake

import workbench as wb
from workbench.rca.finding import Evidence, Finding, Findings, subject
from workbench.rca.headline import headline_html
from workbench.rca.impact import measure_impact


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return wb.open_lake(write_lake(tmp_path_factory.mktemp("impact") / "lake"))


END = T0 + dt.timedelta(hours=48)


# one row every 10 minutes; 1.1.0 takes every 10th row from +20 h (canary) and all rows from +26 h
@pytest.mark.parametrize(("subj", "onset_h", "affected", "total"), [
    (subject(model_version="1.1.0"), 20, 4 + 132, 168),
    (subject(route="canary"), 20, 4, 168),
    (subject(segment={"column": "region", "value": "north"}), 20, 84, 168),
    (subject(segment={"column": "region", "value": "north"}, model_version="1.1.0"), 26, 66, 132),
    (subject(feature="amount", dataset="warehouse/x"), 30, 108, 108),
])
def test_affected_requests_follow_the_culprit(lake, subj, onset_h, affected, total):
    f = Finding(cause="latency_regression", score=0.9, subject=subj, onset=T0 + dt.timedelta(hours=onset_h))
    imp = measure_impact(lake, f, end=END)
    assert (imp["requests"], imp["requests_since_onset"]) == (affected, total)
    assert imp["share"] == pytest.approx(affected / total, abs=1e-4)
    assert imp["hours"] == pytest.approx(48 - onset_h, abs=0.1)


def test_no_finding_or_no_onset_has_no_impact(lake):
    assert measure_impact(lake, None, end=END) is None
    f = Finding(cause="pii_leak", score=0.9, subject=subject(column="email"))
    assert measure_impact(lake, f, end=END) is None


def _findings(top_score: float, impact=None) -> Findings:
    h = Finding(cause="retrain_regression", score=top_score, subject=subject(model_version="7.2"),
                onset=dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.timezone.utc),
                evidence=(Evidence("auc_delta", -0.1, detail="auc fell"),),
                next_steps=("roll back 7.2 to 7.1", "compare the training sets"), summary="7.2 scores worse than 7.1")
    window = {"start": dt.datetime(2026, 5, 4, tzinfo=dt.timezone.utc),
              "end": dt.datetime(2026, 5, 6, tzinfo=dt.timezone.utc), "rows": 51_234}
    symptoms = ({"sli": "auc", "baseline": 0.84, "current": 0.71, "slo": None, "breached": True,
                 "interval": [0.70, 0.72]},)
    return Findings(lake="shop", window=window, baseline=window, symptoms=symptoms, hypotheses=(h,),
                    meta={"hypotheses": ["a", "b", "c"]}, impact=impact)


def test_summary_markdown_says_verdict_culprit_onset_impact_and_first_step():
    impact = {"since": "2026-05-04T09:30:00Z", "until": "2026-05-06T00:00:00Z", "hours": 38.5, "requests": 12_345,
              "requests_since_onset": 40_000, "share": 0.3086, "affected": "model_version=7.2",
              "quality": {"sli": "auc", "baseline": 0.84, "current": 0.71, "interval": [0.70, 0.72]}}
    md = _findings(0.8, impact).summary_markdown
    assert md.startswith("**Retrain regression: 7.2 scores worse than 7.1**")
    for part in ("model version 7.2", "2026-05-04 09:30 UTC", "12,345 requests", "30.9% of the 40,000",
                 "38.5 h", "auc 0.84 → 0.71 (95% interval 0.7–0.72)", "**Do first:** roll back 7.2 to 7.1"):
        assert part in md, (part, md)
    # the same through the JSON document (as a report reads it back)
    doc = json.loads(json.dumps(_findings(0.8, impact).to_dict()))
    card = headline_html(doc)
    assert 'data-verdict="retrain_regression"' in card and "12,345 requests" in card and "**" not in card


def test_no_diagnosis_reads_as_none_with_the_closest_cause():
    f = _findings(0.3)
    md = f.summary_markdown
    assert md.startswith("**No root cause found**") and "retrain_regression" in md and "0.30 below the 0.50" in md
    assert "auc moved, but no cause explains it" in md
    assert 'data-verdict="none"' in headline_html(f.to_dict())
    assert "impact" not in f.to_dict()  # nothing measured: the document keeps its old keys


def test_a_study_heads_its_report_with_its_summary_as_html():
    card = headline_html({"kind": "canary", "summary": "**NO-GO** for 2.0 against 1.9: p95 1.8x", "data": {
        "verdict": "no-go"}})
    assert "<strong>NO-GO</strong>" in card and "**" not in card and 'data-verdict="no-go"' in card
