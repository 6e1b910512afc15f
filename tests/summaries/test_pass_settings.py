"""A pass's process-wide settings (row groups read ahead, BLAS threads) hold while a pass runs and
are put back when the last pass ends, passes on other threads included; a user's setting stays."""

from __future__ import annotations

import os
import threading

import numpy as np
import polars as pl
import pytest
from threadpoolctl import threadpool_info

from workbench.summaries import tally

VAR = "POLARS_ROW_GROUP_PREFETCH_SIZE"


def _blas_threads() -> list[int]:
    return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


@pytest.fixture
def frame(tmp_path):
    pl.DataFrame({"x": np.arange(10_000, dtype=np.float64)}).write_parquet(tmp_path / "a.parquet", row_group_size=1_000)
    return pl.scan_parquet(tmp_path / "a.parquet")


def test_settings_hold_during_a_pass_and_are_put_back(frame, monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    before = _blas_threads()
    seen = []
    for batch in tally.stream_batches(frame):
        seen.append((os.environ.get(VAR), _blas_threads()))
    assert seen and all(v == str(tally.PREFETCH_ROW_GROUPS) for v, _ in seen)
    if before:  # a BLAS library is loaded: it works on one thread during the pass
        assert all(t == [1] * len(before) for _, t in seen)
    assert VAR not in os.environ and _blas_threads() == before


def test_a_users_setting_is_left_alone(frame, monkeypatch):
    monkeypatch.setenv(VAR, "7")
    values = [os.environ.get(VAR) for _ in tally.stream_batches(frame)]
    assert values and set(values) == {"7"} and os.environ[VAR] == "7"


def test_overlapping_passes_on_threads_put_the_settings_back_once(frame, monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    before = _blas_threads()
    first = tally.stream_batches(frame)
    next(first)  # a pass in progress
    inside, done = threading.Event(), threading.Event()

    def other():
        for _ in tally.map_batches(lambda b: b.height, tally.stream_batches(frame)):
            inside.set()
        done.set()

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert inside.is_set() and done.is_set()
    assert os.environ.get(VAR) == str(tally.PREFETCH_ROW_GROUPS)  # the first pass still runs
    list(first)
    assert VAR not in os.environ and _blas_threads() == before
