"""The lineage model: rollouts, feature provenance, upstream runs and schema changes,
external dependencies and ingress traffic, as typed polars tables with helpers.

Lineage tables are small (one row per event), so they are read eagerly and
validated row by row: an error names the file and the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from workbench.exceptions import LineageError, OpenLineageError, TimestampError
from workbench.lake.files import DataFiles, read_table, resolve_files
from workbench.lake.manifest import Manifest
from workbench.lake.timestamps import UTC_DT, check_timestamp_values, parse_time, to_utc

__all__ = ["Lineage", "ROUTES", "TIMELINE_KINDS", "load_lineage", "parse_openlineage", "schema_changes"]

ROUTES = ("primary", "canary", "shadow")
TIMELINE_KINDS = ("rollout", "feature_version", "openlineage_run", "openlineage_schema_change",
                  "dependency_change")

_DEPLOY_COLS = {
    "required": ("model_version", "deployed_at", "route", "traffic_pct"),
    "optional": ("training_dataset", "artifact_digest", "serving_commit", "artifact_uri", "notes"),
}
_FEATURE_COLS = {
    "required": ("feature", "version", "valid_from", "source_dataset", "source_field"),
    "optional": ("transform",),
}
_DEP_COLS = {"required": ("dependency", "version", "changed_at"), "optional": ("consumers",)}
_TRAFFIC_COLS = {"required": ("timestamp", "interval_s", "requests"), "optional": ("route",)}

_TIMELINE_SCHEMA = {"at": UTC_DT, "kind": pl.String, "subject": pl.String, "detail": pl.String,
                    "ref": pl.String}


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


DEPLOYMENTS_SCHEMA = {
    "model_version": pl.String, "deployed_at": UTC_DT, "route": pl.String, "traffic_pct": pl.Float64,
    "training_dataset": pl.String, "artifact_digest": pl.String, "serving_commit": pl.String,
    "artifact_uri": pl.String, "notes": pl.String, "line": pl.Int64,
}
FEATURES_SCHEMA = {
    "feature": pl.String, "version": pl.String, "valid_from": UTC_DT, "source_dataset": pl.String,
    "source_field": pl.String, "transform": pl.String, "line": pl.Int64,
}
DEPENDENCIES_SCHEMA = {
    "dependency": pl.String, "version": pl.String, "changed_at": UTC_DT,
    "consumers": pl.List(pl.String), "previous_version": pl.String, "line": pl.Int64,
}
TRAFFIC_SCHEMA = {"timestamp": UTC_DT, "interval_s": pl.Float64, "requests": pl.Float64, "route": pl.String}
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


@dataclass(frozen=True)
class Lineage:
    """Every lineage table of a lake.

    Attributes
    ----------
    deployments : DataFrame
        One row per rollout step (model_version, deployed_at, route, traffic_pct, ...).
    features : DataFrame
        Feature provenance: feature, version, valid_from, source_dataset, source_field.
    runs : DataFrame
        One row per OpenLineage RunEvent.
    datasets : DataFrame
        One row per (event, input or output dataset) with the schema facet's fields.
    schema_changes : DataFrame
        Field added / removed / renamed / type_changed / description_changed, per dataset.
    dependencies : DataFrame
        External dependency versions with the version each replaced.
    traffic : DataFrame
        Requests the ingress counted per interval (and route).
    """

    deployments: pl.DataFrame = field(default_factory=lambda: _empty(DEPLOYMENTS_SCHEMA))
    features: pl.DataFrame = field(default_factory=lambda: _empty(FEATURES_SCHEMA))
    runs: pl.DataFrame = field(default_factory=lambda: _empty(RUNS_SCHEMA))
    datasets: pl.DataFrame = field(default_factory=lambda: _empty(DATASETS_SCHEMA))
    schema_changes: pl.DataFrame = field(default_factory=lambda: _empty(SCHEMA_CHANGES_SCHEMA))
    dependencies: pl.DataFrame = field(default_factory=lambda: _empty(DEPENDENCIES_SCHEMA))
    traffic: pl.DataFrame = field(default_factory=lambda: _empty(TRAFFIC_SCHEMA))
    sources: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (f"Lineage(deployments={self.deployments.height}, features={self.features.height}, "
                f"runs={self.runs.height}, schema_changes={self.schema_changes.height}, "
                f"dependencies={self.dependencies.height}, traffic={self.traffic.height})")

    def counts(self) -> dict[str, int]:
        """Rows per lineage table."""
        return {
            "deployments": self.deployments.height,
            "model_versions": self.deployments["model_version"].n_unique(),
            "feature_versions": self.features.height,
            "openlineage_events": self.runs.height,
            "openlineage_runs": self.runs["run_id"].n_unique(),
            "schema_changes": self.schema_changes.height,
            "dependency_changes": self.dependencies.height,
            "traffic_intervals": self.traffic.height,
        }

    # -- rollouts -----------------------------------------------------------------------
    def rollout_state(self, at) -> pl.DataFrame:
        """Which version served which route, and with what share, at time ``at``.

        For each route the latest rollout step at or before ``at`` holds; routes whose
        latest step put them at 0 % are left out.

        Examples
        --------
        >>> lake.lineage.rollout_state("2026-03-10T12:00Z")  # doctest: +SKIP
        """
        t = parse_time(at, what="at")
        d = self.deployments.filter(pl.col("deployed_at") <= t)
        if d.is_empty():
            return d
        latest = d.sort(["deployed_at", "line"]).group_by("route", maintain_order=True).last()
        return latest.filter(pl.col("traffic_pct") > 0).sort("route")

    def rollout_intervals(self) -> pl.DataFrame:
        """Rollout steps as intervals ``[start, end)`` per route (end null = still in effect)."""
        d = self.deployments.sort(["route", "deployed_at", "line"])
        return d.with_columns(
            pl.col("deployed_at").alias("start"),
            pl.col("deployed_at").shift(-1).over("route").alias("end"),
        ).select("route", "model_version", "traffic_pct", "start", "end", "training_dataset",
                 "artifact_digest", "serving_commit")

    def version_info(self, version: str) -> dict[str, Any] | None:
        """Training dataset, artifact digest, serving commit and first deployment of a version."""
        d = self.deployments.filter(pl.col("model_version") == str(version)).sort("deployed_at")
        if d.is_empty():
            return None
        first = d.row(0, named=True)
        return {k: first[k] for k in ("model_version", "training_dataset", "artifact_digest",
                                      "serving_commit", "artifact_uri")} | {
            "first_deployed_at": first["deployed_at"], "steps": d.height}

    def previous_version(self, version: str) -> str | None:
        """The version that served primary just before ``version`` first did."""
        d = self.deployments.sort(["deployed_at", "line"])
        first = d.filter(pl.col("model_version") == str(version))
        if first.is_empty():
            return None
        t0 = first["deployed_at"][0]
        before = d.filter((pl.col("deployed_at") < t0) & (pl.col("route") == "primary")
                          & (pl.col("model_version") != str(version)) & (pl.col("traffic_pct") > 0))
        return before["model_version"][-1] if before.height else None

    # -- features and upstream ----------------------------------------------------------
    def feature_versions_at(self, at) -> pl.DataFrame:
        """The version of each feature in effect at ``at`` with its source dataset and field."""
        t = parse_time(at, what="at")
        f = self.features.filter(pl.col("valid_from") <= t).sort(["valid_from", "line"])
        return f.group_by("feature", maintain_order=True).last().sort("feature")

    def last_run_before(self, dataset: str, at) -> dict[str, Any] | None:
        """The last upstream run that wrote ``dataset`` at or before ``at``, with its schema."""
        t = parse_time(at, what="at")
        d = self.datasets.filter((pl.col("dataset") == dataset) & (pl.col("event_time") <= t))
        if d.is_empty():
            return None
        outs = d.filter(pl.col("io") == "output")
        d = (outs if outs.height else d).sort(["event_time", "line"])
        with_schema = d.filter(pl.col("fields").list.len() > 0)
        row = d.row(-1, named=True)
        schema_row = with_schema.row(-1, named=True) if with_schema.height else None
        run = self.runs.filter(pl.col("run_id") == row["run_id"]).sort(["event_time", "line"])
        return {
            "dataset": dataset, "run_id": row["run_id"], "job": row["job"],
            "event_time": row["event_time"],
            "event_type": run["event_type"][-1] if run.height else None,
            "schema": [{"name": f["name"], "type": f["type"]} for f in (schema_row or {}).get("fields") or []],
            "schema_run_id": schema_row["run_id"] if schema_row else None,
        }

    # -- dependencies -------------------------------------------------------------------
    def dependency_versions_at(self, at) -> pl.DataFrame:
        """The version of each external dependency in effect at ``at``."""
        t = parse_time(at, what="at")
        d = self.dependencies.filter(pl.col("changed_at") <= t).sort(["changed_at", "line"])
        return d.group_by("dependency", maintain_order=True).last().sort("dependency")

    # -- everything ---------------------------------------------------------------------
    def timeline(self, start=None, end=None) -> pl.DataFrame:
        """Every lineage event in time order: at, kind, subject, detail, ref.

        ``kind`` is one of :data:`TIMELINE_KINDS`; ``ref`` points back to the source
        (``deployments:<line>``, an OpenLineage runId, ...).
        """
        parts = []
        d = self.deployments
        if d.height:
            parts.append(d.select(
                pl.col("deployed_at").alias("at"), pl.lit("rollout").alias("kind"),
                pl.col("model_version").alias("subject"),
                pl.format("{} {}% (training {}, digest {}, commit {})", "route",
                          pl.col("traffic_pct").round(2), pl.col("training_dataset").fill_null("?"),
                          pl.col("artifact_digest").fill_null("?").str.slice(0, 12),
                          pl.col("serving_commit").fill_null("?").str.slice(0, 10)).alias("detail"),
                pl.format("deployments:{}", "line").alias("ref")))
        f = self.features
        if f.height:
            parts.append(f.select(
                pl.col("valid_from").alias("at"), pl.lit("feature_version").alias("kind"),
                pl.col("feature").alias("subject"),
                pl.format("version {} from {}.{}", "version", "source_dataset", "source_field").alias("detail"),
                pl.format("features:{}", "line").alias("ref")))
        r = self.runs
        if r.height:
            parts.append(r.select(
                pl.col("event_time").alias("at"), pl.lit("openlineage_run").alias("kind"),
                pl.col("job").alias("subject"),
                pl.format("{} -> {}", "event_type", pl.col("outputs").list.join(", ")).alias("detail"),
                pl.col("run_id").alias("ref")))
        s = self.schema_changes
        if s.height:
            parts.append(s.select(
                "at", pl.lit("openlineage_schema_change").alias("kind"), pl.col("dataset").alias("subject"),
                "detail", pl.col("run_id").alias("ref")))
        dep = self.dependencies
        if dep.height:
            parts.append(dep.select(
                pl.col("changed_at").alias("at"), pl.lit("dependency_change").alias("kind"),
                pl.col("dependency").alias("subject"),
                pl.format("{} -> {} (consumers: {})", pl.col("previous_version").fill_null("(none)"),
                          "version", pl.col("consumers").list.join(", ")).alias("detail"),
                pl.format("dependencies:{}", "line").alias("ref")))
        if not parts:
            return _empty(_TIMELINE_SCHEMA)
        out = pl.concat([p.cast(_TIMELINE_SCHEMA) for p in parts], how="vertical")
        if start is not None:
            out = out.filter(pl.col("at") >= parse_time(start, what="start"))
        if end is not None:
            out = out.filter(pl.col("at") <= parse_time(end, what="end"))
        order = {k: i for i, k in enumerate(TIMELINE_KINDS)}
        return (out.with_columns(pl.col("kind").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
                .sort(["at", "_o"], maintain_order=True).drop("_o"))


# ---------------------------------------------------------------------------------------
# loading


def load_lineage(root: Path, manifest: Manifest, features: tuple[str, ...] = ()) -> Lineage:
    """Read and validate every lineage table the manifest points at."""
    paths = manifest.lineage
    warnings: list[str] = []
    sources: dict[str, str] = {}

    def files(key: str) -> DataFiles | None:
        spec = getattr(paths, key)
        f = resolve_files(root, spec, what=f"lineage.{key}", required=key in paths.explicit)
        if f is not None:
            sources[key] = spec
        return f

    kw: dict[str, Any] = {}
    if (f := files("deployments")) is not None:
        kw["deployments"] = _deployments(f)
    if (f := files("features")) is not None:
        kw["features"] = _features(f)
        unknown = sorted(set(kw["features"]["feature"].to_list()) - set(features))
        if unknown and features:
            warnings.append(f"{f.spec} describes features the manifest does not list: {', '.join(unknown[:8])}")
    if (f := files("openlineage")) is not None:
        runs, datasets = parse_openlineage(f)
        kw["runs"], kw["datasets"] = runs, datasets
        kw["schema_changes"] = schema_changes(datasets)
    if (f := files("dependencies")) is not None:
        kw["dependencies"] = _dependencies(f)
    if (f := files("traffic")) is not None:
        kw["traffic"] = _traffic(f)
    return Lineage(**kw, sources=sources, warnings=tuple(warnings))


def _read_strings(f: DataFiles, cols: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    """Read a lineage table with every column as text, checking required columns."""
    df = read_table(f, string_columns=frozenset(cols["required"] + cols["optional"]))
    missing = [c for c in cols["required"] if c not in df.columns]
    if missing:
        msg = f"column `{missing[0]}` not found in {f.spec}"
        raise LineageError(msg, file=f.spec, column=missing[0],
                           expected="columns " + ", ".join(cols["required"]),
                           found=", ".join(df.columns)[:300] or "no columns",
                           hint="see docs/telemetry-lake.md for the lineage tables.")
    for c in cols["optional"]:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    first = 2 if f.format == "csv" else 1
    return df.with_row_index("line", offset=first).with_columns(pl.col("line").cast(pl.Int64))


def _require_values(df: pl.DataFrame, cols: tuple[str, ...], f: DataFiles) -> pl.DataFrame:
    """Strip text columns and raise on the first row missing a required value."""
    df = df.with_columns(pl.col(c).cast(pl.String).str.strip_chars() for c in cols)
    for c in cols:
        empty = (df[c].is_null() | (df[c] == "")).arg_true()
        if len(empty):
            msg = f"a row of {f.spec} has no `{c}`"
            raise LineageError(msg, file=f.spec, column=c, line=int(df["line"][int(empty[0])]),
                               expected=f"a value in every row for {', '.join(cols)}", found="an empty value",
                               hint="fill it in or remove the row.")
    return df


def _times(df: pl.DataFrame, col: str, f: DataFiles) -> pl.DataFrame:
    s = df[col]
    if s.dtype == pl.String:
        check_timestamp_values(s.to_list(), file=f.spec, column=col, first_line=int(df["line"][0]) if df.height else 2)
    out = to_utc(s)
    nulls = out.is_null().arg_true()
    if len(nulls):
        i = int(nulls[0])
        msg = "a lineage time is missing or cannot be parsed"
        raise TimestampError(msg, file=f.spec, column=col, line=int(df["line"][i]),
                             expected="an ISO-8601 UTC time", found="an empty value",
                             hint="every lineage row needs its time.")
    return df.with_columns(out.alias(col))


def _numbers(df: pl.DataFrame, col: str, f: DataFiles, *, lo: float, hi: float | None) -> pl.DataFrame:
    s = df[col].cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    invalid = s.is_null() | s.is_nan() | (s < lo)
    if hi is not None:
        invalid = invalid | (s > hi)
    bad = invalid.arg_true()
    if len(bad):
        i = int(bad[0])
        msg = f"`{col}` is not a valid number"
        raise LineageError(msg, file=f.spec, column=col, line=int(df["line"][i]),
                           expected=f"a number >= {lo}" + (f" and <= {hi}" if hi is not None else ""),
                           found=repr(df[col][i]))
    return df.with_columns(s.alias(col))


def _deployments(f: DataFiles) -> pl.DataFrame:
    df = _read_strings(f, _DEPLOY_COLS)
    df = _times(df, "deployed_at", f)
    df = _numbers(df, "traffic_pct", f, lo=0, hi=100)
    df = _require_values(df, ("model_version", "route"), f)
    df = df.with_columns(pl.col(c).cast(pl.String).str.strip_chars() for c in _DEPLOY_COLS["optional"])
    bad = (~df["route"].is_in(list(ROUTES))).arg_true()
    if len(bad):
        i = int(bad[0])
        msg = "unknown route in deployments"
        raise LineageError(msg, file=f.spec, column="route", line=int(df["line"][i]),
                           expected=" | ".join(ROUTES), found=repr(df["route"][i]))
    return df.select(list(DEPLOYMENTS_SCHEMA)).cast(DEPLOYMENTS_SCHEMA).sort(["deployed_at", "line"])


def _features(f: DataFiles) -> pl.DataFrame:
    df = _read_strings(f, _FEATURE_COLS)
    df = _times(df, "valid_from", f)
    df = _require_values(df, ("feature", "version", "source_dataset", "source_field"), f)
    df = df.with_columns(pl.col("transform").cast(pl.String).str.strip_chars())
    return df.select(list(FEATURES_SCHEMA)).cast(FEATURES_SCHEMA).sort(["valid_from", "line"])


def _dependencies(f: DataFiles) -> pl.DataFrame:
    df = _read_strings(f, _DEP_COLS)
    df = _times(df, "changed_at", f)
    df = _require_values(df, ("dependency", "version"), f)
    df = df.with_columns(
        pl.col("consumers").cast(pl.String).fill_null("").str.split(";")
        .list.eval(pl.element().str.strip_chars()).list.filter(pl.element() != ""),
    ).sort(["changed_at", "line"])
    df = df.with_columns(pl.col("version").shift(1).over("dependency").alias("previous_version"))
    return df.select(list(DEPENDENCIES_SCHEMA)).cast(DEPENDENCIES_SCHEMA)


def _traffic(f: DataFiles) -> pl.DataFrame:
    df = _read_strings(f, _TRAFFIC_COLS)
    df = _times(df, "timestamp", f)
    df = _numbers(df, "interval_s", f, lo=0, hi=None)
    df = _numbers(df, "requests", f, lo=0, hi=None)
    df = df.with_columns(pl.col("route").cast(pl.String).str.strip_chars())
    return df.select(list(TRAFFIC_SCHEMA)).cast(TRAFFIC_SCHEMA).sort("timestamp")


# ---------------------------------------------------------------------------------------
# OpenLineage


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
    rdf = pl.DataFrame(runs, schema=RUNS_SCHEMA, orient="row") if runs else _empty(RUNS_SCHEMA)
    ddf = pl.DataFrame(datasets, schema=DATASETS_SCHEMA, orient="row") if datasets else _empty(DATASETS_SCHEMA)
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
        return _empty(SCHEMA_CHANGES_SCHEMA)
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
        return _empty(SCHEMA_CHANGES_SCHEMA)
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
