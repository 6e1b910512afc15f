"""Every detector reads its thresholds from a frozen dataclass of named, documented fields; the
per-call options override those fields and nothing else."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest

from workbench.evidence import compare_versions, detect_embedding_drift, segment_deltas, worst_slices
from workbench.evidence.embedding import EmbeddingThresholds
from workbench.evidence.pii import PIIThresholds, scan_pii
from workbench.evidence.segments import SegmentThresholds, SliceThresholds
from workbench.evidence.slis import PAGE_BURN, TICKET_BURN, SLIThresholds
from workbench.evidence.stats import ALPHA, overridden
from workbench.evidence.versions import MismappingThresholds, VersionThresholds
from workbench.summaries import summarize_frame
from workbench.summaries.binning import fit_binning

ALL = [SegmentThresholds, SliceThresholds, VersionThresholds, MismappingThresholds, EmbeddingThresholds,
       SLIThresholds, PIIThresholds]


@pytest.mark.parametrize("cls", ALL)
def test_thresholds_are_frozen_named_numbers(cls):
    th = cls()
    fields = dataclasses.fields(th)
    assert fields and all(isinstance(getattr(th, f.name), (int, float)) for f in fields)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(th, fields[0].name, 0)
    assert overridden(th, **{fields[0].name: None}) == th


def test_the_default_alpha_and_burn_constants():
    assert ALPHA == 0.01
    # one default level: a thresholds object's `alpha` is ALPHA unless it names a stricter one (and says why)
    stricter = {MismappingThresholds}
    for th in ALL:
        if "alpha" in {f.name for f in dataclasses.fields(th)}:
            assert th().alpha == ALPHA or (th in stricter and th().alpha < ALPHA), th
    assert (PAGE_BURN, TICKET_BURN) == (SLIThresholds().page_burn, SLIThresholds().ticket_burn)


def _frame(seed: int, n: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
    v = rng.choice(["v1", "v2"], n)
    tier = rng.choice(["gold", "silver", "basic"], n)
    y = rng.integers(0, 2, n)
    noise = np.where((v == "v2") & (tier == "gold"), 0.9, 0.45)  # v2 is worse on gold
    score = np.clip(y * 0.5 + 0.25 + rng.normal(0, noise, n) * 0.4, 0, 1)
    return pl.DataFrame({"timestamp": [t0 + dt.timedelta(seconds=30 * i) for i in range(n)],
                         "route": "primary", "model_version": v, "tier": tier, "score": score,
                         "prediction": (score > 0.5).astype(int), "label": y,
                         "note": [f"call me at user{i}@example.com" if i % 50 == 0 else "ok" for i in range(n)]})


@pytest.mark.parametrize(("seed", "n"), [(11, 6000), (12, 9000)])
def test_options_override_the_thresholds_object(seed, n):
    df = _frame(seed, n)
    s = summarize_frame(df.lazy(), fit_binning(df.lazy(), numeric=(), categorical=()), segment="tier")
    assert segment_deltas(s, "tier", a="v1", b="v2", alpha=0.2, min_effect=0.001).to_dict() == \
        segment_deltas(s, "tier", a="v1", b="v2", thresholds=SegmentThresholds(alpha=0.2, min_effect=0.001)).to_dict()
    assert segment_deltas(s, "tier", a="v1", b="v2").to_dict() == \
        segment_deltas(s, "tier", a="v1", b="v2", thresholds=SegmentThresholds()).to_dict()
    strict = compare_versions(s, "v1", "v2", thresholds=VersionThresholds(alpha=1e-12, min_effect=0.5))
    assert strict.verdict == "go"
    assert compare_versions(s, "v1", "v2", alpha=1e-12, min_effect=0.5).to_dict() == strict.to_dict()
    assert strict.meta["thresholds"]["alpha"] == 1e-12
    lf = df.lazy()
    assert worst_slices(lf, ["tier"], min_rows=10, alpha=0.2).to_dict() == \
        worst_slices(lf, ["tier"], thresholds=SliceThresholds(min_rows=10, alpha=0.2)).to_dict()
    assert worst_slices(lf, ["tier"], thresholds=SliceThresholds(min_rows=n)).overall["tested"] == 0
    hits = scan_pii(lf, columns=["note"])
    assert [c["kind"] for c in hits.flagged] == ["email"]
    none = scan_pii(lf, columns=["note"], thresholds=PIIThresholds(min_hits=n))
    assert scan_pii(lf, columns=["note"], min_hits=n).to_dict() == none.to_dict()
    assert none.flagged == [] and none.thresholds["min_hits"] == n


@pytest.mark.parametrize("seed", [21, 22])
def test_embedding_thresholds_decide_the_verdict(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 8))
    y = rng.normal(size=(200, 8)) + 0.3  # a material centroid shift
    moved = detect_embedding_drift(x, y)
    assert moved.drifted
    assert detect_embedding_drift(x, y, thresholds=EmbeddingThresholds()).to_dict() == moved.to_dict()
    tight = detect_embedding_drift(x, y, thresholds=EmbeddingThresholds(min_shift=10.0, min_norm_change=10.0,
                                                                        mmd_null_multiple=1e9))
    assert not tight.drifted
    assert detect_embedding_drift(x, y, min_shift=10.0, min_norm_change=10.0,
                                  thresholds=EmbeddingThresholds(mmd_null_multiple=1e9)).to_dict() == tight.to_dict()
