"""Writing a lake to disk in the layout of the telemetry-lake contract.

Predictions go one file a day (hive partitions ``date=YYYY-MM-DD`` for Parquet), labels one file
per prediction day, then the lineage files, ingress traffic and the manifest. Timestamps in text
formats are ISO-8601 UTC with a ``Z``. Nothing here draws a random number except the row counts of
OpenLineage output statistics, from their own stream.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from workbench.synthetic.incidents import SchemaChange
from workbench.synthetic.rows import Day
from workbench.synthetic.timeline import Timeline
from workbench.synthetic.traffic import BIN_US
from workbench.synthetic.world import World, stream, to_datetime

__all__ = [
    "FORMATS",
    "iso",
    "manifest",
    "prepare_directory",
    "schema_at",
    "write_day",
    "write_lineage",
    "write_manifest",
    "write_traffic",
]

#: file formats for predictions and labels
FORMATS = ("parquet", "csv", "ndjson")

_PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/airflow"
_RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_FACETS = "https://openlineage.io/spec/facets/"
_SCHEMA_FACET = _FACETS + "1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
_STATS_FACET = _FACETS + "1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"
_NOMINAL_FACET = _FACETS + "1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.3fZ"


def iso(t_us: int, *, millis: bool = False) -> str:
    """ISO-8601 UTC with a ``Z``: ``2026-03-10T14:00:00Z`` (or with milliseconds)."""
    t = to_datetime(t_us)
    if millis:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t_us) // 1000 % 1000:03d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def prepare_directory(path: Path, *, overwrite: bool) -> None:
    """Create the lake root; replace an existing lake only when ``overwrite`` is set.

    Raises
    ------
    FileExistsError
        If ``path`` is a file, is a non-empty directory and ``overwrite`` is false, or would be
        deleted but holds no ``workbench.yaml`` (so it is not a lake this generator wrote).
    """
    if path.exists() and not path.is_dir():
        msg = f"cannot write a lake to {path}: it is a file"
        raise FileExistsError(msg)
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            msg = f"{path} exists and is not empty\n\nPass overwrite=True to replace the lake in it."
            raise FileExistsError(msg)
        if not (path / "workbench.yaml").is_file():
            msg = (f"refusing to delete {path}: it holds no workbench.yaml, so it does not look like a lake\n\n"
                   "Choose an empty or new directory.")
            raise FileExistsError(msg)
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)


def manifest(world: World, fmt: str) -> dict:
    """The ``workbench.yaml`` content for this world."""
    columns = dict(world.columns)
    if world.task == "regression":
        del columns["score"]
    if fmt == "csv":  # CSV has no list type: the embedding is not written
        del columns["embedding"]
    return {
        "name": world.name,
        "task": world.task,
        "predictions": "predictions/",
        "labels": "labels/",
        "columns": columns,
        "features": {"numeric": [f.name for f in world.numeric], "categorical": [c.name for c in world.categorical]},
        "segments": [s.name for s in world.segments],
        "sensitive": list(world.sensitive),
        "slo": dict(world.slo),
        "lineage": {
            "deployments": "lineage/deployments.csv",
            "features": "lineage/features.csv",
            "openlineage": "lineage/openlineage.ndjson",
            "dependencies": "lineage/dependencies.csv",
            "traffic": "metrics/traffic.csv",
        },
    }


def write_manifest(root: Path, world: World, fmt: str) -> None:
    """Write ``workbench.yaml``."""
    text = yaml.safe_dump(manifest(world, fmt), sort_keys=False, default_flow_style=None, width=100)
    (root / "workbench.yaml").write_text(text, encoding="utf-8")


def _as_text(frame: pl.DataFrame, fmt: str) -> pl.DataFrame:
    frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime(_TIME_FORMAT))
    if fmt == "csv":
        frame = frame.select(pl.exclude(pl.List(pl.Float32)))
    return frame


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.write_parquet(path, statistics=True)
    elif fmt == "csv":
        _as_text(frame, fmt).write_csv(path)
    else:
        _as_text(frame, fmt).write_ndjson(path)


def write_day(root: Path, date: str, day: Day, fmt: str) -> None:
    """Write one day's predictions and, when there are any, the labels known for them."""
    if fmt == "parquet":
        target = root / "predictions" / f"date={date}" / "part-0.parquet"
    else:
        target = root / "predictions" / f"date={date}.{fmt}"
    _write(day.predictions, target, fmt)
    if day.labels.height:
        _write(day.labels, root / "labels" / f"part-{date}.{fmt}", fmt)


def schema_at(world: World, key: str, t_us: int, changes: tuple[SchemaChange, ...]) -> list[dict]:
    """Schema facet fields of dataset ``key`` as of a run completing at ``t_us``."""
    fields = [list(f) for f in world.dataset(key).fields]
    for change in changes:
        if change.dataset != key or change.at_us > t_us:
            continue
        if change.kind == "add":
            fields.append([change.field, change.new_type, ""])
            continue
        if change.kind == "remove":
            fields = [f for f in fields if f[0] != change.field]
            continue
        for f in fields:
            if f[0] == change.field:
                if change.kind == "rename":
                    f[0] = change.new_name
                else:
                    f[1] = change.new_type or f[1]
                    f[2] = change.new_description if change.new_description is not None else f[2]
    return [{"name": n, "type": t, **({"description": d} if d else {})} for n, t, d in fields]


def _run_events(world: World, timeline: Timeline) -> list[tuple[int, dict]]:
    rng = stream(world.seed, "openlineage")
    events = []
    for d in world.datasets:
        runs = world.runs[d.key]
        job = {"namespace": d.job_namespace, "name": d.job_name}
        inputs = [{"namespace": d.source_namespace, "name": d.source_name}]
        for start, complete, run_id in zip(runs.start_us, runs.complete_us, runs.run_ids):
            nominal = int(start) // 3_600_000_000 * 3_600_000_000
            run = {"runId": run_id,
                   "facets": {"nominalTime": {"_producer": _PRODUCER, "_schemaURL": _NOMINAL_FACET,
                                              "nominalStartTime": iso(nominal)}}}
            common = {"producer": _PRODUCER, "schemaURL": _RUN_EVENT}
            events.append((int(start), {"eventType": "START", "eventTime": iso(int(start), millis=True), "run": run,
                                        "job": job, "inputs": inputs,
                                        "outputs": [{"namespace": d.namespace, "name": d.name}], **common}))
            output = {
                "namespace": d.namespace, "name": d.name,
                "facets": {"schema": {"_producer": _PRODUCER, "_schemaURL": _SCHEMA_FACET,
                                      "fields": schema_at(world, d.key, int(complete), timeline.schema_changes)}},
                "outputFacets": {"outputStatistics": {"_producer": _PRODUCER, "_schemaURL": _STATS_FACET,
                                                      "rowCount": int(rng.integers(20_000, 2_000_000))}},
            }
            events.append((int(complete), {"eventType": "COMPLETE", "eventTime": iso(int(complete), millis=True),
                                           "run": {"runId": run_id}, "job": job, "inputs": inputs,
                                           "outputs": [output], **common}))
    return sorted(events, key=lambda e: e[0])


def _csv(rows, time_columns: tuple[str, ...], path: Path) -> None:
    frame = pl.DataFrame([{k: (iso(v) if k in time_columns else v) for k, v in row.items()} for row in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)


def write_lineage(root: Path, world: World, timeline: Timeline) -> None:
    """Write deployments, feature provenance, dependencies and OpenLineage run events."""
    lineage = root / "lineage"
    _csv(timeline.deployments, ("deployed_at",), lineage / "deployments.csv")
    _csv(timeline.features, ("valid_from",), lineage / "features.csv")
    _csv(timeline.dependencies, ("changed_at",), lineage / "dependencies.csv")
    with open(lineage / "openlineage.ndjson", "w", encoding="utf-8") as out:
        for _, event in _run_events(world, timeline):
            out.write(json.dumps(event) + "\n")


def write_traffic(root: Path, world: World, ingress: np.ndarray, *, by_route: bool = True) -> None:
    """Write ``metrics/traffic.csv``: requests the ingress saw per interval and route (or in all)."""
    per = world.traffic_interval_s * 1_000_000 // BIN_US
    counts = ingress.reshape(-1, per, 2).sum(axis=1)
    starts = world.start_us + np.arange(counts.shape[0], dtype=np.int64) * per * BIN_US
    if not by_route:
        total = counts.sum(axis=1)
        rows = [{"timestamp": int(starts[i]), "interval_s": world.traffic_interval_s, "requests": int(total[i])}
                for i in np.flatnonzero(total)]
        _csv(rows, ("timestamp",), root / "metrics" / "traffic.csv")
        return
    rows = [{"timestamp": int(starts[i]), "interval_s": world.traffic_interval_s, "requests": int(counts[i, r]),
             "route": ("primary", "canary")[r]}
            for i, r in zip(*np.nonzero(counts))]
    _csv(rows, ("timestamp",), root / "metrics" / "traffic.csv")
