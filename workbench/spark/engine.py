"""The summary pass on Spark: the same tallies as :mod:`workbench.summaries.engine`, expression
for expression, in one ``groupBy`` per table; only the grouped tallies (kilobytes) are collected.

Column names, dtypes and key order match the polars engine's, so a Spark summary and a polars
summary of the same rows are equal (counts exactly, float sums to rounding) and merge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import polars as pl

from workbench.exceptions import UsageError
from workbench.lake.labels import POSITIVE_TEXT
from workbench.summaries.binning import LATENCY_BINS, LATENCY_MIN_MS, LATENCY_RATIO, SCORE_BINS, Binning
from workbench.summaries.engine import SCREENED
from workbench.summaries.summary import Summary

__all__ = ["bucket_micros", "summarize_spark"]

_NULL_IS_INVALID = ("score", "latency_ms")
_UNITS = {"us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
_INF = float("inf")


def bucket_micros(bucket: str) -> int:
    """The width of a fixed bucket (``"1h"``, ``"15m"``, ``"1d"``, ``"30s"``) in microseconds."""
    m = re.fullmatch(r"(\d+)(us|ms|s|m|h|d)", bucket.strip())
    if not m or int(m.group(1)) <= 0:
        raise UsageError("the Spark engine cuts time into fixed buckets", column="bucket",
                         expected="a duration such as 15m, 1h or 1d", found=repr(bucket)[:40])
    return int(m.group(1)) * _UNITS[m.group(2)]


def _F():
    from pyspark.sql import functions as F

    return F


class _Add:
    """An additive tally: the per-row value whose sum per key is the column; null adds nothing
    (a count's value is 1 where its condition holds). ``how`` is ``"sum"``, ``"min"`` or ``"max"``."""

    def __init__(self, value, how: str = "sum") -> None:
        self.value = value
        self.how = how


class _Family:
    """Counts (or sums of ``value``) of a set of columns of which each row adds to at most one:
    the histogram bins of a feature, its vocabulary values. ``index`` is the column a row adds
    to (0 .. len(names)-1), or null for none; one entry per row instead of one per column."""

    def __init__(self, names: list[str], index, value=None) -> None:
        self.names = names
        self.index = index
        self.value = value


def _cnt(cond):
    """Rows where ``cond`` holds (null counts as false), as polars' ``bool.sum()``."""
    F = _F()
    return _Add(F.when(cond, F.lit(1.0)))


def _fsum(x):
    """A float sum that is 0, not null, over no value (as polars' ``sum``; filled after the pass)."""
    return _Add(x.cast("double"))


def _finite(x):
    F = _F()
    return ~F.isnan(x) & (x != F.lit(_INF)) & (x != F.lit(-_INF))


def _nonfinite(col: str, dtype):
    F = _F()
    c = F.col(f"`{col}`")
    if dtype is not None and dtype.is_float():
        return F.isnan(c) | (F.abs(c) == F.lit(_INF))
    if dtype == pl.String:
        f = c.try_cast("double")
        return F.isnan(f) | (F.abs(f) == F.lit(_INF))
    return F.lit(False)


def positive(col):
    """:func:`workbench.lake.labels.positive_expr` in Spark: 1, 0, or null for null."""
    F = _F()
    text = F.lower(F.trim(col.cast("string")))
    pos = text.isin(list(POSITIVE_TEXT)) | F.coalesce(text.try_cast("double") > 0.5, F.lit(False))
    return F.when(col.isNull(), F.lit(None)).otherwise(pos.cast("tinyint")).cast("tinyint")


def screen(df, schema: dict):
    """:func:`workbench.summaries.engine.screen`: NaN and ±inf nulled, invalid rows flagged
    (one projection)."""
    F = _F()
    out, flags = {}, []
    for c in SCREENED:
        if c not in schema:
            continue
        bad = F.coalesce(_nonfinite(c, schema[c]), F.lit(False))
        flag = (bad | F.col(c).isNull()) if c in _NULL_IS_INVALID else bad
        flags.append(flag.alias(f"__{c}|invalid"))
        out[c] = F.when(bad, F.lit(None)).otherwise(F.col(c)).alias(c)
    if not out:
        return df
    return df.select(*[out.get(c, F.col(f"`{c}`")) for c in df.columns], *flags)


def summarize_spark(df, binning: Binning, *, schema: dict, task: str = "binary_classification",
                    bucket: str = "1h", segment: str | Sequence[str] | None = None, collect=None,
                    labelled=None, label_schema: dict | None = None) -> Summary:
    """Summarise a normalised Spark DataFrame (canonical columns) on ``binning``: the
    :class:`Summary` the polars engine gives for the same rows.

    ``schema`` holds the polars dtypes of ``df``'s columns (the lake's); ``collect`` turns a
    small Spark DataFrame into polars (:meth:`SparkLake.to_polars`). When the lake's labels live
    in their own table, ``df`` is the predictions alone and ``labelled`` the same rows narrowed
    to the keys, score and prediction with the latest label joined (``label_schema`` its dtypes):
    the label tallies come from that narrow frame, so the join never carries the features.
    Without ``labelled``, ``df`` holds everything (labels inline, or none).
    """
    F = _F()
    width = bucket_micros(bucket)
    segs = [segment] if isinstance(segment, str) else list(segment or ())
    keys = ["bucket", "model_version", "route"] + segs
    has_label = "label" in schema or (labelled is not None and "label" in (label_schema or {}))

    def prep(frame, sch):
        frame = screen(frame, sch)
        us = F.unix_micros(F.col("timestamp"))
        frame = frame.withColumn("bucket", us - F.pmod(us, F.lit(width)))
        for c in segs:
            frame = frame.withColumn(c, F.coalesce(F.col(f"`{c}`").cast("string"), F.lit("(null)")))
        return frame

    df = prep(df, schema)
    df = df.select("*", *_bin_columns(binning, schema))
    both = dict(schema) | dict(label_schema or {})
    lab = df if labelled is None else prep(labelled, label_schema)
    lab, score_aggs = _score_tallies(lab, task, both, has_label)
    invalid = _invalid_tallies(both)
    split = [] if labelled is None else [(n, a) for n, a in invalid if n == "label|invalid"]
    base = _row_tallies(schema) + _feature_tallies(binning, schema)
    main = base + [x for x in invalid if x not in split]
    side = split + score_aggs + _label_tallies(task, both, has_label)
    order = _names(base + invalid + score_aggs + _label_tallies(task, both, has_label))
    conf = []
    if task == "binary_classification" and "prediction" in both:
        conf = [("__conf", _Family([f"__conf{i}" for i in range(9)], _binary_cell(has_label)))]
    count_cols = [n for n in order if not n.endswith(("|sum", "|sumsq", "|min", "|max", "abs_err", "sq_err"))
                  and not n.startswith("score|s|")] + _names(conf)
    if labelled is None:
        table = _wide_table(lab, keys, main + side + conf, count_cols, collect)
    else:
        table = _wide_table(df, keys, main, count_cols, collect)
        if side or conf:
            table = table.join(_wide_table(lab, keys, side + conf, count_cols, collect), on=keys, how="left",
                               nulls_equal=True)
    latency = _latency(df, schema, keys, collect)
    confusion = None
    if task != "regression" and "prediction" in schema:
        if conf:
            confusion = _binary_confusion(table, keys)
        else:
            confusion = _confusion(lab, task, keys, has_label, collect)
    table = _bucket_times(table.select(keys + order)).sort(keys, nulls_last=True)
    return Summary(table=table, latency=latency, binning=binning, keys=tuple(keys), bucket=bucket, task=task,
                   confusion=confusion)


def _names(aggs: list) -> list[str]:
    """The table's tally columns, in order (a family stands for each of its columns)."""
    out: list[str] = []
    for n, a in aggs:
        out += a.names if isinstance(a, _Family) else [n]
    return out


def _wide_table(df, keys: list[str], aggs: list, count_cols: list[str], collect) -> pl.DataFrame:
    """One ``groupBy(keys)`` with one aggregate per tally column (a family's column ``k`` counts,
    or sums ``value`` over, the rows whose index is ``k``): one hash-table update per row in a
    compiled aggregate, and only one row per key group (kilobytes) comes back."""
    F = _F()
    exprs, names = [], []
    for n, a in aggs:
        if isinstance(a, _Family):
            for k, name in enumerate(a.names):
                hit = a.index == F.lit(k)
                exprs.append(F.count(F.when(hit, F.lit(1))) if a.value is None
                             else F.sum(F.when(hit, a.value.cast("double"))))
                names.append(name)
        else:
            fn = {"sum": F.sum, "min": F.min, "max": F.max}[a.how]
            exprs.append(fn(a.value.cast("double")))
            names.append(n)
    g = df.groupBy(*[F.col(f"`{k}`") for k in keys]).agg(*[e.alias(f"__c{i}") for i, e in enumerate(exprs)])
    key_types = {k: pl.String for k in keys} | {"bucket": pl.Int64}
    counts = set(count_cols)
    types = {f"__c{i}": (pl.Int64 if n in counts else pl.Float64) for i, n in enumerate(names)}
    out = collect(g, key_types | types)
    how = {n: a.how for n, a in aggs if isinstance(a, _Add)}
    cols = []
    for i, n in enumerate(names):
        c = pl.col(f"__c{i}")
        kind = how.get(n)
        if kind in ("min", "max"):
            cols.append(c.cast(pl.Float64).alias(n))
        elif n in counts:
            cols.append(c.cast(pl.Float64).fill_null(0.0).round(0).cast(pl.Int64).alias(n))
        else:
            cols.append(c.cast(pl.Float64).fill_null(0.0).alias(n))
    return out.select(*keys, *cols)


def _binary_cell(has_label: bool):
    """A row's cell of the binary confusion table: prediction class (1, 0, none) x 3 + label
    class (1, 0, none), as 0..8."""
    F = _F()

    def cls(x):
        return F.when(x == 1, F.lit(0)).when(x == 0, F.lit(1)).otherwise(F.lit(2))

    lab = cls(positive(F.col("label"))) if has_label else F.lit(2)
    return cls(positive(F.col("prediction"))) * 3 + lab


def _binary_confusion(table: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The confusion table (keys, prediction, label, n: the cells with rows) from the binary
    cell counts of the tally table."""
    classes = ["1", "0", None]
    parts = []
    for i in range(9):
        parts.append(table.select(*keys, pl.lit(classes[i // 3], dtype=pl.String).alias("prediction"),
                                  pl.lit(classes[i % 3], dtype=pl.String).alias("label"),
                                  pl.col(f"__conf{i}").alias("n")))
    out = pl.concat(parts).filter(pl.col("n") > 0)
    return _bucket_times(out).select([*keys, "prediction", "label", "n"]).sort(
        [*keys, "prediction", "label"], nulls_last=True)


def _bucket_times(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("bucket").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))


def _row_tallies(schema: dict) -> list:
    F = _F()
    aggs = [("n", _Add(F.lit(1.0)))]
    if "fallback" in schema:
        aggs.append(("fallback", _fsum(F.col("fallback"))))
    if "latency_ms" in schema:
        aggs.append(("latency_ms|invalid", _cnt(F.col("`__latency_ms|invalid`"))))
    return aggs


def _bin_columns(binning: Binning, schema: dict) -> list:
    """Each numeric feature's bin index (the number of edges below a finite value; null for a
    missing or infinite one) as a column ``__f|bin``, computed once per row: the histogram
    counts read the column, so the plan does not repeat the comparisons in every count."""
    F = _F()
    out = []
    for f, edges in binning.numeric.items():
        if f not in schema:
            continue
        x = F.col(f"`{f}`").cast("double")
        idx = sum((F.when(x > F.lit(float(e)), 1).otherwise(0) for e in edges), F.lit(0)) if edges else F.lit(0)
        out.append(F.when(_finite(x), idx).alias(f"__{f}|bin"))
    return out


def _feature_tallies(binning: Binning, schema: dict) -> list:
    """As the polars engine's: missing, ±inf, sum, sum of squares, min, max and bin counts per
    numeric feature (a value's bin is the number of edges below it); vocabulary, other, unseen
    and null counts per categorical one."""
    F = _F()
    aggs = []
    for f, edges in binning.numeric.items():
        if f not in schema:
            continue
        x = F.col(f"`{f}`").cast("double")
        fin = _finite(x)
        finite = F.when(fin, x)
        b = F.col(f"`__{f}|bin`")
        aggs += [(f"{f}|null", _cnt(x.isNull() | F.isnan(x))), (f"{f}|inf", _cnt(F.abs(x) == F.lit(_INF))),
                 (f"{f}|sum", _fsum(finite)), (f"{f}|sumsq", _fsum(finite * finite)),
                 (f"{f}|min", _Add(finite, "min")), (f"{f}|max", _Add(finite, "max"))]
        aggs.append((f"{f}|h", _Family([f"{f}|h{i}" for i in range(len(edges) + 1)], b)))
    for c, vocab in binning.categorical.items():
        if c not in schema:
            continue
        x = F.col(f"`{c}`").cast("string")
        seen = binning.seen[c]
        if vocab:  # the value's place in the vocabulary (array_position is 1-based, 0 when absent)
            pos = F.array_position(F.array(*[F.lit(v) for v in vocab]), x)
            aggs.append((f"{c}|v", _Family([f"{c}|v{i}" for i in range(len(vocab))],
                                           F.when(pos > 0, pos - 1).cast("int"))))
        aggs += [(f"{c}|other", _cnt(x.isNotNull() & ~x.isin(list(vocab)))),
                 (f"{c}|unseen", _cnt(x.isNotNull() & ~x.isin(list(seen))) if seen else _cnt(x.isNotNull())),
                 (f"{c}|null", _cnt(x.isNull()))]
    return aggs


def _invalid_tallies(schema: dict) -> list:
    F = _F()
    return [(f"{c}|invalid", _cnt(F.col(f"`__{c}|invalid`"))) for c in ("score", "prediction", "label")
            if c in schema]


def _score_tallies(df, task: str, schema: dict, has_label: bool):
    F = _F()
    if "score" not in schema:
        return df, []
    df = df.withColumn("__score_bin", F.least(F.greatest(F.floor(F.col("score") * SCORE_BINS), F.lit(0)),
                                             F.lit(SCORE_BINS - 1)).cast("int"))
    sb = F.col("__score_bin")
    if not (task == "binary_classification" and has_label):
        return df, [("score|h", _Family([f"score|h{i}" for i in range(SCORE_BINS)], sb))]
    df = df.withColumn("__y", positive(F.col("label")))
    y = F.col("__y")
    # one family of 3 x SCORE_BINS counts: the bin, offset by the outcome (y1, y0, not labelled)
    outcome = F.when(y == 1, 0).when(y == 0, 1).otherwise(2)
    aggs = [("score|y", _Family([f"score|{name}|h{i}" for name in ("y1", "y0", "yna") for i in range(SCORE_BINS)],
                                sb + outcome * SCORE_BINS))]
    p = F.least(F.greatest(F.col("score"), F.lit(1e-15)), F.lit(1 - 1e-15))
    loss = -(y * F.log(p) + (1 - y) * F.log(1 - p))
    aggs += [("logloss|sum", _fsum(loss)), ("logloss|sumsq", _fsum(loss * loss)),
             ("brier|sum", _fsum(F.pow(F.col("score") - y, 2)))]
    aggs.append(("score|s", _Family([f"score|s|h{i}" for i in range(SCORE_BINS)], F.when(y.isNotNull(), sb),
                                    F.col("score"))))
    return df, aggs


def _label_tallies(task: str, schema: dict, has_label: bool) -> list:
    F = _F()
    if not (has_label and "prediction" in schema):
        return []
    pred, lab = F.col("prediction"), F.col("label")
    is_lab = lab.isNotNull() & pred.isNotNull()
    aggs = [("labelled", _cnt(is_lab))]
    if task == "regression":
        err = pred.cast("double") - lab.cast("double")
        return aggs + [("abs_err", _fsum(F.abs(err))), ("sq_err", _fsum(err * err))]
    if task == "binary_classification":
        same = positive(pred) == positive(lab)
    else:
        same = pred.cast("string") == lab.cast("string")
    return aggs + [("correct", _cnt(same & is_lab))]


def _latency_bin(col: str = "latency_ms"):
    """:func:`workbench.summaries.binning.latency_bin_expr` of ``col`` in Spark."""
    F = _F()
    x = F.col(col).cast("double")
    v = F.when(_finite(x), x)
    idx = F.floor(F.log(v / LATENCY_MIN_MS) / math.log(LATENCY_RATIO)) + 1
    return (F.when(v.isNull(), F.lit(None)).when(v < LATENCY_MIN_MS, F.lit(0))
            .otherwise(F.least(F.greatest(idx, F.lit(1)), F.lit(LATENCY_BINS))).cast("int"))


def _latency(df, schema: dict, keys: list[str], collect) -> pl.DataFrame:
    F = _F()
    key_types = {k: pl.String for k in keys} | {"bucket": pl.Int64}
    if "latency_ms" not in schema:
        return _bucket_times(pl.DataFrame(schema={**key_types, "bin": pl.Int32, "n": pl.Int64}))
    g = df.groupBy(*[F.col(f"`{k}`") for k in keys], _latency_bin().alias("bin")).agg(F.count(F.lit(1)).alias("n"))
    out = collect(g, {**key_types, "bin": pl.Int32, "n": pl.Int64})
    return _bucket_times(out).select([*keys, "bin", "n"]).sort([*keys, "bin"], nulls_last=True)


def _confusion(df, task: str, keys: list[str], has_label: bool, collect) -> pl.DataFrame:
    F = _F()

    def cls(c):
        if not has_label and c == "label":
            return F.lit(None).cast("string")
        col = F.col(c)
        return positive(col).cast("string") if task == "binary_classification" else col.cast("string")

    g = (df.groupBy(*[F.col(f"`{k}`") for k in keys], cls("prediction").alias("prediction"),
                    cls("label").alias("label")).agg(F.count(F.lit(1)).alias("n")))
    types = {k: pl.String for k in keys} | {"bucket": pl.Int64, "prediction": pl.String, "label": pl.String,
                                           "n": pl.Int64}
    out = _bucket_times(collect(g, types))
    return out.select([*keys, "prediction", "label", "n"]).sort([*keys, "prediction", "label"], nulls_last=True)
