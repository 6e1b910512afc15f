"""Onset: change points found where they were put, with intervals that cover them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import workbench as wb
from workbench.evidence import detect_onset
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
HOURS = [T0 + dt.timedelta(hours=i) for i in range(240)]


@pytest.mark.parametrize("seed", range(5))
def test_step_in_a_rate(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(40, 200))
    n = rng.integers(200, 400, 240)
    p = np.where(np.arange(240) < k, 0.01, 0.03)
    res = detect_onset(HOURS, n=n, events=rng.binomial(n, p))
    assert res.low <= HOURS[k] <= res.high and abs((res.at - HOURS[k]).total_seconds()) <= 3 * 3600
    assert res.p_value < 1e-6 and res.before == pytest.approx(0.01, abs=0.004)


@pytest.mark.parametrize("seed", range(5))
def test_step_in_a_mean(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(40, 200))
    n = rng.integers(50, 100, 240)
    mu = np.where(np.arange(240) < k, 10.0, 10.6)
    x = [rng.normal(m, 2.0, size=c) for m, c in zip(mu, n)]
    res = detect_onset(HOURS, n=n, sums=[v.sum() for v in x], sumsq=[(v * v).sum() for v in x])
    assert res.low <= HOURS[k] <= res.high and abs((res.at - HOURS[k]).total_seconds()) <= 4 * 3600


def test_ramp_start(seed=3):
    rng = np.random.default_rng(seed)
    k = 150
    n = np.full(240, 100)
    mu = 1.0 + 0.02 * np.clip(np.arange(240) - k, 0, 30)
    x = [rng.normal(m, 0.5, size=c) for m, c in zip(mu, n)]
    res = detect_onset(HOURS, n=n, sums=[v.sum() for v in x], model="ramp")
    assert abs((res.at - HOURS[k]).total_seconds()) <= 6 * 3600


def test_no_change_is_not_significant():
    rng = np.random.default_rng(9)
    n = rng.integers(200, 400, 240)
    ps = [detect_onset(HOURS, n=n, events=rng.binomial(n, 0.02)).p_value for _ in range(20)]
    assert np.mean(np.array(ps) < 0.01) <= 0.05


@pytest.mark.parametrize(("variant", "seed"), [(1, 3), (1, 8)])
def test_onset_of_a_rename_in_a_lake(tmp_path, variant, seed):
    truth = generate_lake(tmp_path / "l", cause="schema_mismatch", variant=variant, seed=seed, rows=60_000)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    f = truth.subject["feature"]
    binning = fit_lake_binning(lake, end=truth.onset - dt.timedelta(days=1))
    s = summarize(lake, binning, start=truth.onset - dt.timedelta(hours=30)).collapse(("bucket",))
    t = s.table.sort("bucket")
    res = detect_onset(t["bucket"].to_list(), n=t["n"].to_numpy(), events=t[f"{f}|null"].to_numpy())
    # the share of nulls inside the hour places the onset within minutes
    assert abs((res.at - truth.onset).total_seconds()) <= 20 * 60
    assert res.low <= truth.onset <= res.high


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_onset_of_gradual_drift_in_a_lake(tmp_path, seed):
    truth = generate_lake(tmp_path / "l", cause="data_drift", variant=0, seed=seed, rows=80_000)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    f = truth.subject["feature"]
    binning = fit_lake_binning(lake, end=truth.onset - dt.timedelta(days=1))
    s = summarize(lake, binning, start=truth.onset - dt.timedelta(hours=30)).collapse(("bucket",))
    t = s.table.sort("bucket")
    n = t["n"].to_numpy() - t[f"{f}|null"].to_numpy()
    res = detect_onset(t["bucket"].to_list(), n=n, sums=t[f"{f}|sum"].to_numpy(), model="ramp")
    assert abs((res.at - truth.onset).total_seconds()) <= 8 * 3600, (res, truth.onset)
