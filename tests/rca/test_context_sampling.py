"""Embedding drift and the PII scan on bounded row samples give the findings of whole windows."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

import workbench as wb
from workbench.rca.context import Context
from workbench.rca.thresholds import RCA_THRESHOLDS
from workbench.synthetic import generate_lake

SAMPLED = replace(RCA_THRESHOLDS, pii_sample_rows=3_000, embedding_read_per_vector=5)


def _contexts(root, cause, variant):
    truth = generate_lake(root, cause=cause, variant=variant, rows=30_000, seed=3)
    lake = wb.open_lake(root, mask_key="k")
    start = truth.onset - dt.timedelta(hours=12)
    kw = dict(start=start, end=truth.end, baseline_start=start - dt.timedelta(days=7), baseline_end=start)
    return Context(lake, thresholds=RCA_THRESHOLDS, **kw), Context(lake, thresholds=SAMPLED, **kw)


def test_a_leak_seen_in_the_sample_is_counted_on_every_row(tmp_path):
    whole, sampled = _contexts(tmp_path / "pii", "pii_leak", 0)
    assert whole.pii[1].flagged and sampled.pii[1].flagged == whole.pii[1].flagged
    assert sampled.pii[1].hourly == whole.pii[1].hourly and sampled.pii[0].columns == whole.pii[0].columns
    assert not [n for n in sampled.notes if "PII scan read from" in n]
    assert not [n for n in whole.notes if "read from" in n]


@pytest.mark.parametrize("variant", [0, 1])
def test_embedding_drift_on_sampled_rows(tmp_path, variant):
    whole, sampled = _contexts(tmp_path / "emb", "third_party_change", variant)
    a, b = whole.embedding_change, sampled.embedding_change
    assert (a is None) == (b is None)
    if a is not None:
        assert b.onset.at == a.onset.at and abs(a.strength - b.strength) <= 0.2
        assert b.drift.n_baseline <= 3_000 and b.drift.n_window <= 3_000
    notes = [n for n in sampled.notes if n.startswith("embedding read from")]
    assert len(notes) == 2 and "of the baseline" in notes[0] and "of the window" in notes[1]
    # nothing flagged in the sample: the PII scan's counts are the sample's, and said so
    assert not sampled.pii[1].flagged and sampled.pii[1].columns[0]["rows"] < whole.pii[1].columns[0]["rows"]
    assert [n for n in sampled.notes if n.startswith("the PII scan read from")]


def test_segments_riding_on_the_main_pass_give_the_separate_pass_findings(tmp_path):
    truth = generate_lake(tmp_path / "bias", cause="bias_regression", variant=0, rows=30_000, seed=3)
    lake = wb.open_lake(tmp_path / "bias", mask_key="k")
    start = truth.onset - dt.timedelta(hours=12)
    kw = dict(start=start, end=truth.end, baseline_start=start - dt.timedelta(days=7), baseline_end=start)
    ride = Context(lake, thresholds=RCA_THRESHOLDS, **kw)
    apart = Context(lake, thresholds=replace(RCA_THRESHOLDS, segment_ride_groups=0), **kw)
    assert ride._by_segment is not None and apart._by_segment is None
    assert ride.full.keys == apart.full.keys == ("bucket", "model_version", "route")
    assert ride.full.rows == apart.full.rows and ride.drift.drifted == apart.drift.drifted
    found = 0
    for r in ride.releases:
        a, b = ride.segment_regression(r), apart.segment_regression(r)
        assert (a is None) == (b is None)
        if a is not None:
            found += 1
            assert (a.column, a.value) == (b.column, b.value)
            assert a.strength == pytest.approx(b.strength, abs=1e-9) and a.explains == pytest.approx(b.explains, abs=1e-9)
    assert found
