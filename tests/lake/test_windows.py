"""Default windows: one definition shared by triage, reports and widgets."""

from __future__ import annotations

import datetime as dt

import pytest

from workbench.exceptions import TimestampError
from workbench.lake.windows import BASELINE_DAYS, default_windows

UTC = dt.timezone.utc


@pytest.mark.parametrize("days,minute", [(28, 0), (9, 37), (3, 59)])
def test_defaults_last_quarter_and_a_week_before(days, minute):
    lo = dt.datetime(2026, 5, 4, 6, minute, tzinfo=UTC)
    hi = lo + dt.timedelta(days=days, minutes=13)
    w = default_windows(lo, hi)
    assert w.start == lo + (hi - lo) * 0.75 and w.end > hi and w.end - hi < dt.timedelta(milliseconds=1)
    assert w.baseline_end == w.start
    assert w.baseline_start == max(lo, w.start - dt.timedelta(days=BASELINE_DAYS))
    h = default_windows(lo, hi, hourly=True)
    for t in (h.start, h.baseline_start):
        assert (t.minute, t.second, t.microsecond) == (0, 0, 0)
    assert h.start <= w.start < h.start + dt.timedelta(hours=1) and h.end == w.end


def test_given_times_win_and_are_never_moved():
    lo = dt.datetime(2026, 1, 1, tzinfo=UTC)
    hi = lo + dt.timedelta(days=30)
    w = default_windows(lo, hi, since="2026-01-20T10:17Z", until=dt.date(2026, 1, 25), baseline_since="",
                        hourly=True)
    assert w.start == dt.datetime(2026, 1, 20, 10, 17, tzinfo=UTC)
    assert w.end == dt.datetime(2026, 1, 25, tzinfo=UTC)
    assert w.baseline_end == w.start and w.baseline_start == w.start - dt.timedelta(days=7)
    b = default_windows(lo, hi, since="2026-01-20", baseline_since="2026-01-02", baseline_until="2026-01-09")
    assert (b.baseline_start.day, b.baseline_end.day) == (2, 9)
    start, end, b_start, b_end = b
    assert (start, b_end) == (b.start, b.baseline_end)


def test_bad_time_names_the_parameter():
    lo = dt.datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(TimestampError, match="baseline_since"):
        default_windows(lo, lo + dt.timedelta(days=3), baseline_since="last tuesday")
