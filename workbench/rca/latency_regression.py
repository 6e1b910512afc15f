"""``latency_regression``: tail latency rose with a rollout."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.evidence.strength import ramp
from workbench.rca.finding import Finding, subject
from workbench.rca.hypothesis import Hypothesis, evidence_from_check, rollout_events

__all__ = ["LatencyRegression", "LatencyThresholds"]


@dataclass(frozen=True)
class LatencyThresholds:
    """Choices of :class:`LatencyRegression` (see docs/triage.md)."""

    #: the score of an unmistakable slowdown with a rollout
    max_score: float = 0.95
    #: lower end of the p95 ratio's interval mapped to strength: 1.1x (the "worse" floor of
    #: compare_versions) -> 0 ...
    ratio_lo: float = 1.1
    #: ... 1.4x -> 1
    ratio_hi: float = 1.4


LATENCY_THRESHOLDS = LatencyThresholds()


class LatencyRegression(Hypothesis):
    """Score: the lower end of the bootstrap interval of the new version's p95 over its
    predecessor's (1.1x -> 0, 1.4x -> 1), when KS on the latency histograms agrees. The route is
    named when the version served only a non-primary route."""

    cause = "latency_regression"
    chart = "latency_by_version"

    def __init__(self, thresholds: LatencyThresholds = LATENCY_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        if ctx.lake.task == "generation":
            return []  # LLM calls: workbench.rca.llm_causes.LLMLatencyRegression (latency and time to first token)
        out = []
        for r in ctx.releases:
            cmp = ctx.compare(r)
            if cmp is None:
                continue
            lat = next((c for c in cmp.checks if c["metric"] == "latency_p95_ms"), None)
            if lat is None or not lat["worse"]:
                continue
            th = self.thresholds
            score = th.max_score * ramp(lat["ratio_ci"][0], th.ratio_lo, th.ratio_hi)
            route = r.routes[0] if len(r.routes) == 1 and r.routes[0] != "primary" else None
            prev = r.previous or "the previous version"
            steps = [f"shift {route} traffic back to {prev}" if route else f"roll back {r.version} to {prev}",
                     f"profile {r.version}: its p95 is {lat['ratio']:.1f}x {prev}'s "
                     f"({lat['a']:.0f} -> {lat['b']:.0f} ms)",
                     "gate promotions on the canary's p95 latency"]
            out.append(Finding(
                cause=self.cause, score=round(score, 4), subject=subject(model_version=r.version, route=route),
                onset=r.first_deployed, evidence=(evidence_from_check(lat),), lineage=rollout_events(r.lineage),
                summary=f"{r.version} is {lat['ratio']:.1f}x slower at p95 than {prev}"
                        + (f" on the {route} route" if route else ""),
                next_steps=tuple(steps), hypothesis=self.name))
        return out
