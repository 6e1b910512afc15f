"""``third_party_change``: an external dependency's new version changed what the model receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.rca._inputs import importance_evidence, dependency_event, drift_evidence, onset_near
from workbench.rca.finding import Evidence, Finding, subject
from workbench.rca.hypothesis import Hypothesis, version_bump

__all__ = ["ThirdPartyChange", "ThirdPartyThresholds"]


@dataclass(frozen=True)
class ThirdPartyThresholds:
    """Choices of :class:`ThirdPartyChange` (see docs/triage.md)."""

    #: support of a dependency change by its semantic-version bump: a major version is allowed
    #: to change behaviour, a patch is not supposed to ("other": not semantic versions)
    bump_support: dict[str, float] = field(default_factory=lambda: {"major": 0.97, "minor": 0.85, "patch": 0.7,
                                                                    "other": 0.8})
    #: kept of the support when a schema change on the feature's own source competes
    schema_discount: float = 0.5


THIRD_PARTY_THRESHOLDS = ThirdPartyThresholds()


class ThirdPartyChange(Hypothesis):
    """Score: drift strength of an input (or the embedding) × how much a dependency version
    change that lists it among its consumers, close to the data's onset, supports the change
    (major bumps more than patches); a schema change on the feature's own source competes."""

    cause = "third_party_change"
    chart = "embedding_drift"

    def __init__(self, thresholds: ThirdPartyThresholds = THIRD_PARTY_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        out = []
        for c in ctx.feature_changes:
            if not c.dependency_changes:
                continue
            o = c.onset
            near = min(c.dependency_changes,
                       key=lambda r: abs((r["changed_at"] - o.at).total_seconds()) if o and o.at else 0)
            bump = version_bump(near["previous_version"], near["version"])
            th = self.thresholds
            support = th.bump_support[bump] * (th.schema_discount if c.schema_changes else 1.0)
            score = c.strength * support
            onset, interval = onset_near(c, near["changed_at"])
            emb = c.kind == "embedding"
            column = ctx.lake.manifest.columns.embedding if emb else None
            ev = drift_evidence(c)
            if c.kind != "embedding":
                ev += importance_evidence(ctx, c.feature)
            ev.append(Evidence("dependency_change", None,
                               detail=f"{near['dependency']} {near['previous_version']} -> {near['version']} "
                                      f"({bump}) at {near['changed_at']:%Y-%m-%d %H:%M}Z; consumers: "
                                      f"{', '.join(near['consumers'] or [])}"))
            name = column or c.feature
            out.append(Finding(
                cause=self.cause, score=round(score, 4),
                subject=subject(dependency=near["dependency"], feature=None if emb else c.feature, column=column),
                onset=onset, onset_interval=interval, evidence=tuple(ev),
                lineage=(dependency_event(near),),
                summary=f"{name} changed when {near['dependency']} moved to {near['version']}",
                next_steps=(f"pin {near['dependency']} to {near['previous_version']}",
                            f"read the {near['dependency']} {near['version']} changelog and ask the vendor what "
                            f"changed in {name}",
                            f"add a contract test on {name} (range, scale, norm) to the dependency upgrade"),
                explains=ctx.drop_explained_by_inputs(c),
                hypothesis=self.name))
        return out
