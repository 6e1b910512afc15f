"""OTLP JSON from the OpenTelemetry Python SDK -> a generation lake, checked field by field against
what the SDK emitted."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import polars as pl
import pytest
import yaml
from otel_export import DOCS_1, INPUT_1, OUTPUT_1, RELEASE, export_lines, make_spans, write_export

from workbench.importers import detect_format, import_telemetry


@pytest.fixture(scope="module")
def spans():
    return make_spans()


@pytest.fixture
def export(tmp_path, spans):
    return write_export(tmp_path / "otel" / "traces.jsonl", export_lines(spans))


def _by_name(spans):
    return {s.name: s for s in spans}


def _ts(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1e6, tz=timezone.utc)


def test_the_export_is_what_the_collector_writes(export):
    line = json.loads(export.read_text().splitlines()[0])
    span = line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert {"traceId", "spanId", "startTimeUnixNano", "endTimeUnixNano", "attributes"} <= set(span)
    assert len(span["traceId"]) == 32 and int(span["traceId"], 16)  # hex, not base64
    assert isinstance(span["startTimeUnixNano"], str)  # int64 as a JSON string
    assert detect_format(export) == "otlp"


def test_every_field_of_the_llm_calls(export, tmp_path, spans):
    res = import_telemetry(export, tmp_path / "lake")
    df = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet")
    named = _by_name(spans)
    chat, legacy = named["chat gpt-4o-mini"], named["chat claude"]
    assert res.rows == 2 == df.height
    assert res.spans_read == len(spans) == 6
    assert res.not_llm == 3  # the HTTP root, the embeddings call, the tool call
    assert res.retrievals_attached == 1 and res.skipped == {}

    rows = {r["request_id"]: r for r in df.to_dicts()}
    r = rows[format(chat.context.span_id, "016x")]
    assert r["trace_id"] == format(chat.context.trace_id, "032x")
    assert r["timestamp"] == _ts(chat.start_time)
    assert r["latency_ms"] == pytest.approx((chat.end_time - chat.start_time) / 1e6)
    assert r["model_version"] == RELEASE
    a = chat.attributes
    assert r["operation"] == a["gen_ai.operation.name"] == "chat"
    assert r["provider"] == a["gen_ai.provider.name"]
    assert r["request_model"] == a["gen_ai.request.model"]
    assert r["response_model"] == a["gen_ai.response.model"]
    assert r["input_tokens"] == a["gen_ai.usage.input_tokens"]
    assert r["output_tokens"] == a["gen_ai.usage.output_tokens"]
    assert r["cache_read_tokens"] == a["gen_ai.usage.cache_read.input_tokens"]
    assert r["reasoning_tokens"] == a["gen_ai.usage.reasoning.output_tokens"] == 0
    assert r["finish_reason"] == a["gen_ai.response.finish_reasons"][0]
    assert r["conversation_id"] == a["gen_ai.conversation.id"]
    assert r["prompt_template"] == a["gen_ai.prompt.name"]
    assert r["prompt_version"] == a["gen_ai.prompt.version"]
    assert r["time_to_first_token_ms"] == pytest.approx(a["gen_ai.response.time_to_first_chunk"] * 1000)
    assert r["prompt_text"] == "\n".join(p["content"] for m in INPUT_1 for p in m["parts"])
    assert r["response_text"] == OUTPUT_1[0]["parts"][0]["content"]
    # the retrieval span of the same trace, attached to the call it fed
    assert r["retrieved_ids"] == [d["id"] for d in DOCS_1]
    assert r["retrieval_scores"] == [d["score"] for d in DOCS_1]
    assert r["context_text"] == "\n\n".join(d["content"] for d in DOCS_1)
    assert r["index_version"] == "kb@2026-11-20"
    # unknown attributes kept as sanitised extra columns, typed
    assert r["attr.deployment_env"] == a["deployment_env"]
    assert r["attr.app_user_tier"] == a["app.user_tier"] and df.schema["attr.app_user_tier"] == pl.Int64
    assert r["attr.gen_ai_request_temperature"] == a["gen_ai.request.temperature"]
    assert r["resource.deployment_environment"] == "prod"
    assert r["resource.service_name"] == "support-bot"
    assert r["span_name"] == chat.name
    assert r["span_status"] == chat.status.status_code.name == "UNSET"
    # text attributes are roles, never extra columns
    assert not any("messages" in c for c in df.columns)

    r2 = rows[format(legacy.context.span_id, "016x")]
    b = legacy.attributes
    assert r2["provider"] == b["gen_ai.system"] == "anthropic"  # the legacy attribute
    assert (r2["request_model"], r2["response_model"]) == (b["gen_ai.request.model"], b["gen_ai.response.model"])
    assert (r2["input_tokens"], r2["output_tokens"]) == (b["gen_ai.usage.input_tokens"], b["gen_ai.usage.output_tokens"])
    assert r2["cache_read_tokens"] is None and r2["reasoning_tokens"] is None
    assert (r2["conversation_id"], r2["prompt_version"]) == ("conv-2", "v8")
    assert r2["trace_id"] == format(legacy.context.trace_id, "032x") and r2["model_version"] == RELEASE
    assert r2["attr.deployment_env"] == "prod-us" and r2["attr.app_user_tier"] == 1
    assert r2["span_status"] == legacy.status.status_code.name == "ERROR"
    assert "upstream timeout" not in str(r2)  # status messages are free text: not kept
    assert r2["operation"] is None and r2["finish_reason"] == "length"
    assert r2["prompt_text"] == "What is my plan?" and r2["response_text"] == "Your plan is Basic."
    assert r2["retrieved_ids"] is None and r2["time_to_first_token_ms"] is None
    assert r2["timestamp"] == _ts(legacy.start_time)
    assert r2["latency_ms"] == pytest.approx(2000.0)


def test_dtypes_and_manifest(export, tmp_path):
    import_telemetry(export, tmp_path / "lake", name="support-bot")
    df = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet")
    assert df.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert df.schema["retrieved_ids"] == pl.List(pl.String)
    assert df.schema["retrieval_scores"] == pl.List(pl.Float64)
    assert df.schema["input_tokens"] == pl.Int64 and df.schema["latency_ms"] == pl.Float64
    assert "cost" not in df.columns  # the source carries none: the role is absent, not null
    m = yaml.safe_load((tmp_path / "lake" / "workbench.yaml").read_text())
    assert m["task"] == "generation" and m["name"] == "support-bot"
    assert m["columns"] == {c: c for c in m["columns"]} and "prompt_version" in m["columns"]
    assert m["lineage"] == {"prompts": "lineage/prompts.csv"}


def test_prompt_lineage_from_first_seen_versions(export, tmp_path, spans):
    import_telemetry(export, tmp_path / "lake")
    p = pl.read_csv(tmp_path / "lake" / "lineage" / "prompts.csv")
    named = _by_name(spans)
    assert p["prompt_template"].to_list() == ["support-answer", "support-answer"]
    assert p["version"].to_list() == ["v7", "v8"]
    assert p["changed_at"].to_list() == [_ts(named["chat gpt-4o-mini"].start_time).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                                         _ts(named["chat claude"].start_time).strftime("%Y-%m-%dT%H:%M:%S.%fZ")]


def test_base64_ids_as_protobuf_writes_them_read_the_same(tmp_path, spans):
    hexed = write_export(tmp_path / "a" / "t.jsonl", export_lines(spans))
    b64 = write_export(tmp_path / "b" / "t.jsonl", export_lines(spans, hex_ids=False))
    import_telemetry(hexed, tmp_path / "lake-a")
    import_telemetry(b64, tmp_path / "lake-b")
    a = pl.read_parquet(tmp_path / "lake-a" / "predictions" / "*.parquet")
    b = pl.read_parquet(tmp_path / "lake-b" / "predictions" / "*.parquet")
    assert a.select("request_id", "trace_id").equals(b.select("request_id", "trace_id"))


def test_a_folder_of_exports(tmp_path, spans):
    lines = export_lines(spans)
    write_export(tmp_path / "otel" / "traces-1.json", lines[:1])
    write_export(tmp_path / "otel" / "traces-2.json", lines[1:])
    res = import_telemetry(tmp_path / "otel", tmp_path / "lake")
    assert res.rows == 2 and len(res.formats) == 2


def test_a_format_given_that_the_file_is_not(export, tmp_path):
    from workbench.exceptions import ImportFormatError

    with pytest.raises(ImportFormatError, match="neither a Langfuse observation nor a trace") as err:
        import_telemetry(export, tmp_path / "lake", format="langfuse")
    assert err.value.line == 1
    with pytest.raises(ImportFormatError, match="no LLM call found"):
        import_telemetry(export, tmp_path / "lake", format="openinference", on_bad_span="skip")


def test_bare_otlp_spans_as_phoenix_otlpv1_pages_them(tmp_path, spans):
    """``GET /v1/projects/{p}/spans/otlpv1`` returns ``{"data": [OtlpSpan], "next_cursor"}`` with
    snake_case fields (Phoenix src/phoenix/server/api/routers/v1/spans.py, OtlpSpan)."""
    import re

    def snake(node):
        if isinstance(node, dict):
            return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): snake(v) for k, v in node.items()}
        if isinstance(node, list):
            return [snake(x) for x in node]
        return node

    bare = [snake(s) for line in export_lines(spans) for rs in line["resourceSpans"]
            for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert "start_time_unix_nano" in bare[0] and "string_value" in json.dumps(bare)
    path = tmp_path / "in" / "otlpv1.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"data": bare, "next_cursor": None}))
    assert detect_format(path) == "otlp"
    res = import_telemetry(path, tmp_path / "lake")
    df = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet")
    chat = _by_name(spans)["chat gpt-4o-mini"]
    r = df.filter(pl.col("request_id") == format(chat.context.span_id, "016x")).row(0, named=True)
    assert res.rows == 2 and r["input_tokens"] == 812 and r["retrieved_ids"] == ["kb-12", "kb-40"]
    assert r["model_version"] == "unknown"  # no resource in this export
