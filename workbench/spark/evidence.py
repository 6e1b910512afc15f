"""Row-level counts triage needs besides the summaries, computed by Spark (only the counts come
back): repeated request ids per hour and route."""

from __future__ import annotations

import polars as pl

__all__ = ["duplicate_rows_spark"]

_HOUR_US = 3_600_000_000


def duplicate_rows_spark(lake, start=None, end=None) -> pl.DataFrame:
    """:func:`workbench.evidence.slis.duplicate_rows` on Spark: rows repeating a request id in
    ``[start, end)``, charged to the hour and route of the id's first row (``bucket, route, dup``).
    Ids are compared exactly (polars compares 64-bit hashes: the same counts but for a collision)."""
    from pyspark.sql import functions as F

    sl = lake.spark_lake
    df = sl.predictions(["request_id", "timestamp", "route"], start=start, end=end)
    us = F.unix_micros(F.col("timestamp"))
    per_id = (df.groupBy("request_id")
              .agg(F.count(F.lit(1)).alias("k"), F.min(us).alias("t0"),
                   F.min_by(F.col("route"), us).alias("route"))
              .filter(F.col("k") > 1))
    g = (per_id.groupBy((F.col("t0") - F.pmod(F.col("t0"), F.lit(_HOUR_US))).alias("bucket"), "route")
         .agg(F.sum(F.col("k") - 1).cast("double").alias("dup")))
    out = sl.to_polars(g, {"bucket": pl.Int64, "route": pl.String, "dup": pl.Float64})
    return (out.with_columns(pl.col("bucket").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
            .select("bucket", "route", "dup").sort("bucket", "route"))
