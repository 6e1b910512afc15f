"""Bounded, stable samples of a lake's rows taken by Spark: only the sample reaches the driver.

Row-level checks (embedding drift, replay of a model version's rows) need rows, not summaries.
On Spark they rank the window's rows by a seeded 64-bit hash of a stable key (``xxhash64`` of
the seed and the request id; ties broken by the id, then the time) and collect the ``n``
smallest — ``orderBy(...).limit(n)``, which Spark runs as a top-n per partition, so no shuffle of
the window and never more than ``n`` rows on the driver. Never by row position: the same lake and
window give the same rows whatever the files' order or the number of partitions.

The polars engine ranks by polars' own hash (:func:`workbench.lake.sampling.stable_sample`), so
the two engines' samples are different rows of the same window (equally uniform); on a window
of at most ``n`` rows both take every row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

__all__ = ["embedding_norm_onset_spark", "embedding_norms_hourly_spark", "sample_embeddings_spark",
           "stable_sample_spark", "window_sample_spark"]

_HOUR_US = 3_600_000_000


def _rank(df, seed: int, key: str):
    """``df`` ordered by the sampling rank: the seeded hash of ``key`` (of every column without it)."""
    from pyspark.sql import functions as F

    cols = df.columns
    by = [F.col(f"`{key}`")] if key in cols else [F.col(f"`{c}`") for c in cols]
    h = F.xxhash64(F.lit(int(seed)), *by)
    ties = by + ([F.col("timestamp")] if "timestamp" in cols and key in cols else [])
    return df.withColumn("__wb_h", h).orderBy(F.col("__wb_h"), *[t.asc_nulls_last() for t in ties])


def stable_sample_spark(df, n: int, *, collect, seed: int = 0, key: str = "request_id",
                        schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """Up to ``n`` rows of the Spark frame ``df``, chosen and ordered by a seeded hash of ``key``
    (as :func:`workbench.lake.sampling.stable_sample`); ``collect`` brings the bounded frame to
    polars (:meth:`SparkLake.to_polars`) with ``schema``'s dtypes."""
    n = max(int(n), 0)
    picked = _rank(df, seed, key).limit(n).drop("__wb_h")
    return collect(picked, schema or {})


def window_sample_spark(lake, n: int, *, start=None, end=None, columns=None, version: str | None = None,
                        with_labels: bool = False, labelled: bool = False, served: bool = False,
                        seed: int = 0) -> pl.DataFrame:
    """Up to ``n`` of the lake's rows in ``[start, end)`` (of model ``version``; with a label when
    ``labelled``; not answered by the fallback when ``served``), stable by request id."""
    from pyspark.sql import functions as F

    sl = lake.spark_lake
    schema = dict(lake.schema)
    if with_labels and lake.has_labels and "label" not in schema:
        schema["label"] = lake.labels().collect_schema()["label"]
        schema["labeled_at"] = lake.labels().collect_schema()["labeled_at"]
    df = sl.predictions(columns, with_labels=with_labels, start=start, end=end)
    if version is not None:
        df = df.where(F.col("model_version") == F.lit(version))
    if labelled:
        df = df.where(F.col("label").isNotNull())
    if served and "fallback" in df.columns:
        df = df.where(~F.coalesce(F.col("fallback").cast("boolean"), F.lit(False)))
    return stable_sample_spark(df, n, collect=sl.to_polars, seed=seed,
                               schema={c: schema[c] for c in df.columns if c in schema})


def sample_embeddings_spark(lake, start: dt.datetime, end: dt.datetime, n: int, *, seed: int = 0,
                            column: str = "embedding", read_budget: int | None = None) -> np.ndarray:
    """Up to ``n`` embeddings of ``[start, end)`` (non-null), by the seeded hash of the request id:
    the Spark counterpart of :func:`workbench.evidence.sample_embeddings` (an ``(n, dim)`` array).

    With ``read_budget``, a window of at most that many rows is brought whole (bounded by the
    budget, as the polars engine reads it) and sampled by :func:`workbench.evidence.sample_embeddings`
    itself: the same vectors as the polars engine. A larger window is sampled by Spark."""
    from pyspark.sql import functions as F

    from workbench.evidence.embedding import sample_embeddings

    sl = lake.spark_lake
    df = sl.predictions(["request_id", "timestamp", column], start=start, end=end)
    schema = {"request_id": pl.String, column: lake.schema[column]}
    if read_budget is not None:
        few = sl.to_polars(df.limit(read_budget + 1), schema)
        if few.height <= read_budget:
            return sample_embeddings(few.lazy(), n, seed=seed, column=column)
    df = df.where(F.col(column).isNotNull())
    picked = stable_sample_spark(df, n, collect=sl.to_polars, seed=seed, schema=schema)
    if picked.is_empty():
        return np.zeros((0, 0))
    return np.asarray(picked[column].to_list(), dtype=np.float64)


def embedding_norms_hourly_spark(lake, start: dt.datetime, end: dt.datetime, *,
                                 column: str = "embedding") -> pl.DataFrame:
    """Per hour of ``[start, end)``: rows ``n``, and the sum ``s`` and sum of squares ``ss`` of the
    embeddings' norms (``bucket, n, s, ss``, by bucket) — what
    :func:`workbench.evidence.onset.mean_onset` reads for the mean norm, aggregated by Spark."""
    from pyspark.sql import functions as F

    sl = lake.spark_lake
    df = sl.predictions(["timestamp", column], start=start, end=end)
    us = F.unix_micros(F.col("timestamp"))
    norm = F.sqrt(F.aggregate(F.col(column), F.lit(0.0), lambda acc, x: acc + x.cast("double") * x.cast("double")))
    g = (df.select((us - F.pmod(us, F.lit(_HOUR_US))).alias("bucket"), norm.alias("x"))
         .groupBy("bucket").agg(F.count(F.lit(1)).alias("n"), F.coalesce(F.sum("x"), F.lit(0.0)).alias("s"),
                                F.coalesce(F.sum(F.col("x") * F.col("x")), F.lit(0.0)).alias("ss")))
    out = sl.to_polars(g, {"bucket": pl.Int64, "n": pl.Int64, "s": pl.Float64, "ss": pl.Float64})
    return (out.with_columns(pl.col("bucket").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
            .sort("bucket"))


def embedding_norm_onset_spark(lake, start: dt.datetime, end: dt.datetime, *, thresholds):
    """:func:`workbench.evidence.onset.mean_onset` of the embeddings' norm over ``[start, end)``,
    from Spark's hourly sums (the same sums, so the same onset)."""
    from workbench.evidence.onset import detect_onset

    t = embedding_norms_hourly_spark(lake, start, end)
    if t.height < thresholds.min_buckets:
        return None
    return detect_onset(t["bucket"].to_list(), n=t["n"].to_numpy(), sums=t["s"].to_numpy(),
                        sumsq=t["ss"].to_numpy())
