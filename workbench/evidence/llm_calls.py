"""The LLM calls of a generation lake, summarised with their text signals: the entry point the
evidence, the charts, the Explorer and the templates share."""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.evidence.llm_text import signal_exprs
from workbench.exceptions import UsageError
from workbench.lake import Lake
from workbench.lake.timestamps import parse_time
from workbench.summaries.generation import LLMSummary, summarize_calls

__all__ = ["summarize_llm"]


def summarize_llm(lake: Lake, start=None, end=None, *, bucket: str = "1h") -> LLMSummary:
    """One pass over the lake's LLM calls in ``[start, end)`` (default: all of them), joined to
    their delayed feedback, with the per-row text signals (refusal, groundedness, citations,
    retrieval health, lengths), the output/input token ratio, and costs from lineage/prices.csv when calls carry none.

    Raises
    ------
    UsageError
        When the lake is not a ``task: generation`` lake.
    """
    if lake.task != "generation":
        raise UsageError(f"summarize_llm: lake {lake.name!r} is a {lake.task} lake, not task: generation",
                         hint="LLM call summaries need a generation lake (docs/genai.md)")
    lo, hi = lake.time_range()
    start = lo if start is None else parse_time(start, what="start")
    end = parse_time(end, what="end") if end is not None else hi + dt.timedelta(microseconds=1)
    if getattr(lake, "engine", "polars") == "spark":  # the same summary, computed where the rows are
        return _summarize_llm_spark(lake, start, end, bucket)
    frame = lake.predictions(with_labels=True)
    names = frame.collect_schema().names()
    signals = signal_exprs(names)
    if {"input_tokens", "output_tokens"} <= set(names):
        signals.append((pl.col("output_tokens").cast(pl.Float64) / pl.col("input_tokens").cast(pl.Float64))
                       .fill_nan(None).alias("output_input_ratio"))
    return summarize_calls(frame, start=start, end=end, bucket=bucket, signals=signals,
                           prices=lake.lineage.prices, what=lake.manifest.predictions)


def _summarize_llm_spark(lake: Lake, start: dt.datetime, end: dt.datetime, bucket: str) -> LLMSummary:
    from workbench.spark.generation import signal_columns_spark, summarize_calls_spark
    from workbench.spark.summaries import _reading

    sl = lake.spark_lake
    df = sl.predictions(with_labels=True)  # Spark reads only the columns the tallies use
    with _reading(lake):
        return summarize_calls_spark(df, start=start, end=end, bucket=bucket, collect=sl.to_polars,
                                     signals=signal_columns_spark(df.columns), prices=lake.lineage.prices)
