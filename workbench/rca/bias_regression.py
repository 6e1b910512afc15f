"""``bias_regression``: a rollout made one segment worse while the whole looks fine."""

from __future__ import annotations

from workbench.rca.finding import Evidence, Finding, subject
from workbench.rca.hypothesis import Hypothesis, rollout_events

__all__ = ["BiasRegression"]


class BiasRegression(Hypothesis):
    """Per segment column, each value's change in accuracy/AUC from the predecessor to the
    release against the whole's change (Benjamini-Hochberg across values and metrics). Score: the
    size of the worst significant gap (3 points -> 0, 8 points -> 1) × the share of the overall
    change it explains (all of it when the whole is flat or better)."""

    cause = "bias_regression"

    def evaluate(self, ctx) -> list[Finding]:
        out = []
        for r in ctx.releases:
            seg = ctx.segment_regression(r)
            if not seg:
                continue
            score = 0.95 * seg.strength * seg.explains * (1.0 - 0.5 * ctx.input_change)
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
                        f"{'flat or better' if seg.overall >= -0.01 else 'slightly worse'}",
                next_steps=(f"roll back {r.version} to {prev} (or route {seg.column}={seg.value} to {prev})",
                            f"audit {r.version}'s training data for {seg.column}={seg.value} (coverage, labels)",
                            f"gate promotions on per-{seg.column} metrics, not only the overall one"),
                hypothesis=self.name))
        return out
