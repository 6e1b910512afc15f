"""``data_drift``: the input population shifted and no upstream, vendor or code change explains it."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.rca._inputs import importance_evidence, drift_evidence, nature_of
from workbench.rca.finding import Finding, subject
from workbench.rca.hypothesis import Hypothesis

__all__ = ["DataDrift", "DriftHypothesisThresholds"]


@dataclass(frozen=True)
class DriftHypothesisThresholds:
    """Choices of :class:`DataDrift` (see docs/triage.md)."""

    #: the score of the strongest unexplained drift: below the structural causes, since "the
    #: population moved" is what is left when nothing in the lineage explains it
    max_score: float = 0.9
    #: how much a schema change on the source explains the drift away
    explained_by_schema: float = 0.8
    #: how much a dependency change the feature consumes explains it away
    explained_by_dependency: float = 0.8
    #: how much a null/unit/code signature explains it away (a structural change with no lineage)
    explained_by_signature: float = 0.7


DRIFT_HYPOTHESIS_THRESHOLDS = DriftHypothesisThresholds()


class DataDrift(Hypothesis):
    """Score: drift strength, discounted by whatever structural explanation the same input has
    (a schema change on its source, a dependency change it consumes, a null/unit/code signature)."""

    cause = "data_drift"
    chart = "feature_shift"

    def __init__(self, thresholds: DriftHypothesisThresholds = DRIFT_HYPOTHESIS_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        th = self.thresholds
        out = []
        for c in ctx.feature_changes:
            explained = 0.0
            if c.schema_changes:
                explained = max(explained, th.explained_by_schema)
            if c.dependency_changes:
                explained = max(explained, th.explained_by_dependency)
            if nature_of(c):
                explained = max(explained, th.explained_by_signature)
            score = th.max_score * c.strength * (1.0 - explained)
            if score <= 0:
                continue
            o = c.onset
            emb = c.kind == "embedding"
            sub = subject(column=ctx.lake.manifest.columns.embedding) if emb else subject(feature=c.feature)
            name = sub["column"] if emb else c.feature
            out.append(Finding(
                cause=self.cause, score=round(score, 4), subject=sub,
                onset=o.at if o else None, onset_interval=(o.low, o.high) if o and o.low else None,
                evidence=tuple(drift_evidence(c) + ([] if emb else importance_evidence(ctx, c.feature))),
                summary=f"{name} shifted with no schema, dependency or code change behind it",
                next_steps=(f"check with the owners of {name} what changed in the population (campaign, market, "
                            "season) since the onset",
                            "watch quality as labels arrive; if it drops, retrain or recalibrate on recent data",
                            f"add {name} to the drift monitor with this window as a reference"),
                explains=ctx.drop_explained_by_inputs(c),
                hypothesis=self.name))
        return out
