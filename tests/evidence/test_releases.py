"""Releases read from the deployment lineage: which versions count as the window's, against what."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

import workbench as wb
from workbench.evidence import detect_releases
from workbench.summaries import fit_lake_binning, summarize

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)  # the hand-written lake's first row


def _sides(lake, start):
    b = fit_lake_binning(lake, end=start)
    full = summarize(lake, b, bucket="1h")
    base = dataclasses.replace(full.where(pl.col("bucket") < start), start=T0, end=start)
    win = dataclasses.replace(full.where(pl.col("bucket") >= start), start=start, end=T0 + dt.timedelta(days=2))
    return base, win, full


@pytest.mark.parametrize(("window_h", "lookback_h", "found"), [(24, 12, True), (24, 3, False), (21, 2, True)])
def test_a_version_first_deployed_within_the_lookback_is_a_release(lake_dir, window_h, lookback_h, found):
    # 1.1.0's canary started at +20 h and was promoted at +26 h (tests/handmade_lake.py)
    lake = wb.open_lake(lake_dir)
    base, win, full = _sides(lake, T0 + dt.timedelta(hours=window_h))
    rel = detect_releases(base, win, lake.lineage, history=full, lookback=dt.timedelta(hours=lookback_h))
    assert [r.version for r in rel] == (["1.1.0"] if found else [])
    if found:
        r = rel[0]
        assert r.previous == "1.0.0"
        assert r.first_deployed == T0 + dt.timedelta(hours=20)
        assert r.same_artifact is False and r.same_training is False and r.new_commit is True
        assert r.rows == win.where(pl.col("model_version") == "1.1.0").rows > 0
        assert [s["route"] for s in r.lineage][:1] == ["canary"]


def test_a_version_without_deployment_record_is_dated_by_its_first_logged_hour(lake_dir):
    (lake_dir / "lineage" / "deployments.csv").write_text(
        "model_version,deployed_at,route,traffic_pct\n1.0.0,2026-02-20T09:00:00Z,primary,100\n")
    lake = wb.open_lake(lake_dir)
    base, win, full = _sides(lake, T0 + dt.timedelta(hours=20))
    (r,) = detect_releases(base, win, lake.lineage, history=full)
    assert r.version == "1.1.0" and r.info is None and r.same_artifact is None
    assert r.first_deployed == T0 + dt.timedelta(hours=20)  # its first canary row (i % 10 == 0 at +20 h)
    # once the baseline has served it, an undated version is not this window's release
    base, win, full = _sides(lake, T0 + dt.timedelta(hours=24))
    assert detect_releases(base, win, lake.lineage, history=full) == []
