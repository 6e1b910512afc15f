"""Embedding drift: MMD matches a direct computation; healthy quiet; a new embedding API caught."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import workbench as wb
from workbench.evidence import detect_embedding_drift, sample_embeddings
from workbench.evidence.embedding import mmd2
from workbench.summaries import window
from workbench.synthetic import generate_lake


def test_mmd2_by_definition():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 3)), rng.normal(0.5, 1, size=(40, 3))
    g = 0.3

    def k(a, b):
        return np.exp(-g * np.sum((a - b) ** 2))

    sxx = sum(k(a, b) for i, a in enumerate(x) for j, b in enumerate(x) if i != j) / (30 * 29)
    syy = sum(k(a, b) for i, a in enumerate(y) for j, b in enumerate(y) if i != j) / (40 * 39)
    sxy = sum(k(a, b) for a in x for b in y) / (30 * 40)
    assert mmd2(x, y, g) == pytest.approx(sxx + syy - 2 * sxy, rel=1e-9)


def test_same_distribution_is_quiet_and_shift_is_found():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    assert not detect_embedding_drift(a, b).drifted
    moved = detect_embedding_drift(a, rng.normal(0.3, 1, size=(400, 8)))
    assert moved.drifted and abs(moved.centroid_shift - 0.3) < 0.1  # |0.3 * 1_8| / sqrt(8)


def _run(tmp_path, cause, seed):
    truth = generate_lake(tmp_path / "l", cause=cause, variant=0, seed=seed, rows=40_000)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    onset = truth.onset or (truth.end - dt.timedelta(days=5))
    lf = lake.predictions(["request_id", "timestamp", "embedding"])
    x = sample_embeddings(window(lf, onset - dt.timedelta(days=7), onset - dt.timedelta(days=1)), 500)
    y = sample_embeddings(window(lf, onset, onset + dt.timedelta(days=2)), 500)
    return detect_embedding_drift(x, y, permutations=100)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_healthy_embeddings_stay_quiet(tmp_path, seed):
    assert not _run(tmp_path, "none", seed).drifted


@pytest.mark.parametrize("seed", [5, 6])
def test_new_embedding_api_is_caught(tmp_path, seed):
    res = _run(tmp_path, "third_party_change", seed)
    assert res.drifted and res.mmd_p_value < 0.01
