"""Every time axis is UTC, whatever the viewer's time zone, and is labelled so."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench import charts
from workbench.report.studies import LatencyStudy

T0 = dt.datetime(2026, 3, 12, 23, 30, tzinfo=dt.timezone.utc)  # late in the day: a local axis would shift the date


def _hours(n, tz=True):
    return [(T0 if tz else T0.replace(tzinfo=None)) + dt.timedelta(hours=i) for i in range(n)]


def _walk(spec):
    """Every encoding channel of every (nested) view, with its channel name."""
    if isinstance(spec, dict):
        for name, enc in (spec.get("encoding") or {}).items():
            for e in (enc if isinstance(enc, list) else [enc]):
                yield name, e
        for key in ("layer", "vconcat", "hconcat", "concat"):
            for sub in spec.get(key, []):
                yield from _walk(sub)


def _temporal(spec):
    return [(n, e) for n, e in _walk(spec) if isinstance(e, dict) and e.get("type") == "temporal"]


def _frames():
    hourly = pl.DataFrame({"bucket": _hours(4) * 2, "model_version": ["a"] * 4 + ["b"] * 4,
                           "p50": [50.0] * 8, "p95": [100.0, 110, 120, 130, 200, 210, 220, 230], "p99": [300.0] * 8})
    timeline = pl.DataFrame({"at": _hours(3), "kind": ["rollout", "openlineage_schema_change", "dependency_change"],
                             "subject": ["v2", "ds", "lib"], "detail": ["", "", ""]})
    slis = pl.DataFrame({"bucket": _hours(5, tz=False), "n": [10, 20, 30, 40, 50], "p50": [1.0] * 5, "p95": [2.0] * 5,
                         "p99": [3.0] * 5, "fallback_rate": [0.0] * 5})
    heat = pl.DataFrame({"bucket": _hours(2), "feature": ["f", "g"], "psi": [0.1, 0.4]})
    quality = pl.DataFrame({"bucket": _hours(2), "kind": ["realised", "estimated"], "value": [0.9, 0.8]})
    return hourly, timeline, slis, heat, quality


def _specs():
    hourly, timeline, slis, heat, quality = _frames()
    study = LatencyStudy(summary="s", hourly=hourly, by_version_route=pl.DataFrame(), comparisons=pl.DataFrame(),
                         slo_ms=180.0, rollouts=pl.DataFrame())
    return {
        "latency": charts.latency_chart(study, onset=T0),
        "series": charts.series_chart(hourly, y="p95", title="t", color="model_version", onset=T0, events=timeline),
        "timeline": charts.timeline_chart(timeline, onset=T0, start=T0 - dt.timedelta(hours=1),
                                          end=T0 + dt.timedelta(hours=5)),
        "slis": charts.slis_chart(slis, timeline, window_start=T0),
        "heatmap": charts.heatmap_chart(heat),
        "quality": charts.quality_chart(quality),
    }


@pytest.mark.parametrize("name", ["latency", "series", "timeline", "slis", "heatmap", "quality"])
def test_time_encodings_are_utc_and_labelled(name):
    spec = _specs()[name].to_dict()
    temporal = _temporal(spec)
    assert any(n == "x" for n, _ in temporal), name
    for channel, enc in temporal:
        if channel == "tooltip":
            assert enc["timeUnit"].startswith("utc") and enc["title"].endswith("(UTC)"), (name, enc)
        else:
            assert enc["scale"]["type"] == "utc", (name, enc)
            assert enc.get("title") is None or "(UTC)" in enc["title"], (name, enc)
            assert "timeUnit" not in enc or enc["timeUnit"].startswith("utc"), (name, enc)
    assert any("(UTC)" in (e.get("title") or "") for n, e in temporal if n == "x"), name


def test_times_in_the_data_carry_their_zone():
    """A time without a trailing Z would be read by the browser in the viewer's local time."""
    spec = _specs()["slis"].to_dict()
    times = [r["bucket"] for r in spec["datasets"]["slis"]] + [r["at"] for r in spec["datasets"]["markers"]]
    assert times and all(t.endswith("Z") for t in times)
    assert spec["datasets"]["slis"][0]["bucket"] == "2026-03-12T23:30:00Z"
    spec = _specs()["latency"].to_dict()
    values = [v for layer in spec["layer"] for sub in layer.get("layer", [layer]) for v in
              sub.get("data", {}).get("values", []) if "bucket" in v]
    assert values and all(v["bucket"].endswith("Z") for v in values)


def test_latency_chart_takes_the_study_or_a_frame():
    hourly = _frames()[0]
    study = LatencyStudy(summary="s", hourly=hourly, by_version_route=pl.DataFrame(), comparisons=pl.DataFrame(),
                         slo_ms=175.0, rollouts=pl.DataFrame())
    for chart in (charts.latency_chart(study), charts.latency_chart(hourly, slo_ms=175.0)):
        spec = chart.to_dict()
        assert spec["layer"][1]["data"]["values"] == [{"slo": 175.0}]
    assert charts.latency_chart(study, slo_ms=150.0).to_dict()["layer"][1]["data"]["values"] == [{"slo": 150.0}]
