"""The statistical choices triage makes across hypotheses, named (see docs/triage.md).

Each hypothesis keeps its own choices in a frozen ``*Thresholds`` dataclass beside it; the ones
here are shared: how the evidence a :class:`~workbench.rca.context.Context` gathers is read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from workbench.evidence.onset import ONSET_THRESHOLDS, OnsetThresholds
from workbench.evidence.releases import RELEASE_LOOKBACK
from workbench.evidence.segment_regression import SEGMENT_REGRESSION_THRESHOLDS, SegmentRegressionThresholds
from workbench.evidence.stats import ALPHA

__all__ = ["RCA_THRESHOLDS", "RcaThresholds"]


@dataclass(frozen=True)
class RcaThresholds:
    """Cross-cutting choices of triage (one instance per :class:`Context`)."""

    #: how much earlier than the baseline lineage events are read (a change landing the day before)
    timeline_lead: dt.timedelta = dt.timedelta(days=1)
    #: releases: versions first deployed this long before the window still count
    release_lookback: dt.timedelta = RELEASE_LOOKBACK
    #: an input's onset is trusted (and the nature of its change re-read from the rows after it)
    #: below this p-value; the package's default alpha
    onset_alpha: float = ALPHA
    #: rows after the onset needed to re-read the nature of a change there
    nature_min_rows: int = 100
    #: a lineage event (schema change, dependency bump) is "near" an onset from this many hours
    #: before its interval (pipelines land before the data shows it) ...
    near_before: dt.timedelta = dt.timedelta(hours=6)
    #: ... to this many after (an event recorded late, or the interval's last bucket)
    near_after: dt.timedelta = dt.timedelta(hours=3)
    #: events tied to a change that fall this long after its data onset still date it
    #: (the first whole hour after them is when the change has surely landed)
    settle_slack: dt.timedelta = dt.timedelta(hours=3)
    #: versions first deployed from this long before an input change's onset hour on count as
    #: rolled out with it (left out when measuring what the inputs alone cost)
    rolled_out_with: dt.timedelta = dt.timedelta(hours=3)
    #: input-change strength: PSI from "moved" (0.1, the industry's watch level) to "shifted" (0.4)
    psi_lo: float = 0.1
    psi_hi: float = 0.4
    #: Jensen-Shannon distance ramp
    js_lo: float = 0.05
    js_hi: float = 0.2
    #: null-share jump ramp (2 to 10 points)
    null_lo: float = 0.02
    null_hi: float = 0.1
    #: share of values never seen in the baseline (2 % to 10 %)
    unseen_lo: float = 0.02
    unseen_hi: float = 0.1
    #: embeddings sampled per side (by stable key) for the embedding drift test
    embedding_sample: int = 600
    #: fewest sampled vectors per side to test embedding drift at all
    embedding_min: int = 50
    #: permutations of the embedding MMD test
    embedding_permutations: int = 200
    #: rows read per sampled vector, at most (from Parquet row groups spread over the window;
    #: fewer rows than this in the window: all of them)
    embedding_read_per_vector: int = 100
    #: rows of a side read for the PII scan, at most (row groups spread over the window; when
    #: they show personal data the side is scanned whole, for exact counts and the onset)
    pii_sample_rows: int = 200_000
    #: segment columns join the main summary pass's keys when the first ``segment_ride_rows``
    #: rows of baseline + window hold at most ``segment_ride_groups`` combinations of their values
    segment_ride_rows: int = 20_000
    segment_ride_groups: int = 512
    #: embedding strength: centroid shift in baseline spreads (0.1 to 0.4) ...
    centroid_lo: float = 0.1
    centroid_hi: float = 0.4
    #: ... or |log| of the norm ratio (5 % to 30 % change of the norms)
    norm_lo: float = 0.05
    norm_hi: float = 0.3
    #: labelled rows per side for permutation importance (fewer: too noisy to report)
    importance_min_rows: int = 100
    #: labelled rows per side read for it, at most (a stable sample by request id; the importance
    #: itself runs on 2,000 of them, and the categories and mean embedding it encodes with come
    #: from all of these)
    importance_sample_rows: int = 200_000
    onset: OnsetThresholds = field(default=ONSET_THRESHOLDS)
    segments: SegmentRegressionThresholds = field(default=SEGMENT_REGRESSION_THRESHOLDS)


RCA_THRESHOLDS = RcaThresholds()
