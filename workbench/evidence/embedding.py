"""Embedding drift between a baseline and a window, on bounded samples of rows.

Three views: the centroid shift (its length against the baseline's spread, and the cosine
distance between the mean vectors), the change in the
distribution of vector norms (two-sample KS on norms, and the ratio of median norms), and the
maximum mean discrepancy (MMD², Gaussian kernel with the median-distance bandwidth) with a
permutation test. Samples are taken by hashing the request id, so they are reproducible and
need no full collect. Drift is flagged when the permutation p-value is below ``alpha`` and one
effect size is material.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence._scipy import stats
from workbench.evidence.stats import ALPHA, overridden
from workbench.exceptions import InsufficientDataError
from workbench.results import Result

__all__ = ["EmbeddingDrift", "EmbeddingThresholds", "detect_embedding_drift", "sample_embeddings", "mmd2"]


@dataclass(frozen=True)
class EmbeddingThresholds:
    """What counts as embedding drift: a significant MMD and a material effect size."""

    #: the MMD permutation test's level (and the norms' KS test's)
    alpha: float = ALPHA
    #: a centroid shift of this many baseline spreads (sqrt of the covariance's trace) is material
    min_shift: float = 0.1
    #: a change of the median vector norm by this share is material
    min_norm_change: float = 0.05
    #: without a material shift or norm change, the MMD alone counts when it exceeds
    #: ``mmd_null_multiple`` times the ``mmd_null_quantile`` quantile of its permutation null
    mmd_null_quantile: float = 0.999
    mmd_null_multiple: float = 3.0
    #: fewer vectors than this on a side is too few to test
    min_vectors: int = 10
    #: vectors sampled (from both sides) to set the kernel bandwidth by the median heuristic
    bandwidth_sample: int = 500


@dataclass(frozen=True, repr=False)
class EmbeddingDrift(Result):
    """Embedding drift statistics (see :func:`detect_embedding_drift`)."""

    n_baseline: int
    n_window: int
    centroid_cosine: float
    centroid_shift: float
    norm_ratio: float
    norm_ks: float
    norm_p_value: float
    mmd2: float
    mmd_p_value: float
    drifted: bool
    reasons: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        return (f"drifted={self.drifted}, shift={self.centroid_shift:.3f}, norm_ratio={self.norm_ratio:.3f}, "
                f"mmd2={self.mmd2:.4f} (p={self.mmd_p_value:.3g})")


def sample_embeddings(frame: pl.LazyFrame, n: int, *, seed: int = 0, column: str = "embedding") -> np.ndarray:
    """Up to ``n`` embeddings, chosen by a hash of the request id (reproducible, streams).

    The hash is polars' ``Expr.hash(seed=...)``: the same rows in every process for one installed
    polars version (see :func:`workbench.lake.sampling.stable_sample`).
    """
    total = frame.select(pl.len()).collect(engine="streaming").item()
    if total == 0:
        return np.zeros((0, 0))
    keep = min(1.0, 1.5 * n / total)
    h = pl.col("request_id").hash(seed)
    # sorted by the hash before taking n: the same rows whatever order the scan yields them in
    picked = (frame.filter(pl.col(column).is_not_null() & ((h % 1_000_000) < int(keep * 1_000_000)))
              .select(h.alias("__h"), pl.col("request_id"), column).sort(["__h", "request_id"]).head(n)
              .collect(engine="streaming"))
    if picked.is_empty():
        return np.zeros((0, 0))
    return np.asarray(picked[column].to_list(), dtype=np.float64)


def mmd2(x: np.ndarray, y: np.ndarray, gamma: float) -> float:
    """Unbiased MMD² with the kernel exp(-gamma * |a - b|²)."""
    z = np.vstack([x, y])
    return _mmd2_from_kernel(_kernel(z, gamma), len(x))


def _kernel(z: np.ndarray, gamma: float) -> np.ndarray:
    sq = np.sum(z * z, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * z @ z.T, 0.0)
    return np.exp(-gamma * d2)


def _mmd2_from_kernel(k: np.ndarray, m: int, idx: np.ndarray | None = None) -> float:
    if idx is not None:
        k = k[np.ix_(idx, idx)]
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    n = k.shape[0] - m
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def _permuted_mmd2(k: np.ndarray, m: int, perms: list[np.ndarray]) -> np.ndarray:
    """:func:`_mmd2_from_kernel` of every permutation at once: with ``a`` the indicator of the
    rows a permutation puts first (``m`` of them) and ``b = 1 - a``, the three block sums are
    ``a'Ka``, ``b'Kb`` and ``a'Kb`` (one matrix product for all permutations, no re-indexed kernel)."""
    if not perms:
        return np.zeros(0)
    total = k.shape[0]
    n = total - m
    a = np.zeros((total, len(perms)))
    for j, idx in enumerate(perms):
        a[idx[:m], j] = 1.0
    b = 1.0 - a
    ka = k @ a
    diag = np.diag(k)
    kaa = np.einsum("ij,ij->j", a, ka)
    kab = np.einsum("ij,ij->j", b, ka)
    kbb = k.sum() - kaa - 2 * kab
    sxx = (kaa - diag @ a) / (m * (m - 1))
    syy = (kbb - diag @ b) / (n * (n - 1))
    return sxx + syy - 2 * kab / (m * n)


def detect_embedding_drift(baseline: np.ndarray, window: np.ndarray, *, alpha: float | None = None,
                           permutations: int = 200, seed: int = 0, min_shift: float | None = None,
                           min_norm_change: float | None = None,
                           thresholds: EmbeddingThresholds | None = None) -> EmbeddingDrift:
    """Compare two samples of embeddings (rows are vectors).

    ``alpha``, ``min_shift`` and ``min_norm_change`` override the fields of ``thresholds``
    (:class:`EmbeddingThresholds`, whose defaults apply otherwise).
    """
    th = overridden(thresholds or EmbeddingThresholds(), alpha=alpha, min_shift=min_shift,
                    min_norm_change=min_norm_change)
    alpha = th.alpha
    x, y = np.asarray(baseline, float), np.asarray(window, float)
    if len(x) < th.min_vectors or len(y) < th.min_vectors:
        raise InsufficientDataError(f"detect_embedding_drift needs at least {th.min_vectors} vectors on each side",
                                    found=f"{len(x)} baseline and {len(y)} window vectors")
    cx, cy = x.mean(axis=0), y.mean(axis=0)
    cos = 1 - float(cx @ cy / (np.linalg.norm(cx) * np.linalg.norm(cy))) if np.linalg.norm(cx) and \
        np.linalg.norm(cy) else 0.0
    # The cosine of centroids means little when they sit near the origin (centred embeddings):
    # the shift is also measured against the baseline's spread, sqrt(trace of its covariance).
    spread = float(np.sqrt(np.sum(x.var(axis=0)))) or 1.0
    shift = float(np.linalg.norm(cy - cx) / spread)
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    ratio = float(np.median(ny) / np.median(nx)) if np.median(nx) else 1.0
    ks = stats.ks_2samp(nx, ny)
    z = np.vstack([x, y])
    sub = z[np.random.default_rng(seed).choice(len(z), size=min(len(z), th.bandwidth_sample), replace=False)]
    d2 = np.sum((sub[:, None, :] - sub[None, :, :]) ** 2, axis=-1)
    med = np.median(d2[d2 > 0]) if np.any(d2 > 0) else 1.0
    gamma = 1.0 / med
    k = _kernel(z, gamma)
    m = len(x)
    observed = _mmd2_from_kernel(k, m)
    rng = np.random.default_rng(seed)
    null = _permuted_mmd2(k, m, [rng.permutation(len(z)) for _ in range(permutations)])
    p = float((1 + np.sum(null >= observed)) / (permutations + 1))
    reasons = []
    if p < alpha:
        if shift >= th.min_shift:
            reasons.append(f"centroid moved by {shift:.2f} of the baseline spread (cosine distance {cos:.3f})")
        if abs(ratio - 1) >= th.min_norm_change and ks.pvalue < alpha:
            reasons.append(f"vector norms x{ratio:.2f}")
        if not reasons and observed > np.quantile(null, th.mmd_null_quantile) * th.mmd_null_multiple:
            reasons.append(f"distribution changed (MMD² {observed:.4f})")
    return EmbeddingDrift(n_baseline=len(x), n_window=len(y), centroid_cosine=cos, centroid_shift=shift,
                          norm_ratio=ratio,
                          norm_ks=float(ks.statistic), norm_p_value=float(ks.pvalue), mmd2=observed,
                          mmd_p_value=p, drifted=bool(reasons), reasons=tuple(reasons),
                          meta={"gamma": gamma, "permutations": permutations, "kernel": "gaussian, median heuristic"})
