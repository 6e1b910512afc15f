"""Quality comparisons of a release against its predecessor, shared by the version hypotheses."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

import workbench.evidence as ev
from workbench.evidence.releases import Release
from workbench.evidence.strength import ramp
from workbench.rca.finding import Evidence
from workbench.rca.hypothesis import evidence_from_check

__all__ = ["RELEASE_QUALITY_THRESHOLDS", "ReleaseQualityThresholds", "quality_drop", "replay_evidence"]


@dataclass(frozen=True)
class ReleaseQualityThresholds:
    """How a release's quality is compared with its predecessor's (see docs/triage.md)."""

    #: labelled rows on the smaller side for a comparison on hours both served (or after an
    #: input change) to count: fewer, and a 1-point accuracy difference is not measurable
    min_labelled: int = 200
    #: the comparison after an input change spans different hours and two models that may
    #: degrade differently under the same corruption: weaker evidence than hours both served
    after_inputs_support: float = 0.8
    #: quality drop (AUC/accuracy points) mapped to strength: 1 point -> 0 ...
    drop_lo: float = 0.01
    #: ... 5 points -> 1
    drop_hi: float = 0.05
    #: a relative MAE increase is divided by this to read as AUC points (+25 % MAE ~ -0.05 AUC)
    mae_per_point: float = 5.0
    #: a gap on changed inputs counts as the release's own from this share of the damage the
    #: change did to the predecessor (15 %) ...
    material_lo: float = 0.15
    #: ... fully from 40 %
    material_hi: float = 0.4
    #: share of the window's drop confined to the release's rows at which a gap on changed
    #: inputs counts fully (20 %)
    share_hi: float = 0.2


RELEASE_QUALITY_THRESHOLDS = ReleaseQualityThresholds()
_QUALITY = ("auc", "accuracy", "mae")


def _strength(cmp, *, label: str, th: ReleaseQualityThresholds = RELEASE_QUALITY_THRESHOLDS) -> tuple[float, list[Evidence]]:
    if cmp is None:
        return 0.0, []
    s, ev = 0.0, []
    for c in cmp.checks:
        if c["metric"] not in _QUALITY:
            continue
        ev.append(evidence_from_check(c, label=label))
        if c["worse"]:
            drop = (c["ratio"] - 1.0) / th.mae_per_point if c["metric"] == "mae" else -c["difference"]
            s = max(s, ramp(drop, th.drop_lo, th.drop_hi))
    return s, ev


def quality_drop(ctx, r: Release, *, thresholds: ReleaseQualityThresholds = RELEASE_QUALITY_THRESHOLDS
                 ) -> tuple[float, list[Evidence], str]:
    """How clearly the release performs worse than its predecessor, in [0, 1].

    The comparison on hours both versions served (same inputs) counts fully when it has enough
    labels; the before/after comparison is discounted by how much the inputs changed, since a
    population change moves both.
    """
    th = thresholds
    conc = ctx.concurrent(r)
    s_c, ev_c = _strength(conc, label=" on hours both versions served", th=th) \
        if conc is not None and _labelled(conc) >= th.min_labelled else (0.0, [])
    s_b, ev_b = _strength(ctx.compare(r), label=" before/after", th=th)
    s_b *= 1.0 - ctx.input_change
    # the inputs changed: compare the two versions on the hours after the change, where both read
    # the same changed inputs (the predecessor's last hours and the release's first ones)
    s_a, ev_a = 0.0, []
    if ctx.input_change > 0:
        aft = ctx.after_inputs(r)
        if aft is not None and _labelled(aft) >= th.min_labelled:
            s_a, ev_a = _strength(aft, label=" after the inputs changed", th=th)
            # on changed inputs a worse release is a cause only as far as it accounts for the
            # window's drop (its rows carry it) and its gap is its own, not the corruption's
            share = ctx.drop_explained_by_version(r.version) if s_a > 0 else None
            s_a *= _material(ctx, r, aft, th) * ramp(share or 0.0, 0.0, th.share_hi) * th.after_inputs_support
    best = max((s_c, 0, "concurrent", ev_c), (s_a, 1, "after the inputs changed", ev_a),
               (s_b, 2, "before/after", ev_b), key=lambda x: (x[0], -x[1]))
    if best[0] <= 0 and not ev_c:
        return s_b, ev_b + ev_a, "before/after"
    rest = [e for x in ((s_c, ev_c), (s_a, ev_a), (s_b, ev_b)) if x[1] is not best[3] for e in x[1]]
    return best[0], best[3] + rest, best[2]


def _material(ctx, r: Release, aft, th: ReleaseQualityThresholds) -> float:
    """How much of a gap on changed inputs is the release's own: two models degrade differently
    under the same corruption, so a gap counts when it is a material share (15 % -> 0, 40 % -> 1)
    of the damage the change did to the predecessor itself (its baseline quality against its
    quality on the changed inputs)."""
    base = ctx.baseline.where(pl.col("model_version") == r.previous)
    if not base.rows:
        return 1.0
    groups = ev.assess_quality(base, by=(), n_boot=0).groups
    before = groups[0] if groups else {}
    share = 0.0
    for c in aft.checks:
        m = c["metric"]
        if m not in _QUALITY or not c["worse"] or before.get(m) is None:
            continue
        damage = (c["a"] - before[m]) if m == "mae" else (before[m] - c["a"])
        gap = (c["b"] - c["a"]) if m == "mae" else (c["a"] - c["b"])
        share = max(share, 1.0 if damage <= 0 else ramp(gap / damage, th.material_lo, th.material_hi))
    return share


def _labelled(cmp) -> int:
    """Labelled rows of the smaller side of a comparison."""
    return min(cmp.rows["labelled_a"], cmp.rows["labelled_b"])


def replay_evidence(rep) -> Evidence:
    if rep.verdict == "serving" and rep.disagreement is not None:
        share, lo, hi = rep.disagreement
        return Evidence("replay_rows_not_reproduced", share, baseline=0.0, interval=(lo, hi),
                        detail=f"replay on {rep.served_rows:,} served rows ({rep.tolerance}): {rep.detail}")
    est, lo, hi = rep.new_vs_old
    return Evidence(f"replay_{rep.metric}", rep.new, baseline=rep.old, interval=(lo, hi),
                    detail=f"replay on {rep.rows:,} labelled rows: {rep.detail}")
