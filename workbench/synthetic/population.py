"""The people and things being scored: numeric and categorical features, segments, embeddings.

Numeric features share a Gaussian-copula latent (a common factor plus noise, with mild daily
seasonality for some), then map through their own distribution: log-normal amounts, gamma
durations, over-dispersed Poisson counts, bounded scores. Drift incidents act on the latent, so a
shift is "k standard deviations" whatever the feature's distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CategoricalFeature",
    "NumericFeature",
    "Segment",
    "draw_codes",
    "embed",
    "numeric_latent",
]

LOG_KINDS = frozenset({"lognormal", "gamma", "poisson"})


@dataclass(frozen=True)
class NumericFeature:
    """A resolved numeric feature: distribution, provenance and how it is logged."""

    name: str
    kind: str
    loc: float
    spread: float
    low: float
    high: float
    decimals: int
    unit: str
    seasonal: float
    loading: float
    null_rate: float
    dataset: str
    field: str
    field_type: str
    description: str

    @property
    def integer(self) -> bool:
        """Logged as Int64 (counts, whole days); unit-bearing features stay Float64."""
        return self.decimals == 0 and not self.unit

    @property
    def log(self) -> bool:
        """Whether models read it through ``log1p`` (heavy right tail)."""
        return self.kind in LOG_KINDS

    def values(self, latent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Map standard-normal latents to feature values."""
        z = np.asarray(latent, dtype=np.float64)
        if self.kind == "lognormal":
            x = self.loc * np.exp(self.spread * z)
        elif self.kind == "gamma":
            # Wilson-Hilferty: a gamma quantile from a normal one, cheap and monotone in z
            c = 1.0 / (9.0 * self.spread)
            x = self.loc * np.maximum(0.0, 1.0 - c + z * np.sqrt(c)) ** 3
        elif self.kind == "poisson":
            x = rng.poisson(self.loc * np.exp(self.spread * z - 0.5 * self.spread**2)).astype(np.float64)
        elif self.kind == "bounded":
            centre = np.log(self.loc / (1.0 - self.loc))
            u = 0.5 * (1.0 + np.tanh(0.5 * (centre + self.spread * z)))
            x = self.low + (self.high - self.low) * u
        else:
            x = self.loc + self.spread * z
        return np.round(x, self.decimals)


@dataclass(frozen=True)
class CategoricalFeature:
    """A resolved categorical feature and the alternative code set an upstream may adopt."""

    name: str
    vocab: tuple[str, ...]
    shares: tuple[float, ...]
    null_rate: float
    dataset: str
    field: str
    field_type: str
    description: str
    recoded: tuple[str, ...] | None
    recoded_type: str | None
    recoded_description: str


@dataclass(frozen=True)
class Segment:
    """A slicing column; ``feature`` is the categorical feature index when it is also a feature."""

    name: str
    values: tuple[str, ...]
    shares: tuple[float, ...]
    feature: int | None


def numeric_latent(features: tuple[NumericFeature, ...], factor: np.ndarray, hour: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Correlated standard-normal latents ``(n, p)``, with daily seasonality where declared."""
    n, p = factor.shape[0], len(features)
    loading = np.array([f.loading for f in features])
    seasonal = np.array([f.seasonal for f in features])
    z = rng.standard_normal((n, p)) * np.sqrt(1.0 - loading**2) + np.outer(factor, loading)
    if seasonal.any():
        z += np.outer(np.sin(2.0 * np.pi * (hour - 9.0) / 24.0), seasonal)
    return z


def draw_codes(shares: tuple[float, ...], n: int, rng: np.random.Generator) -> np.ndarray:
    """Category codes drawn with the given shares."""
    cdf = np.cumsum(shares)
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(n), side="right"), len(shares) - 1).astype(np.int16)


def embed(hidden: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """The embedding API's output: a unit-norm projection of the hidden user factors."""
    e = hidden @ basis
    return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)
