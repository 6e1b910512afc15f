"""Bad calls to the detectors raise named errors (WorkbenchError subclasses that are also the
builtin a caller may already catch), saying what was expected."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from workbench.evidence import (compare_versions, detect_drift, detect_embedding_drift, detect_output_mismapping,
                                estimate_performance, segment_deltas)
from workbench.evidence.capture import relative_capture
from workbench.exceptions import (FeatureNotFoundError, InsufficientDataError, SummaryMismatchError, UsageError,
                                  WorkbenchError)
from workbench.summaries import summarize_frame
from workbench.summaries.binning import fit_binning


def _frame(seed: int, n: int, *, task: str = "binary_classification") -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    y = rng.integers(0, 2, n)
    score = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
    out = {"timestamp": [t0 + dt.timedelta(minutes=i) for i in range(n)], "route": ["primary"] * n,
           "model_version": rng.choice(["v1", "v2"], n).tolist(), "amount": rng.gamma(2, 10, n),
           "tier": rng.choice(["gold", "basic"], n).tolist()}
    if task == "regression":
        return pl.DataFrame(out | {"prediction": rng.normal(0, 1, n), "label": rng.normal(0, 1, n)})
    return pl.DataFrame(out | {"score": score, "prediction": (score > 0.5).astype(int), "label": y})


@pytest.fixture(scope="module", params=[(1, 800), (2, 1500)])
def summaries(request):
    seed, n = request.param
    df = _frame(seed, n)
    b = fit_binning(df.lazy(), numeric=("amount",), categorical=())
    return df, b, summarize_frame(df.lazy(), b, segment="tier")


def test_wrong_arguments_are_usage_errors(summaries):
    df, b, s = summaries
    with pytest.raises(UsageError, match="no key 'region'") as e:
        segment_deltas(s, "region", a="v1", b="v2")
    assert "tier" in str(e.value) and isinstance(e.value, ValueError)
    reg = _frame(3, 300, task="regression")
    rs = summarize_frame(reg.lazy(), fit_binning(reg.lazy(), numeric=("amount",), categorical=()), task="regression")
    with pytest.raises(UsageError, match="binary classification"):
        estimate_performance(rs, rs)


def test_missing_rows_and_labels_are_insufficient_data(summaries):
    df, b, s = summaries
    with pytest.raises(InsufficientDataError, match="'v9'") as e:
        compare_versions(s, "v1", "v9")
    assert "v1" in str(e.value) and isinstance(e.value, ValueError)
    with pytest.raises(InsufficientDataError):
        detect_output_mismapping(s, "v9")
    unlabelled = summarize_frame(df.drop("label").lazy(), b, segment="tier")
    with pytest.raises(InsufficientDataError, match="needs labels"):
        segment_deltas(unlabelled, "tier", a="v1", b="v2")
    with pytest.raises(InsufficientDataError, match="labelled baseline"):
        estimate_performance(unlabelled, unlabelled)
    rng = np.random.default_rng(len(df))
    with pytest.raises(InsufficientDataError, match="3 baseline"):
        detect_embedding_drift(rng.normal(size=(3, 4)), rng.normal(size=(40, 4)))
    with pytest.raises(InsufficientDataError, match="no logged rows"):
        relative_capture("canary", np.array([0, 0]), np.array([0, 0]), np.array([0.1, 0.1]))


def test_summaries_from_other_binnings_do_not_mix(summaries):
    df, b, s = summaries
    other = fit_binning(df.lazy(), numeric=("amount",), categorical=(), n_bins=7)
    s2 = summarize_frame(df.lazy(), other)
    with pytest.raises(SummaryMismatchError, match="same binning"):
        detect_drift(s, s2)
    with pytest.raises(SummaryMismatchError, match="same binning"):
        s.merge(s2)
    res = detect_drift(s, s)
    with pytest.raises(FeatureNotFoundError, match="'age'") as e:
        res.feature("age")
    assert isinstance(e.value, KeyError) and isinstance(e.value, WorkbenchError) and "amount" in str(e.value)
