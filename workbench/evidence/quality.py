"""Model quality with labels, from summary tallies, with intervals.

Binary: AUC (from the score histogram split by label; Hanley-McNeil interval), accuracy
(Wilson interval), log loss and Brier score (exact sums; normal interval), expected
calibration error over the score bins (parametric-bootstrap interval). Multiclass: accuracy.
Regression: MAE and RMSE. Only labelled rows count; ``labelled`` says how many there were.
Rows whose score, prediction or label is NaN or ±inf (or whose score is null) are left out by the
summaries; ``meta["invalid_rows"]`` says how many, by column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence._scipy import stats
from workbench.evidence.stats import Z95
from workbench.results import Result
from workbench.summaries import Summary
from workbench.summaries.binning import SCORE_BINS
from workbench.summaries.summary import ScoreCounts, score_counts

__all__ = ["QualityResult", "assess_quality", "auc_difference", "auc_from_counts", "auc_se", "wilson"]

def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def auc_se(pos: np.ndarray, neg: np.ndarray) -> tuple[float | None, float | None]:
    """AUC from positives and negatives per ascending score bin (ties within a bin count half),
    with its Hanley-McNeil standard error; (None, None) without both classes.

    Tests take this standard error as is: an interval clipped to [0, 1] is for display only,
    and a standard error read back from it would be too small near the bounds.
    """
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    P, N = pos.sum(), neg.sum()
    if P == 0 or N == 0:
        return None, None
    below = np.cumsum(neg) - neg
    a = float(np.sum(pos * (below + 0.5 * neg)) / (P * N))
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt(max(0.0, (a * (1 - a) + (P - 1) * (q1 - a * a) + (N - 1) * (q2 - a * a)) / (P * N)))
    return a, se


def auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> tuple[float | None, tuple[float, float] | None]:
    """AUC (see :func:`auc_se`) with its Hanley-McNeil 95 % interval, clipped to [0, 1] for display."""
    a, se = auc_se(pos, neg)
    if a is None:
        return None, None
    return a, (max(0.0, a - Z95 * se), min(1.0, a + Z95 * se))


def auc_difference(a: ScoreCounts, b: ScoreCounts) -> dict[str, Any] | None:
    """AUC of ``a`` and ``b``, the difference b - a, its standard error (independent samples:
    the Hanley-McNeil errors added in quadrature, unclipped), 95 % interval and two-sided
    z-test p-value; None when either lacks a class."""
    (aa, sa), (ab, sb) = auc_se(a.positives, a.negatives), auc_se(b.positives, b.negatives)
    if aa is None or ab is None:
        return None
    se = math.hypot(sa, sb)
    d = ab - aa
    p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else 1.0
    return {"a": aa, "b": ab, "delta": d, "se": se, "ci": (d - Z95 * se, d + Z95 * se), "p_value": p}


@dataclass(frozen=True, repr=False)
class QualityResult(Result):
    """Quality per group (see :func:`assess_quality`)."""

    groups: list[dict[str, Any]]
    by: tuple[str, ...]
    task: str
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.groups)

    def _summary(self) -> str:
        key = "auc" if self.task == "binary_classification" else ("accuracy" if self.task == "multiclass" else "mae")
        return ", ".join(f"{'/'.join(str(g[k]) for k in self.by) or 'all'}: {key}={_f(g.get(key))}"
                         for g in self.groups[:6])

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        metrics = [m for m in ("auc", "accuracy", "logloss", "ece", "mae", "rmse") if any(m in g for g in self.groups)]
        cols = [*self.by, "labelled"] + [c for m in metrics for c in (m, m + "_ci")
                                         if any(g.get(c) is not None for g in self.groups)]
        rows = [{c: g.get(c) for c in cols} for g in self.groups]
        return block("Quality", f"by {', '.join(self.by)}" if self.by else "", table(rows, columns=cols),
                     css="workbench-quality")


def _f(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else ("—" if v is None else str(v))


def assess_quality(summary: Summary, *, by: tuple[str, ...] = ("model_version",), seed: int = 0,
                   n_boot: int = 200) -> QualityResult:
    """Quality metrics with 95 % intervals per group of ``by`` (``()`` for the whole summary)."""
    t = summary.collapse(tuple(by)).table
    by_cols = list(by) if by else ["__all"]
    rng = np.random.default_rng(seed)
    groups = []
    for r in t.sort(by_cols).iter_rows(named=True):
        g: dict[str, Any] = {k: r[k] for k in by}
        n_lab = int(r.get("labelled") or 0)
        g["rows"] = int(r["n"])
        g["labelled"] = n_lab
        sc = score_counts(r)
        if summary.task == "binary_classification" and sc.has_labels:
            pos, neg = sc.positives, sc.negatives
            g["positives"] = int(pos.sum())
            g["auc"], g["auc_ci"] = auc_from_counts(pos, neg)
            m = pos.sum() + neg.sum()
            if m:
                mean = r["logloss|sum"] / m
                sd = math.sqrt(max(0.0, r["logloss|sumsq"] / m - mean * mean))
                g["logloss"], g["logloss_ci"] = mean, (mean - Z95 * sd / math.sqrt(m), mean + Z95 * sd / math.sqrt(m))
                g["brier"] = r["brier|sum"] / m
                smass = np.array([r[f"score|s|h{i}"] or 0.0 for i in range(SCORE_BINS)], float)
                g["ece"], g["ece_ci"] = _ece(pos, neg, smass, rng, n_boot)
        if "correct" in r and n_lab:
            g["accuracy"] = r["correct"] / n_lab
            g["accuracy_ci"] = wilson(r["correct"], n_lab)
        if "abs_err" in r and n_lab:
            g["mae"] = r["abs_err"] / n_lab
            g["rmse"] = math.sqrt(r["sq_err"] / n_lab)
        groups.append(g)
    return QualityResult(groups=groups, by=tuple(by), task=summary.task,
                         meta={"interval": "95%", "auc_interval": "Hanley-McNeil",
                               "accuracy_interval": "Wilson", "ece_interval": f"parametric bootstrap x{n_boot}",
                               "invalid_rows": {c: k for c, k in summary.invalid_counts().items()
                                                if c in ("score", "prediction", "label")}})


def _ece(pos, neg, smass, rng, n_boot) -> tuple[float | None, tuple[float, float] | None]:
    """Expected calibration error: sum over bins of |score mass - positives| / labelled rows."""
    n_b = pos + neg
    m = n_b.sum()
    if m == 0:
        return None, None
    ece = float(np.sum(np.abs(smass - pos)) / m)
    if n_boot <= 0:
        return ece, None
    rate = np.divide(pos, n_b, out=np.zeros_like(pos), where=n_b > 0)
    boot = np.abs(smass[None, :] - rng.binomial(n_b.astype(np.int64)[None, :], rate[None, :],
                                                 size=(n_boot, n_b.size))).sum(axis=1) / m
    return ece, (float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975)))
