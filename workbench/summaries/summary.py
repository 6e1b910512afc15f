"""The :class:`Summary`: compact, mergeable tallies per time bucket × version × route (× segment).

Two tables hold everything detectors need:

``table`` (wide, one row per key)
    ``n`` rows, ``fallback`` count; per numeric feature ``f``: ``f|null``, ``f|sum``,
    ``f|sumsq``, ``f|min``, ``f|max`` and bin counts ``f|h0`` .. ``f|hK`` (``h0`` is the
    underflow, ``hK`` the overflow); per categorical ``c``: ``c|v0`` .. (the baseline's top-K
    values, in :attr:`Binning.categorical` order), ``c|other``, ``c|unseen``, ``c|null``;
    score tallies ``score|y1|hI`` / ``score|y0|hI`` / ``score|yna|hI`` (binary) and
    ``labelled``, ``correct`` (classification) or ``abs_err``, ``sq_err`` (regression).
``latency`` (long)
    keys + ``bin`` (log-spaced, see :func:`latency_bin_bounds`) + ``n``.

Every column is a count, a sum, a min or a max, so summaries of disjoint row sets add up
(``a + b``) to the summary of their union, whatever engine produced them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from workbench.results import Result, iso
from workbench.summaries.binning import Binning, latency_bin_bounds

__all__ = ["Summary", "merge_tables"]


def _agg_for(col: str) -> pl.Expr:
    if col.endswith("|min"):
        return pl.col(col).min()
    if col.endswith("|max"):
        return pl.col(col).max()
    return pl.col(col).sum()


def merge_tables(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """Add wide summary tables row-wise by key (sums and counts add, mins and maxes combine)."""
    nonempty = [f for f in frames if f.height]
    if not nonempty:
        return frames[0] if frames else pl.DataFrame()
    both = pl.concat(nonempty, how="diagonal_relaxed")
    values = [c for c in both.columns if c not in keys]
    return both.group_by(keys, maintain_order=False).agg([_agg_for(c) for c in values]).sort(keys, nulls_last=True)


@dataclass(frozen=True, repr=False)
class Summary(Result):
    """Mergeable tallies of a set of prediction rows (see the module docstring)."""

    table: pl.DataFrame
    latency: pl.DataFrame
    binning: Binning
    keys: tuple[str, ...]
    bucket: str
    task: str = "binary_classification"
    start: dt.datetime | None = None  # the window the rows were taken from, when known
    end: dt.datetime | None = None

    def _summary(self) -> str:
        n = int(self.table["n"].sum()) if self.table.height else 0
        return f"rows={n}, groups={self.table.height}, keys={list(self.keys)}, bucket={self.bucket!r}"

    def to_dict(self) -> dict:
        return {"table": self.table.to_dicts(), "latency": self.latency.to_dicts(),
                "binning": self.binning.to_dict(), "keys": list(self.keys), "bucket": self.bucket,
                "task": self.task, "start": iso(self.start), "end": iso(self.end)}

    @property
    def rows(self) -> int:
        return int(self.table["n"].sum()) if self.table.height else 0

    # -- algebra -------------------------------------------------------------------------
    def merge(self, other: "Summary") -> "Summary":
        """The summary of both row sets (they must share binning, keys and bucket)."""
        if (self.keys, self.bucket) != (other.keys, other.bucket) or self.binning != other.binning:
            raise ValueError("summaries merge only when made with the same binning, keys and bucket")
        keys = list(self.keys)
        table = merge_tables([self.table, other.table], keys)
        lat = pl.concat([self.latency, other.latency], how="vertical_relaxed")
        lat = lat.group_by([*keys, "bin"]).agg(pl.col("n").sum()).sort([*keys, "bin"], nulls_last=True)
        starts = [t for t in (self.start, other.start) if t is not None]
        ends = [t for t in (self.end, other.end) if t is not None]
        return replace(self, table=table, latency=lat, start=min(starts) if len(starts) == 2 else None,
                       end=max(ends) if len(ends) == 2 else None)

    __add__ = merge

    def where(self, predicate: pl.Expr) -> "Summary":
        """Keep the groups whose keys satisfy ``predicate`` (e.g. ``pl.col("route") == "canary"``)."""
        return replace(self, table=self.table.filter(predicate), latency=self.latency.filter(predicate))

    def collapse(self, by: tuple[str, ...] | list[str] = ()) -> "Summary":
        """Add groups up to the keys ``by`` (``()`` gives one total row)."""
        by = list(by)
        lit = pl.lit("all")
        t = self.table
        lat = self.latency
        if not by:
            t = t.with_columns(lit.alias("__all"))
            lat = lat.with_columns(lit.alias("__all"))
            by = ["__all"]
        table = merge_tables([t.drop([k for k in self.keys if k not in by])], by)
        lat = lat.group_by([*by, "bin"]).agg(pl.col("n").sum()).sort([*by, "bin"])
        return replace(self, table=table, latency=lat, keys=tuple(by))

    # -- reading -------------------------------------------------------------------------
    def histogram(self, feature: str) -> np.ndarray:
        """Bin counts of a numeric feature over all groups (underflow first, overflow last)."""
        k = self.binning.n_bins(feature)
        return np.array([self.table[f"{feature}|h{i}"].sum() for i in range(k)], dtype=np.int64)

    def category_counts(self, feature: str) -> dict[str, int]:
        """Counts of the baseline's top-K values plus ``(other)`` and ``(null)``, over all groups."""
        vocab = self.binning.categorical[feature]
        out = {v: int(self.table[f"{feature}|v{i}"].sum()) for i, v in enumerate(vocab)}
        out["(other)"] = int(self.table[f"{feature}|other"].sum())
        out["(null)"] = int(self.table[f"{feature}|null"].sum())
        return out

    def latency_quantiles(self, qs=(0.5, 0.95, 0.99), *, by: tuple[str, ...] = ()) -> pl.DataFrame:
        """Latency quantiles (ms) from the log-spaced histogram, within 1 % of the exact value.

        The estimate is the geometric middle of the bin holding the ``ceil(q * n)``-th value.
        """
        lat = self.latency.filter(pl.col("bin").is_not_null())
        by = list(by)
        groups = lat.partition_by(by, as_dict=True, maintain_order=True) if by else {("all",): lat}
        rows = []
        for key, g in groups.items():
            g = g.group_by("bin").agg(pl.col("n").sum()).sort("bin")
            counts = g["n"].to_numpy()
            bins = g["bin"].to_numpy()
            total = counts.sum()
            row = dict(zip(by, key)) if by else {}
            row["n"] = int(total)
            cum = np.cumsum(counts)
            lo, hi = latency_bin_bounds(bins)
            mid = np.where(lo > 0, np.sqrt(lo * hi), hi / 2)
            for q in qs:
                if total == 0:
                    row[f"p{q * 100:g}"] = None
                    continue
                rank = max(1, int(np.ceil(q * total)))
                row[f"p{q * 100:g}"] = float(mid[np.searchsorted(cum, rank)])
            rows.append(row)
        return pl.DataFrame(rows)
