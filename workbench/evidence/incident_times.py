"""An incident's times from the data: onset, detection, mitigation, time to detect (MTTD) and to
mitigate (MTTR).

Pure functions over results the caller already has: the onset (from triage), the burn-rate
alerts (:func:`workbench.evidence.compute_slis`) and the lake's deployments table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from workbench.results import Result, iso

__all__ = ["IncidentTimeRules", "IncidentTimes", "detection_time", "incident_times", "mitigation_time"]


@dataclass(frozen=True)
class IncidentTimeRules:
    """What counts as detecting and as mitigating an incident."""

    #: A burn-rate alert fired up to this long *before* the estimated onset still detects the
    #: incident: the onset is estimated per hour, so an alert in the onset's hour may precede it.
    alert_lead: dt.timedelta = dt.timedelta(hours=1)
    #: The route whose switch to another version counts as mitigation.
    primary_route: str = "primary"


@dataclass(frozen=True, repr=False)
class IncidentTimes(Result):
    """Onset, detection and mitigation times (UTC), and the durations between them (None: not seen)."""

    onset: dt.datetime | None
    detection: dt.datetime | None
    detection_how: str | None  # e.g. "latency_p95 page (burn-rate alert)"
    mitigation: dt.datetime | None
    mttd: dt.timedelta | None  # detection - onset
    mttr: dt.timedelta | None  # mitigation - onset

    def _summary(self) -> str:
        def h(td):
            return "n/a" if td is None else f"{td.total_seconds() / 3600:.1f} h"
        return f"onset {iso(self.onset) or 'unknown'}, MTTD {h(self.mttd)}, MTTR {h(self.mttr)}"


def detection_time(alerts: list[dict], onset: dt.datetime | None,
                   rules: IncidentTimeRules = IncidentTimeRules()) -> tuple[dt.datetime | None, str | None]:
    """The first burn-rate alert (``{"at", "sli", "level"}``) no earlier than ``onset -
    rules.alert_lead`` (any alert when the onset is unknown), and how it fired."""
    hits = sorted((a for a in alerts if onset is None or a["at"] >= onset - rules.alert_lead), key=lambda a: a["at"])
    if not hits:
        return None, None
    return hits[0]["at"], f"{hits[0]['sli']} {hits[0]['level']} (burn-rate alert)"


def mitigation_time(deployments: pl.DataFrame, culprit_version: str | None, after: dt.datetime,
                    rules: IncidentTimeRules = IncidentTimeRules()) -> dt.datetime | None:
    """When the culprit version stopped serving the primary route: the first deployment after
    ``after`` of another version on it with traffic. None when there is no culprit version."""
    if not culprit_version or deployments.is_empty():
        return None
    later = deployments.sort("deployed_at").filter(
        (pl.col("deployed_at") > after) & (pl.col("model_version") != culprit_version)
        & (pl.col("route") == rules.primary_route) & (pl.col("traffic_pct") > 0))
    return later["deployed_at"][0] if later.height else None


def incident_times(*, onset: dt.datetime | None, alerts: list[dict], deployments: pl.DataFrame,
                   culprit_version: str | None, window_start: dt.datetime,
                   rules: IncidentTimeRules = IncidentTimeRules()) -> IncidentTimes:
    """Detection (:func:`detection_time`), mitigation (:func:`mitigation_time` after the onset, or
    the window start when the onset is unknown), MTTD and MTTR from the onset."""
    detection, how = detection_time(alerts, onset, rules)
    mitigation = mitigation_time(deployments, culprit_version, onset or window_start, rules)
    return IncidentTimes(onset=onset, detection=detection, detection_how=how, mitigation=mitigation,
                         mttd=(detection - onset) if detection and onset else None,
                         mttr=(mitigation - onset) if mitigation and onset else None)
