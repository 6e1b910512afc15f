"""``bias_regression``: a rollout made one segment worse while the whole looks fine."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.rca.finding import Evidence, Finding, subject
from workbench.rca.hypothesis import Hypothesis, rollout_events

__all__ = ["BiasRegression", "BiasThresholds"]


@dataclass(frozen=True)
class BiasThresholds:
    """Choices of :class:`BiasRegression` (see docs/triage.md)."""

    #: the score of an unmistakable segment gap explaining the whole change (below the lineage-
    #: backed causes' 0.97: a segment gap is read from labels alone)
    max_score: float = 0.95
    #: at most this share of the score is lost when the inputs changed too (a population
    #: change moves segments unevenly by itself)
    input_discount: float = 0.5
    #: the whole's change above which the summary calls it "flat or better"
    flat_overall: float = -0.01


BIAS_THRESHOLDS = BiasThresholds()


class BiasRegression(Hypothesis):
    """Per segment column, each value's change in accuracy/AUC from the predecessor to the
    release against the whole's change (Benjamini-Hochberg across values and metrics). Score: the
    size of the worst significant gap (3 points -> 0, 8 points -> 1) × the share of the overall
    change it explains (all of it when the whole is flat or better)."""

    cause = "bias_regression"
    chart = "segment_by_version"

    def __init__(self, thresholds: BiasThresholds = BIAS_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        th = self.thresholds
        out = []
        for r in ctx.releases:
            seg = ctx.segment_regression(r)
            if not seg:
                continue
            score = th.max_score * seg.strength * seg.explains * (1.0 - th.input_discount * ctx.input_change)
            if score <= 0:
                continue
            m = seg.metric
            items = [Evidence(f"segment_{m}_gap", m and seg.gap, baseline=0.0, p_value=seg.q_value,
                              interval=seg.gap_ci,
                              detail=f"{seg.column}={seg.value}: {m} {seg.a:.3f} -> {seg.b:.3f} with "
                                     f"{r.version}, {seg.gap:+.3f} against the whole's change "
                                     f"({seg.overall:+.3f})"),
                     Evidence("segment_share", seg.share, detail=f"{seg.column}={seg.value} is "
                                                                    f"{seg.share:.0%} of {r.version}'s rows")]
            prev = r.previous or "the previous version"
            out.append(Finding(
                cause=self.cause, score=round(score, 4),
                subject=subject(model_version=r.version, segment={"column": seg.column, "value": seg.value}),
                onset=r.first_deployed, evidence=tuple(items), lineage=rollout_events(r.lineage),
                explains=round(seg.explains, 4),
                summary=f"{r.version} is worse for {seg.column}={seg.value} while the whole is "
                        f"{'flat or better' if seg.overall >= th.flat_overall else 'slightly worse'}",
                next_steps=(f"roll back {r.version} to {prev} (or route {seg.column}={seg.value} to {prev})",
                            f"audit {r.version}'s training data for {seg.column}={seg.value} (coverage, labels)",
                            f"gate promotions on per-{seg.column} metrics, not only the overall one"),
                hypothesis=self.name))
        return out
