"""Quality comparisons of a release against its predecessor, shared by the version hypotheses."""

from __future__ import annotations

from workbench.rca.context import Release, ramp
from workbench.rca.finding import Evidence
from workbench.rca.hypothesis import evidence_from_check

__all__ = ["quality_drop", "replay_evidence"]

_MIN_LABELLED = 200


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
    rows = conc.rows if conc is not None else {"a": 0, "b": 0}
    s_c, ev_c = _strength(conc, label=" on hours both versions served") \
        if conc is not None and min(rows["a"], rows["b"]) >= _MIN_LABELLED else (0.0, [])
    s_b, ev_b = _strength(ctx.compare(r), label=" before/after")
    s_b *= 1.0 - ctx.input_change
    if s_c >= s_b and ev_c:
        return s_c, ev_c + ev_b, "concurrent"
    return s_b, ev_b + ev_c, "before/after"


def replay_evidence(rep) -> Evidence:
    if rep.verdict == "serving" and rep.disagreement is not None:
        share, lo, hi = rep.disagreement
        return Evidence("replay_rows_not_reproduced", share, baseline=0.0, interval=(lo, hi),
                        detail=f"replay on {rep.served_rows:,} served rows ({rep.tolerance}): {rep.detail}")
    est, lo, hi = rep.new_vs_old
    return Evidence(f"replay_{rep.metric}", rep.new, baseline=rep.old, interval=(lo, hi),
                    detail=f"replay on {rep.rows:,} labelled rows: {rep.detail}")
