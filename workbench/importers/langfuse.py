"""Langfuse observation exports -> lake rows (one per GENERATION observation).

Reads what Langfuse's public API returns (schema: ``ObservationsView``, ``Trace``, ``TraceWithFullDetails``
in https://github.com/langfuse/langfuse/blob/main/fern/apis/server/definition/commons.yml; the newer
``usageDetails`` / ``costDetails`` maps in https://js.reference.langfuse.com/interfaces/_langfuse_core.ObservationsView.html):

- ``GET /api/public/observations`` pages ``{"data": [observation, ...], "meta": {...}}``, a JSON array of
  observations, or one observation per line;
- traces (``GET /api/public/traces/{id}``) with their ``observations`` embedded; traces without them
  (``observations`` a list of ids) still lend their ``sessionId`` and ``release`` to the observations
  of the same ``traceId`` found elsewhere in the input.

An observation: ``id``, ``traceId``, ``type`` (GENERATION, SPAN, EVENT, ...), ``name``, ``startTime``,
``endTime``, ``completionStartTime``, ``model``, ``modelParameters``, ``input``, ``output``, ``metadata``,
``version``, ``level``, ``statusMessage``, ``parentObservationId``, ``promptName``, ``promptVersion``,
``usage`` ({input, output, total, unit, inputCost, outputCost, totalCost}), ``usageDetails`` (e.g. input,
output, total, input_cached_tokens, output_reasoning_tokens, cache_read_input_tokens),
``costDetails`` (same keys, USD), ``calculatedTotalCost``, ``latency`` and ``timeToFirstToken`` (seconds).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.importers.records import BadSpan, FieldError, Span, read_json_records, to_float, to_int, to_ns, to_str

__all__ = ["read_langfuse", "looks_like_langfuse", "langfuse_call", "trace_index"]


def looks_like_langfuse(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if "type" in value and ("startTime" in value or "traceId" in value):
        return True
    return "observations" in value and ("sessionId" in value or "timestamp" in value)


def _is_trace(rec: Any) -> bool:
    return isinstance(rec, dict) and "observations" in rec and "type" not in rec


def trace_index(paths: list[Path]) -> dict[str, dict]:
    """Traces found anywhere in the input, by id (observations of one file may have their trace in another)."""
    return {str(rec["id"]): rec for p in paths for _l, _w, rec in read_json_records(p)
            if _is_trace(rec) and rec.get("id") is not None}


def read_langfuse(path: Path, traces: dict[str, dict] | None = None) -> Iterator[Span | BadSpan]:
    """GENERATION observations as spans whose attributes are the observation's fields (plus
    ``trace.sessionId`` / ``trace.release`` from its trace when the input holds the trace)."""
    observations: list[tuple[int | None, str, dict, dict]] = []
    traces = dict(traces or {})
    for line, where, rec in read_json_records(path):
        at = where or "observation"
        if not isinstance(rec, dict) or not looks_like_langfuse(rec):
            yield BadSpan(str(path), line, at, "neither a Langfuse observation nor a trace")
            continue
        if _is_trace(rec):
            if rec.get("id") is not None:
                traces[str(rec["id"])] = rec
            for i, obs in enumerate(rec.get("observations") or []):
                if isinstance(obs, dict):
                    observations.append((line, f"{at}.observations[{i}]", obs, rec))
        else:
            observations.append((line, at, rec, {}))
    for line, at, obs, trace in observations:
        if obs.get("type") != "GENERATION":
            continue
        trace = trace or traces.get(str(obs.get("traceId")), {})
        try:
            span = _span(path, line, at, obs, trace)
        except FieldError as exc:
            yield BadSpan(str(path), line, exc.field, exc.reason)
            continue
        yield span


def _span(path: Path, line: int | None, at: str, obs: dict, trace: dict) -> Span:
    for key in ("id", "traceId"):
        if not obs.get(key):
            raise FieldError(f"{at}.{key}", "missing")
    start = to_ns(obs.get("startTime"), f"{at}.startTime")
    end = to_ns(obs.get("endTime"), f"{at}.endTime", required=False)
    attrs = dict(obs)
    for key in ("sessionId", "release", "version"):
        if trace.get(key) is not None:
            attrs[f"trace.{key}"] = trace[key]
    return Span(file=str(path), line=line, path=at, trace_id=str(obs["traceId"]), span_id=str(obs["id"]),
                parent_id=to_str(obs.get("parentObservationId")), name=to_str(obs.get("name")), start_ns=start,
                end_ns=end, attributes=attrs, kind="GENERATION")


def _usage(obs: dict, at: str) -> dict[str, int | None]:
    details = obs.get("usageDetails") or {}
    usage = obs.get("usage") or {}
    if isinstance(details, dict) and details:
        vals = {k: to_int(v, f"{at}.usageDetails.{k}") for k, v in details.items()}
        # Langfuse's OpenAI integration books cached prompt tokens as input_cached_tokens and takes them
        # out of `input` (likewise output_reasoning_tokens out of `output`): add them back, as
        # gen_ai.usage.input_tokens counts every input token
        ins = [v for k, v in vals.items() if v is not None and (k == "input" or k.startswith("input_")
                                                               or k.endswith("_input_tokens"))]
        outs = [v for k, v in vals.items() if v is not None and (k == "output" or k.startswith("output_"))]
        return {"input_tokens": sum(ins) if ins else None, "output_tokens": sum(outs) if outs else None,
                "cache_read_tokens": vals.get("input_cached_tokens", vals.get("cache_read_input_tokens")),
                "reasoning_tokens": vals.get("output_reasoning_tokens")}
    return {"input_tokens": to_int(usage.get("input"), f"{at}.usage.input"),
            "output_tokens": to_int(usage.get("output"), f"{at}.usage.output"),
            "cache_read_tokens": None, "reasoning_tokens": None}


def _cost(obs: dict, at: str) -> float | None:
    details = obs.get("costDetails") or {}
    if isinstance(details, dict) and details:
        if details.get("total") is not None:
            return to_float(details["total"], f"{at}.costDetails.total")
        vals = [to_float(v, f"{at}.costDetails.{k}") for k, v in details.items()]
        vals = [v for v in vals if v is not None]
        return sum(vals) if vals else None
    if obs.get("calculatedTotalCost") is not None:
        return to_float(obs["calculatedTotalCost"], f"{at}.calculatedTotalCost")
    usage = obs.get("usage") or {}
    return to_float(usage.get("totalCost"), f"{at}.usage.totalCost")


def _text(value: Any) -> str | None:
    """Text of a Langfuse input/output: a string, a chat message, a list of messages or ``{"messages": [...]}``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list):
            return _text(value["messages"])
        if isinstance(value.get("content"), str):
            return value["content"]
        return to_str(value)
    if isinstance(value, list):
        parts = []
        for m in value:
            if isinstance(m, str):
                parts.append(m)
            elif isinstance(m, dict) and isinstance(m.get("content"), str):
                parts.append(m["content"])
            elif isinstance(m, dict) and isinstance(m.get("content"), list):
                parts += [c["text"] for c in m["content"] if isinstance(c, dict) and isinstance(c.get("text"), str)]
        return "\n".join(parts) if parts else to_str(value)
    return to_str(value)


#: observation fields read into roles or dropped on purpose (text, prices of the model definition, ids)
_USED = {"id", "traceId", "type", "name", "startTime", "endTime", "completionStartTime", "model", "modelId",
         "modelParameters", "input", "output", "metadata", "version", "usage", "usageDetails", "costDetails",
         "calculatedInputCost", "calculatedOutputCost", "calculatedTotalCost", "inputPrice", "outputPrice",
         "totalPrice", "latency", "timeToFirstToken", "promptId", "promptName", "promptVersion",
         "parentObservationId", "projectId", "createdAt", "updatedAt", "trace.sessionId", "trace.release",
         "trace.version", "unit", "promptTokens", "completionTokens", "totalTokens"}


def langfuse_call(span: Span) -> tuple[dict[str, Any], set[str], dict[str, Any]]:
    """(row, consumed keys, extra attributes) of a GENERATION observation."""
    obs = span.attributes
    at = span.path
    row: dict[str, Any] = {
        "provider": None,
        "request_model": to_str(obs.get("model")),
        "response_model": to_str(obs.get("model")),
        "conversation_id": to_str(obs.get("trace.sessionId")),
        "prompt_template": to_str(obs.get("promptName")),
        "prompt_version": to_str(obs.get("promptVersion")),
        "cost": _cost(obs, at),
        "prompt_text": _text(obs.get("input")),
        "response_text": _text(obs.get("output")),
        "_release": to_str(obs.get("trace.release") or obs.get("version")),
    }
    row.update(_usage(obs, at))
    first = to_ns(obs.get("completionStartTime"), f"{at}.completionStartTime", required=False)
    if first is not None:
        row["time_to_first_token_ms"] = (first - span.start_ns) / 1e6
    elif obs.get("timeToFirstToken") is not None:
        row["time_to_first_token_ms"] = to_float(obs["timeToFirstToken"], f"{at}.timeToFirstToken") * 1000.0
    extras: dict[str, Any] = {}
    meta = obs.get("metadata")
    if isinstance(meta, dict):
        for k, v in meta.items():
            extras[k] = v
    for k, v in obs.items():
        if k not in _USED and v is not None:
            extras[k] = v
    return row, _USED, extras
