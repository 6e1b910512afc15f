"""Each cause's evidence chart, drawn by report.cause_charts from a generated lake with that cause.

One small lake per cause (variants and seeds varied), triaged once per module; the assertions
read the Vega-Lite spec (marks, the onset rule, data, titles) and vl-convert renders each once.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import replace

import altair as alt
import pytest
import vl_convert

import workbench as wb
from workbench import report
from workbench.charts import CAUSE_CHARTS
from workbench.rca import load_hypotheses
from workbench.report.evidence_charts import _BUILDERS, chart_name
from workbench.results import iso
from workbench.synthetic import generate_lake

# (cause, variant, seed): every seed here triages to its cause with the right culprit
CASES = [("data_drift", 1, 21), ("schema_mismatch", 1, 22), ("latency_regression", 1, 23),
         ("bias_regression", 1, 24), ("third_party_change", 0, 15), ("telemetry_loss", 1, 26),
         ("retrain_regression", 1, 27), ("pii_leak", 2, 28), ("serving_bug", 1, 29)]
#: the marks that carry each cause's evidence (besides the rules and labels of the markers)
MARKS = {"data_drift": {"bar", "line"}, "schema_mismatch": {"bar", "line"}, "latency_regression": {"line"},
         "bias_regression": {"point", "rule"}, "third_party_change": {"line"}, "telemetry_loss": {"line"},
         "retrain_regression": {"line", "area"}, "pii_leak": {"bar"}, "serving_bug": {"bar"}}


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    root = tmp_path_factory.mktemp("cause-lakes")
    out = {}
    for cause, variant, seed in CASES:
        path = root / cause
        truth = generate_lake(path, cause=cause, variant=variant, seed=seed, rows=20_000)
        findings = wb.triage(path, since=truth.onset - dt.timedelta(hours=12), mask_key="test")
        out[cause] = (path, truth, findings)
    return out


def _walk(spec, datasets):
    """(mark type, data values, title) of every unit chart in a spec, nested layers and concats too."""
    datasets = {**datasets, **spec.get("datasets", {})}
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for sub in spec.get(key, []):
            yield from _walk({**sub, "data": sub.get("data", spec.get("data"))}, datasets)
    if "mark" in spec:
        mark = spec["mark"]["type"] if isinstance(spec["mark"], dict) else spec["mark"]
        data = spec.get("data") or {}
        values = data.get("values") if "values" in data else datasets.get(data.get("name"), [])
        yield mark, values or [], spec.get("title")


def _titles(spec) -> str:
    out = []

    def visit(s):
        if isinstance(s, dict):
            t = s.get("title")
            if isinstance(t, str):
                out.append(t)
            elif isinstance(t, dict) and isinstance(t.get("text"), str):
                out.append(t["text"])
            for v in s.values():
                visit(v)
        elif isinstance(s, list):
            for v in s:
                visit(v)
    visit(spec)
    return " | ".join(out)


def _culprit_names(subject) -> list[str]:
    names = [subject.get(k) for k in ("feature", "model_version", "column", "route", "dependency")]
    seg = subject.get("segment")
    if seg:
        names += [seg["column"], str(seg["value"])]
    return [n for n in names if n]


def test_every_hypothesis_names_a_chart_that_exists():
    hypotheses = load_hypotheses(plugins=False)
    assert {h.cause for h in hypotheses} == set(wb.rca.CAUSES)
    for h in hypotheses:
        assert h.chart in CAUSE_CHARTS, (h, h.chart)
    # the report knows how to feed every chart, and feeds nothing else
    assert set(_BUILDERS) == set(CAUSE_CHARTS)


@pytest.mark.parametrize("cause", [c for c, _, _ in CASES])
def test_cause_chart_shows_the_culprit_at_its_onset(lakes, cause):
    path, truth, findings = lakes[cause]
    top = findings.top
    assert top is not None and top.cause == cause, findings.render()
    assert chart_name(top) == next(h.chart for h in load_hypotheses(plugins=False) if h.cause == cause)
    chart = report.cause_charts(findings, path)
    assert isinstance(chart, alt.VConcatChart), getattr(chart, "text", chart)
    spec = chart.to_dict()
    units = list(_walk(spec, {}))
    marks = {m for m, _, _ in units}
    assert MARKS[cause] <= marks, (cause, marks)
    # the evidence itself has data
    for m, values, _ in units:
        if m in MARKS[cause]:
            assert values, (cause, m)
    # the onset (or the rollout, for version causes) is a rule at the finding's onset
    if cause != "bias_regression" and cause != "serving_bug":  # per-version charts have no time axis
        onsets = [v for m, values, _ in units if m == "rule" for v in values if v.get("what") == "onset"]
        assert onsets and all(v["at"] == iso(top.onset) for v in onsets), (cause, onsets)
        texts = [v for m, values, _ in units if m == "text" for v in values if v.get("what") == "onset"]
        assert texts, "the onset rule is labelled"
    titles = _titles(spec)
    for name in _culprit_names(top.subject):
        assert name in titles, (cause, name, titles)
    assert "not confirmed" not in titles
    svg = vl_convert.vegalite_to_svg(spec)
    assert svg.startswith("<svg") and "<path" in svg


def test_time_axes_are_utc_and_marks_have_tooltips(lakes):
    path, _, findings = lakes["schema_mismatch"]
    spec = report.cause_charts(findings, path).to_dict()

    def encodings(s):
        if isinstance(s, dict):
            if "encoding" in s and "mark" in s:
                yield s["mark"], s["encoding"]
            for v in s.values():
                yield from encodings(v)
        elif isinstance(s, list):
            for v in s:
                yield from encodings(v)
    seen = 0
    for mark, enc in encodings(spec):
        if enc.get("x", {}).get("type") == "temporal":
            assert enc["x"]["scale"]["type"] == "utc"
            seen += 1
        assert "tooltip" in enc, mark
    assert seen >= 4


def test_the_schema_change_is_annotated_beside_its_rule(lakes):
    path, _, findings = lakes["schema_mismatch"]
    top = findings.top
    spec = report.cause_charts(findings, path).to_dict()
    events = [v for m, values, _ in _walk(spec, {}) if m == "rule" for v in values
              if v.get("kind") == "openlineage_schema_change"]
    assert events and events[0]["subject"] == top.subject["dataset"]
    labels = [u for u in _walk(spec, {}) if u[0] == "text" and any(v.get("kind") for v in u[1])]
    assert labels, "every marked event has a text label"


def test_the_top_hypothesis_is_drawn_as_not_confirmed_when_none_passes(lakes):
    path, _, findings = lakes["retrain_regression"]
    weak = replace(findings, threshold=1.01)  # nothing reaches it
    assert weak.top is None
    chart = report.cause_charts(weak, path)
    titles = _titles(chart.to_dict())
    assert "not confirmed" in titles and findings.hypotheses[0].subject["model_version"] in titles


def test_findings_read_back_from_json_draw_the_same_chart(lakes):
    path, _, findings = lakes["pii_leak"]
    again = type(findings).from_dict(json.loads(json.dumps(findings.to_dict())))
    assert report.cause_charts(again, path).to_dict() == report.cause_charts(findings, path).to_dict()


def test_two_confirmed_findings_give_two_charts(lakes):
    path, _, findings = lakes["retrain_regression"]
    passed = [h for h in findings.hypotheses if h.score >= findings.threshold]
    chart = report.cause_charts(findings, path, top=2)
    assert len(chart.to_dict()["vconcat"]) == min(2, len(passed))
    one = report.cause_charts(findings, path, top=1)
    assert len(one.to_dict()["vconcat"]) == 1


def test_a_lake_without_labels_says_so(lakes, tmp_path):
    path, _, findings = lakes["retrain_regression"]
    bare = tmp_path / "no-labels"
    shutil.copytree(path, bare)
    shutil.rmtree(bare / "labels")
    manifest = bare / "workbench.yaml"
    manifest.write_text("\n".join(line for line in manifest.read_text().splitlines()
                                  if not line.startswith("labels:")) + "\n")
    only = replace(findings, hypotheses=findings.hypotheses[:1])
    out = report.cause_charts(only, bare)
    assert isinstance(out, report.Markdown)
    assert "no labels" in out.text and only.hypotheses[0].subject["model_version"] in out.text


def test_lineage_chart_zooms_to_the_onset_and_labels_every_event(lakes):
    path, truth, findings = lakes["schema_mismatch"]
    onset = findings.top.onset
    spec = report.timeline_chart_for(findings, path).to_dict()
    units = list(_walk(spec, {}))
    ticks = [values for m, values, _ in units if m == "tick"][0]
    texts = [values for m, values, _ in units if m == "text" and values and "subject" in values[0]][0]
    assert ticks and texts == ticks  # one label per event
    assert any(v["kind"] == "openlineage_schema_change" for v in ticks)
    domain = spec["layer"][0]["encoding"]["x"]["scale"]["domain"]
    assert domain == [iso(onset - dt.timedelta(hours=6)), iso(onset + dt.timedelta(hours=6))]
    for v in ticks:
        assert domain[0] <= v["at"] <= domain[1]
    vl_convert.vegalite_to_svg(spec)


def test_canary_chart_shows_quality_and_latency_per_version_over_shared_hours(lakes):
    path, truth, findings = lakes["latency_regression"]
    since = iso(truth.onset - dt.timedelta(hours=12))
    study = report.canary_review(path, since=since)
    assert study.canary == findings.top.subject["model_version"]
    chart = report.canary_chart(study, path, since=since)
    spec = chart.to_dict()
    units = list(_walk(spec, {}))
    assert {"line", "area"} <= {m for m, _, _ in units}
    versions = {v.get("model_version") for m, values, _ in units if m == "line" for v in values}
    assert {study.canary, study.primary} <= versions
    titles = _titles(spec)
    assert f"over {study.shared_hours} shared hours" in titles and study.canary in titles
    vl_convert.vegalite_to_svg(spec)
