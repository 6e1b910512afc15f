"""Drift and the label-free estimate per day (what the Explorer draws), checked against numpy
recomputed from the raw rows and against estimate_performance day by day."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.evidence import estimate_performance
from workbench.evidence.over_time import PsiOverTime, estimate_over_time, psi_over_time
from workbench.summaries import fit_lake_binning, summarize, summarize_frame
from handmade_lake import T0, predictions_frame, write_lake


def _psi(e, a):
    e = np.maximum(np.asarray(e, float) / max(np.sum(e), 1), 1e-4)
    a = np.maximum(np.asarray(a, float) / max(np.sum(a), 1), 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


@pytest.fixture(scope="module", params=[(1800, 11), (2600, 29)], ids=["1800rows", "2600rows"])
def lake_rows(request, tmp_path_factory):
    n, seed = request.param
    rng = np.random.default_rng(seed)
    preds = predictions_frame(n)
    day = (preds["timestamp"] - T0.replace(tzinfo=None)).dt.total_days().to_numpy()
    amount = rng.lognormal(3.0, 0.4, n) * np.where(day >= 8, 1.6, 1.0)  # shifts on day 8
    amount[(day >= 10) & (rng.random(n) < 0.2)] = np.nan            # then partly missing
    amount[(day >= 11) & (rng.random(n) < 0.05)] = np.inf           # and partly infinite
    preds = preds.with_columns(pl.Series("amount", amount), pl.Series("score", rng.beta(2, 3, n)))
    root = write_lake(tmp_path_factory.mktemp("ot") / "lake", preds=preds)
    return wb.open_lake(root, mask_key="k"), preds


def test_psi_per_day_matches_numpy_on_the_raw_rows(lake_rows):
    lake, preds = lake_rows
    end_base = T0 + dt.timedelta(days=5)
    binning = fit_lake_binning(lake, end=end_base)
    s = summarize(lake, binning, bucket="1h")
    base = s.where(pl.col("bucket") < end_base)
    got = psi_over_time(base, s, settings=PsiOverTime(min_rows=50, cap=1e9))
    amount = got.filter(pl.col("feature") == "amount").sort("bucket")
    assert amount.height >= 10

    edges = np.asarray(binning.numeric["amount"])
    raw = preds.with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))

    def cells(x: np.ndarray) -> np.ndarray:
        fin = x[np.isfinite(x)]
        h = np.bincount(np.searchsorted(edges, fin, side="right"), minlength=len(edges) + 1)
        return np.array([*h, np.isnan(x).sum(), np.isinf(x).sum()], float)

    ref = cells(raw.filter(pl.col("timestamp") < end_base)["amount"].to_numpy())
    for bucket, psi in amount.select("bucket", "psi").iter_rows():
        day = raw.filter(pl.col("timestamp").dt.truncate("1d") == bucket)["amount"].to_numpy()
        assert psi == pytest.approx(_psi(ref, cells(day)), rel=1e-9, abs=1e-12)
    # quiet before the shift, loud after it (missing and infinite values count as drift)
    early = amount.filter(pl.col("bucket") < end_base)["psi"]
    late = amount.filter(pl.col("bucket") >= T0 + dt.timedelta(days=10))["psi"]
    assert early.max() < 0.25 and late.min() > 0.5
    # country never changes
    assert got.filter(pl.col("feature") == "country")["psi"].max() < 0.1


def test_psi_settings_leave_small_days_out_and_cap(lake_rows):
    lake, _ = lake_rows
    binning = fit_lake_binning(lake)
    s = summarize(lake, binning, bucket="1h")
    base = s.where(pl.col("bucket") < T0 + dt.timedelta(days=3))
    loose = psi_over_time(base, s, settings=PsiOverTime(min_rows=1, cap=1e9))
    strict = psi_over_time(base, s, settings=PsiOverTime(min_rows=144, cap=0.3))
    assert loose.height > strict.height > 0  # the partial last day (< 144 rows; full days have 144) is left out
    assert strict["psi"].max() == pytest.approx(0.3) and loose["psi"].max() > 0.3
    assert psi_over_time(base.where(pl.lit(False)), s).is_empty()


def test_estimate_per_day_is_estimate_performance_of_each_day(lake_rows):
    lake, _ = lake_rows
    binning = fit_lake_binning(lake)
    s = summarize(lake, binning, bucket="1h")
    base = s.where(pl.col("bucket") < T0 + dt.timedelta(days=5))
    got = estimate_over_time(base, s)
    days = sorted(s.table["bucket"].dt.truncate("1d").unique().to_list())
    assert got["bucket"].to_list() == days
    for r in got.iter_rows(named=True):
        day = s.where(pl.col("bucket").dt.truncate("1d") == r["bucket"])
        e = estimate_performance(base, day, n_boot=0)
        assert (r["auc"], r["accuracy"], r["rows"]) == (e.auc, e.accuracy, e.rows)
    # no labelled baseline, or not a binary model: no estimate, and no error
    unlabelled = summarize_frame(lake.predictions(), binning, bucket="1h")
    assert "score|y1|h0" not in unlabelled.table.columns
    assert estimate_over_time(unlabelled, unlabelled).is_empty()
    assert estimate_over_time(base, dataclasses.replace(s, task="regression")).is_empty()
