"""Bins fixed from a baseline window, so every later window is counted on the same grid.

A :class:`Binning` is plain data (edges and vocabularies): any engine that applies it
the same way produces summaries that merge with ours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.lake.cardinality import is_high_cardinality
from workbench.results import Result

__all__ = ["Binning", "LATENCY_RATIO", "LATENCY_MIN_MS", "LATENCY_BINS", "SCORE_BINS", "fit_binning",
           "latency_bin_expr", "latency_bin_bounds", "latency_bin_mid", "latency_quantile"]

#: Latency bins grow by this ratio, so a quantile read at a bin's geometric middle is within
#: sqrt(1.02) - 1 < 1 % of any value in the bin.
LATENCY_RATIO = 1.02
LATENCY_MIN_MS = 0.01
LATENCY_BINS = int(math.ceil(math.log(1e7 / LATENCY_MIN_MS) / math.log(LATENCY_RATIO)))  # up to ~3 hours
SCORE_BINS = 20


@dataclass(frozen=True, repr=False)
class Binning(Result):
    """Histogram edges for numeric features and vocabularies for categorical ones.

    Attributes
    ----------
    numeric : dict[str, list[float]]
        Inner edges per numeric feature (baseline quantiles, deduplicated). Values below
        the first edge fall in bin 0 (underflow), above the last in the overflow bin.
    categorical : dict[str, list[str]]
        The baseline's top-K values per categorical feature, most frequent first.
    seen : dict[str, list[str]]
        Every value the baseline had (up to a bound), to count unseen categories.
    start, end : str or None
        The baseline window the bins came from (ISO-8601).
    """

    numeric: dict[str, list[float]]
    categorical: dict[str, list[str]]
    seen: dict[str, list[str]]
    start: str | None = None
    end: str | None = None
    rows: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def n_bins(self, feature: str) -> int:
        """Number of bins of a numeric feature, under- and overflow included."""
        return len(self.numeric[feature]) + 1

    def _summary(self) -> str:
        return f"numeric={len(self.numeric)}, categorical={len(self.categorical)}, rows={self.rows}"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Binning":
        return cls(**d)


def fit_binning(frame: pl.LazyFrame, *, numeric: tuple[str, ...], categorical: tuple[str, ...],
                n_bins: int = 20, top_k: int = 20, max_seen: int = 10_000, sample_rows: int = 200_000,
                start: str | None = None, end: str | None = None) -> Binning:
    """Fit bins on a baseline frame.

    Numeric edges are the baseline's ``n_bins - 1`` inner quantiles (ties merged, so a
    feature with few distinct values gets fewer bins), taken on an evenly spaced sample of at
    most ``sample_rows`` rows: edges only need to split the baseline into similar shares, and a
    200k-row sample puts each edge within a fraction of a percentile. Categorical vocabularies
    count every baseline row and keep the ``top_k`` most frequent values; the rest count as
    "other". A categorical column whose non-null baseline values are mostly distinct (share above
    ``HIGH_CARDINALITY_SHARE``, see :mod:`workbench.lake.cardinality`) is id-like: it is listed in
    ``meta["high_cardinality"]`` with its counts and keeps no ``seen`` set, so drift reports no
    unseen share for it (its null rate is still tested).
    """
    rows = int(frame.select(pl.len()).collect(engine="streaming").item())
    every = max(1, rows // sample_rows)
    sample, counts = _baseline_pass(frame, numeric, categorical, every)
    qs = np.linspace(0, 1, n_bins + 1)[1:-1]

    def fit(f: str) -> list[float]:
        x = sample[f].cast(pl.Float64).to_numpy()
        x = x[np.isfinite(x)]
        return sorted({float(v) for v in sorted_quantiles(np.sort(x), qs)}) if x.size else []

    from workbench.summaries.tally import map_batches  # (tally imports this module)

    edges: dict[str, list[float]] = dict(zip(numeric, map_batches(fit, numeric)))  # sorts on threads
    vocab, seen, high = {}, {}, {}
    for c, df in zip(categorical, counts):
        values = [str(v) for v in df[c].head(max_seen).to_list()]
        vocab[c] = values[:top_k]
        seen[c] = values
        distinct, nonnull = df.height, int(df["n"].sum())
        if is_high_cardinality(distinct, nonnull):
            # id-like: no stable code set, so "unseen" says nothing (see workbench.lake.cardinality)
            high[c] = {"distinct": distinct, "rows": nonnull}
            seen[c] = []
    return Binning(numeric=edges, categorical=vocab, seen=seen, start=start, end=end, rows=rows,
                   meta={"n_bins": n_bins, "top_k": top_k, "quantile_sample_every": max(1, rows // sample_rows)
                         if numeric else None, "high_cardinality": high})


def sorted_quantiles(x: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """``np.quantile(x, qs)`` (its default, linear method, the same arithmetic) of a sorted,
    NaN-free ``x``: read off the sorted values instead of partitioning ``x`` again for each
    quantile, which takes a few times longer than the sort."""
    n = len(x)
    virtual = (n - 1) * qs
    prev = np.floor(virtual)
    nxt = prev + 1
    above, below = virtual >= n - 1, virtual < 0
    prev[above], nxt[above] = -1, -1
    prev[below], nxt[below] = 0, 0
    prev, nxt = prev.astype(np.intp), nxt.astype(np.intp)
    gamma = virtual - prev
    a, b = x[prev], x[nxt]
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def _baseline_pass(frame: pl.LazyFrame, numeric: tuple[str, ...], categorical: tuple[str, ...],
                   every: int) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """One streaming pass over the baseline: every ``every``-th row of the numeric features (rows
    0, every, 2 * every, ... as ``gather_every`` takes them) and each categorical feature's
    non-null value counts (``c``, ``n``), most frequent first, ties in value order."""
    from workbench.summaries.tally import map_batches, stream_batches  # (tally imports this module)

    cols = list(dict.fromkeys([*numeric, *categorical]))

    def offsets():
        offset = 0
        for batch in stream_batches(frame.select(cols)) if cols else ():
            yield batch, (-offset) % every  # the first row of the batch that gather_every takes
            offset += batch.height

    def tally(item):
        batch, first = item
        return (batch.select(numeric).gather_every(every, offset=first) if numeric else None,
                [batch.get_column(c).value_counts(name="n") for c in categorical])

    res = map_batches(tally, offsets())
    parts = [r[0] for r in res if r[0] is not None]
    counts = {c: [r[1][i] for r in res] for i, c in enumerate(categorical)}
    sample = pl.concat(parts) if parts else frame.select(numeric).clear().collect()
    tallies = [_add_counts(counts[c], c).filter(pl.col(c).is_not_null())
               .sort(["n", c], descending=[True, False]) if counts[c] else
               frame.select(c).clear().collect().with_columns(pl.lit(0, pl.UInt32).alias("n")) for c in categorical]
    return sample, tallies


def _add_counts(parts: list[pl.DataFrame], c: str) -> pl.DataFrame:
    return pl.concat(parts).group_by(c).agg(pl.col("n").sum())


def latency_bin_expr(col: str = "latency_ms") -> pl.Expr:
    """Log-spaced bin index of a latency in ms (0 holds everything below 0.01 ms; null, NaN and
    ±inf have no bin: they are invalid latencies, tallied in the null bin)."""
    v = pl.when(pl.col(col).is_finite()).then(pl.col(col).cast(pl.Float64))
    idx = ((v / LATENCY_MIN_MS).log() / math.log(LATENCY_RATIO)).floor() + 1
    return (pl.when(v.is_null()).then(None)
            .when(v < LATENCY_MIN_MS).then(0)
            .otherwise(idx.clip(1, LATENCY_BINS)).cast(pl.Int32))


def latency_bin_bounds(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds (ms) of latency bins."""
    idx = np.asarray(idx, dtype=float)
    lo = np.where(idx == 0, 0.0, LATENCY_MIN_MS * LATENCY_RATIO ** (idx - 1))
    hi = LATENCY_MIN_MS * LATENCY_RATIO ** idx
    return lo, hi


def latency_bin_mid(idx: np.ndarray) -> np.ndarray:
    """The value (ms) a latency bin stands for: its geometric middle (half its upper bound for
    bin 0, which starts at 0)."""
    lo, hi = latency_bin_bounds(idx)
    return np.where(lo > 0, np.sqrt(np.where(lo > 0, lo, 1.0) * hi), hi / 2)


def latency_quantile(counts: Mapping[int, float], q: float) -> float | None:
    """The ``q`` quantile (ms) of a latency histogram ``{bin: rows}``: the middle of the bin that
    holds the ``ceil(q * n)``-th value (at least the first), within 1 % of the exact value.
    :meth:`Summary.latency_quantiles` computes the same for every group of a summary at once."""
    if not counts:
        return None
    bins = np.array(sorted(counts))
    cum = np.cumsum([counts[b] for b in bins], dtype=float)
    k = int(np.searchsorted(cum, max(1, math.ceil(q * cum[-1]))))
    return float(latency_bin_mid(bins[k:k + 1])[0])
