"""Quality from tallies, checked against scikit-learn on the same labelled rows."""

from __future__ import annotations


import numpy as np
import polars as pl
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

import workbench as wb
from workbench.evidence import assess_quality
from workbench.evidence.quality import auc_from_counts, wilson
from workbench.evidence.stats import Z95
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("q") / "lake"
    truth = generate_lake(root, cause="retrain_regression", variant=0, rows=60_000, seed=5)
    return wb.open_lake(root, mask_key="k"), truth


def test_metrics_match_sklearn(lake):
    lk, truth = lake
    binning = fit_lake_binning(lk, end=truth.onset)
    res = assess_quality(summarize(lk, binning), by=("model_version",))
    rows = lk.predictions(["model_version", "score", "prediction", "label"], with_labels=True).collect()
    rows = rows.filter(pl.col("label").is_not_null())
    for g in res.groups:
        sub = rows.filter(pl.col("model_version") == g["model_version"])
        y, p = sub["label"].cast(pl.Int64).to_numpy(), sub["score"].to_numpy()
        assert g["labelled"] == sub.height and g["positives"] == y.sum()
        # binned AUC (20 score bins, ties in a bin count half): within 0.01 of the exact AUC
        assert g["auc"] == pytest.approx(roc_auc_score(y, p), abs=0.01)
        assert g["auc_ci"][0] < roc_auc_score(y, p) + 0.01 and g["auc_ci"][1] > roc_auc_score(y, p) - 0.01
        assert g["logloss"] == pytest.approx(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)), rel=1e-9)
        assert g["brier"] == pytest.approx(brier_score_loss(y, p), rel=1e-9)
        acc = accuracy_score(sub["label"].cast(pl.String), sub["prediction"].cast(pl.String))
        assert g["accuracy"] == pytest.approx(acc, rel=1e-12)
        lo, hi = g["accuracy_ci"]
        assert lo < acc < hi
        # ECE on the same 20 bins, computed directly
        bins = np.clip(np.floor(p * 20), 0, 19).astype(int)
        ece = sum(abs(p[bins == i].sum() - y[bins == i].sum()) for i in range(20)) / len(y)
        assert g["ece"] == pytest.approx(ece, rel=1e-9)


def test_retrain_regression_shows_as_a_quality_drop(lake):
    lk, truth = lake
    binning = fit_lake_binning(lk, end=truth.onset)
    res = assess_quality(summarize(lk, binning), by=("model_version",))
    q = {g["model_version"]: g for g in res.groups}
    bad = q[truth.subject["model_version"]]
    old = q[truth.versions["benign"]] if truth.versions["benign"] in q else q[truth.versions["baseline"]]
    assert bad["auc_ci"][1] < old["auc_ci"][0]  # intervals apart: not noise


def test_auc_from_counts_and_wilson_by_hand():
    a, ci = auc_from_counts(np.array([0, 0, 5]), np.array([5, 0, 0]))
    assert a == 1.0
    a, _ = auc_from_counts(np.array([1, 1]), np.array([1, 1]))
    assert a == 0.5
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert auc_from_counts(np.array([0, 0]), np.array([1, 2])) == (None, None)


def _hanley_mcneil_se(a: float, n_pos: int, n_neg: int) -> float:
    """Hanley & McNeil (1982), eq. 1, written out independently of the package."""
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return float(np.sqrt((a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)))


def _near_bound_frame(seed: int, n_a: int, n_b: int, sep_a: float, sep_b: float) -> pl.DataFrame:
    """Two versions with few labelled rows; ``a``'s scores separate the classes almost perfectly."""
    import datetime as dt

    rng = np.random.default_rng(seed)

    def version(name, n, sep):
        y = rng.integers(0, 2, n)
        z = rng.normal(0, 1, n) + sep * (y - 0.5)
        return {"model_version": [name] * n, "score": 1 / (1 + np.exp(-z)), "label": y}
    parts = [version("a", n_a, sep_a), version("b", n_b, sep_b)]
    n = n_a + n_b
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    df = pl.DataFrame({"timestamp": [t0 + dt.timedelta(minutes=i) for i in range(n)], "route": ["primary"] * n,
                       "model_version": parts[0]["model_version"] + parts[1]["model_version"],
                       "score": np.concatenate([parts[0]["score"], parts[1]["score"]]),
                       "label": np.concatenate([parts[0]["label"], parts[1]["label"]]),
                       "segment": ["s"] * n})
    return df.with_columns((pl.col("score") > 0.5).cast(pl.Int64).alias("prediction"))


@pytest.mark.parametrize(("seed", "n_a", "n_b", "sep_a", "sep_b"), [(1, 60, 400, 3.0, 1.5), (2, 90, 300, 3.4, 2.0),
                                                                      (3, 120, 500, 3.2, 1.8)])
def test_auc_tests_use_the_unclipped_standard_error_near_the_bound(seed, n_a, n_b, sep_a, sep_b):
    """An AUC near 1 on few rows: the 95 % interval is clipped at 1 for display, but the tests
    must use the whole Hanley-McNeil error; an error read back from the clipped interval is
    smaller and makes the p-value overconfident."""
    from scipy import stats

    from workbench.evidence import compare_versions, segment_deltas
    from workbench.evidence.quality import auc_se
    from workbench.summaries import summarize_frame
    from workbench.summaries.binning import fit_binning

    df = _near_bound_frame(seed, n_a, n_b, sep_a, sep_b)
    b = fit_binning(df.lazy(), numeric=(), categorical=())
    s = summarize_frame(df.lazy(), b, segment="segment")
    qa = assess_quality(s).groups
    ga, gb = (next(g for g in qa if g["model_version"] == v) for v in ("a", "b"))
    assert ga["auc"] > 0.95 and ga["auc_ci"][1] == 1.0  # clipped for display
    se_a = _hanley_mcneil_se(ga["auc"], ga["positives"], ga["labelled"] - ga["positives"])
    se_b = _hanley_mcneil_se(gb["auc"], gb["positives"], gb["labelled"] - gb["positives"])
    assert ga["auc"] + Z95 * se_a > 1.0  # the clipping bites
    se = np.hypot(se_a, se_b)
    p_expected = 2 * stats.norm.sf(abs(gb["auc"] - ga["auc"]) / se)
    # what the clipped interval gave before: a smaller error, a smaller p-value
    se_clipped = np.hypot((ga["auc_ci"][1] - ga["auc_ci"][0]) / (2 * Z95),
                          (gb["auc_ci"][1] - gb["auc_ci"][0]) / (2 * Z95))
    p_clipped = 2 * stats.norm.sf(abs(gb["auc"] - ga["auc"]) / se_clipped)
    assert p_expected > p_clipped * 1.05
    auc = next(c for c in compare_versions(s, "a", "b").checks if c["metric"] == "auc")
    assert auc["p_value"] == pytest.approx(p_expected, rel=1e-9)
    row = segment_deltas(s, "segment", a="a", b="b", min_labelled=10).rows[0]["metrics"]["auc"]
    assert row["se"] == pytest.approx(se, rel=1e-9) and row["p_value"] == pytest.approx(p_expected, rel=1e-9)
    assert auc_se(np.array([3.0, 0, 0]), np.array([0, 0, 0.0])) == (None, None)
