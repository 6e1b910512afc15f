"""The polars engine: streaming passes over predictions (+ labels) into a Summary.

The row, score and label tallies are polars aggregations; the feature tallies are counted batch by
batch in numpy on polars' stream (:mod:`workbench.summaries.tally`), a pass over the keys and
features alone.

Another engine (Spark, DuckDB) plugs in by producing the same two tables for the same
:class:`Binning`; see :mod:`workbench.summaries.summary` for their columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from workbench.lake.labels import positive_expr
from workbench.summaries.binning import SCORE_BINS, Binning, latency_bin_expr
from workbench.summaries.summary import Summary
from workbench.summaries.tally import feature_table

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


def _classes(task: str) -> list[pl.Expr]:
    """Prediction and label as text classes; binary ones normalised to "0"/"1"."""
    if task == "binary_classification":
        return [_positive(c).cast(pl.String).alias(c) for c in ("prediction", "label")]
    return [pl.col(c).cast(pl.String) for c in ("prediction", "label")]


def summarize_frame(frame: pl.LazyFrame, binning: Binning, *, task: str = "binary_classification",
                    bucket: str = "1h", segment: str | Sequence[str] | None = None, schema: dict | None = None,
                    labelled: pl.LazyFrame | None = None) -> Summary:
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
        keys, score, prediction and label are read), the rest from ``frame``.
    """
    schema = schema or dict(frame.collect_schema())
    frame = screen(frame, schema)
    segs = [segment] if isinstance(segment, str) else list(segment or ())
    keys = ["bucket", "model_version", "route"] + segs
    key_prep = _key_exprs(bucket, segs)
    features = feature_table(frame, binning, schema, keys, key_prep)
    aggs = _row_tallies(schema)
    # Score and label tallies: computed from ``labelled`` when given (a frame with labels joined),
    # so the wide feature pass reads predictions alone and never carries the join.
    lschema = dict(labelled.collect_schema()) if labelled is not None else schema
    if labelled is not None:
        labelled = screen(labelled, lschema)
    has_label = "label" in lschema
    lprep, laggs = _score_tallies(task, schema, has_label)
    laggs = _invalid_tallies(schema, lschema) + laggs + _label_tallies(task, schema, has_label)
    table = _tally_table(frame, labelled, keys, key_prep, key_prep, aggs, lprep, laggs, features)
    latency = _latency_counts(frame, schema, keys, key_prep, table)
    confusion = None
    if task != "regression" and "prediction" in schema:
        src = labelled if labelled is not None else frame  # both screened: NaN classes are null
        confusion = _confusion(src, task, keys, key_prep, segs, has_label)
    return Summary(table=table, latency=latency, binning=binning, keys=tuple(keys), bucket=bucket, task=task,
                   confusion=confusion)


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


def _score_tallies(task: str, schema: dict, has_label: bool) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Score histogram on :data:`SCORE_BINS` equal bins: the columns to add, and the aggregations.

    Binary labelled rows are split by outcome (``score|y1|h*``, ``score|y0|h*``, ``score|yna|h*``)
    and get the quality sums of :func:`_quality_sums`; other tasks get one histogram (``score|h*``).
    """
    if "score" not in schema:
        return [], []
    prep = [(pl.col("score") * SCORE_BINS).floor().clip(0, SCORE_BINS - 1).cast(pl.Int32).alias("__score|bin")]
    if not (task == "binary_classification" and has_label):
        return prep, [(pl.col("__score|bin") == i).sum().alias(f"score|h{i}") for i in range(SCORE_BINS)]
    prep.append(_positive("label").alias("__y"))
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


def _label_tallies(task: str, schema: dict, has_label: bool) -> list[pl.Expr]:
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
        same = _positive("prediction") == _positive("label")
    else:
        same = pl.col("prediction").cast(pl.String) == pl.col("label").cast(pl.String)
    return aggs + [(same & is_lab).sum().alias("correct")]


def _tally_table(frame: pl.LazyFrame, labelled: pl.LazyFrame | None, keys: list[str], key_prep: list[pl.Expr],
                 prep: list[pl.Expr], aggs: list[pl.Expr], lprep: list[pl.Expr],
                 laggs: list[pl.Expr], features: pl.DataFrame | None = None) -> pl.DataFrame:
    """Run the tallies, one row per key: all from ``frame``, or the score and label ones from
    ``labelled`` joined on the keys; the feature tallies (:func:`feature_table`, a pass of their
    own) follow the row tallies. Sorted by the keys; counts as Int64."""
    # Queries are collected one after the other: collected together, polars caches their
    # shared sub-plan (every row with every bin column) in memory to feed them all.
    if labelled is None:
        table = frame.with_columns(prep + lprep).group_by(keys).agg(aggs + laggs).collect(engine="streaming")
    else:
        table = frame.with_columns(prep).group_by(keys).agg(aggs).collect(engine="streaming")
        if laggs:
            lab = labelled.with_columns(key_prep + lprep).group_by(keys).agg(laggs).collect(engine="streaming")
            table = table.join(lab, on=keys, how="left", nulls_equal=True)
    if features is not None:
        order = [*keys, *(a.meta.output_name() for a in aggs), *features.columns[len(keys):]]
        table = table.join(features, on=keys, how="left", nulls_equal=True)
        table = table.select(order + [c for c in table.columns if c not in order])
    table = table.sort(keys, nulls_last=True)
    count_cols = [c for c in table.columns if c not in keys and not c.endswith(("|sum", "|sumsq", "|min", "|max",
                                                                               "abs_err", "sq_err"))
                  and not c.startswith("score|s|")]
    return table.with_columns(pl.col(count_cols).cast(pl.Int64))


def _latency_counts(frame: pl.LazyFrame, schema: dict, keys: list[str], key_prep: list[pl.Expr],
                    table: pl.DataFrame) -> pl.DataFrame:
    """Rows per key and latency bin (:func:`latency_bin_expr`); empty, with the keys' types,
    when the frame logs no latency."""
    if "latency_ms" not in schema:
        return pl.DataFrame(schema={**{k: table.schema[k] for k in keys}, "bin": pl.Int32, "n": pl.Int64})
    return (frame.select(*key_prep, "model_version", "route", latency_bin_expr().alias("bin"))
            .group_by([*keys, "bin"]).agg(pl.len().cast(pl.Int64).alias("n")).collect(engine="streaming")
            .sort([*keys, "bin"], nulls_last=True))


def _confusion(src: pl.LazyFrame, task: str, keys: list[str], key_prep: list[pl.Expr], segs: list[str],
               has_label: bool) -> pl.DataFrame:
    """Prediction x label counts per key (label null on rows not labelled yet): the confusion
    matrix, and the predicted-class mix of every row."""
    if not has_label:
        src = src.with_columns(pl.lit(None, dtype=pl.String).alias("label"))
    return (src.select(*key_prep, *[k for k in keys if k not in ("bucket", *segs)], *_classes(task))
            .group_by([*keys, "prediction", "label"]).agg(pl.len().cast(pl.Int64).alias("n"))
            .collect(engine="streaming").sort([*keys, "prediction", "label"], nulls_last=True))
