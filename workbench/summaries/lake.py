"""Summaries of a :class:`~workbench.lake.Lake` over time windows."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import replace

import polars as pl

from workbench.lake import Lake
from workbench.lake.timestamps import parse_time
from workbench.results import iso
from workbench.summaries.binning import Binning, fit_binning
from workbench.summaries.engine import summarize_frame
from workbench.summaries.rowpass import LabelLookup
from workbench.summaries.summary import Summary

__all__ = ["fit_lake_binning", "label_lookup", "summarize", "window"]


def window(frame: pl.LazyFrame, start=None, end=None) -> pl.LazyFrame:
    """Rows with ``start <= timestamp < end`` (either bound optional); pushed down to the scan."""
    if start is not None:
        frame = frame.filter(pl.col("timestamp") >= parse_time(start, what="start"))
    if end is not None:
        frame = frame.filter(pl.col("timestamp") < parse_time(end, what="end"))
    return frame


@contextmanager
def _reading(lake: Lake):
    """A failure while the engine reads rows becomes the lake's named error (file, line, column)."""
    try:
        yield
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise lake.read_error(exc) from None


def _labels_apart(lake: Lake, columns) -> bool:
    """Whether the lake's labels are a table of their own, attached to the predictions (with
    ``columns``) by request id: not inline, not absent, not an LLM lake's feedback (which
    :mod:`workbench.summaries.generation` joins)."""
    return lake.has_labels and lake.task != "generation" and "label" not in columns


def label_lookup(lake: Lake) -> LabelLookup | None:
    """The lake's labels by request id, for :func:`summarize` passes to share; None when the
    lake's labels are not a table of their own (:func:`_labels_apart`) or the engine is Spark
    (which joins them where the rows are)."""
    if getattr(lake, "engine", "polars") == "spark":
        return None
    if not _labels_apart(lake, lake.predictions().collect_schema().names()):
        return None
    with _reading(lake):
        return LabelLookup.from_labels(lake.labels())


def fit_lake_binning(lake: Lake, *, start=None, end=None, n_bins: int = 20, top_k: int = 20) -> Binning:
    """Fit bins on the lake's baseline window ``[start, end)``."""
    if getattr(lake, "engine", "polars") == "spark":  # the same bins, fitted where the rows are
        from workbench.spark.summaries import fit_lake_binning_spark

        return fit_lake_binning_spark(lake, start=start, end=end, n_bins=n_bins, top_k=top_k)
    cols = list(lake.numeric_features + lake.categorical_features) + ["timestamp"]
    frame = window(lake.predictions(cols), start, end)
    with _reading(lake):
        return fit_binning(frame, numeric=lake.numeric_features, categorical=lake.categorical_features,
                           n_bins=n_bins, top_k=top_k, start=iso(parse_time(start)) if start else None,
                           end=iso(parse_time(end)) if end else None)


def summarize(lake: Lake, binning: Binning, *, start=None, end=None, bucket: str = "1h",
              segment: str | Sequence[str] | None = None, label_lookup: LabelLookup | None = None) -> Summary:
    """Summarise the lake's rows in ``[start, end)`` on ``binning`` (one streaming pass).

    ``label_lookup`` (:func:`label_lookup` of the same lake) lets several passes share the labels
    read once; by default each pass reads them.

    Examples
    --------
    >>> b = fit_lake_binning(lake, start="2026-03-01", end="2026-03-08")   # doctest: +SKIP
    >>> s = summarize(lake, b, start="2026-03-08")                         # doctest: +SKIP
    >>> s.latency_quantiles(by=("model_version",))                         # doctest: +SKIP
    """
    if getattr(lake, "engine", "polars") == "spark":  # the same summary, computed by Spark
        from workbench.spark.summaries import summarize_lake_spark

        return summarize_lake_spark(lake, binning, start=start, end=end, bucket=bucket, segment=segment)
    wanted = {"timestamp", "model_version", "route", "fallback", "latency_ms", "score", "prediction", "label",
              *binning.numeric, *binning.categorical}
    segs = [segment] if isinstance(segment, str) else list(segment or ())
    wanted.update(segs)
    frame = lake.predictions()
    schema = frame.collect_schema()
    cols = [c for c in schema.names() if c in wanted]
    labels = None
    with _reading(lake):
        if _labels_apart(lake, cols):
            # attached batch by batch in the one pass, as ``lake.predictions(with_labels=True)``
            # joins them (64-bit hashes of the ids); read here unless the caller shares a lookup
            labels = label_lookup if label_lookup is not None else LabelLookup.from_labels(lake.labels())
            cols.append("request_id")
        frame = window(frame.select(cols), start, end)
        s = summarize_frame(frame, binning, task=lake.task, bucket=bucket, segment=segment,
                            schema={c: schema[c] for c in cols}, labels=labels)
    return replace(s, start=parse_time(start) if start is not None else None,
                   end=parse_time(end) if end is not None else None)
