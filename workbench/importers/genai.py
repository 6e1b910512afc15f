"""The OpenTelemetry GenAI semantic conventions (``gen_ai.*`` attributes) -> lake roles.

Attribute names as in the registry (https://opentelemetry.io/docs/specs/semconv/registry/attributes/gen-ai/,
``opentelemetry.semconv._incubating.attributes.gen_ai_attributes``): ``gen_ai.operation.name``,
``gen_ai.provider.name`` (legacy ``gen_ai.system``), ``gen_ai.request.model``, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens`` / ``output_tokens`` (legacy ``prompt_tokens`` / ``completion_tokens``),
``gen_ai.usage.cache_read.input_tokens``, ``gen_ai.usage.reasoning.output_tokens``,
``gen_ai.response.finish_reasons``, ``gen_ai.conversation.id``, ``gen_ai.response.time_to_first_chunk``
(seconds), ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (JSON: ``[{"role", "parts": [{"type":
"text", "content"}]}]``), ``gen_ai.prompt.name``, ``gen_ai.retrieval.documents`` (JSON: ``[{"id", "score",
"content"}]``). Older instrumentations put the text in ``gen_ai.prompt`` / ``gen_ai.completion``
attributes or ``gen_ai.content.prompt`` / ``gen_ai.content.completion`` events: read too.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.importers.records import Span, json_list, to_float, to_int, to_str

__all__ = ["is_genai", "genai_kind", "genai_call", "genai_retrieval", "GENAI_DROPPED", "index_version_of"]

_LLM_OPS = {"chat", "text_completion", "generate_content"}
_RETRIEVAL_OPS = {"retrieval"}

#: attributes read as text or structure and not kept as extra columns (text is never an "other" column)
GENAI_DROPPED = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
                 "gen_ai.tool.definitions", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result",
                 "gen_ai.retrieval.query.text", "gen_ai.retrieval.documents", "gen_ai.prompt",
                 "gen_ai.completion")


def is_genai(span: Span) -> bool:
    return any(k.startswith("gen_ai.") for k in span.attributes)


def genai_kind(span: Span) -> str | None:
    """``"llm"``, ``"retrieval"`` or None (other spans: tools, agents, embeddings, HTTP, ...)."""
    a = span.attributes
    op = a.get("gen_ai.operation.name")
    if op in _RETRIEVAL_OPS or (op is None and "gen_ai.retrieval.documents" in a):
        return "retrieval"
    if op in _LLM_OPS:
        return "llm"
    if op is None and any(k in a for k in ("gen_ai.request.model", "gen_ai.response.model",
                                           "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")):
        return "llm"
    return None


def index_version_of(attributes: dict[str, Any]) -> tuple[str | None, str | None]:
    """(key, value) of an attribute naming the retrieval index's version (``*.index_version``,
    ``*.index.version``), if any."""
    for k, v in attributes.items():
        low = k.lower()
        if (low.endswith("index_version") or low.endswith("index.version")) and v not in (None, ""):
            return k, str(v)
    return None, None


def genai_call(span: Span) -> tuple[dict[str, Any], set[str]]:
    """The lake row of an LLM span and the attribute keys it consumed."""
    a = span.attributes
    used: set[str] = set()

    def take(*keys: str) -> Any:
        for k in keys:
            if k in a:
                used.add(k)
                if a[k] is not None:
                    return a[k]
        return None

    row: dict[str, Any] = {
        "operation": to_str(take("gen_ai.operation.name")),
        "provider": to_str(take("gen_ai.provider.name", "gen_ai.system")),
        "request_model": to_str(take("gen_ai.request.model")),
        "response_model": to_str(take("gen_ai.response.model")),
        "conversation_id": to_str(take("gen_ai.conversation.id")),
        "prompt_template": to_str(take("gen_ai.prompt.name")),
        # not in the registry, but what instrumentations that record a version write next to the name
        "prompt_version": to_str(take("gen_ai.prompt.version")),
        "input_tokens": to_int(take("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
                               "gen_ai.usage.input_tokens"),
        "output_tokens": to_int(take("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
                                "gen_ai.usage.output_tokens"),
        "cache_read_tokens": to_int(take("gen_ai.usage.cache_read.input_tokens"),
                                    "gen_ai.usage.cache_read.input_tokens"),
        "reasoning_tokens": to_int(take("gen_ai.usage.reasoning.output_tokens"),
                                   "gen_ai.usage.reasoning.output_tokens"),
    }
    ttfc = to_float(take("gen_ai.response.time_to_first_chunk"), "gen_ai.response.time_to_first_chunk")
    row["time_to_first_token_ms"] = None if ttfc is None else ttfc * 1000.0
    reasons = take("gen_ai.response.finish_reasons")
    if isinstance(reasons, str):
        reasons = json_list(reasons) or [reasons]
    out_messages = _messages(a.get("gen_ai.output.messages"))
    if not reasons and out_messages:
        reasons = [m.get("finish_reason") for m in out_messages if m.get("finish_reason")]
    row["finish_reason"] = to_str(reasons[0]) if reasons else None
    row["prompt_text"] = _text(_messages(a.get("gen_ai.input.messages"))) or to_str(a.get("gen_ai.prompt")) \
        or _event_text(span, "gen_ai.content.prompt", "gen_ai.prompt")
    row["response_text"] = _text(out_messages) or to_str(a.get("gen_ai.completion")) \
        or _event_text(span, "gen_ai.content.completion", "gen_ai.completion")
    key, version = index_version_of(a)
    if key:
        used.add(key)
        row["index_version"] = version
    return row, used


def genai_retrieval(span: Span) -> dict[str, Any]:
    """ids, scores, contents and index version of a retrieval span."""
    docs = json_list(span.attributes.get("gen_ai.retrieval.documents")) or []
    ids, scores, contents = [], [], []
    for i, d in enumerate(docs):
        if not isinstance(d, dict):
            continue
        ids.append(to_str(d.get("id")))
        scores.append(to_float(d.get("score"), f"gen_ai.retrieval.documents[{i}].score"))
        contents.append(to_str(d.get("content")))
    return {"ids": ids, "scores": scores, "contents": contents,
            "index_version": index_version_of(span.attributes)[1]}


def _messages(value: Any) -> list[dict]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    if not isinstance(value, list):
        return []
    return [m for m in value if isinstance(m, dict)]


def _text(messages: list[dict]) -> str | None:
    """Text parts of chat messages, joined by newlines."""
    parts: list[str] = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            parts.append(content)
        for p in m.get("parts") or []:
            if isinstance(p, dict) and p.get("type", "text") == "text" and isinstance(p.get("content"), str):
                parts.append(p["content"])
    return "\n".join(parts) if parts else None


def _event_text(span: Span, event: str, key: str) -> str | None:
    for name, _t, attrs in span.events:
        if name == event and attrs.get(key) is not None:
            return to_str(attrs[key])
    return None

