"""Choosing the canary and the primary, and the hours both served, from a window's summary."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import workbench as wb
from workbench.evidence.canary import CanaryPair, canary_verdict, choose_canary, shared_buckets
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


@pytest.fixture(scope="module", params=[(77, 15_000), (91, 12_000)])
def canary_window(request, tmp_path_factory):
    seed, rows = request.param
    root = tmp_path_factory.mktemp("canary") / "l"
    truth = generate_lake(root, cause="latency_regression", variant=1, seed=seed, rows=rows)
    lake = wb.open_lake(root, mask_key="k")
    start = truth.onset - dt.timedelta(hours=1)
    s = summarize(lake, fit_lake_binning(lake, end=truth.onset), start=start)
    raw = lake.predictions().filter(pl.col("timestamp") >= start).collect()
    return truth, s, raw


def test_default_choice_is_the_version_on_the_other_route(canary_window):
    truth, s, raw = canary_window
    pair = choose_canary(s)
    assert pair.is_pair and pair.canary == truth.subject["model_version"]
    on_primary = raw.filter(pl.col("route") == "primary")["model_version"].value_counts(sort=True)
    assert pair.primary == on_primary["model_version"][0] != pair.canary
    assert pair.versions == tuple(sorted(raw["model_version"].unique().to_list()))
    assert pair.routes == tuple(sorted(raw["route"].unique().to_list()))


def test_shared_buckets_are_the_hours_both_served(canary_window):
    _, s, raw = canary_window
    pair = choose_canary(s)
    hours = {v: set(raw.filter(pl.col("model_version") == v)["timestamp"].dt.truncate("1h").dt.replace_time_zone(None)
                    .to_list()) for v in (pair.canary, pair.primary)}
    got = {b.replace(tzinfo=None) for b in pair.shared}
    assert got == hours[pair.canary] & hours[pair.primary] and len(got) > 0
    assert shared_buckets(s, pair.canary, pair.primary) == pair.shared == tuple(sorted(pair.shared))


def test_named_versions_win_and_one_version_is_no_pair(canary_window):
    truth, s, _ = canary_window
    v = truth.subject["model_version"]
    pair = choose_canary(s, canary=v, primary=v)
    assert not pair.is_pair and pair.shared == () and "no pair" in repr(pair)
    other = choose_canary(s, primary=v)
    assert other.primary == v and other.canary != v


def test_verdict():
    class R:
        def __init__(self, worse=(), mismapped=False):
            self.worse, self.mismapped = list(worse), mismapped

    assert canary_verdict(R(), R()) == "go"
    assert canary_verdict(R(worse=[{"metric": "latency_p95_ms"}]), R()) == "no-go"
    assert canary_verdict(R(), R(mismapped=True)) == "no-go"


def test_pair_repr_does_not_compute():
    p = CanaryPair(canary="b", primary="a", versions=("a", "b"), routes=("canary", "primary"), shared=())
    assert repr(p) == "CanaryPair(canary b vs primary a, 0 shared buckets)"
