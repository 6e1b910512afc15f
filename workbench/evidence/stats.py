"""Small statistics on tallies: distances between binned distributions and tests on counts.

Every function takes counts (not rows), so it runs on summaries of any size.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TypeVar

import numpy as np

from workbench.evidence._scipy import stats

__all__ = ["ALPHA", "Z95", "holm", "overridden", "psi", "js_distance", "ks_from_counts", "chi2_counts", "two_proportion", "benjamini_hochberg",
           "wasserstein_from_counts"]

#: the default significance level of the package's tests, where a detector or hypothesis has no
#: reason for another (its thresholds object names its own when it does): 1 %, because an alarm on
#: healthy data must be rare when a triage runs dozens of tests
ALPHA = 0.01
Z95 = 1.959963984540054  # two-sided 95 % normal quantile, for every interval of this package
_EPS = 1e-4  # floor of a bin's share in PSI, so an empty bin does not give infinity


_T = TypeVar("_T")


def overridden(thresholds: _T, **values) -> _T:
    """``thresholds`` (a frozen thresholds dataclass) with the keyword arguments that are not None
    put in: how a detector's per-call options (``alpha=...``) override its thresholds object."""
    return dataclasses.replace(thresholds, **{k: v for k, v in values.items() if v is not None})


def _shares(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    return c / total if total > 0 else np.zeros_like(c)


def psi(expected_counts, actual_counts) -> float:
    """Population stability index, sum over bins of (a - e) * ln(a / e), shares floored at 1e-4."""
    e = np.maximum(_shares(expected_counts), _EPS)
    a = np.maximum(_shares(actual_counts), _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def js_distance(p_counts, q_counts) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two binned distributions."""
    p, q = _shares(p_counts), _shares(q_counts)
    m = (p + q) / 2

    def kl(x, y):
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / y[mask])))

    return math.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2))


def ks_from_counts(a_counts, b_counts) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic on binned data and its asymptotic p-value.

    The statistic is the largest gap between the two empirical CDFs at the bin edges: the exact
    two-sample statistic restricted to those points (a lower bound of the unbinned one, short of
    it by at most the largest bin's share). The p-value uses the Kolmogorov distribution with
    the effective sample size ``n*m/(n+m)``, as scipy's ``ks_2samp(method="asymp")`` does.
    """
    a = np.asarray(a_counts, dtype=float)
    b = np.asarray(b_counts, dtype=float)
    n, m = a.sum(), b.sum()
    if n == 0 or m == 0:
        return 0.0, 1.0
    d = float(np.max(np.abs(np.cumsum(a) / n - np.cumsum(b) / m)))
    en = n * m / (n + m)
    p = float(stats.kstwo.sf(d, np.round(en)))
    return d, min(1.0, max(0.0, p))


def chi2_counts(a_counts, b_counts) -> tuple[float, float, int]:
    """Chi-squared test of homogeneity of two count vectors (empty columns dropped)."""
    table = np.vstack([np.asarray(a_counts, dtype=float), np.asarray(b_counts, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0, 0
    res = stats.chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue), int(res.dof)


def two_proportion(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """Difference of two proportions (p2 - p1) and the two-sided z-test p-value."""
    if n1 == 0 or n2 == 0:
        return 0.0, 1.0
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return p2 - p1, 1.0 if p1 == p2 else 0.0
    z = (p2 - p1) / se
    return p2 - p1, float(2 * stats.norm.sf(abs(z)))


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order."""
    p = np.asarray(pvalues, dtype=float)
    if p.size == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(q)
    out[order] = np.minimum(q, 1.0)
    return out


def holm(pvalues) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values, in the input order: rejecting where the adjusted value is
    below ``alpha`` keeps the chance of any false alarm among all the tests at most ``alpha``."""
    p = np.asarray(pvalues, dtype=float)
    if p.size == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (p.size - np.arange(p.size)))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out


def wasserstein_from_counts(a_counts, b_counts, edges, lo: float, hi: float) -> float:
    """Earth mover's distance between two binned distributions on ``edges``.

    The under- and overflow bins are bounded by the observed ``lo`` and ``hi``; within a bin the
    mass is taken as sitting on the bin, so the result is the area between the two binned CDFs.
    """
    edges = np.asarray(edges, dtype=float)
    bounds = np.concatenate([[min(lo, edges[0]) if edges.size else lo], edges,
                             [max(hi, edges[-1]) if edges.size else hi]])
    widths = np.diff(bounds)
    gaps = np.abs(np.cumsum(_shares(a_counts)) - np.cumsum(_shares(b_counts)))[:-1]
    g = np.concatenate([[0.0], gaps, [0.0]])  # CDF gaps at every bound; none outside the data
    # mass spread evenly within a bin: the gap moves linearly across it (trapezoid rule)
    return float(np.sum(widths * (g[:-1] + g[1:]) / 2))
