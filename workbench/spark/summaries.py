"""Binning and summaries of a lake opened with ``engine="spark"``: the Spark counterparts of
:func:`workbench.summaries.fit_lake_binning` and :func:`workbench.summaries.summarize`, which
dispatch here on ``lake.engine``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from workbench.lake.cardinality import is_high_cardinality
from workbench.lake.timestamps import parse_time
from workbench.results import iso
from workbench.spark.engine import summarize_spark
from workbench.spark.session import QUANTILE_ERROR
from workbench.summaries.binning import Binning
from workbench.summaries.summary import Summary

__all__ = ["fit_binning_spark", "fit_lake_binning_spark", "summarize_lake_spark"]


def fit_binning_spark(df, *, numeric: Sequence[str], categorical: Sequence[str], n_bins: int = 20,
                      top_k: int = 20, max_seen: int = 10_000, relative_error: float = QUANTILE_ERROR,
                      edges: Mapping[str, Sequence[float]] | None = None, start=None, end=None) -> Binning:
    """:func:`workbench.summaries.fit_binning` on a Spark DataFrame.

    Numeric edges are the ``n_bins - 1`` inner quantiles of the finite values from
    ``approxQuantile`` with ``relative_error`` (an edge meant for quantile q has a rank within
    (q ± relative_error) × n; ties merged), unless ``edges`` gives them (then bins are identical
    to the ones they came from). Vocabularies count every row exactly, as in polars.
    """
    from pyspark.sql import functions as F

    rows = df.count()
    out: dict[str, list[float]] = {}
    given = dict(edges or {})
    todo = [f for f in numeric if f not in given]
    for f in numeric:
        if f in given:
            out[f] = [float(e) for e in given[f]]
    if todo:
        qs = [i / n_bins for i in range(1, n_bins)]
        fin = df.select(*[F.when(~F.isnan(F.col(f)) & (F.abs(F.col(f)) != F.lit(float("inf"))), F.col(f))
                          .cast("double").alias(f) for f in todo])
        res = fin.approxQuantile(list(todo), qs, relative_error)
        for f, vals in zip(todo, res):
            out[f] = sorted({float(v) for v in vals}) if vals else []
    vocab, seen, high = {}, {}, {}
    for c in categorical:
        vc = df.groupBy(F.col(c).cast("string").alias("v")).count().filter(F.col("v").isNotNull())
        stats = vc.agg(F.count(F.lit(1)).alias("d"), F.sum("count").alias("n")).first()
        top = vc.orderBy(F.col("count").desc(), F.col("v").asc()).limit(max_seen).collect()
        values = [r["v"] for r in top]
        vocab[c] = values[:top_k]
        seen[c] = values
        distinct, nonnull = int(stats["d"] or 0), int(stats["n"] or 0)
        if is_high_cardinality(distinct, nonnull):
            high[c] = {"distinct": distinct, "rows": nonnull}
            seen[c] = []
    return Binning(numeric={f: out[f] for f in numeric}, categorical=vocab, seen=seen, start=start, end=end,
                   rows=rows, meta={"n_bins": n_bins, "top_k": top_k, "quantile_sample_every": None,
                                    "quantile_relative_error": relative_error if todo else None,
                                    "engine": "spark", "high_cardinality": high})


def fit_lake_binning_spark(lake, *, start=None, end=None, n_bins: int = 20, top_k: int = 20,
                           edges: Mapping[str, Sequence[float]] | None = None) -> Binning:
    """Bins fitted by Spark on the lake's baseline window ``[start, end)``."""
    sl = lake.spark_lake
    cols = list(lake.numeric_features + lake.categorical_features)
    df = sl.predictions(cols, start=start, end=end)
    with _reading(lake):
        return fit_binning_spark(df, numeric=lake.numeric_features, categorical=lake.categorical_features,
                                 n_bins=n_bins, top_k=top_k, edges=edges,
                                 start=iso(parse_time(start)) if start else None,
                                 end=iso(parse_time(end)) if end else None)


def summarize_lake_spark(lake, binning: Binning, *, start=None, end=None, bucket: str = "1h",
                         segment: str | Sequence[str] | None = None) -> Summary:
    """The lake's rows in ``[start, end)`` summarised by Spark on ``binning``."""
    from workbench.summaries.lake import _labels_apart  # (that module dispatches here)

    sl = lake.spark_lake
    segs = [segment] if isinstance(segment, str) else list(segment or ())
    wanted = {"timestamp", "model_version", "route", "fallback", "latency_ms", "score", "prediction", "label",
              *binning.numeric, *binning.categorical, *segs}
    schema = dict(lake.schema)
    cols = [c for c in schema if c in wanted]
    labelled = label_schema = None
    if _labels_apart(lake, schema):
        # labels in their own table: the join carries only the keys, score and prediction
        label_schema = {c: schema[c] for c in ("timestamp", "model_version", "route", *segs, "score", "prediction")
                        if c in schema} | {"label": lake.labels().collect_schema()["label"]}
        labelled = sl.predictions(list(label_schema), with_labels=True, start=start, end=end)
    df = sl.predictions(cols, start=start, end=end)
    with _reading(lake):
        s = summarize_spark(df, binning, schema={c: schema[c] for c in cols}, task=lake.task, bucket=bucket,
                            segment=segment, collect=sl.to_polars, labelled=labelled, label_schema=label_schema)
    return replace(s, start=parse_time(start) if start is not None else None,
                   end=parse_time(end) if end is not None else None)


class _reading:
    """A failure while Spark reads rows becomes the lake's named error (file, line, column)."""

    def __init__(self, lake) -> None:
        self.lake = lake

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if exc is None or not _is_spark_error(exc):
            return False
        raise self.lake.read_error(exc) from None


def _is_spark_error(exc: BaseException) -> bool:
    mod = type(exc).__module__ or ""
    return mod.startswith(("pyspark", "py4j")) or isinstance(exc, OSError)
