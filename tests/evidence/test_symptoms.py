"""The symptom table: one row per SLI and quality measure, in the findings document's shape."""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.evidence.symptoms import QUALITY_SYMPTOMS, Symptom, capture_rates

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def test_rows_carry_an_interval_only_for_quality_measures():
    assert "interval" not in Symptom("latency_p95_ms", 40.0, 90.0, 60.0, True).as_row()
    for m in QUALITY_SYMPTOMS:
        row = Symptom(m, 0.8, 0.7, None, True, (0.68, 0.72)).as_row()
        assert row["interval"] == (0.68, 0.72)
        assert list(row) == ["sli", "baseline", "current", "slo", "breached", "interval"]  # document order
        assert "interval" in Symptom(m, 0.8, 0.8, None, False).as_row()  # present, null, when not measured


def test_capture_rates_split_at_the_baseline_end_and_window_start():
    hours = [T0 + dt.timedelta(hours=h) for h in range(6)]
    cap = pl.DataFrame({"bucket": hours, "requests": [100.0] * 6, "n": [99.0, 98.0, 50.0, 70.0, 80.0, 90.0]})
    b, w = capture_rates(cap, baseline_end=T0 + dt.timedelta(hours=2), start=T0 + dt.timedelta(hours=3, minutes=20))
    assert b == (99 + 98) / 200  # hours 0-1
    assert w == (70 + 80 + 90) / 300  # from the window's first hour bucket (3) on; hour 2 is in neither
    assert capture_rates(None, baseline_end=T0, start=T0) == (None, None)
