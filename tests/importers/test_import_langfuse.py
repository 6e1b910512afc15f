"""Langfuse observation exports, written field by field from Langfuse's published API schema:

- ``ObservationsView`` / ``Observation`` / ``Usage`` / ``Trace`` / ``TraceWithFullDetails``:
  https://github.com/langfuse/langfuse/blob/main/fern/apis/server/definition/commons.yml
- ``usageDetails`` / ``costDetails`` (maps of usage type -> count / USD):
  https://js.reference.langfuse.com/interfaces/_langfuse_core.ObservationsView.html
- the OpenAI integration books cached prompt tokens as ``input_cached_tokens`` and reasoning tokens
  as ``output_reasoning_tokens``, taking them out of ``input`` / ``output``:
  https://github.com/langfuse/langfuse-python/blob/main/langfuse/openai.py
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import polars as pl
import pytest

from workbench.exceptions import ImportFormatError
from workbench.importers import detect_format, import_telemetry


def _generation(i, *, prompt_version, start, completion_start, end, trace_id):
    return {
        "id": f"gen-{i}", "traceId": trace_id, "type": "GENERATION", "name": "answer",
        "startTime": start, "endTime": end, "completionStartTime": completion_start,
        "model": "gpt-4o-mini", "modelParameters": {"temperature": "0", "max_tokens": 512},
        "input": [{"role": "system", "content": "You are a helpful bot."},
                  {"role": "user", "content": f"Question {i}?"}],
        "output": {"role": "assistant", "content": f"Answer {i}."},
        "version": "app-1.4.0", "metadata": {"deployment_env": "prod", "ab_bucket": 2},
        "usage": {"input": 90, "output": 20, "total": 110, "unit": "TOKENS", "inputCost": None,
                  "outputCost": None, "totalCost": None},
        "usageDetails": {"input": 40, "input_cached_tokens": 50, "output": 15, "output_reasoning_tokens": 5,
                         "total": 110},
        "costDetails": {"input": 0.000009, "output": 0.000012, "total": 0.000021},
        "level": "DEFAULT", "statusMessage": None, "parentObservationId": None,
        "promptId": f"prompt-{prompt_version}", "promptName": "support-answer", "promptVersion": prompt_version,
        "modelId": "clx-gpt-4o-mini", "inputPrice": 1.5e-7, "outputPrice": 6e-7, "totalPrice": None,
        "calculatedInputCost": 0.000009, "calculatedOutputCost": 0.000012, "calculatedTotalCost": 0.000021,
        "latency": 1.5, "timeToFirstToken": 0.4, "environment": "production",
    }


OBS = [
    _generation(1, prompt_version=3, start="2026-11-18T09:00:00.000Z", completion_start="2026-11-18T09:00:00.400Z",
                end="2026-11-18T09:00:01.500Z", trace_id="trace-a"),
    {"id": "span-1", "traceId": "trace-a", "type": "SPAN", "name": "retrieve", "startTime": "2026-11-18T08:59:59.900Z",
     "endTime": "2026-11-18T09:00:00.000Z", "level": "DEFAULT"},
    _generation(2, prompt_version=4, start="2026-11-19T09:00:00.000Z", completion_start=None,
                end="2026-11-19T09:00:02.000Z", trace_id="trace-b"),
]
TRACES = [  # GET /api/public/traces (TraceWithDetails): observation ids, not bodies
    {"id": "trace-a", "timestamp": "2026-11-18T09:00:00.000Z", "name": "chat", "sessionId": "sess-1",
     "release": "2026.11.1", "version": None, "userId": "u-1", "metadata": {}, "tags": [], "public": False,
     "htmlPath": "/project/p/traces/trace-a", "latency": 1.6, "totalCost": 0.000021,
     "observations": ["gen-1", "span-1"], "scores": []},
]


def test_observations_page_and_traces(tmp_path):
    src = tmp_path / "langfuse"
    src.mkdir()
    (src / "observations.json").write_text(json.dumps({"data": OBS, "meta": {"page": 1, "limit": 50,
                                                                              "totalItems": 3, "totalPages": 1}}))
    (src / "traces.jsonl").write_text("".join(json.dumps(t) + "\n" for t in TRACES))
    assert detect_format(src / "observations.json") == "langfuse"
    res = import_telemetry(src, tmp_path / "lake")
    assert res.rows == 2
    df = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet")
    r1, r2 = df.to_dicts()
    o = OBS[0]
    assert (r1["request_id"], r1["trace_id"]) == ("gen-1", "trace-a")
    assert r1["timestamp"] == datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc)
    assert r1["latency_ms"] == pytest.approx(1500.0)
    assert r1["time_to_first_token_ms"] == pytest.approx(400.0)  # completionStartTime - startTime
    assert r1["model_version"] == "2026.11.1"  # the trace's release
    assert r1["conversation_id"] == "sess-1"  # the trace's sessionId
    assert (r1["request_model"], r1["response_model"]) == ("gpt-4o-mini", "gpt-4o-mini")
    assert (r1["prompt_template"], r1["prompt_version"]) == (o["promptName"], "3")
    assert r1["input_tokens"] == 90 and r1["output_tokens"] == 20  # cached and reasoning tokens added back
    assert r1["cache_read_tokens"] == 50 and r1["reasoning_tokens"] == 5
    assert r1["cost"] == pytest.approx(o["costDetails"]["total"])
    assert r1["prompt_text"] == "You are a helpful bot.\nQuestion 1?"
    assert r1["response_text"] == "Answer 1."
    assert r1["attr.deployment_env"] == "prod" and r1["attr.ab_bucket"] == 2
    assert r1["attr.environment"] == "production" and r1["attr.level"] == "DEFAULT"
    assert r1["span_name"] == "answer"
    # no trace for trace-b in the input: no session; the observation's own version stands for the release
    assert r2["conversation_id"] is None and r2["model_version"] == "app-1.4.0"
    assert r2["time_to_first_token_ms"] == pytest.approx(400.0)  # from timeToFirstToken (seconds)
    assert "provider" not in df.columns and "finish_reason" not in df.columns  # Langfuse carries neither
    p = pl.read_csv(tmp_path / "lake" / "lineage" / "prompts.csv")
    assert p["version"].cast(pl.String).to_list() == ["3", "4"]
    assert p["changed_at"].to_list() == ["2026-11-18T09:00:00.000000Z", "2026-11-19T09:00:00.000000Z"]


def test_a_trace_with_its_observations_embedded(tmp_path):
    full = dict(TRACES[0], observations=[OBS[0], OBS[1]])  # GET /api/public/traces/{id}
    path = tmp_path / "in" / "trace.json"
    path.parent.mkdir()
    path.write_text(json.dumps(full))
    res = import_telemetry(path, tmp_path / "lake", format="langfuse")
    r = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet").row(0, named=True)
    assert res.rows == 1 and (r["conversation_id"], r["model_version"]) == ("sess-1", "2026.11.1")


def test_legacy_usage_without_details(tmp_path):
    old = {k: v for k, v in OBS[0].items() if k not in ("usageDetails", "costDetails")}
    path = tmp_path / "in" / "obs.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps(old) + "\n")
    import_telemetry(path, tmp_path / "lake")
    r = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet").row(0, named=True)
    assert (r["input_tokens"], r["output_tokens"]) == (90, 20)
    assert r["cost"] == pytest.approx(OBS[0]["calculatedTotalCost"])


def test_an_observation_without_start_time(tmp_path):
    bad = [dict(OBS[0]), OBS[2]]
    del bad[0]["startTime"]
    path = tmp_path / "in" / "obs.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(o) + "\n" for o in bad))
    with pytest.raises(ImportFormatError) as err:
        import_telemetry(path, tmp_path / "lake", format="langfuse")
    assert err.value.line == 1 and err.value.column == "observation.startTime"
    res = import_telemetry(path, tmp_path / "lake", format="langfuse", on_bad_span="skip")
    assert res.rows == 1 and res.skipped == {"observation.startTime: missing": 1}


def test_an_unreadable_usage_count(tmp_path):
    bad = json.loads(json.dumps(OBS))
    bad[0]["usageDetails"]["input"] = "lots"
    path = tmp_path / "in" / "obs.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"data": bad}))
    with pytest.raises(ImportFormatError) as err:
        import_telemetry(path, tmp_path / "lake")
    assert err.value.column == "data[0].usageDetails.input" and "expected an integer" in str(err.value)
    res = import_telemetry(path, tmp_path / "lake", on_bad_span="skip")
    assert res.rows == 1 and res.skipped == {"usageDetails.input: expected an integer": 1}
