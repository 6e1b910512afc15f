"""OpenInference spans: Arize Phoenix's span export and ``llm.*`` attributes -> lake roles.

The file is what Phoenix's REST API returns for ``GET /v1/projects/{project}/spans`` (a JSON document
``{"data": [span, ...], "next_cursor": ...}``), a JSON array of such spans, or one span per line::

    {"id": "U3Bhbjox", "name": "ChatCompletion",
     "context": {"trace_id": "a1b2...", "span_id": "1a2b..."},
     "span_kind": "LLM", "parent_id": "...", "start_time": "2024-01-01T12:00:00+00:00",
     "end_time": "...", "status_code": "OK", "status_message": "",
     "attributes": {"llm.model_name": "gpt-4", "llm.token_count.prompt": 100, ...},
     "events": [{"name": "...", "timestamp": "...", "attributes": {}}]}

Phoenix flattens attributes (``retrieval.documents.0.document.id``) and moves
``openinference.span.kind`` into ``span_kind`` (src/phoenix/server/api/routers/v1/spans.py). Nested
attributes (``{"llm": {"model_name": ...}}``) are flattened the same way here. Attribute names follow
the OpenInference semantic conventions,
https://github.com/Arize-ai/openinference/blob/main/spec/semantic_conventions.md. OpenInference spans
sent as OTLP (``openinference.span.kind`` among the attributes) are read by the OTLP reader and mapped
here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.importers.genai import index_version_of
from workbench.importers.otlp import status_name
from workbench.importers.records import (
    BadSpan,
    FieldError,
    Span,
    hex_id,
    read_json_records,
    to_float,
    to_int,
    to_ns,
    to_str,
)

__all__ = ["read_phoenix", "looks_like_phoenix", "oi_kind", "is_openinference", "oi_call", "oi_retrieval",
           "oi_embedding", "OI_DROPPED"]

#: prefixes read as text or structure, never kept as extra columns
OI_DROPPED = ("llm.input_messages.", "llm.output_messages.", "llm.prompts.", "llm.choices.", "llm.tools.",
              "llm.invocation_parameters", "llm.prompt_template.", "llm.token_count.", "llm.cost.",
              "llm.function_call", "input.", "output.", "embedding.", "retrieval.documents.",
              "reranker.", "openinference.span.kind", "message.", "exception.")


def looks_like_phoenix(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("context"), dict) and \
        ("span_kind" in value or "start_time" in value)


def read_phoenix(path: Path) -> Iterator[Span | BadSpan]:
    for line, where, raw in read_json_records(path):
        at = where or "span"
        if not looks_like_phoenix(raw):
            yield BadSpan(str(path), line, at, "not a Phoenix span (no context.trace_id / span_id)")
            continue
        ctx = raw["context"]
        try:
            trace_id = hex_id(ctx.get("trace_id"), f"{at}.context.trace_id", size=16)
            span_id = hex_id(ctx.get("span_id"), f"{at}.context.span_id", size=8)
            parent = hex_id(raw.get("parent_id"), f"{at}.parent_id", size=8, required=False)
            start = to_ns(raw.get("start_time"), f"{at}.start_time")
            end = to_ns(raw.get("end_time"), f"{at}.end_time", required=False)
        except FieldError as exc:
            yield BadSpan(str(path), line, exc.field, exc.reason)
            continue
        attrs = flatten(raw.get("attributes") or {})
        events = []
        for ev in raw.get("events") or []:
            if isinstance(ev, dict):
                try:
                    t = to_ns(ev.get("timestamp"), "event", required=False)
                except FieldError:
                    t = None
                events.append((ev.get("name") or "", t, flatten(ev.get("attributes") or {})))
        yield Span(file=str(path), line=line, path=at, trace_id=trace_id, span_id=span_id, parent_id=parent,
                   name=raw.get("name"), start_ns=start, end_ns=end, attributes=attrs, events=events,
                   kind=to_str(raw.get("span_kind")), status=status_name(raw.get("status_code")))


def flatten(value: dict, prefix: str = "") -> dict[str, Any]:
    """Nested attributes -> dotted keys, lists of objects indexed (``a.0.b``), as OpenInference does."""
    out: dict[str, Any] = {}
    for k, v in value.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, f"{key}."))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                out.update(flatten(x, f"{key}.{i}."))
        else:
            out[key] = v
    return out


def is_openinference(span: Span) -> bool:
    return span.kind is not None or "openinference.span.kind" in span.attributes


def oi_kind(span: Span) -> str | None:
    kind = (span.attributes.get("openinference.span.kind") or span.kind or "").upper()
    return {"LLM": "llm", "RETRIEVER": "retrieval", "EMBEDDING": "embedding"}.get(kind)


def _indexed(attrs: dict[str, Any], base: str) -> list[dict[str, Any]]:
    """``base.0.x``, ``base.1.x``... -> ``[{x: ...}, {x: ...}]`` in index order."""
    items: dict[int, dict[str, Any]] = {}
    prefix = base + "."
    for k, v in attrs.items():
        if not k.startswith(prefix):
            continue
        head, _, rest = k[len(prefix):].partition(".")
        if head.isdigit() and rest:
            items.setdefault(int(head), {})[rest] = v
    return [items[i] for i in sorted(items)]


def _message_text(messages: list[dict[str, Any]]) -> str | None:
    parts: list[str] = []
    for m in messages:
        if isinstance(m.get("message.content"), str):
            parts.append(m["message.content"])
        for c in _indexed(m, "message.contents"):
            if c.get("message_content.type", "text") == "text" and isinstance(c.get("message_content.text"), str):
                parts.append(c["message_content.text"])
    return "\n".join(parts) if parts else None


def oi_call(span: Span) -> tuple[dict[str, Any], set[str]]:
    a = span.attributes
    used: set[str] = set()

    def take(*keys: str) -> Any:
        for k in keys:
            if k in a:
                used.add(k)
                if a[k] is not None:
                    return a[k]
        return None

    params = a.get("llm.invocation_parameters")
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError:
            params = None
    model_name = take("llm.model_name")
    inputs = _indexed(a, "llm.input_messages")
    outputs = _indexed(a, "llm.output_messages")
    prompts = _indexed(a, "llm.prompts")
    choices = _indexed(a, "llm.choices")
    version = take("llm.prompt_template.version")
    template_text = a.get("llm.prompt_template.template")
    cost = to_float(take("llm.cost.total"), "llm.cost.total")
    if cost is None and a.get("llm.cost.prompt") is not None and a.get("llm.cost.completion") is not None:
        cost = to_float(a["llm.cost.prompt"], "llm.cost.prompt") + to_float(a["llm.cost.completion"],
                                                                            "llm.cost.completion")
    row: dict[str, Any] = {
        "operation": "chat" if inputs else "text_completion" if prompts else None,
        "provider": to_str(take("llm.provider", "llm.system")),
        "request_model": to_str(take("llm.request.model_name")
                                or (params.get("model") if isinstance(params, dict) else None) or model_name),
        "response_model": to_str(take("llm.response.model_name") or model_name),
        "conversation_id": to_str(take("session.id")),
        # OpenInference names a template's version but not the template: the span's name stands for it
        "prompt_template": to_str(span.name) if (version is not None or template_text) else None,
        "prompt_version": to_str(version),
        "input_tokens": to_int(take("llm.token_count.prompt"), "llm.token_count.prompt"),
        "output_tokens": to_int(take("llm.token_count.completion"), "llm.token_count.completion"),
        "cache_read_tokens": to_int(take("llm.token_count.prompt_details.cache_read"),
                                    "llm.token_count.prompt_details.cache_read"),
        "reasoning_tokens": to_int(take("llm.token_count.completion_details.reasoning"),
                                   "llm.token_count.completion_details.reasoning"),
        "cost": cost,
        "finish_reason": to_str(take("llm.finish_reason")),
        "prompt_text": _message_text(inputs) or _join(p.get("prompt.text") for p in prompts)
        or to_str(a.get("input.value")),
        "response_text": _message_text(outputs) or _join(c.get("completion.text") for c in choices)
        or to_str(a.get("output.value")),
        "_template_text": to_str(template_text),
    }
    key, iv = index_version_of(a)
    if key:
        used.add(key)
        row["index_version"] = iv
    return row, used


def _join(texts) -> str | None:
    parts = [t for t in texts if isinstance(t, str)]
    return "\n".join(parts) if parts else None


def oi_retrieval(span: Span) -> dict[str, Any]:
    docs = _indexed(span.attributes, "retrieval.documents")
    return {"ids": [to_str(d.get("document.id")) for d in docs],
            "scores": [to_float(d.get("document.score"), f"retrieval.documents.{i}.document.score")
                       for i, d in enumerate(docs)],
            "contents": [to_str(d.get("document.content")) for d in docs],
            "index_version": index_version_of(span.attributes)[1]}


def oi_embedding(span: Span) -> list[float] | None:
    """The first vector of an EMBEDDING span (the query's embedding when it precedes an LLM call)."""
    embs = _indexed(span.attributes, "embedding.embeddings")
    vec = embs[0].get("embedding.vector") if embs else None
    if isinstance(vec, list) and vec and all(isinstance(x, (int, float)) for x in vec):
        return [float(x) for x in vec]
    return None
