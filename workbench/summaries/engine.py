"""The polars engine: one streaming pass over predictions (labels attached per batch) into a Summary.

This module holds what is tallied (:func:`screen` and the row, score and label expressions);
:mod:`workbench.summaries.rowpass` reads the rows once, in batches, and tallies them all: the
feature tallies in numpy (:mod:`workbench.summaries.tally`), the score histogram by ``bincount``,
the rest with these expressions grouped by each batch's key groups.

Another engine (Spark, DuckDB) plugs in by producing the same two tables for the same
:class:`Binning`; see :mod:`workbench.summaries.summary` for their columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import polars as pl

from workbench.lake.labels import positive_expr
from workbench.summaries.binning import SCORE_BINS, Binning
from workbench.summaries.rowpass import LabelLookup, Plan, one_pass
from workbench.summaries.summary import Summary

__all__ = ["summarize_frame"]

#: columns whose NaN, ±inf (and, for score and latency, null) make a row invalid for the analyses
#: that read them; the summary counts such rows in ``<column>|invalid``
SCREENED = ("score", "latency_ms", "prediction", "label")
_NULL_IS_INVALID = ("score", "latency_ms")  # logged on every row; a null label is one not known yet


def _nonfinite(col: str, dtype) -> pl.Expr:
    """NaN or ±inf: in a float column, or written as text ("nan", "inf") in a string one."""
    c = pl.col(col)
    if dtype is not None and dtype.is_float():
        return c.is_nan() | c.is_infinite()
    if dtype == pl.String:
        f = c.cast(pl.Float64, strict=False)
        return f.is_nan() | f.is_infinite()
    return pl.lit(False)


def screen(frame: pl.LazyFrame, schema: dict) -> pl.LazyFrame:
    """Null out NaN and ±inf in score, latency, prediction and label, and flag each row that had
    an invalid value in ``__<column>|invalid`` (null score or latency counts too): excluded from
    the analyses that need the value, and counted, never dropped silently."""
    exprs: list[pl.Expr] = []
    for c in SCREENED:
        if c not in schema:
            continue
        bad = _nonfinite(c, schema[c]).fill_null(False)
        flag = (bad | pl.col(c).is_null()) if c in _NULL_IS_INVALID else bad
        exprs += [flag.alias(f"__{c}|invalid"), pl.when(bad).then(None).otherwise(pl.col(c)).alias(c)]
    return frame.with_columns(exprs) if exprs else frame


def _positive(col: str) -> pl.Expr:
    """Binary labels as 1/0 (null stays null): the lake's one definition (:mod:`workbench.lake.labels`)."""
    return positive_expr(col)


def _classes(task: str, positive=_positive) -> list[pl.Expr]:
    """Prediction and label as text classes; binary ones normalised to "0"/"1"."""
    if task == "binary_classification":
        return [positive(c).cast(pl.String).alias(c) for c in ("prediction", "label")]
    return [pl.col(c).cast(pl.String) for c in ("prediction", "label")]


def summarize_frame(frame: pl.LazyFrame, binning: Binning, *, task: str = "binary_classification",
                    bucket: str = "1h", segment: str | Sequence[str] | None = None, schema: dict | None = None,
                    labelled: pl.LazyFrame | None = None, labels: LabelLookup | None = None) -> Summary:
    """Summarise a normalised predictions frame (canonical columns) in one pass.

    Parameters
    ----------
    frame : LazyFrame
        Predictions with canonical role names; ``label`` joined when available.
    binning : Binning
        Bins fitted on the baseline (:func:`fit_binning`).
    bucket : str
        Time bucket, a polars duration (``"1h"``, ``"15m"``, ``"1d"``).
    segment : str or sequence of str, optional
        A column (or several) to add to the keys; several give one summary that collapses to
        each of them (``summary.collapse(("model_version", col))``) without another pass.
    labelled : LazyFrame, optional
        The same rows with labels joined; score and label tallies are taken from it (only its
        keys, score, prediction and label are read), the rest from ``frame`` (a second pass).
    labels : LabelLookup, optional
        The labels by request id (:class:`~workbench.summaries.rowpass.LabelLookup`): each batch
        of ``frame`` (which then has ``request_id``) gets its labels as it streams, so the one
        pass reads predictions once and never joins the whole frame.
    """
    schema = schema or dict(frame.collect_schema())
    segs = [segment] if isinstance(segment, str) else list(segment or ())
    keys = ["bucket", "model_version", "route"] + segs
    key_prep = _key_exprs(bucket, segs)
    if labels is not None:
        lschema = {**{c: d for c, d in schema.items() if c != "request_id"}, "label": labels.dtype}
    else:
        lschema = dict(labelled.collect_schema()) if labelled is not None else schema
    has_label = "label" in lschema
    plan = _plan(task, schema, lschema, has_label, keys, segs)
    if labelled is None:
        parts = one_pass(frame, binning, schema, keys, key_prep, plan, labels=labels)
    else:  # features, row tallies and latency from ``frame``; score, label and confusion from ``labelled``
        rows = one_pass(frame, binning, schema, keys, key_prep,
                        replace(plan, lprep=[], laggs=[], confusion=None, order=None, score_hist=None))
        lab = one_pass(labelled, binning, lschema, keys, key_prep,
                       replace(plan, aggs=[], latency=False), features=False)
        parts = replace(rows, table=rows.table.join(lab.table, on=keys, how="left", nulls_equal=True),
                        confusion=lab.confusion)
    return Summary(table=parts.table, latency=parts.latency, binning=binning, keys=tuple(keys), bucket=bucket,
                   task=task, confusion=parts.confusion)


def _plan(task: str, schema: dict, lschema: dict, has_label: bool, keys: list[str], segs: list[str]) -> Plan:
    """The expressions of the one pass: row tallies, score and label tallies, latency, confusion.

    The score histogram (``score|h*``, or ``score|y1|h*`` .. ``score|yna|h*`` and the score mass
    ``score|s|h*`` of labelled binary rows) is counted in numpy from ``__score|bin`` and ``__y``
    (:func:`_score_tallies` defines them); every other tally is a polars expression.
    """
    # binary prediction and label arrive as 1/0/null (the pass maps each batch's few distinct
    # values through positive_expr once, see rowpass.positives): read as they are
    pos = pl.col
    lprep, laggs = _score_tallies(task, schema, has_label, pos)
    laggs = _invalid_tallies(schema, lschema) + laggs + _label_tallies(task, schema, has_label, pos)
    order = [a.meta.output_name() for a in laggs]
    hist = None
    if "score" in schema:
        hist = "by_label" if task == "binary_classification" and has_label else "plain"
    laggs = [a for a in laggs if not _HIST.match(a.meta.output_name())]
    confusion = None
    if task != "regression" and "prediction" in schema:
        classes = _classes(task, pos)
        confusion = classes if has_label else [classes[0], pl.lit(None, dtype=pl.String).alias("label")]
    return Plan(aggs=_row_tallies(schema), lprep=lprep, laggs=laggs, latency="latency_ms" in schema,
                confusion=confusion, score_hist=hist, order=order,
                positives=task == "binary_classification")


#: the score histogram's columns, counted in numpy (see :func:`_plan`)
_HIST = re.compile(r"^score\|((y1|y0|yna|s)\|)?h\d+$")


def _key_exprs(bucket: str, segs: list[str]) -> list[pl.Expr]:
    """The computed keys: the time bucket, and each segment as text (null as ``"(null)"``)."""
    return ([pl.col("timestamp").dt.truncate(bucket).alias("bucket")]
            + [pl.col(c).cast(pl.String).fill_null("(null)").alias(c) for c in segs])


def _row_tallies(schema: dict) -> list[pl.Expr]:
    """Per-key row counts: rows, fallbacks served and rows with an invalid latency."""
    aggs: list[pl.Expr] = [pl.len().alias("n")]
    if "fallback" in schema:
        aggs.append(pl.col("fallback").cast(pl.Int64).sum().alias("fallback"))
    if "latency_ms" in schema:
        aggs.append(pl.col("__latency_ms|invalid").sum().alias("latency_ms|invalid"))
    return aggs


def _invalid_tallies(schema: dict, lschema: dict) -> list[pl.Expr]:
    """Rows whose score, prediction or label was invalid (flagged by :func:`screen`)."""
    return [pl.col(f"__{c}|invalid").sum().alias(f"{c}|invalid") for c in ("score", "prediction", "label")
            if c in lschema and (c != "score" or "score" in schema)]


def _score_tallies(task: str, schema: dict, has_label: bool,
                   positive=_positive) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Score histogram on :data:`SCORE_BINS` equal bins: the columns to add, and the aggregations.

    Binary labelled rows are split by outcome (``score|y1|h*``, ``score|y0|h*``, ``score|yna|h*``)
    and get the quality sums of :func:`_quality_sums`; other tasks get one histogram (``score|h*``).
    """
    if "score" not in schema:
        return [], []
    prep = [(pl.col("score") * SCORE_BINS).floor().clip(0, SCORE_BINS - 1).cast(pl.Int32).alias("__score|bin")]
    if not (task == "binary_classification" and has_label):
        return prep, [(pl.col("__score|bin") == i).sum().alias(f"score|h{i}") for i in range(SCORE_BINS)]
    prep.append(positive("label").alias("__y"))
    aggs: list[pl.Expr] = []
    for name, cond in (("y1", pl.col("__y") == 1), ("y0", pl.col("__y") == 0), ("yna", pl.col("__y").is_null())):
        aggs += [((pl.col("__score|bin") == i) & cond).sum().alias(f"score|{name}|h{i}") for i in range(SCORE_BINS)]
    return prep, aggs + _quality_sums()


def _quality_sums() -> list[pl.Expr]:
    """Exact, additive quality sums over labelled binary rows: log loss (and its square, for an
    interval), Brier score, and the score mass per bin for calibration (reads ``__y``)."""
    p = pl.col("score").clip(1e-15, 1 - 1e-15)
    y = pl.col("__y")
    loss = -(y * p.log() + (1 - y) * (1 - p).log())
    sums = [loss.sum().alias("logloss|sum"), (loss * loss).sum().alias("logloss|sumsq"),
            ((pl.col("score") - y) ** 2).sum().alias("brier|sum")]
    return sums + [pl.when((pl.col("__score|bin") == i) & y.is_not_null()).then(pl.col("score")).sum()
                   .alias(f"score|s|h{i}") for i in range(SCORE_BINS)]


def _label_tallies(task: str, schema: dict, has_label: bool, positive=_positive) -> list[pl.Expr]:
    """Labelled rows, and their errors: absolute and squared error sums (regression) or the
    number predicted correctly (classification)."""
    if not (has_label and "prediction" in schema):
        return []
    # a labelled row counts when both its label and its prediction are valid values
    is_lab = pl.col("label").is_not_null() & pl.col("prediction").is_not_null()
    aggs = [is_lab.sum().alias("labelled")]
    if task == "regression":
        err = (pl.col("prediction").cast(pl.Float64) - pl.col("label").cast(pl.Float64))
        return aggs + [err.abs().sum().alias("abs_err"), (err * err).sum().alias("sq_err")]
    if task == "binary_classification":  # one positive-label definition: yes/true/1 alike
        same = positive("prediction") == positive("label")
    else:
        same = pl.col("prediction").cast(pl.String) == pl.col("label").cast(pl.String)
    return aggs + [(same & is_lab).sum().alias("correct")]
