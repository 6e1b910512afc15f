"""Version comparison and output mis-mapping on generated lakes."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.evidence import compare_versions, detect_output_mismapping
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


def _lake(tmp_path, cause, variant, seed, rows=80_000):
    truth = generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=rows)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    return truth, lake


@pytest.mark.parametrize(("variant", "seed"), [(0, 51), (1, 52)])
def test_latency_regression_is_no_go(tmp_path, variant, seed):
    truth, lake = _lake(tmp_path, "latency_regression", variant, seed)
    new = truth.subject["model_version"]
    b = fit_lake_binning(lake, end=truth.onset)
    s = summarize(lake, b, start=truth.onset)
    old = next(v for v in s.table["model_version"].unique().to_list() if v != new)
    res = compare_versions(s, old, new)
    assert res.verdict == "no-go"
    assert "latency_p95_ms" in [c["metric"] for c in res.worse]
    lat = next(c for c in res.checks if c["metric"] == "latency_p95_ms")
    assert lat["ratio_ci"][0] > 1.1


@pytest.mark.parametrize("seed", [53, 54, 55])
def test_benign_retrain_is_go(tmp_path, seed):
    truth, lake = _lake(tmp_path, "none", 0, seed)
    old, new = truth.versions["baseline"], truth.versions["benign"]
    b = fit_lake_binning(lake)
    res = compare_versions(summarize(lake, b), old, new)
    assert res.verdict == "go", res.worse


@pytest.mark.parametrize("seed", [56, 57])
def test_inverted_outputs_are_found_and_benign_versions_are_not(tmp_path, seed):
    truth, lake = _lake(tmp_path, "serving_bug", 0, seed)
    bad = truth.subject["model_version"]
    b = fit_lake_binning(lake, end=truth.onset)
    s = summarize(lake, b)
    res = detect_output_mismapping(s, bad, previous=truth.versions["benign"])
    assert res.inverted and res.auc < 0.5 and res.previous_auc > 0.5
    ok = detect_output_mismapping(s, truth.versions["benign"], previous=truth.versions["baseline"])
    assert not ok.inverted
    cmp = compare_versions(s, truth.versions["benign"], bad)
    assert {"auc", "accuracy"} & {c["metric"] for c in cmp.worse}


@pytest.mark.parametrize(("cause", "variant", "seed"), [("serving_bug", 0, 61), ("serving_bug", 0, 62),
                                                         ("none", 0, 63), ("retrain_regression", 0, 64)])
def test_multiclass_class_permutation(tmp_path, cause, variant, seed):
    truth = generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=40_000, task="multiclass")
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    s = summarize(lake, fit_lake_binning(lake, end=truth.onset), bucket="1d")
    v = truth.versions
    # the benign release never looks permuted against the baseline
    ok = detect_output_mismapping(s, v["benign"], previous=v["baseline"])
    assert not ok.mismapped and ok.permuted_accuracy == pytest.approx(ok.accuracy), ok.detail
    if cause != "serving_bug":
        if v.get("incident"):
            assert not detect_output_mismapping(s, v["incident"], previous=v["benign"]).mismapped
        return
    bad = detect_output_mismapping(s, v["incident"], previous=v["benign"])
    assert bad.mismapped and not bad.inverted and bad.permutation, bad.detail
    # the model reverses its class order: every moved class maps onto another, both ways
    assert all(bad.permutation[b] == a for a, b in bad.permutation.items())
    assert bad.permuted_accuracy - bad.accuracy > 0.1 and bad.permutation_p < 1e-6
    # without labels, the predicted-class mix still gives the relabelling away
    unlabelled = dataclasses.replace(s, confusion=s.confusion.with_columns(pl.lit(None, dtype=pl.String).alias("label")))
    blind = detect_output_mismapping(unlabelled, v["incident"], previous=v["benign"])
    assert blind.permutation == bad.permutation, blind.detail


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bootstrap_p95_matches_resampling_one_histogram_at_a_time(seed):
    from workbench.evidence.versions import _resample_p95
    from workbench.summaries.binning import latency_quantile

    gen = np.random.default_rng(100 + seed)
    ha = {int(b): float(gen.integers(0, 50)) for b in gen.choice(60, size=12, replace=False)}
    hb = {int(b): float(gen.integers(1, 400)) for b in gen.choice(60, size=20, replace=False)}
    ha[5] = 3.0

    def one(h, rng):  # the reference: one resample, its p95 from the non-empty bins
        keys = sorted(h)
        c = np.array([h[k] for k in keys], float)
        draw = rng.multinomial(int(c.sum()), c / c.sum())
        return latency_quantile({k: v for k, v in zip(keys, draw) if v}, 0.95)

    rng = np.random.default_rng(seed)
    want = [(one(ha, rng), one(hb, rng)) for _ in range(200)]
    got_a, got_b = _resample_p95(ha, hb, np.random.default_rng(seed), 200)
    assert got_a.tolist() == [a for a, _ in want] and got_b.tolist() == [b for _, b in want]
