"""The polars engine: one lazy, streaming pass over predictions (+ labels) into a Summary.

Another engine (Spark, DuckDB) plugs in by producing the same two tables for the same
:class:`Binning`; see :mod:`workbench.summaries.summary` for their columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from workbench.lake.labels import positive_expr
from workbench.summaries.binning import SCORE_BINS, Binning, latency_bin_expr
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
    prep = [pl.col("timestamp").dt.truncate(bucket).alias("bucket")]
    prep += [pl.col(c).cast(pl.String).fill_null("(null)").alias(c) for c in segs]
    aggs: list[pl.Expr] = [pl.len().alias("n")]
    if "fallback" in schema:
        aggs.append(pl.col("fallback").cast(pl.Int64).sum().alias("fallback"))
    if "latency_ms" in schema:
        aggs.append(pl.col("__latency_ms|invalid").sum().alias("latency_ms|invalid"))
    for f, edges in binning.numeric.items():
        if f not in schema:
            continue
        x = pl.col(f)
        idx = pl.sum_horizontal([(x > e).cast(pl.Int32) for e in edges]) if edges else pl.lit(0, dtype=pl.Int32)
        # NaN is a missing value like null; ±inf an invalid one: both counted, neither binned
        prep.append(pl.when(x.is_finite()).then(idx).alias(f"__{f}|bin"))
        finite = pl.when(x.is_finite()).then(x)
        aggs += [(x.is_null() | x.is_nan()).sum().alias(f"{f}|null"), x.is_infinite().sum().alias(f"{f}|inf"),
                 finite.sum().alias(f"{f}|sum"),
                 (finite * finite).sum().alias(f"{f}|sumsq"), finite.min().alias(f"{f}|min"),
                 finite.max().alias(f"{f}|max")]
        aggs += [(pl.col(f"__{f}|bin") == i).sum().alias(f"{f}|h{i}") for i in range(len(edges) + 1)]
    for c, vocab in binning.categorical.items():
        if c not in schema:
            continue
        x = pl.col(c).cast(pl.String)
        aggs += [(x == v).sum().alias(f"{c}|v{i}") for i, v in enumerate(vocab)]
        aggs += [(x.is_not_null() & ~x.is_in(vocab)).sum().alias(f"{c}|other"),
                 (x.is_not_null() & ~x.is_in(binning.seen[c])).sum().alias(f"{c}|unseen"),
                 x.is_null().sum().alias(f"{c}|null")]
    # Score and label tallies: computed from ``labelled`` when given (a frame with labels joined),
    # so the wide feature pass reads predictions alone and never carries the join.
    lprep: list[pl.Expr] = []
    laggs: list[pl.Expr] = []
    lschema = dict(labelled.collect_schema()) if labelled is not None else schema
    if labelled is not None:
        labelled = screen(labelled, lschema)
    has_label = "label" in lschema
    laggs += [pl.col(f"__{c}|invalid").sum().alias(f"{c}|invalid") for c in ("score", "prediction", "label")
              if c in lschema and (c != "score" or "score" in schema)]
    if "score" in schema:
        lprep.append((pl.col("score") * SCORE_BINS).floor().clip(0, SCORE_BINS - 1).cast(pl.Int32)
                    .alias("__score|bin"))
        if task == "binary_classification" and has_label:
            lprep.append(_positive("label").alias("__y"))
            for name, cond in (("y1", pl.col("__y") == 1), ("y0", pl.col("__y") == 0),
                               ("yna", pl.col("__y").is_null())):
                laggs += [((pl.col("__score|bin") == i) & cond).sum().alias(f"score|{name}|h{i}")
                         for i in range(SCORE_BINS)]
            # Exact, additive quality sums over labelled rows: log loss (and its square, for an
            # interval), Brier score, and the score mass per bin for calibration.
            p = pl.col("score").clip(1e-15, 1 - 1e-15)
            y = pl.col("__y")
            loss = -(y * p.log() + (1 - y) * (1 - p).log())
            laggs += [loss.sum().alias("logloss|sum"), (loss * loss).sum().alias("logloss|sumsq"),
                     ((pl.col("score") - y) ** 2).sum().alias("brier|sum")]
            laggs += [pl.when((pl.col("__score|bin") == i) & y.is_not_null()).then(pl.col("score")).sum()
                     .alias(f"score|s|h{i}") for i in range(SCORE_BINS)]
        else:
            laggs += [(pl.col("__score|bin") == i).sum().alias(f"score|h{i}") for i in range(SCORE_BINS)]
    if has_label and "prediction" in schema:
        # a labelled row counts when both its label and its prediction are valid values
        is_lab = pl.col("label").is_not_null() & pl.col("prediction").is_not_null()
        laggs.append(is_lab.sum().alias("labelled"))
        if task == "regression":
            err = (pl.col("prediction").cast(pl.Float64) - pl.col("label").cast(pl.Float64))
            laggs += [err.abs().sum().alias("abs_err"), (err * err).sum().alias("sq_err")]
        else:
            if task == "binary_classification":  # one positive-label definition: yes/true/1 alike
                same = _positive("prediction") == _positive("label")
            else:
                same = pl.col("prediction").cast(pl.String) == pl.col("label").cast(pl.String)
            laggs.append((same & is_lab).sum().alias("correct"))
    # Queries are collected one after the other: collected together, polars caches their
    # shared sub-plan (every row with every bin column) in memory to feed them all.
    if labelled is None:
        res = [frame.with_columns(prep + lprep).group_by(keys).agg(aggs + laggs).collect(engine="streaming")]
    else:
        main = frame.with_columns(prep).group_by(keys).agg(aggs).collect(engine="streaming")
        if laggs:
            key_prep = [e for e in prep if e.meta.output_name() in keys]
            lab = labelled.with_columns(key_prep + lprep).group_by(keys).agg(laggs).collect(engine="streaming")
            main = main.join(lab, on=keys, how="left", nulls_equal=True)
        res = [main]
    if "latency_ms" in schema:
        lat_keys = [pl.col("timestamp").dt.truncate(bucket).alias("bucket"), "model_version", "route"]
        lat_keys += [pl.col(c).cast(pl.String).fill_null("(null)").alias(c) for c in segs]
        res.append(frame.select(*lat_keys, latency_bin_expr().alias("bin"))
                   .group_by([*keys, "bin"]).agg(pl.len().cast(pl.Int64).alias("n")).collect(engine="streaming"))
    confusion = None
    if task != "regression" and "prediction" in schema:
        # prediction x label counts (label null on rows not labelled yet): the confusion matrix,
        # and the predicted-class mix of every row
        src = labelled if labelled is not None else frame  # both screened: NaN classes are null
        if not has_label:
            src = src.with_columns(pl.lit(None, dtype=pl.String).alias("label"))
        conf_keys = [e for e in prep if e.meta.output_name() in keys]
        confusion = (src.select(*conf_keys, *[k for k in keys if k not in ("bucket", *segs)], *_classes(task))
                     .group_by([*keys, "prediction", "label"]).agg(pl.len().cast(pl.Int64).alias("n"))
                     .collect(engine="streaming").sort([*keys, "prediction", "label"], nulls_last=True))
    table = res[0].sort(keys, nulls_last=True)
    count_cols = [c for c in table.columns if c not in keys and not c.endswith(("|sum", "|sumsq", "|min", "|max",
                                                                               "abs_err", "sq_err"))
                  and not c.startswith("score|s|")]
    table = table.with_columns(pl.col(count_cols).cast(pl.Int64))
    latency = res[1].sort([*keys, "bin"], nulls_last=True) if len(res) > 1 else \
        pl.DataFrame(schema={**{k: table.schema[k] for k in keys}, "bin": pl.Int32, "n": pl.Int64})
    return Summary(table=table, latency=latency, binning=binning, keys=tuple(keys), bucket=bucket, task=task,
                   confusion=confusion)
