"""OTLP JSON span exports: the OpenTelemetry Collector's file exporter format.

One ``ExportTraceServiceRequest`` JSON object per line (or one per file)::

    {"resourceSpans": [{"resource": {"attributes": [...]},
                        "scopeSpans": [{"scope": {...}, "spans": [
                            {"traceId": "5b8e...", "spanId": "eee1...", "parentSpanId": "",
                             "name": "chat gpt-4o", "startTimeUnixNano": "1700000000000000000",
                             "endTimeUnixNano": "...", "attributes": [{"key": "gen_ai.request.model",
                             "value": {"stringValue": "gpt-4o"}}], "events": [...]}]}]}]}

Field names are lowerCamelCase as OTLP/JSON specifies (snake_case, which protobuf JSON parsers also
accept, is read too); ids are hex (base64, protobuf's default mapping of bytes, is read too); int64
values may be JSON strings. Reference: https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
and the Collector's fileexporter.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.importers.records import BadSpan, FieldError, Span, hex_id, read_json_records, to_ns

__all__ = ["read_otlp", "any_value", "key_values", "looks_like_otlp", "status_name"]


def _get(d: dict, camel: str, snake: str, default: Any = None) -> Any:
    if camel in d:
        return d[camel]
    return d.get(snake, default)


def any_value(v: Any) -> Any:
    """The Python value of an OTLP ``AnyValue`` (``{"stringValue": "x"}`` -> ``"x"``)."""
    if not isinstance(v, dict) or not v:
        return None
    for camel, snake in (("stringValue", "string_value"), ("boolValue", "bool_value")):
        if camel in v or snake in v:
            return _get(v, camel, snake)
    if "intValue" in v or "int_value" in v:
        raw = _get(v, "intValue", "int_value")
        try:
            return int(raw)
        except (TypeError, ValueError):
            return raw
    if "doubleValue" in v or "double_value" in v:
        raw = _get(v, "doubleValue", "double_value")
        try:
            return float(raw)
        except (TypeError, ValueError):
            return raw
    if "arrayValue" in v or "array_value" in v:
        arr = _get(v, "arrayValue", "array_value") or {}
        return [any_value(x) for x in arr.get("values", [])]
    if "kvlistValue" in v or "kvlist_value" in v:
        kv = _get(v, "kvlistValue", "kvlist_value") or {}
        return key_values(kv.get("values", []))
    if "bytesValue" in v or "bytes_value" in v:
        raw = _get(v, "bytesValue", "bytes_value")
        try:
            return base64.b64decode(raw).hex()
        except (TypeError, ValueError):
            return raw
    return None


def key_values(items: Any) -> dict[str, Any]:
    """``[{"key": k, "value": AnyValue}, ...]`` -> ``{k: value}``."""
    out: dict[str, Any] = {}
    for kv in items or []:
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            out[kv["key"]] = any_value(kv.get("value"))
    return out


def looks_like_otlp(value: Any) -> bool:
    return isinstance(value, dict) and ("resourceSpans" in value or "resource_spans" in value
                                        or _bare_span(value))


def _bare_span(value: Any) -> bool:
    """An OTLP span outside a request, as Phoenix's ``GET /v1/projects/{p}/spans/otlpv1`` pages hold them."""
    return isinstance(value, dict) and ("traceId" in value or "trace_id" in value) and \
        ("startTimeUnixNano" in value or "start_time_unix_nano" in value)


def read_otlp(path: Path) -> Iterator[Span | BadSpan]:
    """Spans of an OTLP JSON file, each with its resource attributes and events."""
    for line, where, doc in read_json_records(path):
        if _bare_span(doc):
            yield _span(path, line, where or "span", doc, {})
            continue
        if not looks_like_otlp(doc):
            yield BadSpan(str(path), line, where or "resourceSpans",
                          "not an ExportTraceServiceRequest (no resourceSpans)")
            continue
        for i, rs in enumerate(_get(doc, "resourceSpans", "resource_spans") or []):
            resource = key_values(((rs or {}).get("resource") or {}).get("attributes"))
            for j, ss in enumerate(_get(rs, "scopeSpans", "scope_spans") or []):
                for k, raw in enumerate((ss or {}).get("spans") or []):
                    at = f"{where}resourceSpans[{i}].scopeSpans[{j}].spans[{k}]"
                    yield _span(path, line, at, raw, resource)


def _span(path: Path, line: int | None, at: str, raw: Any, resource: dict) -> Span | BadSpan:
    if not isinstance(raw, dict):
        return BadSpan(str(path), line, at, "a span is not a JSON object")
    try:
        trace_id = hex_id(_get(raw, "traceId", "trace_id"), f"{at}.traceId", size=16)
        span_id = hex_id(_get(raw, "spanId", "span_id"), f"{at}.spanId", size=8)
        parent = hex_id(_get(raw, "parentSpanId", "parent_span_id"), f"{at}.parentSpanId", size=8,
                        required=False)
        start = to_ns(_get(raw, "startTimeUnixNano", "start_time_unix_nano"), f"{at}.startTimeUnixNano")
        end = to_ns(_get(raw, "endTimeUnixNano", "end_time_unix_nano"), f"{at}.endTimeUnixNano",
                    required=False)
    except FieldError as exc:
        return BadSpan(str(path), line, exc.field, exc.reason)
    events = []
    for ev in raw.get("events") or []:
        if isinstance(ev, dict):
            try:
                t = to_ns(_get(ev, "timeUnixNano", "time_unix_nano"), "event", required=False)
            except FieldError:
                t = None
            events.append((ev.get("name") or "", t, key_values(ev.get("attributes"))))
    return Span(file=str(path), line=line, path=at, trace_id=trace_id, span_id=span_id, parent_id=parent,
                name=raw.get("name"), start_ns=start, end_ns=end, attributes=key_values(raw.get("attributes")),
                resource=resource, events=events, status=status_name((raw.get("status") or {}).get("code")))


#: OTLP status codes: the Collector writes the number, protobuf's JSON mapping the enum's name
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR", "STATUS_CODE_UNSET": "UNSET", "STATUS_CODE_OK": "OK",
           "STATUS_CODE_ERROR": "ERROR"}


def status_name(code: Any) -> str | None:
    """``OK``, ``ERROR`` or ``UNSET`` from an OTLP status code (absent: UNSET, as OTLP defaults it)."""
    if code is None:
        return "UNSET"
    if isinstance(code, str) and code.upper() in ("OK", "ERROR", "UNSET"):
        return code.upper()
    return _STATUS.get(code)
