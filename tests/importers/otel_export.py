"""Spans made by the OpenTelemetry Python SDK itself, encoded to OTLP protobuf by the SDK's exporter
encoder and written as the Collector's file exporter writes them (OTLP/JSON: lowerCamelCase fields,
hex trace and span ids, int64 as strings), one ExportTraceServiceRequest per line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the test extra installs opentelemetry-sdk")
pytest.importorskip("opentelemetry.exporter.otlp.proto.common", reason="needs opentelemetry-exporter-otlp-proto-common")

from google.protobuf.json_format import MessageToDict  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import Status, StatusCode  # noqa: E402

T0 = 1_795_000_000_000_000_000  # 2026-11-18T... in Unix nanoseconds
S = 1_000_000_000

RELEASE = "2026.11.3"

INPUT_1 = [{"role": "system", "parts": [{"type": "text", "content": "You answer support questions."}]},
           {"role": "user", "parts": [{"type": "text", "content": "How do I reset my router?"}]}]
OUTPUT_1 = [{"role": "assistant", "parts": [{"type": "text", "content": "Hold the reset button for 10 s."}],
             "finish_reason": "stop"}]
DOCS_1 = [{"id": "kb-12", "score": 0.83, "content": "Routers reset with the back button."},
          {"id": "kb-40", "score": 0.61, "content": "Power-cycle the modem first."}]


def make_spans():
    """Three traces: a RAG chat (HTTP root, retrieval, chat), a legacy-attribute chat with a newer
    prompt version, and a trace with an embeddings call and a tool call only. Returns the SDK's
    finished spans (ReadableSpan)."""
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot", "service.version": RELEASE,
                                                        "deployment.environment": "prod"}))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("support-bot.app", "1.0")

    root = tracer.start_span("POST /chat", start_time=T0, attributes={"http.request.method": "POST"})
    ctx = trace.set_span_in_context(root)
    ret = tracer.start_span("retrieval kb", context=ctx, start_time=T0 + S // 100, attributes={
        "gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "kb",
        "gen_ai.retrieval.documents": json.dumps(DOCS_1), "app.index_version": "kb@2026-11-20"})
    ret.end(end_time=T0 + S // 20)
    chat = tracer.start_span("chat gpt-4o-mini", context=ctx, start_time=T0 + S // 10, attributes={
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 812, "gen_ai.usage.output_tokens": 95,
        "gen_ai.usage.cache_read.input_tokens": 512, "gen_ai.usage.reasoning.output_tokens": 0,
        "gen_ai.response.finish_reasons": ("stop",), "gen_ai.conversation.id": "conv-1",
        "gen_ai.prompt.name": "support-answer", "gen_ai.prompt.version": "v7",
        "gen_ai.response.time_to_first_chunk": 0.21, "gen_ai.request.temperature": 0.2,
        "gen_ai.input.messages": json.dumps(INPUT_1), "gen_ai.output.messages": json.dumps(OUTPUT_1),
        "deployment_env": "prod-eu", "app.user_tier": 3})
    chat.end(end_time=T0 + S // 10 + 1_234_567_891)
    root.end(end_time=T0 + 2 * S)

    legacy = tracer.start_span("chat claude", start_time=T0 + 3600 * S, attributes={
        "gen_ai.system": "anthropic", "gen_ai.request.model": "claude-haiku",
        "gen_ai.response.model": "claude-haiku-20260101", "gen_ai.usage.input_tokens": 40,
        "gen_ai.usage.output_tokens": 256, "gen_ai.response.finish_reasons": ("length",),
        "gen_ai.conversation.id": "conv-2", "gen_ai.prompt.name": "support-answer",
        "gen_ai.prompt.version": "v8", "deployment_env": "prod-us", "app.user_tier": 1})
    legacy.add_event("gen_ai.content.prompt", {"gen_ai.prompt": "What is my plan?"})
    legacy.add_event("gen_ai.content.completion", {"gen_ai.completion": "Your plan is Basic."})
    legacy.set_status(Status(StatusCode.ERROR, "upstream timeout"))
    legacy.end(end_time=T0 + 3600 * S + 2 * S)

    emb = tracer.start_span("embeddings", start_time=T0 + 7200 * S, attributes={
        "gen_ai.operation.name": "embeddings", "gen_ai.request.model": "text-embedding-3-small"})
    emb.end(end_time=T0 + 7200 * S + S // 50)
    tool = tracer.start_span("execute_tool lookup", start_time=T0 + 7200 * S, attributes={
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"})
    tool.end(end_time=T0 + 7200 * S + S // 50)
    provider.shutdown()
    return list(exporter.get_finished_spans())


def _hex_ids(node):
    """The Collector writes trace and span ids as hex (OTLP/JSON); protobuf's JSON mapping writes
    bytes as base64. Convert as the Collector does."""
    if isinstance(node, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") and v else _hex_ids(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_hex_ids(x) for x in node]
    return node


def export_lines(spans, *, hex_ids: bool = True) -> list[dict]:
    """One ExportTraceServiceRequest per trace, as OTLP/JSON dicts."""
    by_trace: dict[int, list] = {}
    for s in spans:
        by_trace.setdefault(s.context.trace_id, []).append(s)
    out = []
    for batch in by_trace.values():
        doc = MessageToDict(encode_spans(batch))  # lowerCamelCase, like the Collector
        out.append(_hex_ids(doc) if hex_ids else doc)
    return out


def write_export(path: Path, lines: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path
