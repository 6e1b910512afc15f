"""Row-level effects an incident has on one day of requests.

A :class:`Batch` holds a day's rows as numpy arrays while :mod:`workbench.synthetic.rows` builds
them. Each effect names the ``stage`` it acts at (the population, the upstream data the model
receives, the embedding service, the free text, or the logging path) and mutates the batch in
place from its onset on. Effects on a model version live in :class:`~workbench.synthetic.model.Quirks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.synthetic import pii

__all__ = [
    "STAGES",
    "Batch",
    "CategoryMix",
    "Drop",
    "EmbeddingChange",
    "LatentShift",
    "Leak",
    "NullOut",
    "Recode",
    "Rescale",
    "Reshape",
]

#: the order effects are applied in, as rows flow from the population to the log
STAGES = ("latent", "categories", "upstream", "embedding", "text", "logging")


@dataclass
class Batch:
    """One day of requests, column-wise; filled stage by stage."""

    t: np.ndarray
    route: np.ndarray
    release: np.ndarray
    people: pl.DataFrame
    person: np.ndarray
    latent: np.ndarray | None = None
    true_num: np.ndarray | None = None
    seen_num: np.ndarray | None = None
    true_cat: np.ndarray | None = None
    seen_cat: np.ndarray | None = None
    recoded: np.ndarray | None = None
    emb_true: np.ndarray | None = None
    emb_seen: np.ndarray | None = None
    other: pl.Series | None = None
    lost: np.ndarray | None = None
    nan_num: np.ndarray | None = None  # numeric cells written as NaN rather than null

    def since(self, onset_us: int) -> np.ndarray:
        """Rows at or after ``onset_us``."""
        return self.t >= onset_us


@dataclass(frozen=True)
class LatentShift:
    """Population drift: a numeric feature's latent moves by ``delta`` sd, ramping over ``ramp_us``."""

    feature: int
    onset_us: int
    ramp_us: int
    delta: float
    stage: str = "latent"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        weight = np.clip((batch.t - self.onset_us) / max(self.ramp_us, 1), 0.0, 1.0)
        batch.latent[:, self.feature] += self.delta * weight


@dataclass(frozen=True)
class CategoryMix:
    """Population drift: from onset a share of rows switch to one category (a campaign, a new market)."""

    feature: int
    onset_us: int
    code: int
    switch: float
    stage: str = "categories"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        rows = batch.since(self.onset_us) & (rng.random(batch.t.size) < self.switch)
        batch.true_cat[rows, self.feature] = self.code


@dataclass(frozen=True)
class Rescale:
    """Upstream unit change: the values the model receives are multiplied by ``factor``."""

    feature: int
    onset_us: int
    factor: float
    decimals: int
    stage: str = "upstream"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        rows = batch.since(self.onset_us)
        batch.seen_num[rows, self.feature] = np.round(batch.seen_num[rows, self.feature] * self.factor, self.decimals)


@dataclass(frozen=True)
class NullOut:
    """Upstream rename or removal: the field the feature reads is gone, so it arrives empty
    (logged as null, or as NaN with ``nan``: what a pandas-based feature job writes)."""

    feature: int
    onset_us: int
    categorical: bool = False
    nan: bool = False
    stage: str = "upstream"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        rows = batch.since(self.onset_us)
        if self.categorical:
            batch.seen_cat[rows, self.feature] = -1
        else:
            batch.seen_num[rows, self.feature] = np.nan
            if self.nan:
                if batch.nan_num is None:
                    batch.nan_num = np.zeros(batch.seen_num.shape, dtype=bool)
                batch.nan_num[rows, self.feature] = True


@dataclass(frozen=True)
class Recode:
    """Upstream code-set change: categories arrive in a coding the model has never seen."""

    feature: int
    onset_us: int
    stage: str = "upstream"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        batch.recoded[batch.since(self.onset_us), self.feature] = True


@dataclass(frozen=True)
class Reshape:
    """An external API's new version returns a numeric feature on another scale or orientation.

    ``mode`` is ``"inverted"`` (high means low now), ``"rescaled"`` (a new range) or
    ``"recalibrated"`` (a power transform bunching values at the bottom).
    """

    feature: int
    onset_us: int
    mode: str
    low: float
    high: float
    new_low: float
    new_high: float
    power: float
    decimals: int
    stage: str = "upstream"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        rows = batch.since(self.onset_us)
        x = batch.seen_num[rows, self.feature]
        u = np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
        if self.mode == "inverted":
            u = 1.0 - u
        elif self.mode == "recalibrated":
            u = u**self.power
        batch.seen_num[rows, self.feature] = np.round(self.new_low + (self.new_high - self.new_low) * u, self.decimals)


@dataclass(frozen=True)
class EmbeddingChange:
    """A new embedding model behind the same API: vectors turn away from the old space, norms change.

    Each vector becomes ``norm * unit(keep * e + (1 - keep) * e @ rotation)``: ``keep`` is how much
    of the old geometry survives, ``rotation`` a random orthogonal matrix.
    """

    onset_us: int
    rotation: np.ndarray
    keep: float
    norm: float
    stage: str = "embedding"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        rows = batch.since(self.onset_us)
        e = batch.emb_seen[rows].astype(np.float64)
        mixed = self.keep * e + (1.0 - self.keep) * (e @ self.rotation)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        batch.emb_seen[rows] = (self.norm * mixed).astype(np.float32)


@dataclass(frozen=True)
class Leak:
    """Personal data starts appearing in the free-text column for a share of rows."""

    onset_us: int
    share: float
    kind: str
    stage: str = "text"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        rows = np.flatnonzero(batch.since(self.onset_us) & (rng.random(batch.t.size) < self.share))
        if rows.size == 0:
            return
        if self.kind in ("email", "phone"):
            personal = batch.people[self.kind].gather(batch.person[rows])
        elif self.kind == "card":
            personal = pii.card_numbers(rng, rows.size, valid=True, spaced=bool(rng.random() < 0.5))
        else:
            personal = pii.ibans(rng, rows.size)
        leaked = pii.leak_into(batch.other.gather(rows), personal, rng)
        batch.other = batch.other.scatter(rows, leaked)


@dataclass(frozen=True)
class Drop:
    """Telemetry loss: rows served but never logged; ``release`` confines it to one version."""

    onset_us: int
    rate: float
    release: int | None = None
    stage: str = "logging"

    def apply(self, batch: Batch, rng: np.random.Generator) -> None:
        rows = batch.since(self.onset_us) & (rng.random(batch.t.size) < self.rate)
        if self.release is not None:
            rows &= batch.release == self.release
        batch.lost |= rows
