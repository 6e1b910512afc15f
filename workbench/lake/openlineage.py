"""The OpenLineage reader: RunEvents (one JSON object a line) into a runs table and a datasets
table (one row per event and input/output dataset, with its schema facet's fields), and the schema
changes between consecutive runs of a dataset. A malformed line is an :class:`OpenLineageError`
naming the file and the line.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from workbench.exceptions import OpenLineageError, TimestampError
from workbench.lake.files import DataFiles
from workbench.lake.timestamps import UTC_DT, parse_time

__all__ = ["RUNS_SCHEMA", "DATASETS_SCHEMA", "SCHEMA_CHANGES_SCHEMA", "parse_openlineage", "schema_changes"]

RUNS_SCHEMA = {
    "event_time": UTC_DT, "event_type": pl.String, "run_id": pl.String, "job": pl.String,
    "inputs": pl.List(pl.String), "outputs": pl.List(pl.String), "facets": pl.String, "line": pl.Int64,
}
DATASETS_SCHEMA = {
    "event_time": UTC_DT, "run_id": pl.String, "job": pl.String, "dataset": pl.String,
    "io": pl.String, "fields": pl.List(pl.Struct({"name": pl.String, "type": pl.String,
                                                  "description": pl.String})),
    "facets": pl.String, "line": pl.Int64,
}
SCHEMA_CHANGES_SCHEMA = {
    "at": UTC_DT, "dataset": pl.String, "run_id": pl.String, "job": pl.String, "change": pl.String,
    "field": pl.String, "old_field": pl.String, "old_type": pl.String, "new_type": pl.String,
    "previous_run_id": pl.String, "detail": pl.String,
}


def parse_openlineage(f: DataFiles) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse OpenLineage RunEvents (one JSON object a line) into runs and datasets tables."""
    runs: list[dict] = []
    datasets: list[dict] = []
    for path in f.paths:
        name = f.rel(path)
        try:
            fh = open(path, encoding="utf-8")
        except OSError as exc:
            raise OpenLineageError("cannot open the OpenLineage file", file=name,
                                   found=type(exc).__name__) from None
        with fh:
            try:
                for lineno, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    _parse_event(line, lineno, name, runs, datasets)
            except UnicodeDecodeError:
                raise OpenLineageError("the OpenLineage file is not UTF-8 text", file=name,
                                       expected="UTF-8 NDJSON", found="undecodable bytes") from None
    rdf = pl.DataFrame(runs, schema=RUNS_SCHEMA, orient="row") if runs else pl.DataFrame(schema=RUNS_SCHEMA)
    ddf = pl.DataFrame(datasets, schema=DATASETS_SCHEMA, orient="row") if datasets else pl.DataFrame(schema=DATASETS_SCHEMA)
    return rdf.sort(["event_time", "line"]), ddf.sort(["event_time", "line"])


def _parse_event(line: str, lineno: int, name: str, runs: list, datasets: list) -> None:
    def fail(what: str, expected: str, found: str) -> None:
        raise OpenLineageError(what, file=name, line=lineno, expected=expected, found=found,
                               hint="each line must be one OpenLineage RunEvent (https://openlineage.io/spec).")

    try:
        ev = json.loads(line)
    except json.JSONDecodeError as exc:
        fail("a line of the OpenLineage file is not JSON", "one JSON object per line",
             f"{exc.msg} at character {exc.pos}")
    if not isinstance(ev, dict):
        fail("a line of the OpenLineage file is not a JSON object", "a RunEvent object", type(ev).__name__)
    t = ev.get("eventTime")
    if not isinstance(t, str):
        fail("a RunEvent has no eventTime", "eventTime as an ISO-8601 string", _short(t))
    try:
        when = parse_time(t, what="eventTime")
    except TimestampError:
        fail("a RunEvent's eventTime cannot be parsed", "an ISO-8601 time", _short(t))
    run = ev.get("run")
    run_id = run.get("runId") if isinstance(run, dict) else None
    if not isinstance(run_id, str) or not run_id:
        fail("a RunEvent has no run.runId", "run: {runId: ...}", _short(run))
    job = ev.get("job")
    if not isinstance(job, dict) or not isinstance(job.get("name"), str):
        fail("a RunEvent has no job.name", "job: {namespace: ..., name: ...}", _short(job))
    job_id = f"{job.get('namespace') or ''}/{job['name']}".lstrip("/")
    etype = ev.get("eventType") or "OTHER"
    if not isinstance(etype, str):
        fail("a RunEvent's eventType is not text", "START | RUNNING | COMPLETE | ABORT | FAIL | OTHER",
             _short(etype))
    ids = {}
    for io in ("inputs", "outputs"):
        items = ev.get(io) or []
        if not isinstance(items, list):
            fail(f"a RunEvent's {io} is not a list", f"{io}: [{{namespace, name, facets}}]", _short(items))
        ids[io] = []
        for ds in items:
            if not isinstance(ds, dict) or not isinstance(ds.get("name"), str):
                fail(f"a dataset of {io} has no name", "{namespace: ..., name: ...}", _short(ds))
            ds_id = f"{ds.get('namespace') or ''}/{ds['name']}".lstrip("/")
            ids[io].append(ds_id)
            facets = ds.get("facets") if isinstance(ds.get("facets"), dict) else {}
            fields = _schema_fields(facets.get("schema"))
            other = {k: v for k, v in facets.items() if k != "schema"}
            datasets.append({"event_time": when, "run_id": run_id, "job": job_id, "dataset": ds_id,
                             "io": io[:-1], "fields": fields,
                             "facets": json.dumps(other, sort_keys=True, default=str) if other else None,
                             "line": lineno})
    run_facets = run.get("facets") if isinstance(run.get("facets"), dict) else None
    runs.append({"event_time": when, "event_type": etype.upper(), "run_id": run_id, "job": job_id,
                 "inputs": ids["inputs"], "outputs": ids["outputs"],
                 "facets": json.dumps(run_facets, sort_keys=True, default=str) if run_facets else None,
                 "line": lineno})


def _schema_fields(schema: Any, prefix: str = "") -> list[dict]:
    if not isinstance(schema, dict):
        return []
    out: list[dict] = []
    for fld in schema.get("fields") or []:
        if not isinstance(fld, dict) or not isinstance(fld.get("name"), str):
            continue
        name = prefix + fld["name"]
        typ = fld.get("type")
        desc = fld.get("description")
        out.append({"name": name, "type": None if typ is None else str(typ),
                    "description": None if desc is None else str(desc)})
        if isinstance(fld.get("fields"), list):
            out.extend(_schema_fields(fld, prefix=name + "."))
    return out


def _short(v: Any) -> str:
    return repr(v)[:80]


def schema_changes(datasets: pl.DataFrame) -> pl.DataFrame:
    """Schema changes between consecutive schema facets of each dataset.

    Uses output facets (the writer's view); a dataset only ever seen as an input
    uses its input facets. A removed and an added field of the same type in one
    change are reported as a rename when the pairing is unambiguous.
    """
    rows: list[dict] = []
    d = datasets.filter(pl.col("fields").list.len() > 0)
    if d.is_empty():
        return pl.DataFrame(schema=SCHEMA_CHANGES_SCHEMA)
    outputs = set(d.filter(pl.col("io") == "output")["dataset"].unique().to_list())
    d = d.filter((pl.col("io") == "output") | ~pl.col("dataset").is_in(list(outputs)))
    for (ds,), g in d.sort(["event_time", "line"]).group_by("dataset", maintain_order=True):
        prev = None
        for r in g.iter_rows(named=True):
            fields = {f["name"]: f for f in r["fields"]}
            if prev is not None and _sig(fields) != _sig(prev[0]):
                rows.extend(_diff(ds, prev, fields, r))
            prev = (fields, r)
    if not rows:
        return pl.DataFrame(schema=SCHEMA_CHANGES_SCHEMA)
    return pl.DataFrame(rows, schema=SCHEMA_CHANGES_SCHEMA, orient="row").sort(["at", "dataset"])


def _sig(fields: dict) -> tuple:
    return tuple((k, v["type"], v["description"]) for k, v in fields.items())


def _diff(ds: str, prev, fields: dict, r: dict) -> list[dict]:
    old, prow = prev
    base = {"at": r["event_time"], "dataset": ds, "run_id": r["run_id"], "job": r["job"],
            "previous_run_id": prow["run_id"]}
    removed = [k for k in old if k not in fields]
    added = [k for k in fields if k not in old]
    out = []
    # Pair removals with additions of the same type: a rename when unambiguous.
    renamed: dict[str, str] = {}
    for k in removed:
        same = [a for a in added if fields[a]["type"] == old[k]["type"] and a not in renamed.values()]
        same_type_removed = [x for x in removed if old[x]["type"] == old[k]["type"]]
        if len(same) == 1 and len(same_type_removed) == 1:
            renamed[k] = same[0]
    for k, new in renamed.items():
        out.append(base | {"change": "renamed", "field": new, "old_field": k, "old_type": old[k]["type"],
                           "new_type": fields[new]["type"], "detail": f"{ds}: field {k} renamed to {new}"})
    for k in removed:
        if k not in renamed:
            out.append(base | {"change": "removed", "field": k, "old_field": k, "old_type": old[k]["type"],
                               "new_type": None, "detail": f"{ds}: field {k} ({old[k]['type']}) removed"})
    for k in added:
        if k not in renamed.values():
            out.append(base | {"change": "added", "field": k, "old_field": None, "old_type": None,
                               "new_type": fields[k]["type"],
                               "detail": f"{ds}: field {k} ({fields[k]['type']}) added"})
    for k in fields:
        if k in old and fields[k]["type"] != old[k]["type"]:
            out.append(base | {"change": "type_changed", "field": k, "old_field": k,
                               "old_type": old[k]["type"], "new_type": fields[k]["type"],
                               "detail": f"{ds}: field {k} type {old[k]['type']} -> {fields[k]['type']}"})
        elif k in old and fields[k]["description"] != old[k]["description"]:
            out.append(base | {"change": "description_changed", "field": k, "old_field": k,
                               "old_type": old[k]["type"], "new_type": fields[k]["type"],
                               "detail": f"{ds}: field {k} description changed: "
                                         f"{old[k]['description']!r} -> {fields[k]['description']!r}"})
    return out
