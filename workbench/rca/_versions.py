"""Quality comparisons of a release against its predecessor, shared by the version hypotheses."""

from __future__ import annotations

import polars as pl

import workbench.evidence as ev
from workbench.evidence.releases import Release
from workbench.evidence.strength import ramp
from workbench.rca.finding import Evidence
from workbench.rca.hypothesis import evidence_from_check

__all__ = ["quality_drop", "replay_evidence"]

_MIN_LABELLED = 200
#: the comparison after an input change spans different hours and two models that may degrade
#: differently under the same corruption: weaker evidence than hours both versions served
_AFTER_INPUTS_SUPPORT = 0.8


def _strength(cmp, *, label: str) -> tuple[float, list[Evidence]]:
    if cmp is None:
        return 0.0, []
    s, ev = 0.0, []
    for c in cmp.checks:
        if c["metric"] not in ("auc", "accuracy", "mae"):
            continue
        ev.append(evidence_from_check(c, label=label))
        if c["worse"]:
            drop = (c["ratio"] - 1.0) / 5 if c["metric"] == "mae" else -c["difference"]  # +25 % MAE ~ -0.05 AUC
            s = max(s, ramp(drop, 0.01, 0.05))
    return s, ev


def quality_drop(ctx, r: Release) -> tuple[float, list[Evidence], str]:
    """How clearly the release performs worse than its predecessor, in [0, 1].

    The comparison on hours both versions served (same inputs) counts fully when it has enough
    labels; the before/after comparison is discounted by how much the inputs changed, since a
    population change moves both.
    """
    conc = ctx.concurrent(r)
    s_c, ev_c = _strength(conc, label=" on hours both versions served") \
        if conc is not None and _labelled(conc) >= _MIN_LABELLED else (0.0, [])
    s_b, ev_b = _strength(ctx.compare(r), label=" before/after")
    s_b *= 1.0 - ctx.input_change
    # the inputs changed: compare the two versions on the hours after the change, where both read
    # the same changed inputs (the predecessor's last hours and the release's first ones)
    s_a, ev_a = 0.0, []
    if ctx.input_change > 0:
        aft = ctx.after_inputs(r)
        if aft is not None and _labelled(aft) >= _MIN_LABELLED:
            s_a, ev_a = _strength(aft, label=" after the inputs changed")
            # on changed inputs a worse release is a cause only as far as it accounts for the
            # window's drop (its rows carry it) and its gap is its own, not the corruption's
            share = ctx.drop_explained_by_version(r.version) if s_a > 0 else None
            s_a *= _material(ctx, r, aft) * ramp(share or 0.0, 0.0, 0.2) * _AFTER_INPUTS_SUPPORT
    best = max((s_c, 0, "concurrent", ev_c), (s_a, 1, "after the inputs changed", ev_a),
               (s_b, 2, "before/after", ev_b), key=lambda x: (x[0], -x[1]))
    if best[0] <= 0 and not ev_c:
        return s_b, ev_b + ev_a, "before/after"
    rest = [e for x in ((s_c, ev_c), (s_a, ev_a), (s_b, ev_b)) if x[1] is not best[3] for e in x[1]]
    return best[0], best[3] + rest, best[2]


def _material(ctx, r: Release, aft) -> float:
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
        if m not in ("auc", "accuracy", "mae") or not c["worse"] or before.get(m) is None:
            continue
        damage = (c["a"] - before[m]) if m == "mae" else (before[m] - c["a"])
        gap = (c["b"] - c["a"]) if m == "mae" else (c["a"] - c["b"])
        share = max(share, 1.0 if damage <= 0 else ramp(gap / damage, 0.15, 0.4))
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
