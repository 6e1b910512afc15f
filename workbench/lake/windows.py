"""Default analysis windows: the one place that decides which hours a triage, a report or a widget looks at
when the analyst leaves the window (or the baseline) out.

- window: from ``since`` (default: the start of the last quarter of the data, :data:`WINDOW_SHARE`) to
  ``until`` (default: just after the last prediction);
- baseline: the :data:`BASELINE_DAYS` days before the window (clipped to the start of the data), ending where
  the window starts, unless ``baseline_since`` / ``baseline_until`` are given.

Times may be given as ISO-8601 text, dates or datetimes; they are read as UTC (naive = UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workbench.lake.timestamps import parse_time

__all__ = ["BASELINE_DAYS", "WINDOW_SHARE", "Windows", "default_windows", "floor_hour"]

#: The default baseline covers this many days before the window: a week holds every hour of the day and every
#: day of the week once, so daily and weekly cycles weigh the same on both sides.
BASELINE_DAYS = 7
#: Without ``since``, the window is this last share of the data's time range.
WINDOW_SHARE = 0.25
_TICK = dt.timedelta(microseconds=1)  # `until` is exclusive: just after the last prediction


@dataclass(frozen=True)
class Windows:
    """The analysed window ``[start, end)`` and its baseline ``[baseline_start, baseline_end)``, aware UTC."""

    start: dt.datetime
    end: dt.datetime
    baseline_start: dt.datetime
    baseline_end: dt.datetime

    def __iter__(self):  # start, end, b_start, b_end = default_windows(...)
        return iter((self.start, self.end, self.baseline_start, self.baseline_end))


def floor_hour(t: dt.datetime) -> dt.datetime:
    """The start of the hour bucket holding ``t`` (the summaries' hourly bucket)."""
    return t.replace(minute=0, second=0, microsecond=0)


def default_windows(first: dt.datetime, last: dt.datetime, *, since=None, until=None, baseline_since=None,
                    baseline_until=None, hourly: bool = False) -> Windows:
    """Resolve a window and baseline over data spanning ``first`` .. ``last`` (``Lake.time_range()``).

    Empty strings count as not given (template parameters default to ""). With ``hourly=True`` the default window
    and baseline start on hour boundaries (what hourly summaries can show); given times are never moved.

    >>> import datetime as dt
    >>> t0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    >>> w = default_windows(t0, t0 + dt.timedelta(days=28))
    >>> w.start.date(), w.baseline_start.date(), w.baseline_end == w.start
    (datetime.date(2026, 3, 22), datetime.date(2026, 3, 15), True)
    """
    given = lambda v: v is not None and v != ""  # noqa: E731
    align = floor_hour if hourly else (lambda t: t)
    lo = parse_time(first, what="first")
    hi = parse_time(last, what="last")
    start = parse_time(since, what="since") if given(since) else align(lo + (hi - lo) * (1 - WINDOW_SHARE))
    end = parse_time(until, what="until") if given(until) else hi + _TICK
    b_end = parse_time(baseline_until, what="baseline_until") if given(baseline_until) else start
    b_start = parse_time(baseline_since, what="baseline_since") if given(baseline_since) else \
        max(align(lo), b_end - dt.timedelta(days=BASELINE_DAYS))
    return Windows(start, end, b_start, b_end)
