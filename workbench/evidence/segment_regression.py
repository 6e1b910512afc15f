"""Which segment value did a release make worse, against the whole's change, and how much of the
overall change does it explain? The score behind ``bias_regression`` and the segment discount of
``retrain_regression``, built on :func:`~workbench.evidence.segments.segment_deltas`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence.segments import segment_deltas
from workbench.evidence.strength import ramp
from workbench.exceptions import InsufficientDataError
from workbench.results import Result
from workbench.summaries import Summary

__all__ = ["REFERENCE", "SegmentRegression", "SegmentRegressionThresholds", "SEGMENT_REGRESSION_THRESHOLDS",
           "worst_segment_regression"]

#: the label of every row the release did not serve, in the comparison
REFERENCE = "(reference)"


@dataclass(frozen=True)
class SegmentRegressionThresholds:
    """The choices behind :func:`worst_segment_regression` (see docs/triage.md)."""

    #: a segment's gap against the whole (accuracy/AUC points, or relative MAE) mapped to
    #: strength: 3 points is the smallest gap worth a cause (segment_deltas' own min_effect) ...
    gap_lo: float = 0.03
    #: ... 8 points is unmistakable
    gap_hi: float = 0.08
    #: an overall change above this (at most one point worse) counts as "the whole is flat":
    #: the segment then explains all of the regression
    flat_overall: float = -0.01


SEGMENT_REGRESSION_THRESHOLDS = SegmentRegressionThresholds()


@dataclass(frozen=True, repr=False)
class SegmentRegression(Result):
    """The segment value whose quality fell most with a release, against the whole's change."""

    column: str
    value: Any
    metric: str
    gap: float  # the segment's change less the whole's (negative: worse)
    gap_ci: tuple[float, float]
    q_value: float | None  # Benjamini-Hochberg across values and metrics
    a: float  # the segment's metric on the reference rows
    b: float  # ... and on the release's
    overall: float  # the whole's change
    share: float  # the segment's share of the release's rows
    explains: float  # share of the overall change the segment accounts for, in [0, 1]
    strength: float  # gap -> [0, 1]

    def _summary(self) -> str:
        return f"{self.column}={self.value}, {self.metric} gap={self.gap:+.3f}, explains={self.explains:.0%}"


def worst_segment_regression(summary: Summary, column: str, version: str, *,
                             thresholds: SegmentRegressionThresholds = SEGMENT_REGRESSION_THRESHOLDS
                             ) -> SegmentRegression | None:
    """The value of ``column`` that regressed most with ``version`` against every other row.

    The reference is every row ``version`` did not serve (its predecessor, and the version
    before when the predecessor itself is recent and has few labels). Of the values that
    regressed significantly (see :func:`segment_deltas`), the one with the largest
    ``strength × explains`` is returned; None when none did, or the summary cannot tell.

    Parameters
    ----------
    summary : Summary
        Keyed by ``model_version`` and ``column``, with labels.
    column : str
        A segment column.
    version : str
        The release.

    Examples
    --------
    >>> worst_segment_regression(ctx.segment_summary("region"), "region", "1.6.0")  # doctest: +SKIP
    """
    th = thresholds
    ref = pl.when(pl.col("model_version") == version).then(pl.lit(version)).otherwise(pl.lit(REFERENCE))
    s = replace(summary, table=summary.table.with_columns(ref.alias("model_version")), confusion=None)
    sides = set(s.table.filter(pl.col("n") > 0)["model_version"].to_list()) if "n" in s.table.columns else set()
    if not {version, REFERENCE} <= sides:
        return None  # the release or the reference served no row: nothing to compare
    try:
        sd = segment_deltas(s, column, a=REFERENCE, b=version)
    except InsufficientDataError:
        return None
    best = None
    for row in sd.regressed:
        for m in row["regressed_on"]:
            v = row["metrics"][m]
            overall = sd.overall[m]["delta"]
            share = row["share_b"] or 0.0
            if overall >= th.flat_overall:
                explains = 1.0
            else:
                explains = float(np.clip(share * v["delta"] / overall, 0.0, 1.0))
            cand = SegmentRegression(column=column, value=row["value"], metric=m, gap=v["gap"],
                                     gap_ci=v["gap_ci"], q_value=v.get("q_value"), a=v["a"], b=v["b"],
                                     overall=overall, share=share, explains=explains,
                                     strength=ramp(-v["gap"], th.gap_lo, th.gap_hi))
            if best is None or cand.strength * cand.explains > best.strength * best.explains:
                best = cand
    return best
