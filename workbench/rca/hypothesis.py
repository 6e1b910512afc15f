"""The :class:`Hypothesis` interface, and helpers the built-in hypotheses share.

A hypothesis tests one cause against the evidence in a :class:`~workbench.rca.context.Context`
and returns zero or more :class:`~workbench.rca.finding.Finding`. A team's own hypothesis
subclasses :class:`Hypothesis` (or is any callable ``ctx -> Finding | list[Finding] | None``)
and registers under the ``workbench.hypotheses`` entry-point group.
"""

from __future__ import annotations

from typing import Any, ClassVar

from workbench.rca.finding import Evidence, Finding, LineageEvent

__all__ = ["Hypothesis", "evidence_from_check", "rollout_events", "version_bump"]


class Hypothesis:
    """Base class: set ``cause`` (and ``chart``) and implement :meth:`evaluate`.

    ``chart`` names the evidence chart that shows the cause (a key of
    :data:`workbench.charts.CAUSE_CHARTS`); reports draw it for the top findings.
    """

    cause: ClassVar[str] = ""
    chart: ClassVar[str] = ""

    @property
    def name(self) -> str:
        return f"{type(self).__module__}.{type(self).__name__}"

    def evaluate(self, ctx) -> list[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(cause={self.cause!r})"


def rollout_events(steps: list[dict[str, Any]], limit: int = 3) -> tuple[LineageEvent, ...]:
    """Lineage events of a version's first rollout steps."""
    return tuple(LineageEvent("rollout", s["deployed_at"], f"deployments:{s['line']}", s["model_version"],
                              f"{s['route']} {s['traffic_pct']:g}%") for s in steps[:limit])


def evidence_from_check(c: dict[str, Any], *, label: str = "") -> Evidence:
    """An :class:`Evidence` from a :func:`~workbench.evidence.compare_versions` check."""
    m = c["metric"]
    if m == "latency_p95_ms":
        return Evidence("latency_p95_ratio", c["ratio"], baseline=c["a"], p_value=c["p_value"],
                        interval=tuple(c["ratio_ci"]),
                        detail=f"p95 latency {c['a']:.0f} ms -> {c['b']:.0f} ms ({c['ratio']:.2f}x, 99% CI "
                               f"{c['ratio_ci'][0]:.2f}-{c['ratio_ci'][1]:.2f}){label}")
    return Evidence(m, c.get("b"), baseline=c.get("a"), p_value=c.get("p_value"),
                    detail=f"{m} {c['a']:.3f} -> {c['b']:.3f} ({c['difference']:+.3f}, p={c['p_value']:.2g}){label}")


def version_bump(old: str | None, new: str | None) -> str:
    """"major", "minor", "patch" or "other" from two version strings (semantic versioning)."""
    if not old or not new:
        return "other"
    a, b = _parts(old), _parts(new)
    if not a or not b:
        return "other"
    for i, kind in enumerate(("major", "minor", "patch")):
        if (a[i] if i < len(a) else 0) != (b[i] if i < len(b) else 0):
            return kind
    return "other"


def _parts(v: str) -> list[int]:
    out = []
    for p in v.lstrip("vV").split("."):
        digits = "".join(ch for ch in p if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return out
