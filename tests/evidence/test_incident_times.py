"""Detection, mitigation, MTTD and MTTR from alerts and deployments."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.evidence.incident_times import (
    IncidentTimeRules, IncidentTimes, detection_time, incident_times, mitigation_time,
)

T0 = dt.datetime(2026, 3, 12, 13, 2, tzinfo=dt.timezone.utc)


def _deploys(rows):
    return pl.DataFrame(rows, schema={"deployed_at": pl.Datetime("us", "UTC"), "model_version": pl.String,
                                      "route": pl.String, "traffic_pct": pl.Float64}, orient="row")


def _alert(hours, sli="latency_p95", level="page"):
    return {"at": T0 + dt.timedelta(hours=hours), "sli": sli, "level": level}


@pytest.mark.parametrize("lag", [0.5, 3.25, 17.0])
def test_mttd_and_mttr(lag):
    deploys = _deploys([(T0 - dt.timedelta(days=2), "v1", "primary", 100.0),
                        (T0 - dt.timedelta(hours=1), "v2", "primary", 100.0),
                        (T0 + dt.timedelta(hours=lag + 1), "v2", "canary", 5.0),  # the culprit again: no
                        (T0 + dt.timedelta(hours=lag + 2), "v3", "canary", 5.0),  # another route: no
                        (T0 + dt.timedelta(hours=lag + 3), "v1", "primary", 0.0),  # no traffic: no
                        (T0 + dt.timedelta(hours=lag + 4), "v1", "primary", 100.0)])
    alerts = [_alert(lag + 2, "fallback_rate", "ticket"), _alert(lag)]
    t = incident_times(onset=T0, alerts=alerts, deployments=deploys, culprit_version="v2", window_start=T0)
    assert t.detection == T0 + dt.timedelta(hours=lag) and t.detection_how == "latency_p95 page (burn-rate alert)"
    assert t.mttd == dt.timedelta(hours=lag) and t.mttr == dt.timedelta(hours=lag + 4)
    assert t.mitigation == T0 + dt.timedelta(hours=lag + 4)
    assert "MTTD" in repr(t) and IncidentTimes.from_dict(t.to_dict()) == t


def test_alert_lead_is_a_named_rule():
    early = [_alert(-0.75)]
    assert detection_time(early, T0)[0] == early[0]["at"]  # within the default hour before the onset
    assert detection_time(early, T0, IncidentTimeRules(alert_lead=dt.timedelta(minutes=30))) == (None, None)
    assert detection_time([_alert(-2)], T0) == (None, None)
    assert detection_time([_alert(-2)], None)[0] == _alert(-2)["at"]  # onset unknown: any alert


def test_nothing_seen_gives_none():
    empty = _deploys([])
    t = incident_times(onset=None, alerts=[], deployments=empty, culprit_version=None, window_start=T0)
    assert (t.detection, t.mitigation, t.mttd, t.mttr) == (None, None, None, None)
    assert mitigation_time(_deploys([(T0, "v1", "primary", 100.0)]), None, T0) is None
