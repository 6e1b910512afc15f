"""The context leaves a check out only when the evidence says there is not enough data
(InsufficientDataError); any other error is a bug and reaches the engine, which reports it."""

from __future__ import annotations

import datetime as dt

import pytest

import workbench as wb
import workbench.evidence as ev
from workbench.exceptions import InsufficientDataError
from workbench.rca import Context

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)  # the hand-written lake's first row


@pytest.fixture
def ctx(lake_dir):
    lake = wb.open_lake(lake_dir)
    return Context(lake, start=T0 + dt.timedelta(hours=24), end=T0 + dt.timedelta(days=2),
                   baseline_start=T0, baseline_end=T0 + dt.timedelta(hours=24))


def test_not_enough_data_leaves_the_comparison_out(ctx, monkeypatch):
    (r,) = ctx.releases
    assert ctx.compare(r) is not None  # the real comparison runs

    def thin(*a, **k):
        raise InsufficientDataError("compare_versions: no rows of version '1.1.0' in the summary")

    monkeypatch.setattr(ev, "compare_versions", thin)
    monkeypatch.setattr(ev, "detect_output_mismapping", thin)
    ctx.__dict__.pop("_cmp", None)
    assert ctx.compare(r) is None and ctx.after_inputs(r) is None and ctx.mismapping(r) is None


@pytest.mark.parametrize("error", [ValueError, KeyError, IndexError])
def test_a_plain_error_is_a_bug_and_is_not_swallowed(ctx, monkeypatch, error):
    (r,) = ctx.releases

    def buggy(*a, **k):
        raise error("a bug inside a detector")

    monkeypatch.setattr(ev, "compare_versions", buggy)
    monkeypatch.setattr(ev, "detect_output_mismapping", buggy)
    with pytest.raises(error):
        ctx.compare(r)
    with pytest.raises(error):
        ctx.mismapping(r)


def test_a_hypothesis_hitting_a_bug_is_reported_not_raised(lake_dir, monkeypatch):
    def buggy(*a, **k):
        raise KeyError("bug")

    monkeypatch.setattr(ev, "compare_versions", buggy)
    with pytest.warns(wb.rca.HypothesisWarning):
        f = wb.triage(lake_dir, since=T0 + dt.timedelta(hours=24), plugins=False)
    failed = {e["hypothesis"].rsplit(".", 1)[-1] for e in f.meta["errors"]}
    assert "LatencyRegression" in failed and f.incomplete  # the verdict says it is incomplete
