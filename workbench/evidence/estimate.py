"""Label-free performance estimate for windows whose labels have not arrived.

Confidence-based, in the spirit of NannyML's CBPE: the scores are calibrated on the labelled
baseline (positive rate per score bin), the window's score histogram is read through that
calibration, and the expected confusion counts give expected accuracy and AUC. The interval is
a parametric bootstrap over the baseline calibration and the window's counts. The estimate holds
while the relation between score and outcome stays as it was (covariate shift); it cannot see a
change in that relation (concept shift), which is why a realized metric is shown beside it once
labels arrive. The interval is a prediction interval for the metric the labels will show: it
resamples the calibration, the window's counts and the window's outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from workbench.evidence.quality import auc_from_counts
from workbench.exceptions import InsufficientDataError, UsageError
from workbench.results import Result
from workbench.summaries import Summary
from workbench.summaries.binning import SCORE_BINS
from workbench.summaries.summary import score_counts

__all__ = ["PerformanceEstimate", "estimate_performance"]


@dataclass(frozen=True, repr=False)
class PerformanceEstimate(Result):
    """Expected accuracy and AUC of a window without labels, with 95 % intervals."""

    accuracy: float | None
    accuracy_ci: tuple[float, float] | None
    auc: float | None
    auc_ci: tuple[float, float] | None
    rows: int
    realized_accuracy: float | None = None
    realized_auc: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        return (f"accuracy~{self.accuracy:.3f} {self.accuracy_ci}, auc~{self.auc:.3f} {self.auc_ci}, rows={self.rows}"
                if self.accuracy is not None else "no estimate")


def estimate_performance(baseline: Summary, window: Summary, *, threshold: float = 0.5, n_boot: int = 300,
                         seed: int = 0) -> PerformanceEstimate:
    """Estimate accuracy and AUC of ``window`` from its scores, calibrated on ``baseline``'s labels."""
    if baseline.task != "binary_classification":
        raise UsageError("estimate_performance supports binary classification", found=f"task {baseline.task!r}")
    b = baseline.collapse().table.row(0, named=True)
    w = window.collapse().table.row(0, named=True)
    return estimate_from_totals(b, w, threshold=threshold, n_boot=n_boot, seed=seed)


def estimate_from_totals(b: Mapping, w: Mapping, *, threshold: float = 0.5, n_boot: int = 300,
                         seed: int = 0) -> PerformanceEstimate:
    """:func:`estimate_performance` from the totals of a baseline and a window of a binary
    classifier (one row of a summary table each, e.g. ``summary.collapse().table.row(0, named=True)``):
    for many windows at once (a collapse per day), without collapsing each again."""
    sb, sw = score_counts(b), score_counts(w)
    if not sb.has_labels:
        raise InsufficientDataError("estimate_performance needs a labelled baseline summary with scores",
                                    hint="summarize a baseline window whose labels have arrived")
    pos_b, neg_b = sb.positives, sb.negatives
    n_b = pos_b + neg_b
    counts_w = sw.all
    mids = (np.arange(SCORE_BINS) + 0.5) / SCORE_BINS
    predicts_pos = mids >= threshold

    def calib(pos, n):
        # bins without baseline labels fall back to the bin's own score (perfect calibration)
        return np.where(n > 0, np.divide(pos, n, out=np.zeros_like(pos), where=n > 0), mids)

    def metrics(rate, counts):
        total = counts.sum()
        acc = float(np.sum(counts * np.where(predicts_pos, rate, 1 - rate)) / total) if total else None
        auc, _ = auc_from_counts(counts * rate, counts * (1 - rate))
        return acc, auc

    rate = calib(pos_b, n_b)
    acc, auc = metrics(rate, counts_w)
    rng = np.random.default_rng(seed)
    accs, aucs = [], []
    total_w = int(counts_w.sum())
    for _ in range(n_boot):
        # a prediction interval for what the labels will show: resample the calibration, the
        # window's counts, and then the window's outcomes themselves
        pb = rng.binomial(n_b.astype(np.int64), np.clip(rate, 0, 1))
        cw = rng.multinomial(total_w, counts_w / total_w) if total_w else counts_w.astype(np.int64)
        r = calib(pb.astype(float), n_b)
        yw = rng.binomial(cw, np.clip(r, 0, 1)).astype(float)
        nw = cw - yw
        accs.append(float((yw[predicts_pos].sum() + nw[~predicts_pos].sum()) / total_w) if total_w else None)
        aucs.append(auc_from_counts(yw, nw)[0])
    ci = lambda xs: (float(np.quantile(xs, 0.025)), float(np.quantile(xs, 0.975))) \
        if xs and all(x is not None for x in xs) else None  # noqa: E731
    realized_acc = w["correct"] / w["labelled"] if w.get("labelled") else None
    realized_auc, _ = auc_from_counts(sw.positives, sw.negatives)
    return PerformanceEstimate(accuracy=acc, accuracy_ci=ci(accs), auc=auc, auc_ci=ci(aucs), rows=total_w,
                               realized_accuracy=realized_acc, realized_auc=realized_auc,
                               meta={"method": "confidence-based (CBPE-like), calibration per score bin",
                                     "threshold": threshold, "bootstrap": n_boot,
                                     "labelled_in_window": int(w.get("labelled") or 0)})
