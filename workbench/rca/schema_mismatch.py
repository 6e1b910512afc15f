"""``schema_mismatch``: an upstream dataset changed shape or meaning (type, unit, rename, codes, nulls)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.rca._inputs import importance_evidence, drift_evidence, nature_of, onset_near, schema_event
from workbench.rca.finding import Evidence, Finding, subject
from workbench.rca.hypothesis import Hypothesis

__all__ = ["SchemaMismatch", "SchemaThresholds"]


@dataclass(frozen=True)
class SchemaThresholds:
    """Choices of :class:`SchemaMismatch`: how much each kind of evidence supports it (see docs/triage.md)."""

    #: a schema change touching the feature's source field, and the matching data signature
    touching_signature: float = 0.97
    #: a schema change touching the source field, no signature
    touching: float = 0.85
    #: a schema change elsewhere in the source dataset, with a signature
    dataset_signature: float = 0.7
    #: a schema change elsewhere in the source dataset, no signature
    dataset: float = 0.4
    #: a signature with no schema change in the lineage
    signature_only: float = 0.6
    #: kept of the support when a dependency the feature consumes changed and no schema change
    #: touched it (a third party is the likelier cause)
    dependency_discount: float = 0.5


SCHEMA_THRESHOLDS = SchemaThresholds()


class SchemaMismatch(Hypothesis):
    """Score: drift strength × support. Support is highest when an OpenLineage schema change on the
    feature's source dataset touches its source field near the onset and the data shows the matching
    signature (nulls for a rename, a power of ten for a unit, unseen values for a code set); a
    signature without lineage, or a change elsewhere in the dataset, supports it less; a dependency
    change the feature consumes, with no schema change, argues against it."""

    cause = "schema_mismatch"
    chart = "feature_shift"

    def __init__(self, thresholds: SchemaThresholds = SCHEMA_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        th = self.thresholds
        out = []
        for c in ctx.feature_changes:
            if c.kind == "embedding":
                continue
            nature = nature_of(c)
            touching = [r for r in c.schema_changes
                        if c.source_field and c.source_field in (r.get("field"), r.get("old_field"))]
            if touching:
                support = th.touching_signature if nature else th.touching
            elif c.schema_changes:
                support = th.dataset_signature if nature else th.dataset
            else:
                support = th.signature_only if nature else 0.0
            if c.dependency_changes and not touching:
                support *= th.dependency_discount
            score = c.strength * support
            if score <= 0:
                continue
            events = touching or c.schema_changes
            onset, interval = onset_near(c, events[0]["at"] if events else None)
            ev = drift_evidence(c)
            if c.kind != "embedding":
                ev += importance_evidence(ctx, c.feature)
            dataset = c.source_dataset
            if events:
                r = events[0]
                ev.append(Evidence("schema_change", None,
                                   detail=f"{r['detail']} (run {r['run_id']}, job {r['job']})"))
            what = {"nulls": "arrives null", "unit": "changed unit", "codes": "takes codes never seen before"}
            how = ", ".join(what[n] for n in nature) or "changed distribution"
            job = events[0]["job"] if events else None
            steps = []
            if job:
                steps.append(f"fix the upstream job {job} (or map the changed field back to {c.source_field})")
            steps += [f"validate the schema of {dataset or 'the source of ' + c.feature} before the feature "
                      f"pipeline reads it (type, unit, code set)",
                      f"backfill or drop {c.feature} for rows since the onset; do not retrain on them"]
            out.append(Finding(
                cause=self.cause, score=round(score, 4), subject=subject(feature=c.feature, dataset=dataset),
                onset=onset, onset_interval=interval, evidence=tuple(ev),
                lineage=tuple(schema_event(r) for r in events[:3]),
                summary=f"{c.feature} {how}" + (f" after a schema change on {dataset}" if events else ""),
                next_steps=tuple(steps), explains=ctx.drop_explained_by_inputs(c),
                hypothesis=self.name))
        return out
