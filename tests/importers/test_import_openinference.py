"""OpenInference spans as Arize Phoenix exports them, written field by field from the published schemas:

- the span document: Phoenix's REST API, ``GET /v1/projects/{project_identifier}/spans`` ->
  ``{"data": [Span], "next_cursor": ...}``, Span = {id, name, context: {trace_id, span_id}, span_kind,
  parent_id, start_time, end_time, status_code, status_message, attributes (flattened, without
  openinference.span.kind), events: [{name, timestamp, attributes}]}
  https://github.com/Arize-ai/phoenix/blob/main/src/phoenix/server/api/routers/v1/spans.py
- the attributes: OpenInference semantic conventions
  https://github.com/Arize-ai/openinference/blob/main/spec/semantic_conventions.md
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import polars as pl
import pytest

from workbench.importers import detect_format, import_telemetry

TRACE = "0af7651916cd43dd8448eb211c80319c"
CHAIN, EMB, RET, LLM = "b7ad6b7169203331", "00f067aa0ba902b7", "53995c3f42cd8ad8", "6e0c63257de34c92"
TEMPLATE = "Answer using the context:\n{context}\nQuestion: {question}"

SPANS = [
    {"id": "U3BhbjoxMDE=", "name": "query", "context": {"trace_id": TRACE, "span_id": CHAIN},
     "span_kind": "CHAIN", "parent_id": None,
     "start_time": "2026-11-18T10:00:00+00:00", "end_time": "2026-11-18T10:00:02.500000+00:00",
     "status_code": "OK", "status_message": "",
     "attributes": {"input.value": "What is the refund window?", "input.mime_type": "text/plain",
                    "output.value": "30 days.", "session.id": "sess-9"},
     "events": []},
    {"id": "U3BhbjoxMDI=", "name": "embed query", "context": {"trace_id": TRACE, "span_id": EMB},
     "span_kind": "EMBEDDING", "parent_id": CHAIN,
     "start_time": "2026-11-18T10:00:00.010000+00:00", "end_time": "2026-11-18T10:00:00.040000+00:00",
     "status_code": "OK", "status_message": "",
     "attributes": {"embedding.model_name": "text-embedding-3-small",
                    "embedding.embeddings.0.embedding.text": "What is the refund window?",
                    "embedding.embeddings.0.embedding.vector": [0.25, -0.5, 0.125]},
     "events": []},
    {"id": "U3BhbjoxMDM=", "name": "retrieve", "context": {"trace_id": TRACE, "span_id": RET},
     "span_kind": "RETRIEVER", "parent_id": CHAIN,
     "start_time": "2026-11-18T10:00:00.050000+00:00", "end_time": "2026-11-18T10:00:00.150000+00:00",
     "status_code": "OK", "status_message": "",
     "attributes": {"input.value": "What is the refund window?",
                    "retrieval.documents.0.document.id": "faq-7", "retrieval.documents.0.document.score": 0.91,
                    "retrieval.documents.0.document.content": "Refunds are accepted within 30 days.",
                    "retrieval.documents.0.document.metadata": "{\"source\": \"faq.md\"}",
                    "retrieval.documents.1.document.id": "faq-2", "retrieval.documents.1.document.score": 0.44,
                    "retrieval.documents.1.document.content": "Shipping takes 5 days.",
                    "app.index_version": "faq@3", "session.id": "sess-9"},
     "events": []},
    {"id": "U3BhbjoxMDQ=", "name": "ChatCompletion", "context": {"trace_id": TRACE, "span_id": LLM},
     "span_kind": "LLM", "parent_id": CHAIN,
     "start_time": "2026-11-18T10:00:00.200000+00:00", "end_time": "2026-11-18T10:00:02.400000+00:00",
     "status_code": "OK", "status_message": "",
     "attributes": {
         "llm.system": "openai", "llm.provider": "azure", "llm.model_name": "gpt-4o-2024-08-06",
         "llm.invocation_parameters": "{\"model\": \"gpt-4o\", \"temperature\": 0}",
         "llm.input_messages.0.message.role": "system", "llm.input_messages.0.message.content": "Be brief.",
         "llm.input_messages.1.message.role": "user",
         "llm.input_messages.1.message.content": "What is the refund window?",
         "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": "30 days.",
         "llm.token_count.prompt": 420, "llm.token_count.completion": 6, "llm.token_count.total": 426,
         "llm.token_count.prompt_details.cache_read": 256, "llm.token_count.completion_details.reasoning": 0,
         "llm.cost.prompt": 0.00105, "llm.cost.completion": 0.00006, "llm.cost.total": 0.00111,
         "llm.finish_reason": "stop",
         "llm.prompt_template.template": TEMPLATE, "llm.prompt_template.version": "v2",
         "llm.prompt_template.variables": "{\"question\": \"What is the refund window?\"}",
         "input.value": "{\"messages\": []}", "input.mime_type": "application/json",
         "output.value": "30 days.", "session.id": "sess-9", "user.id": "u-17",
         "metadata": "{\"tenant\": \"acme\"}", "tag.tags": ["faq", "beta"]},
     "events": [{"name": "First Token Stream Event", "timestamp": "2026-11-18T10:00:00.500000+00:00",
                 "attributes": {}}]},
]


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "phoenix" / "spans.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"data": SPANS, "next_cursor": None}))
    return path


def test_phoenix_export_every_field(export, tmp_path):
    assert detect_format(export) == "openinference"
    res = import_telemetry(export, tmp_path / "lake")
    assert res.rows == 1 and res.retrievals_attached == 1 and res.not_llm == 1  # the CHAIN span
    df = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet")
    r = df.row(0, named=True)
    a = SPANS[3]["attributes"]
    assert r["request_id"] == LLM and r["trace_id"] == TRACE
    assert r["timestamp"] == datetime(2026, 11, 18, 10, 0, 0, 200000, tzinfo=timezone.utc)
    assert r["latency_ms"] == pytest.approx(2200.0)
    assert r["model_version"] == "unknown"  # a Phoenix span export carries no release
    assert r["provider"] == a["llm.provider"]
    assert r["request_model"] == "gpt-4o"  # from llm.invocation_parameters
    assert r["response_model"] == a["llm.model_name"]
    assert r["input_tokens"] == a["llm.token_count.prompt"]
    assert r["output_tokens"] == a["llm.token_count.completion"]
    assert r["cache_read_tokens"] == a["llm.token_count.prompt_details.cache_read"]
    assert r["reasoning_tokens"] == 0
    assert r["cost"] == pytest.approx(a["llm.cost.total"])
    assert r["finish_reason"] == "stop"
    assert r["conversation_id"] == "sess-9"
    assert r["operation"] == "chat"
    assert r["prompt_template"] == "ChatCompletion" and r["prompt_version"] == "v2"
    assert r["prompt_text"] == "Be brief.\nWhat is the refund window?"
    assert r["response_text"] == "30 days."
    assert r["retrieved_ids"] == ["faq-7", "faq-2"]
    assert r["retrieval_scores"] == [0.91, 0.44]
    assert r["context_text"] == "Refunds are accepted within 30 days.\n\nShipping takes 5 days."
    assert r["index_version"] == "faq@3"
    assert r["query_embedding"] == [0.25, -0.5, 0.125]
    assert r["span_status"] == "OK" and r["span_name"] == "ChatCompletion"
    assert df.schema["query_embedding"] == pl.List(pl.Float32)
    # unknown attributes kept; text and structure attributes are not
    assert r["attr.user_id"] == "u-17" and r["attr.metadata"] == "{\"tenant\": \"acme\"}"
    assert json.loads(r["attr.tag_tags"]) == ["faq", "beta"]
    assert r["attr.llm_system"] == "openai"  # llm.provider won; the other is kept
    assert not [c for c in df.columns if "messages" in c or "prompt_template" in c[5:] or "input" in c[5:]]
    p = pl.read_csv(tmp_path / "lake" / "lineage" / "prompts.csv")
    assert p.row(0, named=True)["text_sha256"] == hashlib.sha256(TEMPLATE.encode()).hexdigest()
    assert p["version"].to_list() == ["v2"]


def test_json_lines_and_nested_attributes_read_alike(export, tmp_path):
    nested = json.loads(json.dumps(SPANS))
    llm = nested[3]
    llm["attributes"] = {"llm": {"model_name": "gpt-4o-2024-08-06", "provider": "azure",
                                 "token_count": {"prompt": 420, "completion": 6},
                                 "input_messages": [{"message": {"role": "user", "content": "Hi"}}]},
                         "session": {"id": "sess-9"}}
    path = tmp_path / "jl" / "spans.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(s) + "\n" for s in nested))
    import_telemetry(path, tmp_path / "lake")
    r = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet").row(0, named=True)
    assert (r["input_tokens"], r["output_tokens"], r["conversation_id"], r["prompt_text"]) == (420, 6, "sess-9", "Hi")
    assert r["retrieved_ids"] == ["faq-7", "faq-2"]


def test_a_phoenix_span_without_a_start_time(export, tmp_path):
    from workbench.exceptions import ImportFormatError

    bad = json.loads(json.dumps(SPANS))
    del bad[3]["start_time"]
    export.write_text(json.dumps({"data": bad}))
    with pytest.raises(ImportFormatError) as err:
        import_telemetry(export, tmp_path / "lake")
    assert err.value.column == "data[3].start_time" and err.value.line is None
    with pytest.raises(ImportFormatError, match="no LLM call"):
        import_telemetry(export, tmp_path / "lake", on_bad_span="skip")


def test_openinference_spans_sent_as_otlp(tmp_path):
    """OpenInference instrumentors emit OTLP spans; the OTLP reader maps their llm.* attributes."""
    otel_export = pytest.importorskip("otel_export")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("openinference.instrumentation.openai")
    span = tracer.start_span("ChatCompletion", start_time=otel_export.T0, attributes={
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "openai",
        "llm.token_count.prompt": 12, "llm.token_count.completion": 3, "session.id": "s-1",
        "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": "Hello"})
    span.end(end_time=otel_export.T0 + 500_000_000)
    src = otel_export.write_export(tmp_path / "in" / "t.jsonl", otel_export.export_lines(exporter.get_finished_spans()))
    import_telemetry(src, tmp_path / "lake")
    r = pl.read_parquet(tmp_path / "lake" / "predictions" / "*.parquet").row(0, named=True)
    assert (r["provider"], r["response_model"], r["input_tokens"], r["output_tokens"]) == ("openai", "gpt-4o-mini", 12, 3)
    assert (r["conversation_id"], r["prompt_text"], r["latency_ms"]) == ("s-1", "Hello", 500.0)
