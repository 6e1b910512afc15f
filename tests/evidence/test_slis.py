"""SLIs: percentiles, rates and burn-rate alerts, against the rows and the injected truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.evidence import compute_slis
from workbench.summaries import fit_lake_binning, summarize, window
from workbench.synthetic import generate_lake


def _slis(tmp_path, cause, variant, seed, rows=80_000):
    root = tmp_path / f"{cause}-{variant}-{seed}"
    truth = generate_lake(root, cause=cause, variant=variant, seed=seed, rows=rows)
    lake = wb.open_lake(root, mask_key="k")
    onset = truth.onset or (truth.end - dt.timedelta(days=5, hours=seed))
    start = onset - dt.timedelta(days=2, minutes=17)  # deliberately not on an hour
    binning = fit_lake_binning(lake, end=onset - dt.timedelta(days=2))
    s = summarize(lake, binning, start=start)
    return truth, lake, start, compute_slis(s, slo=lake.manifest.slo, traffic=lake.lineage.traffic)


def test_percentiles_and_rates_match_the_rows(tmp_path):
    truth, lake, start, res = _slis(tmp_path, "latency_regression", 1, 21)
    rows = window(lake.predictions(["timestamp", "model_version", "route", "latency_ms", "fallback"]),
                  start).collect()
    assert sum(g["n"] for g in res.groups) == rows.height
    for g in res.groups:
        sub = rows.filter((pl.col("model_version") == g["model_version"]) & (pl.col("route") == g["route"]))
        x = sub["latency_ms"].drop_nulls().to_numpy()
        for q in (0.5, 0.95, 0.99):
            assert abs(g[f"p{q * 100:g}"] / np.quantile(x, q, method="inverted_cdf") - 1) <= 0.01
        assert g["fallback_rate"] == pytest.approx(sub["fallback"].mean())


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_healthy_lakes_breach_nothing_and_page_nobody(tmp_path, seed):
    _, _, _, res = _slis(tmp_path, "none", 0, seed)
    assert [g["breached"] for g in res.groups if g["breached"]] == []
    assert res.alerts == []
    for g in res.groups:
        if g.get("capture_rate") is not None and g["n"] > 1000:
            assert 0.98 < g["capture_rate"] < 1.02


@pytest.mark.parametrize(("variant", "seed"), [(0, 31), (1, 32)])
def test_latency_regression_breaches_only_the_new_version(tmp_path, variant, seed):
    truth, _, _, res = _slis(tmp_path, "latency_regression", variant, seed)
    bad = {(g["model_version"], g["route"]) for g in res.groups if "latency_p95_ms" in g["breached"]}
    assert bad and {v for v, _ in bad} == {truth.subject["model_version"]}
    if variant == 1:
        assert {r for _, r in bad} == {"canary"}


@pytest.mark.parametrize(("variant", "seed"), [(0, 41), (1, 42)])
def test_telemetry_loss_pages_soon_after_onset(tmp_path, variant, seed):
    truth, _, _, res = _slis(tmp_path, "telemetry_loss", variant, seed)
    capture = [a for a in res.alerts if a["sli"] == "capture_rate"]
    assert capture, res.alerts
    first = min(a["at"] for a in capture)
    assert truth.onset - dt.timedelta(hours=1) <= first <= truth.onset + dt.timedelta(hours=6)
    lost = [g for g in res.groups if "capture_rate" in g["breached"]]
    assert lost
    if variant == 1:
        assert {g["route"] for g in lost} == {"canary"}
    d = res.to_dict()
    assert d["alerts"][0]["at"].endswith("Z")


def test_duplicate_rows_charges_repeats_to_the_first_rows_hour_and_route():
    from workbench.evidence.slis import duplicate_rows

    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    ids = pl.LazyFrame({"request_id": ["a", "b", "a", "c", "a", "b"],
                        "timestamp": [t0 + dt.timedelta(minutes=m) for m in (70, 5, 130, 10, 200, 20)],
                        "route": ["canary", "primary", "primary", "primary", "primary", "canary"]})
    got = duplicate_rows(ids)
    assert got.to_dicts() == [{"bucket": t0, "route": "primary", "dup": 1.0},
                              {"bucket": t0 + dt.timedelta(hours=1), "route": "canary", "dup": 2.0}]
    none = duplicate_rows(ids.filter(pl.col("request_id") == "c"))
    assert none.is_empty() and none.schema == got.schema


def test_hourly_binomial_tests_at_once_equal_one_call_per_hour():
    from workbench.evidence.slis import _binom_p, _binom_ps, _rolling_sum

    rng = np.random.default_rng(7)
    total = rng.integers(0, 400, 48).astype(float) * (rng.random(48) > 0.2)
    bad = np.minimum(total, rng.poisson(4, 48)).astype(float)
    for rate in (0.001, 0.05, 0.4):
        assert _binom_ps(bad, total, rate).tolist() == [_binom_p(b, t, rate) for b, t in zip(bad, total)]
    assert [_rolling_sum(bad, 6)[i] for i in range(5, 48)] == [bad[i - 5:i + 1].sum() for i in range(5, 48)]


def _duplicates_by_grouping(ids: pl.LazyFrame) -> pl.DataFrame:
    """The definition: every row grouped by its id's hash (what duplicate_rows picks out first)."""
    h = pl.col("request_id").hash()
    return (ids.group_by(h.alias("__h"))
            .agg(pl.len().alias("k"), pl.col("timestamp").min().dt.truncate("1h").alias("bucket"),
                 pl.col("route").sort_by("timestamp").first().alias("route"))
            .filter(pl.col("k") > 1)
            .group_by("bucket", "route").agg((pl.col("k") - 1).sum().cast(pl.Float64).alias("dup"))
            .sort("bucket", "route").collect())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_duplicate_rows_equal_grouping_every_row(seed, monkeypatch):
    """Repeats found by sorting slices of the hashes, then grouped, equal grouping all rows: ids
    repeated 2-5 times across batches and hours, null ids, a log with no repeat, and more repeated
    ids than the bound (grouped among all rows)."""
    from workbench.evidence import slis

    rng = np.random.default_rng(seed)
    n = int(rng.integers(20_000, 60_000))
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    base = [f"req-{seed}-{i}" for i in range(n)]
    extra = rng.choice(n, size=int(rng.integers(1, 3_000)), replace=True)  # some ids 2+ times
    rid = np.array(base + [base[i] for i in extra], dtype=object)
    rid[rng.random(len(rid)) < 0.001] = None  # null ids hash alike: they count as one id
    order = rng.permutation(len(rid))
    ids = pl.LazyFrame({
        "request_id": pl.Series(rid[order].tolist(), dtype=pl.String),
        "timestamp": [t0 + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 3 * 86400, len(rid))],
        "route": rng.choice(["primary", "canary", "shadow"], len(rid)).tolist(),
    })
    want = _duplicates_by_grouping(ids)
    assert want.height > 3
    assert slis.duplicate_rows(ids).equals(want)
    monkeypatch.setattr(slis, "_MAX_REPEATED", 10)
    assert slis.duplicate_rows(ids).equals(want)
    unique = ids.unique("request_id", keep="first").filter(pl.col("request_id").is_not_null())
    got = slis.duplicate_rows(unique)
    assert got.is_empty() and got.schema == want.schema


def test_repeated_hashes_match_counting_in_numpy():
    from workbench.evidence.slis import _repeated_hashes

    rng = np.random.default_rng(5)
    h = rng.integers(0, 2**63, 50_000, dtype=np.int64).astype(np.uint64) * np.uint64(2)  # every top-bit slice
    h = np.concatenate([h, h[:700], h[:50], np.array([0, 0, 2**64 - 1, 2**64 - 1], dtype=np.uint64)])
    values, counts = np.unique(h, return_counts=True)
    frame = pl.LazyFrame({"__h": rng.permutation(h)})
    assert _repeated_hashes(frame).tolist() == values[counts > 1].tolist()
    assert len(_repeated_hashes(pl.LazyFrame({"__h": pl.Series([], dtype=pl.UInt64)}))) == 0
