"""Drift and the label-free quality estimate per time bucket (a day by default), from summaries.

What the Explorer's heatmap and quality views draw; the statistics are those of
:mod:`workbench.evidence.stats` (PSI) and :func:`~workbench.evidence.estimate.estimate_performance`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from workbench.evidence import stats as st
from workbench.evidence.estimate import estimate_from_totals
from workbench.summaries import Summary
from workbench.summaries.summary import score_counts

__all__ = ["PsiOverTime", "psi_over_time", "estimate_over_time"]


@dataclass(frozen=True)
class PsiOverTime:
    """Settings of :func:`psi_over_time`.

    Attributes
    ----------
    min_rows : int, default 200
        Buckets with fewer rows are left out (a blank cell): with 10 bins and ~200 rows a bin holds
        ~20 rows, below which PSI of two samples of one distribution often exceeds 0.1 by chance.
    cap : float, default 5.0
        PSI values are capped here: beyond it the distributions barely overlap and a larger
        number says nothing more (and would stretch a colour scale).
    """

    min_rows: int = 200
    cap: float = 5.0


def _cells(binning, f: str, kind: str, columns) -> list[str]:
    """The summary columns of feature ``f`` that PSI compares: its bins plus the missing cell
    (null or NaN) and, for numbers, the ±inf cell — a feature turning missing is a drift."""
    if kind == "numeric":
        return [f"{f}|h{i}" for i in range(binning.n_bins(f))] + \
            [c for c in (f"{f}|null", f"{f}|inf") if c in columns]
    vocab = binning.categorical[f]
    return [f"{f}|v{i}" for i in range(len(vocab))] + [f"{f}|other", f"{f}|null"]


def psi_over_time(baseline: Summary, window: Summary, *, bucket: str = "1d",
                  settings: PsiOverTime | None = None) -> pl.DataFrame:
    """PSI of every binned feature, per ``bucket`` of ``window``, against the whole ``baseline``.

    Returns ``bucket, feature, psi`` (empty when a side has no rows). Missing and ±inf values
    have their own cells; buckets with fewer than ``settings.min_rows`` rows are left out.
    """
    cfg = settings or PsiOverTime()
    if baseline.rows == 0 or window.rows == 0:
        return pl.DataFrame()
    b = baseline.collapse().table.row(0, named=True)
    t = window.table.with_columns(pl.col("bucket").dt.truncate(bucket))
    per = replace(window, table=t).collapse(("bucket",)).table.sort("bucket").filter(pl.col("n") >= cfg.min_rows)
    binning = window.binning
    rows = []
    features = [(f, "numeric") for f in binning.numeric] + [(f, "categorical") for f in binning.categorical]
    for f, kind in features:
        cols = _cells(binning, f, kind, per.columns)
        if cols[0] not in per.columns:
            continue
        ref = np.array([b[c] or 0 for c in cols], float)
        for r in per.select("bucket", *cols).iter_rows():
            rows.append({"bucket": r[0], "feature": f, "psi": min(st.psi(ref, np.array(r[1:], float)), cfg.cap)})
    return pl.DataFrame(rows)


def estimate_over_time(baseline: Summary, window: Summary, *, bucket: str = "1d") -> pl.DataFrame:
    """The label-free AUC (:func:`estimate_performance`) of each ``bucket`` of ``window``,
    calibrated on ``baseline``.

    Returns ``bucket, auc, accuracy, rows`` for the buckets with an estimate: none when the model
    is not a binary classifier or the baseline has no labelled scores to calibrate on.
    """
    empty = pl.DataFrame()
    if window.task != "binary_classification" or baseline.rows == 0 or window.rows == 0:
        return empty
    # estimate_performance's precondition: label tallies in the baseline to calibrate on
    b = baseline.collapse().table.row(0, named=True)
    if not score_counts(b).has_labels:
        return empty
    per = replace(window, table=window.table.with_columns(pl.col("bucket").dt.truncate(bucket)))
    rows = []
    for w in per.collapse(("bucket",)).table.iter_rows(named=True):  # one collapse for every bucket
        e = estimate_from_totals(b, w, n_boot=0)
        if e.auc is not None:
            rows.append({"bucket": w["bucket"], "auc": e.auc, "accuracy": e.accuracy, "rows": e.rows})
    return pl.DataFrame(rows)
