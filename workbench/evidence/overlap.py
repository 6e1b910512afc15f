"""Hours both versions served: the buckets where two versions have rows side by side.

Comparing two versions on these buckets only keeps time of day, population and upstream state
the same on both sides, so a difference between them is the versions' own (a canary against
its primary, a release against its predecessor).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.lake.windows import floor_hour
from workbench.summaries import Summary

__all__ = ["floor_hour", "shared_hours", "on_shared_hours"]


def shared_hours(summary: Summary, a: str, b: str, *, by: str = "model_version") -> list[dt.datetime]:
    """Buckets of ``summary`` in which both ``a`` and ``b`` (values of the key ``by``) have rows.

    Parameters
    ----------
    summary : Summary
        Any summary keyed by ``bucket`` and ``by`` (hourly for triage, any bucket size works).
    a, b : str
        The two values of ``by`` (two model versions).
    by : str, default "model_version"

    Returns
    -------
    list of datetime
        The bucket starts, ascending; empty when the two never served in the same bucket.

    Examples
    --------
    >>> both = shared_hours(summary, "1.4.0", "1.5.0")          # doctest: +SKIP
    >>> compare_versions(on_shared_hours(summary, "1.4.0", "1.5.0"), "1.4.0", "1.5.0")  # doctest: +SKIP
    """
    t = summary.table
    ha = set(t.filter(pl.col(by) == a)["bucket"].to_list())
    hb = set(t.filter(pl.col(by) == b)["bucket"].to_list())
    return sorted(ha & hb)


def on_shared_hours(summary: Summary, a: str, b: str, *, by: str = "model_version") -> Summary | None:
    """``summary`` restricted to the rows of ``a`` and ``b`` in :func:`shared_hours` (None: no such hour)."""
    both = shared_hours(summary, a, b, by=by)
    if not both:
        return None
    return summary.where(pl.col("bucket").is_in(both) & pl.col(by).is_in([a, b]))
