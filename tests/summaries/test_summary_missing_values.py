"""NaN and infinities in summaries: NaN is a missing feature value (like null), ±inf an invalid
one; NaN/inf/null score or latency and NaN/inf prediction or label are left out of the tallies
that need them and counted. Every tally stays mergeable and survives a JSON round trip."""

from __future__ import annotations

import datetime as dt
import json
import warnings

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench.evidence import assess_quality, compute_slis
from workbench.lake.manifest import SLO
from workbench.summaries import Summary, summarize_frame
from workbench.summaries.binning import fit_binning

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def _frame(rng: np.random.Generator, n: int, *, task: str = "binary_classification") -> pl.DataFrame:
    """Canonical predictions with labels; every numeric role finite."""
    x = rng.normal(50, 10, n)
    score = 1 / (1 + np.exp(-(x - 50) / 10))
    y = (rng.random(n) < score).astype(float)
    out = {
        "timestamp": [T0 + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 60 * 48, n))],
        "model_version": rng.choice(["v1", "v2"], n).tolist(), "route": ["primary"] * n,
        "latency_ms": rng.lognormal(3, 0.5, n), "amount": x, "age": rng.exponential(5, n),
        "country": rng.choice(["DE", "FR", None], n).tolist(),
    }
    if task == "regression":
        out |= {"prediction": x * 2 + rng.normal(0, 1, n), "label": x * 2 + rng.normal(0, 3, n)}
    else:
        out |= {"score": score, "prediction": (score > 0.5).astype(np.int64), "label": y}
    return pl.DataFrame(out)


def _poison(df: pl.DataFrame, rng: np.random.Generator, col: str, share: float, values) -> tuple[pl.DataFrame, int]:
    """Replace a random share of ``col`` by the given values (cycled); returns the frame and how many."""
    x = df[col].cast(pl.Float64).to_numpy().copy()
    idx = rng.choice(len(x), max(1, int(len(x) * share)), replace=False)
    vals = np.resize(np.array(values, dtype=float), idx.size)
    x[idx] = vals
    out = pl.Series(col, x, nan_to_null=False)
    null = np.isnan(vals) & np.array([v is None for v in np.resize(np.array(values, dtype=object), idx.size)])
    if null.any():
        out = out.scatter(idx[null], None)
    return df.with_columns(out), idx.size


def _summary(df: pl.DataFrame, binning, task: str = "binary_classification") -> Summary:
    return summarize_frame(df.lazy(), binning, task=task, bucket="1h")


def _binning(df: pl.DataFrame):
    return fit_binning(df.lazy(), numeric=("amount", "age"), categorical=("country",))


@pytest.mark.parametrize(("seed", "n"), [(0, 1_500), (7, 4_000), (21, 9_000)])
def test_feature_nan_is_missing_and_inf_is_invalid(seed, n):
    rng = np.random.default_rng(seed)
    df = _frame(rng, n)
    b = _binning(df)
    df, _ = _poison(df, rng, "amount", 0.05 + 0.1 * rng.random(), [np.nan, None, np.inf, -np.inf, np.nan])
    s = _summary(df, b)
    tot = s.collapse().table.row(0, named=True)
    x = df["amount"]
    nan, null = int(x.is_nan().sum()), x.null_count()
    inf = int(x.is_infinite().sum())
    assert nan and null and inf
    assert tot["amount|null"] == nan + null  # NaN counts as missing, like null
    assert tot["amount|inf"] == inf  # ±inf counted apart, as invalid
    finite = x.filter(x.is_finite()).to_numpy()
    assert s.histogram("amount").sum() == finite.size == n - nan - null - inf  # neither is binned
    assert tot["amount|sum"] == pytest.approx(finite.sum(), rel=1e-9)
    assert (tot["amount|min"], tot["amount|max"]) == (finite.min(), finite.max())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merge_and_json_round_trip_keep_the_new_tallies(seed):
    rng = np.random.default_rng(seed)
    df = _frame(rng, 3_000 + 500 * seed)
    b = _binning(df)
    df, _ = _poison(df, rng, "amount", 0.1, [np.inf, np.nan, -np.inf])
    df, _ = _poison(df, rng, "score", 0.02, [np.nan, np.inf, None])
    df, _ = _poison(df, rng, "latency_ms", 0.03, [np.nan, np.inf])
    df, _ = _poison(df, rng, "label", 0.01, [np.nan])
    half = rng.random(df.height) < 0.5
    whole = _summary(df, b)
    merged = _summary(df.filter(pl.Series(half)), b) + _summary(df.filter(pl.Series(~half)), b)
    for col in ("amount|inf", "amount|null", "score|invalid", "latency_ms|invalid", "label|invalid"):
        assert col in whole.table.columns
        assert merged.table[col].sum() == whole.table[col].sum() > 0, col
    assert_frame_equal(merged.table.select(whole.table.columns), whole.table, check_exact=False, rel_tol=1e-9)
    assert merged.invalid_counts() == whole.invalid_counts()
    back = Summary.from_dict(json.loads(json.dumps(whole.to_dict())))
    assert_frame_equal(back.table, whole.table)
    assert back.invalid_counts() == whole.invalid_counts()
    assert back.collapse().table["amount|inf"][0] == whole.collapse().table["amount|inf"][0]


@pytest.mark.parametrize(("seed", "values"), [(4, [np.nan]), (5, [np.inf]), (6, [-np.inf, np.nan, None])])
def test_invalid_scores_are_left_out_of_quality_and_counted(seed, values):
    rng = np.random.default_rng(seed)
    clean = _frame(rng, 5_000)
    b = _binning(clean)
    bad, k = _poison(clean, rng, "score", 0.01, values)
    keep = bad["score"].is_finite().fill_null(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning, no polars cast error
        s = _summary(bad, b)
        q = assess_quality(s, by=())
    assert s.invalid_counts() == {"score": k} and q.meta["invalid_rows"] == {"score": k}
    expected = assess_quality(_summary(bad.filter(keep), b), by=())
    for m in ("auc", "logloss", "brier", "ece"):
        assert q.groups[0][m] == pytest.approx(expected.groups[0][m], rel=1e-9), m
        assert np.isfinite(q.groups[0][m])


@pytest.mark.parametrize("seed", [8, 9])
def test_invalid_latencies_are_left_out_of_the_slis_and_counted(seed):
    rng = np.random.default_rng(seed)
    clean = _frame(rng, 4_000)
    b = _binning(clean)
    bad, k = _poison(clean, rng, "latency_ms", 0.02, [np.nan, np.inf, None, -np.inf])
    keep = bad["latency_ms"].is_finite().fill_null(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = _summary(bad, b)
        slis = compute_slis(s, slo=SLO(), by=("route",))
    ref = _summary(bad.filter(keep), b)
    assert s.invalid_counts() == {"latency_ms": k}
    assert slis.meta["latency_invalid"] == k
    assert_frame_equal(s.latency_quantiles().drop("n"), ref.latency_quantiles().drop("n"))
    assert s.latency_quantiles()["n"][0] == ref.rows == bad.height - k
    assert np.isfinite(slis.groups[0]["p95"]) and np.isfinite(slis.groups[0]["slow_share"])


def test_nan_labels_and_predictions_are_not_labelled_rows():
    rng = np.random.default_rng(10)
    clean = _frame(rng, 3_000, task="regression")
    b = _binning(clean)
    bad, kl = _poison(clean, rng, "label", 0.02, [np.nan, np.inf])
    bad, kp = _poison(bad, rng, "prediction", 0.01, [np.nan])
    keep = bad["label"].is_finite() & bad["prediction"].is_finite()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = _summary(bad, b, "regression")
        q = assess_quality(s, by=())
    assert s.invalid_counts() == {"label": kl, "prediction": kp}
    ref = assess_quality(_summary(bad.filter(keep), b, "regression"), by=())
    assert q.groups[0]["labelled"] == ref.groups[0]["labelled"] == int(keep.sum())
    assert q.groups[0]["mae"] == pytest.approx(ref.groups[0]["mae"], rel=1e-12)
    # binary: a NaN label is not a negative
    clean = _frame(rng, 3_000)
    bad, k = _poison(clean, rng, "label", 0.05, [np.nan])
    s = _summary(bad, _binning(clean))
    t = s.collapse().table.row(0, named=True)
    assert t["labelled"] == bad.height - k and s.invalid_counts() == {"label": k}
    y0 = sum(t[f"score|y0|h{i}"] for i in range(20))
    assert y0 == int((bad["label"] == 0).sum())
