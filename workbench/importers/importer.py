"""``import_telemetry``: real LLM telemetry (OTLP JSON, Phoenix/OpenInference, Langfuse) -> a generation lake.

One row per LLM call. Retrieval spans of the same trace are attached to the LLM call they fed: the
first call of the trace that starts at or after the retrieval started (else the trace's last call);
several retrievals feeding one call are concatenated in time order. The input is only read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from workbench.exceptions import ImportFormatError, UsageError
from workbench.importers import genai, langfuse, openinference, otlp
from workbench.importers.records import BadSpan, FieldError, Span, read_json_records, sanitize
from workbench.importers.writer import write_lake

__all__ = ["import_telemetry", "ImportResult", "detect_format", "FORMATS"]

Format = Literal["otlp", "openinference", "langfuse", "auto"]
FORMATS = ("otlp", "openinference", "langfuse")
_SUFFIXES = (".json", ".jsonl", ".ndjson")
_READERS = {"otlp": otlp.read_otlp, "openinference": openinference.read_phoenix}
# text and structure attributes of either convention are never kept as extra columns ("x." is a prefix)
_DROPPED_KEYS = frozenset(k for k in openinference.OI_DROPPED + genai.GENAI_DROPPED if not k.endswith("."))
_DROPPED_KEYS |= {"service.version"}
_DROPPED_PREFIXES = tuple(k for k in openinference.OI_DROPPED + genai.GENAI_DROPPED if k.endswith("."))
_RESOURCE_DROPPED = ("service.version", "telemetry.sdk.", "telemetry.auto.")


@dataclass(frozen=True)
class ImportResult:
    """What ``import_telemetry`` wrote and what it left out."""

    out: Path
    formats: dict[str, str]  # file -> format
    rows: int
    spans_read: int
    not_llm: int  # spans that are neither an LLM call nor a retrieval (HTTP, tools, chains, ...)
    retrievals_attached: int
    retrievals_unattached: int
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count (on_bad_span="skip")
    prompts: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe values (paths as strings)."""
        return {"out": str(self.out), "formats": dict(self.formats), "rows": self.rows,
                "spans_read": self.spans_read, "not_llm": self.not_llm,
                "retrievals_attached": self.retrievals_attached,
                "retrievals_unattached": self.retrievals_unattached, "skipped": dict(self.skipped),
                "prompts": self.prompts, "notes": list(self.notes)}

    def render(self) -> str:
        fmts = ", ".join(sorted(set(self.formats.values())))
        lines = [f"wrote {self.out}: {self.rows} LLM call(s) from {len(self.formats)} file(s) ({fmts}); "
                 f"{self.spans_read} spans read, {self.not_llm} neither LLM calls nor retrievals",
                 f"retrieval spans attached to a call: {self.retrievals_attached}"
                 + (f" ({self.retrievals_unattached} in traces without an LLM call, left out)"
                    if self.retrievals_unattached else "")]
        if self.prompts:
            lines.append(f"prompt versions: {self.prompts} (lineage/prompts.csv)")
        n = sum(self.skipped.values())
        if n:
            lines.append(f"skipped {n} bad span(s):")
            lines += [f"  {count}  {reason}" for reason, count in sorted(self.skipped.items(), key=lambda x: -x[1])]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def detect_format(path: str | Path) -> str:
    """``otlp``, ``openinference`` or ``langfuse`` from the first record of a file."""
    path = Path(path)
    for _line, _where, rec in read_json_records(path):
        if otlp.looks_like_otlp(rec):
            return "otlp"
        if openinference.looks_like_phoenix(rec):
            return "openinference"
        if langfuse.looks_like_langfuse(rec):
            return "langfuse"
        found = f"an object with keys {', '.join(sorted(rec)[:8])}" if isinstance(rec, dict) else type(rec).__name__
        msg = "cannot tell the telemetry format of the file"
        raise ImportFormatError(msg, file=str(path), expected="OTLP JSON (resourceSpans), Phoenix spans "
                                "(context, span_kind) or Langfuse observations (type, startTime)", found=found,
                                hint="pass --format otlp|openinference|langfuse if the file is one of them")
    msg = "the file holds no records"
    raise ImportFormatError(msg, file=str(path), expected="JSON or JSON lines with spans", found="nothing")


def _files(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    if src.is_dir():
        files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)
        if files:
            return files
        msg = "the source folder holds no telemetry files"
        raise ImportFormatError(msg, file=str(src), expected=f"files ending in {', '.join(_SUFFIXES)}",
                                found="none")
    msg = "the source does not exist"
    raise UsageError(msg, file=str(src), column="SRC", expected="a telemetry file or a folder of them",
                     hint="check the path")


def _check_out(src: Path, out: Path, *, overwrite: bool, allow_inside_source: bool) -> None:
    s, o = src.resolve(), out.resolve()
    src_tree = s if s.is_dir() else s.parent
    if o == s or s.is_relative_to(o):
        msg = "OUT would contain the input, which is never written to"
        raise UsageError(msg, file=str(out), column="OUT", expected="a folder outside the input",
                         found=f"the input {src} is inside it", hint="pick a new folder elsewhere")
    if o.is_relative_to(src_tree) and not allow_inside_source:
        msg = "OUT is inside the input's folder, which the importer does not write to unless asked"
        raise UsageError(msg, file=str(out), column="OUT", expected=f"a folder outside {src_tree}",
                         found=str(out), hint="write the lake elsewhere, or pass --allow-inside-source")
    if out.exists() and not out.is_dir():
        msg = "OUT is a file"
        raise UsageError(msg, file=str(out), column="OUT", expected="a new or empty folder", found="a file")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            msg = "OUT is a folder that is not empty"
            raise UsageError(msg, file=str(out), column="OUT", expected="a new or empty folder",
                             found="files in it", hint="pick a new folder, or pass --overwrite to replace a "
                                                       "lake written before")
        if not (out / "workbench.yaml").is_file():
            msg = "--overwrite replaces only a lake (a folder with workbench.yaml)"
            raise UsageError(msg, file=str(out), column="OUT", expected="a lake or an empty folder",
                             found="other files", hint="pick a new folder; nothing was deleted")
    if not o.parent.is_dir():
        msg = "the folder of OUT does not exist"
        raise UsageError(msg, file=str(out), column="OUT", expected="a path in an existing folder",
                         found=f"no folder {out.parent}", hint=f"mkdir -p {out.parent}")


def _spans(files: list[Path], fmt: str, formats: dict[str, str]) -> Iterator[tuple[str, Span | BadSpan]]:
    for f in files:
        formats[str(f)] = detect_format(f) if fmt == "auto" else fmt
    lf = [f for f in files if formats[str(f)] == "langfuse"]
    traces = langfuse.trace_index(lf) if lf else {}
    for f in files:
        this = formats[str(f)]
        items = langfuse.read_langfuse(f, traces) if this == "langfuse" else _READERS[this](f)
        for item in items:
            yield this, item


def _kind(source: str, span: Span) -> tuple[str | None, str | None]:
    """(convention, kind) of a span: kind is llm, retrieval, embedding or None."""
    if source == "langfuse":
        return "langfuse", "llm"
    if openinference.is_openinference(span):
        kind = openinference.oi_kind(span)
        if kind is not None or not genai.is_genai(span):
            return "openinference", kind
    if genai.is_genai(span):
        return "genai", genai.genai_kind(span)
    return None, None


def _extras(span: Span, used: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in span.attributes.items():
        if k in used or v is None or k in _DROPPED_KEYS or k.startswith(_DROPPED_PREFIXES):
            continue
        out["attr." + sanitize(k)] = v
    for k, v in span.resource.items():
        if v is None or k.startswith(_RESOURCE_DROPPED):
            continue
        out["resource." + sanitize(k)] = v
    return out


def _row(convention: str, span: Span) -> dict[str, Any]:
    if convention == "langfuse":
        row, _used, extra = langfuse.langfuse_call(span)
        extras = {"attr." + sanitize(k): v for k, v in extra.items()}
        release = row.pop("_release")
    else:
        call = openinference.oi_call if convention == "openinference" else genai.genai_call
        row, used = call(span)
        extras = _extras(span, used)
        release = span.resource.get("service.version") or span.attributes.get("service.version")
    row.update(request_id=span.span_id, trace_id=span.trace_id, timestamp=span.start_ns // 1000,
               latency_ms=None if span.end_ns is None else (span.end_ns - span.start_ns) / 1e6,
               model_version=None if release is None else str(release), _start=span.start_ns)
    if span.name is not None:
        extras["span_name"] = span.name
    if span.status is not None:
        extras["span_status"] = span.status
    row["_extras"] = extras
    return row


def import_telemetry(src: str | Path, out: str | Path, *, format: Format = "auto",
                     on_bad_span: Literal["error", "skip"] = "error", name: str | None = None,
                     overwrite: bool = False, allow_inside_source: bool = False) -> ImportResult:
    """Write a ``task: generation`` lake at ``out`` from the LLM telemetry in ``src`` (a file or a folder
    of ``.json`` / ``.jsonl`` / ``.ndjson`` files), never writing to ``src``.

    Parameters
    ----------
    format : "auto" | "otlp" | "openinference" | "langfuse"
        ``auto`` tells each file's format from its first record.
    on_bad_span : "error" | "skip"
        A span lacking a required field (trace id, span id, start time) or holding an unreadable one:
        raise :class:`~workbench.exceptions.ImportFormatError` naming the file, line and field, or count
        it (``ImportResult.skipped``) and go on.
    name : str, optional
        The lake's name (default: OUT's folder name).
    overwrite : bool
        Replace OUT when it is a lake written before (a folder with workbench.yaml).
    allow_inside_source : bool
        Allow OUT inside the input's folder (refused by default).
    """
    if format not in (*FORMATS, "auto"):
        raise UsageError("unknown format", column="--format", expected=" | ".join((*FORMATS, "auto")),
                         found=repr(format))
    if on_bad_span not in ("error", "skip"):
        raise UsageError("unknown bad-span policy", column="--on-bad-span", expected="error | skip",
                         found=repr(on_bad_span))
    src, out = Path(src), Path(out)
    files = _files(src)
    _check_out(src, out, overwrite=overwrite, allow_inside_source=allow_inside_source)

    formats: dict[str, str] = {}
    skipped: Counter[str] = Counter()
    calls: list[dict[str, Any]] = []
    side: dict[str, list[tuple[int, str, Any]]] = {}  # trace -> (start, kind, payload) of retrievals/embeddings
    spans_read = not_llm = 0

    def bad(b: BadSpan) -> None:
        if on_bad_span == "error":
            raise b.error()
        skipped[f"{b.short_field}: {b.reason}"] += 1

    for source, item in _spans(files, format, formats):
        spans_read += 1
        if isinstance(item, BadSpan):
            bad(item)
            continue
        convention, kind = _kind(source, item)
        try:
            if kind == "llm":
                calls.append(_row(convention, item))
            elif kind == "retrieval":
                fn = openinference.oi_retrieval if convention == "openinference" else genai.genai_retrieval
                side.setdefault(item.trace_id, []).append((item.start_ns, "retrieval", fn(item)))
            elif kind == "embedding":
                vec = openinference.oi_embedding(item)
                if vec is not None:
                    side.setdefault(item.trace_id, []).append((item.start_ns, "embedding", vec))
                else:
                    not_llm += 1
            else:
                not_llm += 1
        except FieldError as exc:
            where = exc.field if exc.field.startswith(item.path) else f"{item.path}.{exc.field}"
            bad(BadSpan(item.file, item.line, where, exc.reason))

    attached, unattached, lone_embeddings = _attach(calls, side)
    not_llm += lone_embeddings
    if not calls:
        msg = "no LLM call found in the input"
        raise ImportFormatError(msg, file=str(src), expected="spans with gen_ai.* attributes, OpenInference "
                                "LLM spans or Langfuse GENERATION observations",
                                found=f"{spans_read} record(s), {sum(skipped.values())} skipped, none an LLM call",
                                hint="check --format and that the exporter records LLM spans")
    notes = []
    missing_release = sum(r["model_version"] is None for r in calls)
    if missing_release:
        notes.append(f"{missing_release} call(s) carry no application release (service.version, Langfuse "
                     "release/version): their model_version is 'unknown'")
        for r in calls:
            if r["model_version"] is None:
                r["model_version"] = "unknown"
    calls.sort(key=lambda r: (r["_start"], r["request_id"]))
    extra_names = sorted({k for r in calls for k in r["_extras"]})
    written = write_lake(calls, out, name=name or out.resolve().name, extra_names=extra_names,
                         source=", ".join(sorted(set(formats.values()))) + f" telemetry ({src.name})",
                         replace=overwrite)
    return ImportResult(out=out, formats=formats, rows=written["rows"], spans_read=spans_read, not_llm=not_llm,
                        retrievals_attached=attached, retrievals_unattached=unattached, skipped=dict(skipped),
                        prompts=written["prompts"], notes=tuple(notes))


def _attach(calls: list[dict[str, Any]], side: dict[str, list[tuple[int, str, Any]]]) -> tuple[int, int, int]:
    """Attach retrievals and embeddings to calls. Returns (retrievals attached, retrievals left out,
    embeddings left out): left out when their trace has no LLM call."""
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for r in calls:
        by_trace.setdefault(r["trace_id"], []).append(r)
    attached = unattached = lone_embeddings = 0
    for trace, items in side.items():
        targets = sorted(by_trace.get(trace, []), key=lambda r: r["_start"])
        for start, kind, payload in sorted(items, key=lambda x: x[0]):
            if not targets:
                unattached += kind == "retrieval"
                lone_embeddings += kind == "embedding"
                continue
            after = [r for r in targets if r["_start"] >= start]
            call = after[0] if after else targets[-1]
            if kind == "embedding":
                call.setdefault("query_embedding", payload)
                continue
            attached += 1
            call.setdefault("_retrievals", []).append(payload)
    for r in calls:
        docs = r.pop("_retrievals", None)
        if not docs:
            continue
        r["retrieved_ids"] = [i for d in docs for i in d["ids"]]
        scores = [s for d in docs for s in d["scores"]]
        r["retrieval_scores"] = scores if any(s is not None for s in scores) else None
        texts = [c for d in docs for c in d["contents"] if c]
        r["context_text"] = "\n\n".join(texts) if texts else None
        versions = [d["index_version"] for d in docs if d.get("index_version")]
        if versions and not r.get("index_version"):
            r["index_version"] = versions[0]
    return attached, unattached, lone_embeddings
