"""The lineage chain of one prediction (``Lake.lineage_of``)."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.lake.lineage import Lineage
from workbench.results import Result, iso

__all__ = ["LineageChain"]


@dataclass(frozen=True, repr=False)
class LineageChain(Result):
    """Everything that stood behind one prediction.

    Attributes
    ----------
    request_id, timestamp, model_version, route, feature_set_version
        The prediction itself.
    rollout : dict or None
        The rollout step in effect for this version and route at the request time.
    model : dict or None
        training_dataset, artifact_digest, serving_commit, artifact_uri of the version.
    features : tuple of dict
        Per feature: its version, source dataset and field, the last upstream run
        that wrote the source before the request, and the schema that run had.
    dependencies : tuple of dict
        External dependency versions in effect at the request time.
    notes : tuple of str
        Gaps in the lineage (a version without deployments, a feature without provenance, ...).
    """

    request_id: str
    timestamp: dt.datetime
    model_version: str
    route: str | None
    feature_set_version: str | None
    rollout: dict[str, Any] | None
    model: dict[str, Any] | None
    features: tuple[dict[str, Any], ...]
    dependencies: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def build(cls, row: dict[str, Any], lineage: Lineage, *, features: tuple[str, ...],
              duplicates: bool = False) -> "LineageChain":
        t = row["timestamp"]
        version, route = row["model_version"], row.get("route")
        notes: list[str] = []
        if duplicates:
            notes.append("this request id occurs more than once; the first row is shown")
        d = lineage.deployments.filter((pl.col("model_version") == version) & (pl.col("deployed_at") <= t))
        on_route = d.filter(pl.col("route") == route) if route is not None else d
        step = (on_route if on_route.height else d).sort(["deployed_at", "line"])
        rollout = None
        if step.height:
            r = step.row(-1, named=True)
            rollout = {k: r[k] for k in ("deployed_at", "route", "traffic_pct")} | {"ref": f"deployments:{r['line']}"}
            if not on_route.height:
                notes.append(f"no rollout step of {version} on route {route}; the latest step of the version is shown")
        elif lineage.deployments.height:
            notes.append(f"model version {version} has no deployment at or before the request")
        info = lineage.version_info(version)
        model = None if info is None else {k: info[k] for k in (
            "training_dataset", "artifact_digest", "serving_commit", "artifact_uri", "first_deployed_at")}

        fv = lineage.feature_versions_at(t) if lineage.features.height else None
        feats = []
        for name in features:
            entry: dict[str, Any] = {"feature": name}
            if fv is None or fv.filter(pl.col("feature") == name).is_empty():
                if lineage.features.height:
                    notes.append(f"feature {name} has no provenance in effect at the request time")
                feats.append(entry | {"version": None, "source_dataset": None, "source_field": None,
                                      "upstream_run": None, "field_type": None})
                continue
            f = fv.filter(pl.col("feature") == name).row(0, named=True)
            run = lineage.last_run_before(f["source_dataset"], t)
            field_type = None
            in_schema = None
            if run is not None and run["schema"]:
                types = {s["name"]: s["type"] for s in run["schema"]}
                in_schema = f["source_field"] in types
                field_type = types.get(f["source_field"])
                if not in_schema:
                    notes.append(f"{f['source_dataset']} had no field {f['source_field']} "
                                 f"in its last run before the request (feature {name})")
            feats.append(entry | {
                "version": f["version"], "valid_from": f["valid_from"], "source_dataset": f["source_dataset"],
                "source_field": f["source_field"], "transform": f["transform"], "upstream_run": run,
                "field_in_schema": in_schema, "field_type": field_type,
            })
        deps = []
        if lineage.dependencies.height:
            for r in lineage.dependency_versions_at(t).iter_rows(named=True):
                deps.append({"dependency": r["dependency"], "version": r["version"],
                             "changed_at": r["changed_at"], "consumers": list(r["consumers"] or [])})
        return cls(
            request_id=row["request_id"], timestamp=t, model_version=version, route=route,
            feature_set_version=row.get("feature_set_version"), rollout=rollout, model=model,
            features=tuple(feats), dependencies=tuple(deps), notes=tuple(notes),
        )

    def _summary(self) -> str:
        return (f"request_id={self.request_id!r}, at={iso(self.timestamp)}, model_version={self.model_version!r}, "
                f"route={self.route!r}, features={len(self.features)}, dependencies={len(self.dependencies)}")

    def __str__(self) -> str:
        lines = [f"prediction {self.request_id} at {iso(self.timestamp)}"]
        lines.append(f"└─ model {self.model_version} on {self.route}"
                     + (f" ({self.rollout['traffic_pct']:g}% since {iso(self.rollout['deployed_at'])})"
                        if self.rollout else " (no rollout step)"))
        if self.model:
            lines.append(f"   ├─ training data {self.model['training_dataset']}, "
                         f"artifact {str(self.model['artifact_digest'])[:12]}, "
                         f"serving commit {str(self.model['serving_commit'])[:10]}")
        if self.feature_set_version:
            lines.append(f"   ├─ feature set {self.feature_set_version}")
        for f in self.features:
            if f.get("source_dataset") is None:
                lines.append(f"   ├─ feature {f['feature']}: no provenance")
                continue
            run = f.get("upstream_run")
            r = (f"last run {run['run_id'][:8]} ({run['job']}) {iso(run['event_time'])}, "
                 f"field type {f['field_type'] or 'absent'}") if run else "no upstream run before"
            lines.append(f"   ├─ feature {f['feature']} v{f['version']} <- "
                         f"{f['source_dataset']}.{f['source_field']}; {r}")
        for d in self.dependencies:
            lines.append(f"   ├─ dependency {d['dependency']} {d['version']} (since {iso(d['changed_at'])}, "
                         f"feeds {', '.join(d['consumers']) or '—'})")
        for n in self.notes:
            lines.append(f"   ! {n}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from workbench.formatting import fmt_time
        from workbench.tables import block, table

        model = self.model or {}
        head = table([{"model_version": self.model_version, "route": self.route,
                       "rollout": (f"{self.rollout['traffic_pct']:g}% since" if self.rollout else "no rollout step"),
                       "since": self.rollout["deployed_at"] if self.rollout else None,
                       "training_dataset": model.get("training_dataset"),
                       "artifact": str(model["artifact_digest"])[:12] if model.get("artifact_digest") else None,
                       "serving_commit": str(model["serving_commit"])[:10] if model.get("serving_commit") else None,
                       "feature_set": self.feature_set_version}], caption="Model")
        feats = table([{"feature": f["feature"], "version": f.get("version"),
                        "source": (f"{f['source_dataset']}.{f['source_field']}" if f.get("source_dataset")
                                   else "no provenance"),
                        "last_upstream_run": (f"{f['upstream_run']['run_id'][:8]} ({f['upstream_run']['job']})"
                                              if f.get("upstream_run") else None),
                        "run_at": f["upstream_run"]["event_time"] if f.get("upstream_run") else None,
                        "field_type": f.get("field_type")} for f in self.features],
                      units={"version": "text"}, caption="Features") if self.features else ""
        deps = table([{"dependency": d["dependency"], "version": d["version"], "since": d["changed_at"],
                       "feeds": d["consumers"]} for d in self.dependencies],
                     units={"version": "text", "since": "time"}, caption="Dependencies") if self.dependencies else ""
        notes = ("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>") if self.notes else ""
        return block(f"Prediction {self.request_id}", f"at {fmt_time(self.timestamp)}", head, feats, deps, notes,
                     css="workbench-lineage-chain")
