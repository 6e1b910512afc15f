"""Write imported LLM calls as a ``task: generation`` lake: workbench.yaml, predictions/, lineage/prompts.csv.

The lake is built in a hidden folder next to OUT and moved into place at the end, so a failed import
leaves no half-written lake behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import yaml

__all__ = ["CANONICAL", "REQUIRED", "write_lake", "prompt_lineage"]

#: canonical role -> dtype of its column (shared/spec/telemetry-lake.md, "Generative-AI lakes")
CANONICAL: dict[str, pl.DataType] = {
    "request_id": pl.String(), "trace_id": pl.String(), "timestamp": pl.Datetime("us", "UTC"),
    "latency_ms": pl.Float64(), "model_version": pl.String(), "conversation_id": pl.String(),
    "operation": pl.String(), "provider": pl.String(), "request_model": pl.String(),
    "response_model": pl.String(), "prompt_template": pl.String(), "prompt_version": pl.String(),
    "input_tokens": pl.Int64(), "output_tokens": pl.Int64(), "cache_read_tokens": pl.Int64(),
    "reasoning_tokens": pl.Int64(), "cost": pl.Float64(), "time_to_first_token_ms": pl.Float64(),
    "finish_reason": pl.String(), "prompt_text": pl.String(), "response_text": pl.String(),
    "context_text": pl.String(), "retrieved_ids": pl.List(pl.String()),
    "retrieval_scores": pl.List(pl.Float64()), "index_version": pl.String(),
    "query_embedding": pl.List(pl.Float32()),
}
#: written even when empty: the contract's required roles and the call's ids and timing
REQUIRED = ("request_id", "trace_id", "timestamp", "model_version", "latency_ms")


def _extra_dtype(values: list[Any]) -> tuple[pl.DataType, list[Any]]:
    """One dtype for an extra column: bool, int, float or string (anything else as JSON text)."""
    seen = {type(v) for v in values if v is not None}
    if seen == {bool}:
        return pl.Boolean(), values
    if seen and seen <= {int}:
        return pl.Int64(), values
    if seen and seen <= {int, float}:
        return pl.Float64(), [None if v is None else float(v) for v in values]
    out = [None if v is None else v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values]
    return pl.String(), out


def _frame(rows: list[dict[str, Any]], extra_names: list[str]) -> pl.DataFrame:
    cols: dict[str, pl.Series] = {}
    for role, dtype in CANONICAL.items():
        values = [r.get(role) for r in rows]
        if role in REQUIRED or any(v is not None for v in values):
            if role == "timestamp":
                cols[role] = pl.Series(role, values, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))
            else:
                cols[role] = pl.Series(role, values, dtype=dtype)
    for name in extra_names:
        dtype, values = _extra_dtype([r.get("_extras", {}).get(name) for r in rows])
        cols[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(list(cols.values()))


def prompt_lineage(rows: list[dict[str, Any]]) -> pl.DataFrame | None:
    """Distinct (template, version) with the first time each was seen; sha256 of the template text
    when the source carries it. None when no call names a prompt version."""
    first: dict[tuple[str, str], tuple[int, str | None]] = {}
    for r in rows:
        tpl, ver = r.get("prompt_template"), r.get("prompt_version")
        if tpl is None or ver is None:
            continue
        t = r["timestamp"]
        text = r.get("_template_text")
        if (tpl, ver) not in first or t < first[(tpl, ver)][0]:
            first[(tpl, ver)] = (t, text or first.get((tpl, ver), (0, None))[1])
        elif text and first[(tpl, ver)][1] is None:
            first[(tpl, ver)] = (first[(tpl, ver)][0], text)
    if not first:
        return None
    items = sorted(first.items(), key=lambda kv: (kv[1][0], kv[0]))
    return pl.DataFrame({
        "prompt_template": [k[0] for k, _ in items],
        "version": [k[1] for k, _ in items],
        "changed_at": pl.Series([v[0] for _, v in items], dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
        "text_sha256": [hashlib.sha256(v[1].encode()).hexdigest() if v[1] else None for _, v in items],
        "author": pl.Series([None] * len(items), dtype=pl.String),
    })


def write_lake(rows: list[dict[str, Any]], out: Path, *, name: str, extra_names: list[str],
               source: str, replace: bool) -> dict[str, Any]:
    """Write the lake to ``out`` (moved into place at the end); returns what was written."""
    df = _frame(rows, extra_names)
    prompts = prompt_lineage(rows)
    tmp = out.parent / f".{out.name}.importing-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        (tmp / "predictions").mkdir(parents=True)
        df.write_parquet(tmp / "predictions" / "part-0.parquet")
        manifest: dict[str, Any] = {
            "name": name,
            "task": "generation",
            "predictions": "predictions/",
            "columns": {role: role for role in CANONICAL if role in df.columns},
        }
        if prompts is not None:
            (tmp / "lineage").mkdir()
            prompts.write_csv(tmp / "lineage" / "prompts.csv", datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
            manifest["lineage"] = {"prompts": "lineage/prompts.csv"}
        header = f"# written by `workbench import` from {source}\n"
        (tmp / "workbench.yaml").write_text(header + yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        if out.exists():
            if any(out.iterdir()):
                if not replace:  # pragma: no cover - checked by the caller before any work
                    raise FileExistsError(out)
                shutil.rmtree(out)
            else:
                out.rmdir()
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return {"rows": df.height, "columns": df.columns, "prompts": 0 if prompts is None else prompts.height}
