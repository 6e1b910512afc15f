"""The :class:`Summary`: compact, mergeable tallies per time bucket × version × route (× segment).

Two tables hold everything detectors need:

``table`` (wide, one row per key)
    ``n`` rows, ``fallback`` count; per numeric feature ``f``: ``f|null`` (null or NaN: a
    missing value), ``f|inf`` (±inf: an invalid value), ``f|sum``, ``f|sumsq``, ``f|min``,
    ``f|max`` (of finite values) and bin counts ``f|h0`` .. ``f|hK`` of finite values (``h0`` is
    the underflow, ``hK`` the overflow), so ``null + inf + sum of bins = n``; per categorical ``c``: ``c|v0`` .. (the baseline's top-K
    values, in :attr:`Binning.categorical` order), ``c|other``, ``c|unseen``, ``c|null``;
    score tallies ``score|y1|hI`` / ``score|y0|hI`` / ``score|yna|hI`` (binary) and
    ``labelled``, ``correct`` (classification) or ``abs_err``, ``sq_err`` (regression), over
    rows whose label and prediction are both valid; ``score|invalid``, ``latency_ms|invalid``
    (null, NaN or ±inf), ``prediction|invalid``, ``label|invalid`` (NaN or ±inf): rows left
    out of the tallies that need that value.
``latency`` (long)
    keys + ``bin`` (log-spaced, see :func:`latency_bin_bounds`) + ``n``.
``confusion`` (long, classification)
    keys + ``prediction`` + ``label`` (both as text; binary ones as "0"/"1"; ``label`` null for
    rows without a label yet) + ``n``: the confusion matrix and the predicted-class mix, from
    which class permutations and per-class rates are read.

Every column is a count, a sum, a min or a max, so summaries of disjoint row sets add up
(``a + b``) to the summary of their union, whatever engine produced them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import polars as pl

from workbench.exceptions import SummaryMismatchError
from workbench.results import Result, iso
from workbench.summaries.binning import SCORE_BINS, Binning, latency_bin_mid

__all__ = ["ScoreCounts", "Summary", "merge_tables", "score_counts"]


class ScoreCounts(NamedTuple):
    """Rows per score bin (``SCORE_BINS`` equal-width bins of [0, 1], ascending), by label."""

    positives: np.ndarray
    negatives: np.ndarray
    unlabelled: np.ndarray
    has_labels: bool  # whether the summary kept label tallies (binary task with labels)

    @property
    def labelled(self) -> np.ndarray:
        return self.positives + self.negatives

    @property
    def all(self) -> np.ndarray:
        return self.positives + self.negatives + self.unlabelled


def score_counts(row: Mapping) -> ScoreCounts:
    """The score histogram of one row of a summary table (e.g. ``summary.collapse().table.row(0,
    named=True)``): positives, negatives and unlabelled rows per bin. A summary without label
    tallies has every row in ``unlabelled``; one without scores has zeros everywhere."""
    def h(name: str) -> np.ndarray:
        return np.array([row.get(f"score|{name}h{i}") or 0 for i in range(SCORE_BINS)], float)
    if "score|y1|h0" in row:
        return ScoreCounts(h("y1|"), h("y0|"), h("yna|"), True)
    zero = np.zeros(SCORE_BINS)
    return ScoreCounts(zero, zero.copy(), h(""), False)


def _agg_for(col: str) -> pl.Expr:
    if col.endswith("|min"):
        return pl.col(col).min()
    if col.endswith("|max"):
        return pl.col(col).max()
    return pl.col(col).sum()


_CONF = ["prediction", "label"]
_DTYPES = {"Int64": pl.Int64, "Int32": pl.Int32, "Int8": pl.Int8, "UInt32": pl.UInt32, "Float64": pl.Float64,
           "Float32": pl.Float32, "String": pl.String, "Boolean": pl.Boolean}


def _sum_long(frame: pl.DataFrame, keys: list[str], extra: list[str]) -> pl.DataFrame:
    """Add the ``n`` of a long table up to ``keys`` + ``extra``."""
    return frame.group_by([*keys, *extra]).agg(pl.col("n").sum()).sort([*keys, *extra], nulls_last=True)


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
    confusion: pl.DataFrame | None = None

    def _summary(self) -> str:
        n = int(self.table["n"].sum()) if self.table.height else 0
        return f"rows={n}, groups={self.table.height}, keys={list(self.keys)}, bucket={self.bucket!r}"

    def to_dict(self) -> dict:
        """JSON-safe: tables as column -> values (times ISO-8601), exact (no float rounding)."""
        def cols(df: pl.DataFrame | None):
            if df is None:
                return None
            return {"schema": {c: str(t) for c, t in df.schema.items()},
                    "columns": {c: ([iso(v) for v in df[c].to_list()] if df[c].dtype == pl.Datetime
                                    else df[c].to_list()) for c in df.columns}}
        return {"table": cols(self.table), "latency": cols(self.latency), "confusion": cols(self.confusion),
                "binning": dataclasses.asdict(self.binning),  # exact edges: they define the bins
                "keys": list(self.keys), "bucket": self.bucket,
                "task": self.task, "start": iso(self.start), "end": iso(self.end)}

    @classmethod
    def from_dict(cls, d: dict) -> "Summary":
        """Rebuild a summary from :meth:`to_dict` output (e.g. a stored JSON)."""
        def frame(x):
            if x is None:
                return None
            out = {}
            for c, v in x["columns"].items():
                t = x["schema"][c]
                if t.startswith("Datetime"):
                    out[c] = pl.Series(c, v, pl.String).str.to_datetime(time_zone="UTC", time_unit="us")
                else:
                    out[c] = pl.Series(c, v, dtype=_DTYPES.get(t.split("(")[0]))
            return pl.DataFrame(out)
        t = lambda v: dt.datetime.fromisoformat(v.replace("Z", "+00:00")) if v else None  # noqa: E731
        return cls(table=frame(d["table"]), latency=frame(d["latency"]), confusion=frame(d.get("confusion")),
                   binning=Binning.from_dict(d["binning"]), keys=tuple(d["keys"]), bucket=d["bucket"],
                   task=d["task"], start=t(d.get("start")), end=t(d.get("end")))

    def invalid_counts(self) -> dict[str, int]:
        """Rows with an invalid score, latency_ms, prediction or label (null, NaN or ±inf for
        score and latency; NaN or ±inf for prediction and label), by column; only columns with
        some. Those rows are left out of the tallies that need the value."""
        out = {}
        for c in ("score", "latency_ms", "prediction", "label"):
            col = f"{c}|invalid"
            if col in self.table.columns and (k := int(self.table[col].sum() or 0)):
                out[c] = k
        return out

    @property
    def rows(self) -> int:
        return int(self.table["n"].sum()) if self.table.height else 0

    # -- algebra -------------------------------------------------------------------------
    def merge(self, other: "Summary") -> "Summary":
        """The summary of both row sets (they must share binning, keys and bucket)."""
        if (self.keys, self.bucket) != (other.keys, other.bucket) or self.binning != other.binning:
            raise SummaryMismatchError("summaries merge only when made with the same binning, keys and bucket",
                                       expected=f"keys {list(self.keys)}, bucket {self.bucket!r}",
                                       found=f"keys {list(other.keys)}, bucket {other.bucket!r}"
                                       + ("" if self.binning == other.binning else ", another binning"))
        keys = list(self.keys)
        table = merge_tables([self.table, other.table], keys)
        lat = pl.concat([self.latency, other.latency], how="vertical_relaxed")
        lat = lat.group_by([*keys, "bin"]).agg(pl.col("n").sum()).sort([*keys, "bin"], nulls_last=True)
        conf = [c for c in (self.confusion, other.confusion) if c is not None]
        confusion = _sum_long(pl.concat(conf, how="vertical_relaxed"), keys, _CONF) if conf else None
        starts = [t for t in (self.start, other.start) if t is not None]
        ends = [t for t in (self.end, other.end) if t is not None]
        return replace(self, table=table, latency=lat, confusion=confusion, start=min(starts) if len(starts) == 2 else None,
                       end=max(ends) if len(ends) == 2 else None)

    __add__ = merge

    def where(self, predicate: pl.Expr) -> "Summary":
        """Keep the groups whose keys satisfy ``predicate`` (e.g. ``pl.col("route") == "canary"``)."""
        conf = self.confusion.filter(predicate) if self.confusion is not None else None
        return replace(self, table=self.table.filter(predicate), latency=self.latency.filter(predicate),
                       confusion=conf)

    def collapse(self, by: tuple[str, ...] | list[str] = ()) -> "Summary":
        """Add groups up to the keys ``by`` (``()`` gives one total row)."""
        by = list(by)
        lit = pl.lit("all")
        t = self.table
        lat = self.latency
        conf = self.confusion
        if not by:
            t = t.with_columns(lit.alias("__all"))
            lat = lat.with_columns(lit.alias("__all"))
            conf = conf.with_columns(lit.alias("__all")) if conf is not None else None
            by = ["__all"]
        table = merge_tables([t.drop([k for k in self.keys if k not in by])], by)
        lat = lat.group_by([*by, "bin"]).agg(pl.col("n").sum()).sort([*by, "bin"])
        conf = _sum_long(conf, by, _CONF) if conf is not None else None
        return replace(self, table=table, latency=lat, confusion=conf, keys=tuple(by))

    def confusion_matrix(self) -> tuple[list[str], np.ndarray]:
        """Classes (sorted) and the confusion counts of labelled rows over all groups: rows are
        predictions, columns labels. Empty when the summary has no classification rows."""
        if self.confusion is None or self.confusion.is_empty():
            return [], np.zeros((0, 0), dtype=np.int64)
        c = self.confusion.group_by(_CONF).agg(pl.col("n").sum())
        classes = sorted(set(c["prediction"].drop_nulls().to_list()) | set(c["label"].drop_nulls().to_list()))
        pos = {k: i for i, k in enumerate(classes)}
        m = np.zeros((len(classes), len(classes)), dtype=np.int64)
        for p, y, n in c.iter_rows():
            if p is not None and y is not None:
                m[pos[p], pos[y]] += n
        return classes, m

    def predicted_classes(self) -> dict[str, int]:
        """How often each class was predicted, labelled or not, over all groups."""
        if self.confusion is None or self.confusion.is_empty():
            return {}
        c = self.confusion.filter(pl.col("prediction").is_not_null()).group_by("prediction").agg(pl.col("n").sum())
        return dict(sorted(zip(c["prediction"].to_list(), c["n"].to_list())))

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
        Computed for every group at once (cumulative counts per group), not group by group.
        """
        lat = self.latency.filter(pl.col("bin").is_not_null())
        by = list(by)
        keys = by or ["__all"]
        if not by:
            lat = lat.with_columns(pl.lit("all").alias("__all"))
        g = (lat.group_by([*keys, "bin"]).agg(pl.col("n").sum()).sort([*keys, "bin"])
             .with_columns(pl.col("n").cum_sum().over(keys).alias("__cum"), pl.col("n").sum().over(keys).alias("__tot")))
        bins = g["bin"].to_numpy()
        g = g.with_columns(pl.Series("__mid", latency_bin_mid(bins)))
        out = g.group_by(keys, maintain_order=True).agg(pl.col("__tot").first().alias("n"))
        for q in qs:
            rank = pl.max_horizontal(pl.lit(1), (pl.col("__tot") * q).ceil())  # as latency_quantile
            picked = (g.filter(pl.col("__cum") >= rank).group_by(keys, maintain_order=True)
                      .agg(pl.col("__mid").first().alias(f"p{q * 100:g}")))
            out = out.join(picked, on=keys, how="left")
        out = out.with_columns(pl.col("n").cast(pl.Int64))
        return out.drop("__all") if not by else out
