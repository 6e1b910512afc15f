"""What every importer produces: spans (or observations) read from a file, and the problems found.

A :class:`Span` is one record of the source with its place in the file (for errors), its ids and
times, and its attributes flattened to ``{key: value}``. A :class:`BadSpan` is a record that lacks a
required field: the caller raises it (``on_bad_span="error"``) or counts it (``"skip"``).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench.exceptions import ImportFormatError

__all__ = ["Span", "BadSpan", "FieldError", "read_json_records", "hex_id", "to_ns", "to_int",
           "to_float", "to_str", "sanitize", "json_list"]


class FieldError(Exception):
    """A field of one record that is missing or cannot be read (internal: becomes a BadSpan)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass
class Span:
    """One span (or Langfuse observation) of the source, its attributes flattened."""

    file: str
    line: int | None
    path: str  # where in the line/document, e.g. "resourceSpans[0].scopeSpans[0].spans[2]"
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str | None
    start_ns: int
    end_ns: int | None
    attributes: dict[str, Any]
    resource: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, int | None, dict[str, Any]]] = field(default_factory=list)
    kind: str | None = None  # the source's own span kind, when it has one (Phoenix: LLM, RETRIEVER, ...)
    status: str | None = None  # OK, ERROR or UNSET (OTLP status code, Phoenix status_code)


@dataclass(frozen=True)
class BadSpan:
    """A record lacking a required field (or holding one that cannot be read)."""

    file: str
    line: int | None
    field: str
    reason: str

    @property
    def short_field(self) -> str:
        """The field without its place in the document: ``...spans[2].startTimeUnixNano`` -> ``startTimeUnixNano``."""
        return _FIELD_TAIL.split(self.field)[-1]

    def error(self) -> ImportFormatError:
        return ImportFormatError(
            f"a span cannot be imported: `{self.short_field}`: {self.reason}",
            file=self.file, line=self.line, column=self.field,
            expected="spans with a trace id, a span id and a start time, and readable attribute values",
            hint="fix the exporter, or pass --on-bad-span skip to count and leave such spans out")


# ---------------------------------------------------------------------------------------------
# reading JSON documents and JSON lines

def read_json_records(path: Path) -> Iterator[tuple[int | None, str, Any]]:
    """Yield ``(line, where, value)`` for each top-level record of a JSON or JSON-lines file.

    A JSON document holding an array (or an object with a ``data`` array, as the Phoenix and
    Langfuse APIs return) yields its items with ``line=None`` and ``where="data[i]"``; a JSON-lines
    file yields one value per non-empty line.
    """
    text = _read_text(path)
    stripped = text.lstrip()
    if not stripped:
        return
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = _NOT_ONE_DOC
    if doc is not _NOT_ONE_DOC:
        if isinstance(doc, list):
            for i, item in enumerate(doc):
                yield None, f"[{i}]", item
        elif isinstance(doc, dict) and isinstance(doc.get("data"), list) and "resourceSpans" not in doc:
            for i, item in enumerate(doc["data"]):
                yield None, f"data[{i}]", item
        else:
            yield 1, "", doc
        return
    for no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield no, "", json.loads(raw)
        except json.JSONDecodeError as exc:
            msg = "a line is not valid JSON"
            raise ImportFormatError(msg, file=str(path), line=no, expected="one JSON object per line",
                                    found=f"{exc.msg} at column {exc.colno}",
                                    hint="the file must be JSON lines (one object a line) or one JSON "
                                         "document") from None


_NOT_ONE_DOC = object()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        msg = "the file is not UTF-8 text"
        raise ImportFormatError(msg, file=str(path), expected="JSON or JSON lines (UTF-8)",
                                found="binary data", hint="export spans as OTLP JSON, not protobuf") from None


# ---------------------------------------------------------------------------------------------
# values

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_FIELD_TAIL = re.compile(r"\]\.?")


def hex_id(value: Any, field: str, *, size: int, required: bool = True) -> str | None:
    """A trace (16 bytes) or span (8 bytes) id as lower-case hex.

    OTLP/JSON writes ids as hex (the Collector does); protobuf's own JSON mapping writes bytes as
    base64: both are read. ``0x`` prefixes (some exporters) are dropped.
    """
    if value is None or value == "":
        if required:
            raise FieldError(field, "missing")
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"expected a hex string, found {type(value).__name__}")
    v = value[2:] if value.lower().startswith("0x") else value
    if len(v) == 2 * size and _HEX.match(v):
        out = v.lower()
    else:
        try:
            raw = base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != size:
            raise FieldError(field, f"expected {2 * size} hex characters, found {len(v)} characters")
        out = raw.hex()
    if set(out) == {"0"}:
        if required:
            raise FieldError(field, "all zeroes (an invalid id)")
        return None
    return out


def to_ns(value: Any, field: str, *, required: bool = True) -> int | None:
    """Nanoseconds since the epoch from an integer, a digit string (OTLP int64) or an ISO-8601 time."""
    if value is None or value == "":
        if required:
            raise FieldError(field, "missing")
        return None
    if isinstance(value, bool):
        raise FieldError(field, "expected a time, found a boolean")
    if isinstance(value, int):
        ns = value
    elif isinstance(value, str) and value.isdigit():
        ns = int(value)
    elif isinstance(value, str):
        ns = _iso_ns(value, field)
    else:
        raise FieldError(field, f"expected a time, found {type(value).__name__}")
    if ns <= 0:
        if required:
            raise FieldError(field, "zero or negative (unset)")
        return None
    return ns


_ISO = re.compile(r"^(?P<base>\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?)(?:\.(?P<frac>\d+))?(?P<tz>Z|z|[+-]\d\d:?\d\d)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _iso_ns(value: str, field: str) -> int:
    """An ISO-8601 time to Unix nanoseconds, keeping every fractional digit (tz-naive: UTC)."""
    m = _ISO.match(value.strip())
    if not m:
        raise FieldError(field, "expected an ISO-8601 time or Unix nanoseconds")
    tz = m["tz"] or "+00:00"
    tz = "+00:00" if tz in ("Z", "z") else tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"
    try:
        dt = datetime.fromisoformat(m["base"].replace(" ", "T") + tz)
    except ValueError:
        raise FieldError(field, "expected an ISO-8601 time or Unix nanoseconds") from None
    delta = dt - _EPOCH
    frac = int((m["frac"] or "0").ljust(9, "0")[:9])
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + frac


def to_int(value: Any, field: str) -> int | None:
    """An integer attribute (OTLP int64 arrives as a digit string); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FieldError(field, "expected an integer, found a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise FieldError(field, "expected an integer")


def to_float(value: Any, field: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FieldError(field, "expected a number, found a boolean")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise FieldError(field, "expected a number") from None
    if math.isnan(out):
        return None
    return out


def to_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def json_list(value: Any) -> list | None:
    """A list from a list or a JSON-encoded list (structured attributes often arrive as JSON strings)."""
    if value is None:
        return None
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            out = json.loads(value)
        except json.JSONDecodeError:
            return None
        return out if isinstance(out, list) else None
    return None


_NOT_NAME = re.compile(r"[^a-z0-9_]+")


def sanitize(key: str) -> str:
    """A column-safe name for an attribute key: ``deployment.env`` -> ``deployment_env``."""
    out = _NOT_NAME.sub("_", key.lower()).strip("_")
    return out or "unnamed"
