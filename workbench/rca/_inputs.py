"""Evidence items and onsets shared by the input-side hypotheses (drift, schema, third party)."""

from __future__ import annotations

from typing import Any

from workbench.rca.context import FeatureChange
from workbench.rca.finding import Evidence, LineageEvent

__all__ = ["drift_evidence", "importance_evidence", "nature_of", "onset_near", "schema_event", "dependency_event"]


def drift_evidence(c: FeatureChange) -> list[Evidence]:
    f = c.drift
    if c.kind == "embedding":
        return [Evidence("embedding_mmd2", getattr(f, "mmd2", None), p_value=getattr(f, "p_value", None),
                         detail=f"embedding distribution changed: {f}")]
    out = [Evidence("psi", f.psi, baseline=0.0, p_value=f.q_value,
                    detail=f"{c.feature}: PSI {f.psi:.2f}, JS {f.js:.2f}, {f.test} {f.statistic:.3g} "
                           f"(BH q={f.q_value:.2g}) over {f.n_window:,} window rows")]
    n = c.nature
    if n["null_jump"] and abs(n["null_jump"]) >= 0.01:
        out.append(Evidence("null_rate", f.null_rate_window, baseline=f.null_rate_baseline,
                            p_value=f.null_rate_p_value,
                            detail=f"null share of {c.feature} {f.null_rate_baseline:.1%} -> {f.null_rate_window:.1%}"))
    if n["scale_power"]:
        out.append(Evidence("scale_ratio", n["scale_ratio"], baseline=1.0,
                            detail=f"{c.feature} quantiles are {n['scale_ratio']:.3g}x the baseline's "
                                   f"(about 10^{n['scale_power']}: a unit change)"))
    if n["unseen_share"]:
        out.append(Evidence("unseen_share", n["unseen_share"], baseline=0.0,
                            detail=f"{n['unseen_share']:.1%} of {c.feature} values never seen in the baseline"))
    return out


def importance_evidence(ctx, feature: str) -> list[Evidence]:
    """The feature's permutation-importance change, when the model artifact allows computing it."""
    imp = ctx.importance
    if imp is None:
        return []
    for f in imp.features:
        if f["feature"] == feature:
            moved = f in imp.moved
            return [Evidence("permutation_importance", f["window"], baseline=f["baseline"], detail=(
                f"{feature}'s importance to the model ({imp.metric} drop when shuffled) "
                f"{f['baseline']:.3f} -> {f['window']:.3f}" + (" — moved" if moved else ", within noise")))]
    return []


def nature_of(c: FeatureChange) -> list[str]:
    """Structural signatures: a null jump, a power-of-ten scale, values never seen before."""
    n, out = c.nature, []
    f = c.drift
    if n.get("null_jump", 0) >= 0.05 and getattr(f, "null_rate_p_value", 1.0) < 1e-3:
        out.append("nulls")
    if n.get("scale_power"):
        out.append("unit")
    if (n.get("unseen_share") or 0) >= 0.05:
        out.append("codes")
    return out


def onset_near(c: FeatureChange, at, *, slack_h: float = 3.0):
    """The lineage event time when it lies within the data's onset interval (± slack), else the
    data's onset: the event is exact when it is the cause."""
    o = c.onset
    if o is None or o.at is None:
        return at, None
    lo, hi = (o.low or o.at), (o.high or o.at)
    if at is not None and (lo - _h(slack_h)) <= at <= (hi + _h(slack_h)):
        return at, (lo, hi)
    return o.at, (lo, hi)


def _h(x: float):
    import datetime as dt

    return dt.timedelta(hours=x)


def schema_event(r: dict[str, Any]) -> LineageEvent:
    return LineageEvent("openlineage_schema_change", r["at"], r["run_id"], r["dataset"], r["detail"])


def dependency_event(r: dict[str, Any]) -> LineageEvent:
    return LineageEvent("dependency_change", r["changed_at"], f"dependencies:{r['line']}", r["dependency"],
                        f"{r['previous_version']} -> {r['version']}")
