"""Drift detection: healthy lakes stay quiet, injected drift and schema changes are caught."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import workbench as wb
from workbench.evidence import detect_drift
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


def _drift(tmp_path, cause, variant, seed, rows=60_000):
    root = tmp_path / f"{cause}-{variant}-{seed}"
    truth = generate_lake(root, cause=cause, variant=variant, seed=seed, rows=rows)
    lake = wb.open_lake(root, mask_key="k")
    onset = truth.onset or (truth.end - dt.timedelta(days=5, hours=seed % 7))
    b0, b1 = onset - dt.timedelta(days=8), onset - dt.timedelta(days=1)
    binning = fit_lake_binning(lake, start=b0, end=b1)
    res = detect_drift(summarize(lake, binning, start=b0, end=b1),
                       summarize(lake, binning, start=onset, end=onset + dt.timedelta(days=2)))
    return truth, res


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_healthy_lakes_stay_quiet(tmp_path, seed):
    _, res = _drift(tmp_path, "none", 0, seed)
    assert res.drifted == (), [(f.feature, f.reasons) for f in res.drifted]
    assert res.baseline_rows > 10_000 and res.window_rows > 3_000  # big samples, still quiet


@pytest.mark.parametrize(("cause", "variant", "seed"), [
    ("data_drift", 0, 11), ("data_drift", 0, 12), ("data_drift", 1, 13), ("data_drift", 1, 14),
    ("schema_mismatch", 0, 15), ("schema_mismatch", 1, 16), ("schema_mismatch", 2, 17),
    ("schema_mismatch", 0, 18),
])
def test_injected_changes_are_caught(tmp_path, cause, variant, seed):
    truth, res = _drift(tmp_path, cause, variant, seed)
    culprit = truth.subject["feature"]
    assert culprit in [f.feature for f in res.drifted]
    f = res.feature(culprit)
    if cause == "schema_mismatch" and variant == 0:
        assert f.scale_power is not None and abs(f.scale_power) >= 1
    if cause == "schema_mismatch" and variant == 1:
        assert f.null_rate_window > 0.9
    if cause == "schema_mismatch" and variant == 2:
        assert f.unseen_share > 0.5
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert culprit in res._repr_html_() and "drifted=" in repr(res)


# -- NaN and infinities ------------------------------------------------------------------------

def _nan_frames(seed: int, n: int, feature_share: float, values, *, both: bool = False):
    """A baseline and a window of the same population; in the window (and, with ``both``, in the
    baseline too) ``feature_share`` of one feature's values become ``values``."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)

    def frame(start, rows, share):
        x = rng.normal(100, 15, rows)
        k = int(rows * share)
        if k:
            x[rng.choice(rows, k, replace=False)] = np.resize(np.array(values, float), k)
        return pl.DataFrame({"timestamp": [start + dt.timedelta(seconds=int(s)) for s in
                                           np.sort(rng.integers(0, 86400 * 3, rows))],
                             "model_version": "v1", "route": "primary", "amount": x,
                             "age": rng.gamma(2, 10, rows)})
    base = frame(t0, n, feature_share if both else 0.0)
    win = frame(t0 + dt.timedelta(days=7), n // 2, feature_share)
    return base, win


def _nan_drift(base, win):
    from workbench.summaries import summarize_frame
    from workbench.summaries.binning import fit_binning

    b = fit_binning(base.lazy(), numeric=("amount", "age"), categorical=())
    return detect_drift(summarize_frame(base.lazy(), b), summarize_frame(win.lazy(), b))


@pytest.mark.parametrize(("seed", "n", "share"), [(1, 4_000, 1.0), (2, 10_000, 1.0), (3, 6_000, 0.7)])
def test_a_feature_turning_nan_is_a_null_rate_drift_and_n_window_counts_rows(seed, n, share):
    import numpy as np

    base, win = _nan_frames(seed, n, share, [np.nan])
    res = _nan_drift(base, win)
    f = res.feature("amount")
    assert f.drifted and any(r.startswith("null rate") for r in f.reasons), f.reasons
    assert f.null_rate_window == pytest.approx(share, abs=1e-3)
    assert f.n_window == win.height and f.n_baseline == base.height  # rows, NaN ones included
    assert [d.feature for d in res.drifted] == ["amount"]


@pytest.mark.parametrize("seed", [4, 5])
def test_infinite_values_appearing_are_reported(seed):
    import numpy as np

    base, win = _nan_frames(seed, 8_000, 0.12, [np.inf, -np.inf])
    f = _nan_drift(base, win).feature("amount")
    assert f.inf_rate_window == pytest.approx(0.12, abs=1e-3) and f.inf_rate_baseline == 0
    assert any(r.startswith("infinite values") for r in f.reasons), f.reasons
    assert f.null_rate_window == 0  # ±inf is invalid, not missing


@pytest.mark.parametrize(("seed", "share"), [(6, 0.004), (7, 0.01), (8, 0.02)])
def test_a_few_nans_on_both_sides_stay_quiet(seed, share):
    import numpy as np

    base, win = _nan_frames(seed, 12_000, share, [np.nan, np.inf, -np.inf], both=True)
    res = _nan_drift(base, win)
    assert res.drifted == (), [(f.feature, f.reasons) for f in res.drifted]


@pytest.mark.parametrize(("seed", "factor", "n"), [(81, 12.0, 5_000), (82, 0.085, 8_000), (83, 1150.0, 4_000)])
def test_scale_tolerance_decides_what_reads_as_a_unit_change(seed, factor, n):
    """A feature multiplied by ``factor`` (a power of ten off by 7-20 %): within the default
    tolerance (0.1 in log10) it is a unit change; with a tighter one it is not."""
    import datetime as dt
    import math

    import numpy as np
    import polars as pl

    from workbench.evidence.drift import DriftThresholds
    from workbench.summaries import summarize_frame
    from workbench.summaries.binning import fit_binning

    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)

    def frame(start, rows, k):
        return pl.DataFrame({"timestamp": [start + dt.timedelta(seconds=int(s)) for s in range(rows)],
                             "model_version": "v1", "route": "primary", "amount": rng.gamma(4, 25, rows) * k})
    base, win = frame(t0, n, 1.0), frame(t0 + dt.timedelta(days=7), n, factor)
    b = fit_binning(base.lazy(), numeric=("amount",), categorical=())
    sb, sw = summarize_frame(base.lazy(), b), summarize_frame(win.lazy(), b)
    off = abs(math.log10(factor) - round(math.log10(factor)))
    loose = detect_drift(sb, sw).feature("amount")
    assert loose.scale_power == round(math.log10(factor))
    assert any("unit change" in r for r in loose.reasons)
    tight = detect_drift(sb, sw, thresholds=DriftThresholds(scale_tolerance=off / 2)).feature("amount")
    assert tight.scale_power is None and not any("unit change" in r for r in tight.reasons)
    assert tight.scale_ratio == pytest.approx(loose.scale_ratio)
