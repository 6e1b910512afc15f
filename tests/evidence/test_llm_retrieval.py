"""Recurring queries across an index build: the overlap of what they retrieve."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from workbench.evidence.llm_retrieval import retrieval_overlap

T0 = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)


def _calls(seed: int, queries: int, broken: float, at_h: float = 48.0) -> pl.LazyFrame:
    """Each query asked every ~8 h for 72 h, retrieving its own 3 documents; after ``at_h`` hours a
    ``broken`` share of the queries retrieves other documents."""
    rng = np.random.default_rng(seed)
    rows = []
    bad = set(rng.choice(queries, size=int(broken * queries), replace=False).tolist())
    for q in range(queries):
        text = f"How do I reset the thing number {q}?" if q % 2 else f"how do i RESET the thing number {q}"
        for t in np.sort(rng.uniform(0, 72, 9)):
            ids = [f"kb-{q}-{k}" for k in range(3)]
            if t >= at_h and q in bad:
                ids = [f"kb-{q}-x{k}" for k in range(2)] + ids[:1]
            rows.append({"timestamp": T0 + dt.timedelta(hours=float(t)), "prompt_text": text, "retrieved_ids": ids})
    return pl.DataFrame(rows).lazy()


@pytest.mark.parametrize("seed,queries,broken", [(1, 300, 0.6), (2, 120, 0.4)])
def test_a_broken_build_changes_what_recurring_queries_retrieve(seed, queries, broken):
    r = retrieval_overlap(_calls(seed, queries, broken), T0 + dt.timedelta(hours=48))
    assert r is not None and r.queries >= 30 and r.control == pytest.approx(1.0)
    # a broken query keeps 1 of 3 ids: Jaccard 1/5; the others keep all
    assert r.after == pytest.approx(1 - broken * 0.8, abs=0.12)
    assert r.after_ci[0] <= r.after <= r.after_ci[1] and r.p_value < 1e-6
    assert "recurring queries" in r.describe()


def test_an_unbroken_build_keeps_overlap_and_too_few_queries_say_nothing():
    r = retrieval_overlap(_calls(3, 200, 0.0), T0 + dt.timedelta(hours=48))
    assert r.after == pytest.approx(1.0) and r.control == pytest.approx(1.0)
    assert retrieval_overlap(_calls(4, 10, 0.5), T0 + dt.timedelta(hours=48)) is None
    assert retrieval_overlap(_calls(4, 100, 0.5).drop("retrieved_ids"), T0) is None
