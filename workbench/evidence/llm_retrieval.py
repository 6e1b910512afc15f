"""Retrieval across an index rebuild: do recurring queries still retrieve the same documents?

A query asked both before and after a rebuild (same text once lower-cased and stripped of
punctuation) should mostly retrieve the same documents when the rebuild only added new ones. For
every such query, the Jaccard overlap of the documents its last call before and its first call after
the rebuild retrieved is compared with the same overlap between the two stretches *before* the
rebuild (the control: how much retrieval of a recurring query varies when nothing changed).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.evidence._scipy import stats
from workbench.evidence.stats import Z95
from workbench.results import Result

__all__ = ["RetrievalOverlap", "retrieval_overlap"]


@dataclass(frozen=True, repr=False)
class RetrievalOverlap(Result):
    """Mean Jaccard overlap of recurring queries' retrieved ids across a change (``after``) and
    before it (``control``), with 95 % intervals, query counts and Welch's p-value of the gap."""

    at: dt.datetime
    after: float
    after_ci: tuple[float, float]
    queries: int
    control: float | None
    control_ci: tuple[float, float] | None
    control_queries: int
    p_value: float
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        c = "?" if self.control is None else f"{self.control:.0%}"
        return f"overlap {self.after:.0%} across the change ({self.queries} queries) vs {c} before"

    def describe(self) -> str:
        c = (f"; {self.control:.0%} between the two stretches before it ({self.control_queries:,} queries)"
             if self.control is not None else "")
        return (f"recurring queries retrieve {self.after:.0%} of the same documents across the change "
                f"({self.queries:,} queries){c}")


def _norm_query() -> pl.Expr:
    return (pl.col("prompt_text").str.to_lowercase().str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()
            .hash(7).alias("q"))


def _pairs(lf: pl.LazyFrame, first: str, second: str) -> pl.LazyFrame:
    last = (lf.filter(pl.col("side") == first).group_by("q")
            .agg(pl.col("retrieved_ids").sort_by("timestamp").last().alias("a")))
    nxt = (lf.filter(pl.col("side") == second).group_by("q")
           .agg(pl.col("retrieved_ids").sort_by("timestamp").first().alias("b")))
    j = last.join(nxt, on="q", how="inner")
    inter = pl.col("a").list.set_intersection(pl.col("b")).list.len()
    union = pl.col("a").list.set_union(pl.col("b")).list.len()
    return j.select(pl.when(union > 0).then(inter / union).otherwise(None).alias("jaccard")).drop_nulls()


def _mean_ci(x: pl.Series) -> tuple[float, tuple[float, float], float, int]:
    n = x.len()
    m = float(x.mean())
    sd = float(x.std()) if n > 1 else 0.0
    se = sd / math.sqrt(n) if n else 0.0
    return m, (max(0.0, m - Z95 * se), min(1.0, m + Z95 * se)), sd, n


def retrieval_overlap(frame: pl.LazyFrame, at: dt.datetime, *, hours: float = 24.0,
                      min_queries: int = 30) -> RetrievalOverlap | None:
    """Overlap of recurring queries' retrieved ids across ``at`` (``hours`` either side), against the
    two ``hours``-long stretches before ``at``; None when fewer than ``min_queries`` recur, or when the
    frame lacks ``prompt_text`` or ``retrieved_ids``."""
    names = frame.collect_schema().names()
    if not {"prompt_text", "retrieved_ids", "timestamp"} <= set(names):
        return None
    h = dt.timedelta(hours=hours)
    lf = (frame.select("timestamp", "prompt_text", "retrieved_ids")
          .filter((pl.col("timestamp") >= at - 2 * h) & (pl.col("timestamp") < at + h)
                  & pl.col("prompt_text").is_not_null() & pl.col("retrieved_ids").is_not_null())
          .with_columns(_norm_query(),
                        pl.when(pl.col("timestamp") < at - h).then(pl.lit("control"))
                        .when(pl.col("timestamp") < at).then(pl.lit("before")).otherwise(pl.lit("after"))
                        .alias("side")))
    after, control = pl.collect_all([_pairs(lf, "before", "after"), _pairs(lf, "control", "before")])
    if after.height < min_queries:
        return None
    m, ci, sd, n = _mean_ci(after["jaccard"])
    if control.height >= min_queries:
        cm, cci, csd, cn = _mean_ci(control["jaccard"])
        va, vc = sd * sd / n, csd * csd / cn
        if va + vc > 1e-12:  # Welch's test from the moments
            df = (va + vc) ** 2 / ((va * va) / max(n - 1, 1) + (vc * vc) / max(cn - 1, 1))
            p = float(2 * stats.t.sf(abs(m - cm) / math.sqrt(va + vc), df))
        else:
            p = 1.0 if abs(m - cm) < 1e-12 else 0.0
    else:
        cm, cci, cn, p = None, None, control.height, 1.0
    return RetrievalOverlap(at=at, after=m, after_ci=ci, queries=n, control=cm, control_ci=cci, control_queries=cn,
                            p_value=p if math.isfinite(p) else 1.0, meta={"hours": hours})
