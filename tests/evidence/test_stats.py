"""Statistics on tallies, checked against scipy on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from workbench.evidence import stats as st

rng = np.random.default_rng(0)


def test_js_matches_scipy():
    p, q = rng.integers(0, 100, 12), rng.integers(0, 100, 12)
    assert st.js_distance(p, q) == pytest.approx(jensenshannon(p / p.sum(), q / q.sum(), base=2), abs=1e-12)
    assert st.js_distance(p, p) == 0.0


def test_psi_by_hand():
    e, a = np.array([50, 30, 20]), np.array([30, 30, 40])
    pe, pa = e / 100, a / 100
    assert st.psi(e, a) == pytest.approx(np.sum((pa - pe) * np.log(pa / pe)), rel=1e-12)
    assert st.psi(e, e) == 0.0


def test_ks_on_bins_matches_scipy_on_binned_values():
    x, y = rng.normal(0, 1, 3000), rng.normal(0.1, 1, 2000)
    edges = np.quantile(x, np.linspace(0, 1, 21)[1:-1])
    bx, by = np.searchsorted(edges, x), np.searchsorted(edges, y)
    a, b = np.bincount(bx, minlength=20), np.bincount(by, minlength=20)
    d, p = st.ks_from_counts(a, b)
    ref = stats.ks_2samp(bx, by, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-6)
    # the binned statistic is within one bin's mass of the unbinned one
    assert abs(d - stats.ks_2samp(x, y).statistic) <= 0.06


def test_chi2_matches_scipy():
    a, b = np.array([120, 80, 40, 0]), np.array([100, 90, 70, 0])
    chi, p, dof = st.chi2_counts(a, b)
    ref = stats.chi2_contingency(np.vstack([a[:3], b[:3]]), correction=False)
    assert (chi, p, dof) == pytest.approx((ref.statistic, ref.pvalue, ref.dof))


def test_two_proportion_matches_the_z_test():
    d, p = st.two_proportion(30, 1000, 55, 1000)
    p1, p2, pool = 0.03, 0.055, 85 / 2000
    z = (p2 - p1) / np.sqrt(pool * (1 - pool) * 2 / 1000)
    assert d == pytest.approx(0.025) and p == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)


def test_benjamini_hochberg_matches_scipy():
    p = rng.uniform(0, 0.2, 40)
    assert st.benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p), rel=1e-12)


def test_wasserstein_on_fine_bins_is_close_to_scipy():
    # (baseline-quantile bins cannot resolve a window tail far beyond the baseline's range, so
    # the check uses a shift that stays mostly inside it)
    x, y = rng.normal(0, 1, 20000), rng.normal(0.3, 1.05, 20000)
    edges = np.quantile(x, np.linspace(0, 1, 201)[1:-1])
    a = np.bincount(np.searchsorted(edges, x), minlength=200)
    b = np.bincount(np.searchsorted(edges, y), minlength=200)
    w = st.wasserstein_from_counts(a, b, edges, min(x.min(), y.min()), max(x.max(), y.max()))
    assert w == pytest.approx(stats.wasserstein_distance(x, y), rel=0.06)  # 200 bins: ~4 % here


def test_holm_matches_the_step_down_definition():
    import numpy as np

    from workbench.evidence.stats import holm

    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # sorted: 0.005*5, 0.01*4, 0.03*3, 0.04*2, 0.5*1 -> running max -> 0.025, 0.04, 0.09, 0.09, 0.5
    assert holm(p).tolist() == pytest.approx([0.04, 0.09, 0.09, 0.025, 0.5])
    assert holm([]).size == 0 and holm([0.9, 0.8]).max() <= 1.0
