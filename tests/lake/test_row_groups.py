"""Bounded samples of a Parquet lake's rows chosen from the footers (workbench.lake.row_groups)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.lake.row_groups import RowGroup, parquet_row_groups, pick_slices, sample_frame
from workbench.synthetic import generate_lake

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def test_footer_row_counts_and_time_statistics_match_the_data(tmp_path):
    n = 1_000
    df = pl.DataFrame({"request_id": [f"r{i}" for i in range(n)],
                       "timestamp": [T0 + dt.timedelta(minutes=7 * i) for i in range(n)],
                       "x": np.arange(n, dtype=float), "tags": [[1.0, 2.0]] * n})
    p = tmp_path / "a.parquet"
    df.write_parquet(p, row_group_size=300, statistics=True)
    groups = parquet_row_groups([p, p], "timestamp", "us")
    assert [g.rows for g in groups] == [300, 300, 300, 100] * 2
    assert [g.offset for g in groups][:5] == [0, 300, 600, 900, 1000]
    for g in groups[:4]:
        part = df.slice(g.offset, g.rows)["timestamp"]
        assert (g.t_min, g.t_max) == (part.min(), part.max())


def test_footer_without_time_statistics_gives_none(tmp_path):
    p = tmp_path / "a.parquet"
    pl.DataFrame({"timestamp": [T0] * 10}).write_parquet(p, statistics=False)
    assert parquet_row_groups([p], "timestamp", "us") is None


def _groups(k: int, rows: int) -> list[RowGroup]:
    return [RowGroup(None, i, i * rows, rows, T0 + dt.timedelta(hours=i), T0 + dt.timedelta(hours=i, minutes=59))
            for i in range(k)]


def test_slices_are_bounded_spread_and_inside_their_row_group():
    groups = _groups(50, 1_000)
    start, end = T0 + dt.timedelta(hours=10), T0 + dt.timedelta(hours=40)
    picked, over = pick_slices(groups, start, end, 4_000, slices=8)
    assert [g.index for g in over] == list(range(10, 40))
    assert sum(n for _, n in picked) == 4_000 and len(picked) == 8
    for o, n in picked:
        assert any(g.offset <= o and o + n <= g.offset + g.rows for g in over)
    firsts = [o // 1_000 for o, _ in picked]
    assert firsts[0] <= 12 and firsts[-1] >= 37  # from the window's start to its end
    assert pick_slices(list(reversed(groups)), start, end, 4_000, slices=8)[0] == picked  # a stable rule


def test_a_window_within_the_budget_is_read_whole():
    groups = _groups(10, 1_000)
    picked, over = pick_slices(groups, T0, T0 + dt.timedelta(hours=3), 5_000)
    assert picked == [(0, 1_000), (1_000, 1_000), (2_000, 1_000)] and len(over) == 3


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("rg") / "lake"
    generate_lake(root, cause="none", rows=20_000, seed=4, days=7)
    return root


def test_sample_frame_reads_the_rows_at_the_chosen_offsets(lake_root):
    lake = wb.open_lake(lake_root, mask_key="k")
    start, end = lake.time_range()
    cols = ["request_id", "timestamp", "embedding"]
    s = sample_frame(lake, cols, start, end, 2_000)
    assert s is not None and s.rows == 2_000 and s.window_rows == lake.predictions(["request_id"]).collect().height
    full = lake.predictions(cols).collect()
    idx = np.concatenate([np.arange(o, o + n) for o, n in s.runs])
    assert s.frame.collect().equals(full[idx])
    assert sample_frame(lake, cols, start, end, 10 ** 9) is None  # everything fits: read the window whole


def test_text_lakes_are_not_sampled_by_row_group(tmp_path):
    root = tmp_path / "csv"
    generate_lake(root, cause="none", rows=5_000, seed=4, days=7, fmt="csv")
    lake = wb.open_lake(root, mask_key="k")
    start, end = lake.time_range()
    assert sample_frame(lake, ["request_id", "timestamp"], start, end, 100) is None
