"""The lineage model: rollouts, feature provenance, upstream runs and schema changes,
external dependencies and ingress traffic, as typed polars tables with query helpers.

Lineage tables are small (one row per event), so they are read eagerly and validated row by row
(:mod:`workbench.lake.lineage_tables`, :mod:`workbench.lake.openlineage`): an error names the file
and the line. This module holds the query model (:class:`Lineage`) and :func:`load_lineage`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from workbench.lake.files import DataFiles, resolve_files
from workbench.lake.lineage_tables import (
    DEPENDENCIES_SCHEMA,
    DEPLOYMENTS_SCHEMA,
    FEATURES_SCHEMA,
    INDEXES_SCHEMA,
    PRICES_SCHEMA,
    PROMPTS_SCHEMA,
    ROUTES,
    TRAFFIC_SCHEMA,
    read_dependencies,
    read_deployments,
    read_features,
    read_indexes,
    read_prices,
    read_prompts,
    read_traffic,
)
from workbench.lake.manifest import Manifest
from workbench.lake.openlineage import (
    DATASETS_SCHEMA,
    RUNS_SCHEMA,
    SCHEMA_CHANGES_SCHEMA,
    parse_openlineage,
    schema_changes,
)
from workbench.lake.timestamps import UTC_DT, parse_time

__all__ = ["Lineage", "ROUTES", "TIMELINE_KINDS", "load_lineage", "parse_openlineage", "schema_changes"]

TIMELINE_KINDS = ("rollout", "feature_version", "openlineage_run", "openlineage_schema_change",
                  "dependency_change", "prompt_version", "index_build")

_TIMELINE_SCHEMA = {"at": UTC_DT, "kind": pl.String, "subject": pl.String, "detail": pl.String,
                    "ref": pl.String}


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


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
    prompts : DataFrame
        Prompt template versions (generation lakes): prompt_template, version, changed_at, ...
    indexes : DataFrame
        Retrieval-index builds: index, version, built_at, documents, source_dataset.
    prices : DataFrame
        Token prices per provider and model from ``valid_from``.
    """

    deployments: pl.DataFrame = field(default_factory=lambda: _empty(DEPLOYMENTS_SCHEMA))
    features: pl.DataFrame = field(default_factory=lambda: _empty(FEATURES_SCHEMA))
    runs: pl.DataFrame = field(default_factory=lambda: _empty(RUNS_SCHEMA))
    datasets: pl.DataFrame = field(default_factory=lambda: _empty(DATASETS_SCHEMA))
    schema_changes: pl.DataFrame = field(default_factory=lambda: _empty(SCHEMA_CHANGES_SCHEMA))
    dependencies: pl.DataFrame = field(default_factory=lambda: _empty(DEPENDENCIES_SCHEMA))
    traffic: pl.DataFrame = field(default_factory=lambda: _empty(TRAFFIC_SCHEMA))
    prompts: pl.DataFrame = field(default_factory=lambda: _empty(PROMPTS_SCHEMA))
    indexes: pl.DataFrame = field(default_factory=lambda: _empty(INDEXES_SCHEMA))
    prices: pl.DataFrame = field(default_factory=lambda: _empty(PRICES_SCHEMA))
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
            **{k: getattr(self, k).height for k in ("prompts", "indexes", "prices") if getattr(self, k).height},
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
        pr = self.prompts
        if pr.height:
            parts.append(pr.select(
                pl.col("changed_at").alias("at"), pl.lit("prompt_version").alias("kind"),
                pl.format("{}@{}", "prompt_template", "version").alias("subject"),
                pl.format("{} -> {} (by {})", pl.col("previous_version").fill_null("(none)"), "version",
                          pl.col("author").fill_null("?")).alias("detail"),
                pl.format("prompts:{}", "line").alias("ref")))
        ix = self.indexes
        if ix.height:
            parts.append(ix.select(
                pl.col("built_at").alias("at"), pl.lit("index_build").alias("kind"),
                pl.format("{}@{}", "index", "version").alias("subject"),
                pl.format("{} -> {} ({} -> {} documents, from {})", pl.col("previous_version").fill_null("(none)"),
                          "version", pl.col("previous_documents").cast(pl.Int64).cast(pl.String).fill_null("?"),
                          pl.col("documents").cast(pl.Int64).cast(pl.String).fill_null("?"),
                          pl.col("source_dataset").fill_null("?")).alias("detail"),
                pl.format("indexes:{}", "line").alias("ref")))
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
        kw["deployments"] = read_deployments(f)
    if (f := files("features")) is not None:
        kw["features"] = read_features(f)
        unknown = sorted(set(kw["features"]["feature"].to_list()) - set(features))
        if unknown and features:
            warnings.append(f"{f.spec} describes features the manifest does not list: {', '.join(unknown[:8])}")
    if (f := files("openlineage")) is not None:
        runs, datasets = parse_openlineage(f)
        kw["runs"], kw["datasets"] = runs, datasets
        kw["schema_changes"] = schema_changes(datasets)
    if (f := files("dependencies")) is not None:
        kw["dependencies"] = read_dependencies(f)
    if (f := files("traffic")) is not None:
        kw["traffic"] = read_traffic(f)
    for key, reader in (("prompts", read_prompts), ("indexes", read_indexes), ("prices", read_prices)):
        if (f := files(key)) is not None:
            kw[key] = reader(f)
    return Lineage(**kw, sources=sources, warnings=tuple(warnings))
