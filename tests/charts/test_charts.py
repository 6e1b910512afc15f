"""Charts: specs (``to_dict()``) carry the result's data and the right encodings; they compute nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import workbench as wb
from workbench import charts
from workbench.evidence import detect_drift, segment_deltas
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("c") / "l"
    truth = generate_lake(root, cause="bias_regression", variant=0, seed=531, rows=30_000)
    return wb.open_lake(root, mask_key="k"), truth


def _values(spec):
    out = []
    for layer in [spec, *spec.get("layer", [])]:
        if "data" in layer and "values" in layer["data"]:
            out += layer["data"]["values"]
    return out


def test_hypotheses_chart(lake):
    lk, truth = lake
    f = wb.triage(lk, since=truth.onset - dt.timedelta(hours=12))
    spec = charts.hypotheses_chart(f).to_dict()
    bars = spec["layer"][0]
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["x"]["field"] == "score"
    assert bars["data"]["values"][0]["cause"] == f.hypotheses[0].cause
    assert spec["layer"][1]["data"]["values"] == [{"threshold": f.threshold}]


def test_drift_chart_and_segment_chart(lake):
    lk, truth = lake
    b = fit_lake_binning(lk, end=truth.onset)
    drift = detect_drift(summarize(lk, b, end=truth.onset), summarize(lk, b, start=truth.onset))
    spec = charts.drift_chart(drift).to_dict()
    assert {v["feature"] for v in spec["data"]["values"]} <= set(lk.features)
    assert spec["encoding"]["color"]["scale"]["domain"] == ["drifted", "stable"]
    seg = truth.subject["segment"]["column"]
    sd = segment_deltas(summarize(lk, b, segment=seg, bucket="1d"), seg, a=truth.versions["benign"],
                        b=truth.subject["model_version"])
    spec = charts.segment_chart(sd).to_dict()
    vals = spec["layer"][1]["data"]["values"]
    worst = [v for v in vals if v["regressed"] == "regressed"]
    assert worst and worst[0]["value"] == truth.subject["segment"]["value"]


def test_timeline_and_series_charts(lake):
    lk, truth = lake
    t = lk.timeline(truth.onset - dt.timedelta(days=2), truth.onset + dt.timedelta(days=1))
    spec = charts.timeline_chart(t, onset=truth.onset).to_dict()
    kinds = {v["kind"] for v in spec["layer"][0]["data"]["values"]}
    assert "rollout" in kinds and "openlineage_run" not in kinds
    assert spec["layer"][1]["data"]["values"][0]["at"].endswith("Z")
    frame = pl.DataFrame({"bucket": [truth.onset, truth.onset + dt.timedelta(hours=1)], "p95": [100.0, 300.0],
                          "model_version": ["a", "b"]})
    spec = charts.latency_chart(frame, slo_ms=200.0).to_dict()
    assert any(v.get("slo") == 200.0 for v in _values(spec) + [x for layer in spec["layer"]
                                                                for x in _values(layer)])
