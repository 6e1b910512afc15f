"""``workbench lake-info``: what a lake holds and whether it keeps the contract."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

from workbench.lake.lake import Lake, LakeProfile, open_lake
from workbench.results import Result, iso

__all__ = ["LakeInfo", "lake_info"]


@dataclass(frozen=True, repr=False)
class LakeInfo(Result):
    """Summary of a lake: tables, rows, span, versions, routes, columns, lineage, warnings."""

    name: str
    path: str
    task: str
    predictions: dict[str, Any]
    profile: LakeProfile
    columns: dict[str, list[str]]
    lineage: dict[str, int]
    slo: dict[str, float]
    warnings: tuple[str, ...] = field(default=())

    def _summary(self) -> str:
        return f"{self.name!r}, rows={self.profile.rows}, warnings={len(self.warnings)}"

    def render(self) -> str:
        """The plain-text summary printed by the command."""
        p = self.profile
        span = ""
        if p.start is not None and p.end is not None:
            days = (p.end - p.start).total_seconds() / 86400
            span = f"{iso(p.start)} .. {iso(p.end)} ({days:.1f} days)"
        c = self.columns
        pred = self.predictions
        lines = [
            f"Lake        {self.name}  ({self.path})",
            f"Task        {self.task}",
            f"Predictions {p.rows:,} rows in {pred['files']} {pred['format']} file(s)"
            + (" (hive partitions)" if pred["hive"] else ""),
            f"Time span   {span}",
            "Versions    " + ", ".join(f"{v} ({n:,})" for v, n in p.versions.items()),
            "Routes      " + ", ".join(f"{r} ({n:,})" for r, n in p.routes.items()),
            "Roles       " + ", ".join(c["roles"]),
            "Features    numeric: " + (", ".join(c["numeric"]) or "—")
            + "; categorical: " + (", ".join(c["categorical"]) or "—"),
            "Segments    " + (", ".join(c["segments"]) or "—"),
            "Sensitive   " + (", ".join(c["sensitive"]) + " (masked)" if c["sensitive"] else "—"),
            "Other       " + (", ".join(c["other"]) or "—"),
        ]
        if p.label_rows is not None:
            share = p.labeled_predictions / p.rows if p.rows else 0
            lag = f", median lag {p.label_lag_hours_median / 24:.1f} days" \
                if p.label_lag_hours_median is not None else ""
            lines.append(f"Labels      {p.label_rows:,} rows; {share:.1%} of predictions labelled{lag}")
        else:
            lines.append("Labels      none")
        lg = self.lineage
        lines.append(
            f"Lineage     deployments {lg['deployments']} ({lg['model_versions']} versions), "
            f"feature versions {lg['feature_versions']}, OpenLineage {lg['openlineage_events']} events / "
            f"{lg['openlineage_runs']} runs, schema changes {lg['schema_changes']}, "
            f"dependency changes {lg['dependency_changes']}, traffic intervals {lg['traffic_intervals']}")
        missing = []
        for col in [*c["numeric"], "score", "latency_ms", "prediction", "label"]:
            parts = [f"{n:,} {what}" for what, n in (("null", p.null_counts.get(col, 0)),
                                                     ("NaN", p.nan_counts.get(col, 0)),
                                                     ("±inf", p.inf_counts.get(col, 0))) if n]
            if parts and (col in c["numeric"] or col in p.invalid_counts):
                missing.append(f"{col} ({', '.join(parts)})")
        if missing:
            lines.append("Missing     " + "; ".join(missing))
        lines.append(f"SLOs        latency p95 <= {self.slo['latency_p95_ms']:g} ms, fallback <= "
                     f"{self.slo['fallback_rate']:.2%}, capture >= {self.slo['capture_rate']:.2%}")
        errors = self.profile.errors
        if errors or self.warnings:
            lines.append(f"Validation  {len(errors)} error(s), {len(self.warnings)} warning(s):" if errors
                         else f"Validation  {len(self.warnings)} warning(s):")
            lines.extend(f"  - error: {e}" for e in errors)
            lines.extend(f"  - {w}" for w in self.warnings)
        else:
            lines.append("Validation  ok: the lake keeps the contract")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def lake_info(path: str | os.PathLike | Lake) -> LakeInfo:
    """Open (if needed) and validate a lake, and summarise it.

    Parameters
    ----------
    path : str, PathLike or Lake

    Returns
    -------
    LakeInfo

    Examples
    --------
    >>> print(lake_info("datasets/demo-lake").render())  # doctest: +SKIP
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lake = path if isinstance(path, Lake) else open_lake(path)
        prof = lake.validate(strict=False)
    msgs = list(prof.warnings)
    msgs += [str(w.message) for w in caught if str(w.message) not in msgs and str(w.message) not in prof.errors]
    files = lake._preds.files
    return LakeInfo(
        name=lake.name, path=str(lake.root), task=lake.task,
        predictions={"format": files.format, "files": len(files.paths), "hive": files.hive},
        profile=prof,
        columns={"roles": list(lake.roles), "numeric": list(lake.numeric_features),
                 "categorical": list(lake.categorical_features), "segments": list(lake.segments),
                 "sensitive": list(lake.sensitive), "other": list(lake.other_columns)},
        lineage=lake.lineage.counts(),
        slo={"latency_p95_ms": lake.manifest.slo.latency_p95_ms, "fallback_rate": lake.manifest.slo.fallback_rate,
             "capture_rate": lake.manifest.slo.capture_rate},
        warnings=tuple(msgs),
    )
