"""Evidence items and onsets shared by the input-side hypotheses (drift, schema, third party)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from workbench.rca.context import FeatureChange
from workbench.rca.finding import Evidence, LineageEvent

__all__ = ["INPUT_THRESHOLDS", "InputThresholds", "drift_evidence", "importance_evidence", "nature_of", "onset_near",
           "schema_event", "dependency_event"]


@dataclass(frozen=True)
class InputThresholds:
    """What makes an input change structural (see docs/triage.md)."""

    #: a null share that rose this much (5 points) ...
    nulls_jump: float = 0.05
    #: ... and significantly (two-proportion p below this) is the signature of a rename/drop
    nulls_alpha: float = 1e-3
    #: this share of values never seen in the baseline is the signature of a new code set
    unseen_share: float = 0.05
    #: a null-share change shown as evidence from this size (1 point) on
    null_evidence: float = 0.01
    #: a lineage event this close to the data's onset interval dates the change exactly
    onset_slack: dt.timedelta = dt.timedelta(hours=3)


INPUT_THRESHOLDS = InputThresholds()


def drift_evidence(c: FeatureChange, *, thresholds: InputThresholds = INPUT_THRESHOLDS) -> list[Evidence]:
    f = c.drift
    if c.kind == "embedding":
        return [Evidence("embedding_mmd2", getattr(f, "mmd2", None), p_value=getattr(f, "p_value", None),
                         detail=f"embedding distribution changed: {f}")]
    out = [Evidence("psi", f.psi, baseline=0.0, p_value=f.q_value,
                    detail=f"{c.feature}: PSI {f.psi:.2f}, JS {f.js:.2f}, {f.test} {f.statistic:.3g} "
                           f"(BH q={f.q_value:.2g}) over {f.n_window:,} window rows")]
    n = c.nature
    if n["null_jump"] and abs(n["null_jump"]) >= thresholds.null_evidence:
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


def nature_of(c: FeatureChange, *, thresholds: InputThresholds = INPUT_THRESHOLDS) -> list[str]:
    """Structural signatures: a null jump, a power-of-ten scale, values never seen before."""
    n, out, th = c.nature, [], thresholds
    f = c.drift
    if n.get("null_jump", 0) >= th.nulls_jump and getattr(f, "null_rate_p_value", 1.0) < th.nulls_alpha:
        out.append("nulls")
    if n.get("scale_power"):
        out.append("unit")
    if (n.get("unseen_share") or 0) >= th.unseen_share:
        out.append("codes")
    return out


def onset_near(c: FeatureChange, at, *, slack: dt.timedelta = INPUT_THRESHOLDS.onset_slack):
    """The lineage event time when it lies within the data's onset interval (± slack), else the
    data's onset: the event is exact when it is the cause."""
    o = c.onset
    if o is None or o.at is None:
        return at, None
    lo, hi = (o.low or o.at), (o.high or o.at)
    if at is not None and (lo - slack) <= at <= (hi + slack):
        return at, (lo, hi)
    return o.at, (lo, hi)


def schema_event(r: dict[str, Any]) -> LineageEvent:
    return LineageEvent("openlineage_schema_change", r["at"], r["run_id"], r["dataset"], r["detail"])


def dependency_event(r: dict[str, Any]) -> LineageEvent:
    return LineageEvent("dependency_change", r["changed_at"], f"dependencies:{r['line']}", r["dependency"],
                        f"{r['previous_version']} -> {r['version']}")
