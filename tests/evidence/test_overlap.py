"""Hours both versions served: one definition (evidence/overlap), checked against the raw rows."""

from __future__ import annotations

import polars as pl

import workbench as wb
from workbench.evidence import on_shared_hours, shared_hours
from workbench.evidence.overlap import floor_hour
from workbench.summaries import fit_lake_binning, summarize

from handmade_lake import predictions_frame


def test_shared_hours_are_the_hours_both_versions_logged_rows(lake_dir):
    lake = wb.open_lake(lake_dir)
    s = summarize(lake, fit_lake_binning(lake), bucket="1h")
    raw = predictions_frame().with_columns(pl.col("timestamp").dt.truncate("1h").alias("h"))
    hours = lambda v: set(raw.filter(pl.col("model_version") == v)["h"].to_list())  # noqa: E731
    expected = sorted(hours("1.0.0") & hours("1.1.0"))
    got = shared_hours(s, "1.0.0", "1.1.0")
    assert [t.replace(tzinfo=None) for t in got] == expected
    assert 0 < len(got) < s.table["bucket"].n_unique()  # some hours, not all: the test can fail both ways
    assert shared_hours(s, "1.1.0", "1.0.0") == got  # symmetric
    assert shared_hours(s, "1.0.0", "9.9.9") == [] and on_shared_hours(s, "1.0.0", "9.9.9") is None
    both = on_shared_hours(s, "1.0.0", "1.1.0")
    assert set(both.table["bucket"].to_list()) == set(got)
    assert set(both.table["model_version"].to_list()) == {"1.0.0", "1.1.0"}


def test_floor_hour_keeps_the_zone():
    import datetime as dt

    t = dt.datetime(2026, 3, 1, 13, 59, 59, 999, tzinfo=dt.timezone.utc)
    assert floor_hour(t) == dt.datetime(2026, 3, 1, 13, tzinfo=dt.timezone.utc)
