"""A lake's predictions (and labels) as Spark DataFrames, normalised as the polars engine does.

The lake is opened by :class:`workbench.lake.Lake` as always (manifest, roles, schema checks,
sampled timestamp checks: the same named errors); this module reads the same files with Spark and
applies the same normalisation: canonical role names, UTC timestamps, text codes, numbers as
numbers (a value that breaks its column's type fails the read, as it does in polars, and the
lake names the file, line and column), masked sensitive columns (:mod:`workbench.spark.masking`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from workbench.lake.files import DataFiles
from workbench.lake.timestamps import parse_time
from workbench.spark.masking import mask_column

__all__ = ["SparkLake", "spark_type"]

_EPOCH_RE = r"^-?[0-9]+(\.[0-9]+)?$"
_TRUE = ["true", "1", "yes", "t", "y"]
_FALSE = ["false", "0", "no", "f", "n", ""]


def spark_type(dtype: pl.DataType) -> str | None:
    """The Spark SQL type holding a polars dtype of the normalised frame (None: kept as read)."""
    if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
        return "timestamp"
    if isinstance(dtype, (pl.List, pl.Array)):
        inner = spark_type(dtype.inner)
        return f"array<{inner}>" if inner else None
    return {pl.Float64: "double", pl.Float32: "float", pl.Int64: "bigint", pl.Int32: "int", pl.Int16: "smallint",
            pl.Int8: "tinyint", pl.UInt8: "smallint", pl.UInt16: "int", pl.UInt32: "bigint", pl.UInt64: "bigint",
            pl.Boolean: "boolean", pl.String: "string"}.get(dtype)


def _micros(t) -> int:
    t = parse_time(t)
    return (t - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)


class SparkLake:
    """The Spark side of one opened lake: its tables as normalised Spark DataFrames."""

    def __init__(self, lake, session, mask_key: bytes) -> None:
        self.lake = lake
        self.session = session
        self._key = mask_key
        self._raw_preds = None
        self._raw_labels = None

    # -- reading -------------------------------------------------------------------------
    def _read(self, files: DataFiles):
        from workbench.spark.sources import SparkFiles

        if isinstance(files, SparkFiles):  # a catalog table or a URI the manifest names: read once
            return files.frame
        r = self.session.read
        paths = [str(p) for p in files.paths]
        if files.hive:
            r = r.option("basePath", str(_hive_base(files))).option("recursiveFileLookup", "false")
        if files.format == "parquet":
            return r.option("mergeSchema", "true").parquet(*paths)
        if files.format == "csv":  # every value as text: cast to the column's type below, checked
            return r.option("header", "true").option("inferSchema", "false").option("mode", "FAILFAST").csv(paths)
        return r.option("mode", "FAILFAST").json(paths)

    @property
    def raw_predictions(self):
        if self._raw_preds is None:
            self._raw_preds = self._read(self.lake._preds.files)
        return self._raw_preds

    # -- normalising ---------------------------------------------------------------------
    def predictions(self, columns=None, *, with_labels: bool = False, start=None, end=None):
        """The normalised predictions (canonical names) as a Spark DataFrame, rows with
        ``start <= timestamp < end`` when given; with ``with_labels`` the latest label per
        request joined (``label``, ``labeled_at``)."""
        from pyspark.sql import functions as F

        lake = self.lake
        raw = self.raw_predictions
        have = set(raw.columns)
        mapping = lake.manifest.columns.mapping()
        src_of = {r: mapping[r] for r in lake.roles if r in mapping}
        sensitive = set(lake.sensitive)
        schema = lake.schema
        wanted = list(schema) if columns is None else [c for c in columns if c in schema]
        need_ts = start is not None or end is not None
        labels_joined = with_labels and lake.has_labels and not lake._labels.inline
        generation = lake.task == "generation"
        joined = ("feedback", "escalated", "labeled_at") if generation else ("label", "labeled_at")
        out = []
        for c in dict.fromkeys([*wanted, *(["timestamp"] if need_ts else []),
                                *(["request_id"] if labels_joined else [])]):
            if labels_joined and c in joined:
                continue
            src = src_of.get(c, c)
            if src not in have:
                if c == "route":
                    out.append(F.lit("primary").alias("route"))
                    continue
                src = c
            out.append(self._normal(raw[f"`{src}`"], raw.schema[src].dataType, schema[c], c in sensitive).alias(c))
        df = raw.select(*out)
        if need_ts:
            us = F.unix_micros(F.col("timestamp"))
            if start is not None:
                df = df.filter(us >= F.lit(_micros(start)))
            if end is not None:
                df = df.filter(us < F.lit(_micros(end)))
        if with_labels and lake.has_labels:
            if lake._labels.inline:
                if "labeled_at" in wanted or columns is None:
                    df = df.withColumn("labeled_at", F.col("timestamp"))
            else:
                latest = self.latest_feedback() if generation else self.latest_labels()
                df = df.join(latest, on="request_id", how="left")
        if columns is not None:
            keep = [c for c in columns if c in df.columns]
            df = df.select(*keep)
        return df

    def _normal(self, x, stype, target: pl.DataType, masked: bool):
        """One column normalised to ``target`` (the polars engine's dtype for it)."""
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        if masked:
            return mask_column(x, self._key)
        to = spark_type(target)
        if to is None:
            return x
        if to == "timestamp":
            return _timestamp(x, stype)
        if to == "boolean":
            if isinstance(stype, T.BooleanType):
                return x
            if isinstance(stype, T.NumericType):
                return x != 0
            low = F.lower(F.trim(x.cast("string")))
            return F.when(low.isin(_TRUE), F.lit(True)).when(low.isin(_FALSE), F.lit(False)).otherwise(
                F.lit(None).cast("boolean"))
        if to.startswith("array"):
            if isinstance(stype, T.StringType):
                return F.from_json(x, to)
            return x.cast(to)
        if to == "string":
            return x.cast("string")
        if isinstance(stype, T.StringType):
            # text (CSV) read as a number: a value that is not one fails the read, as in polars
            bad = x.isNotNull() & (F.trim(x) != "") & x.try_cast(to).isNull()
            return F.when(bad, F.raise_error(F.lit("a value breaks its column's type"))).otherwise(
                F.when(F.trim(x) == "", F.lit(None).cast(to)).otherwise(x.try_cast(to)))
        return x.cast(to)

    def null_timestamps(self) -> int:
        """Prediction rows without a readable timestamp (missing, or text Spark cannot parse), by Spark."""
        from pyspark.sql import functions as F

        g = self.predictions(["timestamp"]).agg(F.count(F.lit(1)).alias("n"), F.count("timestamp").alias("ok"))
        r = self.to_polars(g, {"n": pl.Int64, "ok": pl.Int64})
        return int(r["n"][0] - r["ok"][0])

    def time_range(self):
        """First and last prediction timestamps (UTC; None, None without rows), by Spark."""
        from pyspark.sql import functions as F

        us = F.unix_micros(F.col("timestamp"))
        g = self.predictions(["timestamp"]).agg(F.min(us).alias("lo"), F.max(us).alias("hi"))
        r = self.to_polars(g, {"lo": pl.Int64, "hi": pl.Int64})
        r = r.select(pl.all().cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
        return r["lo"][0], r["hi"][0]

    def _labels_source(self):
        """The labels (or feedback) table as Spark reads it, the manifest's role mapping, and the
        request id column normalised (masked when sensitive)."""
        lake = self.lake
        if self._raw_labels is None:
            self._raw_labels = self._read(lake._labels.files)
        raw = self._raw_labels
        mapping = lake.manifest.columns.mapping()
        rid = mapping["request_id"] if mapping["request_id"] in raw.columns else "request_id"
        masked = rid in set(lake.manifest.sensitive)
        return raw, mapping, self._normal(raw[f"`{rid}`"], raw.schema[rid].dataType, pl.String, masked).alias(
            "request_id")

    def latest_labels(self):
        """One label per request: the latest ``labeled_at``; ties keep a valid label, then the
        greatest (as :func:`workbench.lake.tables.latest_labels`)."""
        from pyspark.sql import functions as F

        lake = self.lake
        raw, mapping, request_id = self._labels_source()
        lab = mapping["label"] if mapping["label"] in raw.columns else "label"
        lschema = lake._labels.frame.collect_schema()
        cols = [request_id,
                self._normal(raw[f"`{lab}`"], raw.schema[lab].dataType, lschema["label"], False).alias("label")]
        if "labeled_at" in raw.columns:
            cols.append(_timestamp(raw["labeled_at"], raw.schema["labeled_at"].dataType).alias("labeled_at"))
        else:
            cols.append(F.lit(None).cast("timestamp").alias("labeled_at"))
        df = raw.select(*cols)
        label = F.col("label")
        valid = label.isNotNull()
        if lschema["label"].is_float():
            valid = valid & ~F.isnan(label) & (F.abs(label) != F.lit(float("inf")))
        # the greatest (labeled_at, valid, label) per request, by an aggregate: Spark combines it
        # on each partition before the shuffle, where a window would shuffle and sort every label.
        # A struct orders field by field, a null field below any value: a missing time is older
        # than any, a null label below any (as nulls last in a descending sort)
        key = F.struct(F.col("labeled_at").alias("t"), valid.alias("v"), label.alias("l"))
        best = F.max_by(F.struct(label.alias("label"), F.col("labeled_at").alias("labeled_at")), key)
        return df.groupBy("request_id").agg(best.alias("__best")).select("request_id", "__best.label",
                                                                         "__best.labeled_at")

    def latest_feedback(self):
        """A generation lake's feedback, one row per request (as
        :func:`workbench.lake.tables.latest_feedback`): the latest known feedback (by
        ``labeled_at``, then the greatest value; a row without feedback never replaces one with
        it), escalated when any row says so (null when none says either way), the latest time."""
        from pyspark.sql import functions as F

        raw, mapping, request_id = self._labels_source()
        cols = [request_id]
        for role, dtype, spark in (("feedback", pl.Float64, "double"), ("escalated", pl.Boolean, "boolean")):
            src = mapping[role]
            cols.append(self._normal(raw[f"`{src}`"], raw.schema[src].dataType, dtype, False).alias(role)
                        if src in raw.columns else F.lit(None).cast(spark).alias(role))
        at = mapping["labeled_at"]
        cols.append(_timestamp(raw[f"`{at}`"], raw.schema[at].dataType).alias("labeled_at") if at in raw.columns
                    else F.lit(None).cast("timestamp").alias("labeled_at"))
        fb = F.col("feedback")
        # rows without feedback have no ordering value: max_by passes over them
        latest = F.max_by(fb, F.when(fb.isNotNull(), F.struct(F.col("labeled_at").alias("t"), fb.alias("f"))))
        return (raw.select(*cols).groupBy("request_id")
                .agg(latest.alias("feedback"), F.bool_or("escalated").alias("escalated"),
                     F.max("labeled_at").alias("labeled_at")))

    def to_polars(self, df, schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
        """Collect a small Spark DataFrame (a sample, a tally) into polars with the lake's dtypes;
        timestamps travel as epoch microseconds, so no local time zone touches them."""
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        schema = schema or {}
        times = [f.name for f in df.schema.fields if isinstance(f.dataType, (T.TimestampType, T.TimestampNTZType))]
        if times:
            df = df.select(*[F.unix_micros(F.col(c)).alias(c) if c in times else F.col(c) for c in df.columns])
        names = df.columns
        try:
            rows = df.collect()
        except Exception as exc:
            raise self.lake.read_error(exc) from None
        data = {c: [r[i] for r in rows] for i, c in enumerate(names)}
        out = {}
        for c in names:
            if c in times:
                out[c] = pl.Series(c, data[c], pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
            else:
                out[c] = pl.Series(c, data[c], dtype=schema.get(c), strict=False)
        return pl.DataFrame(out)


def _timestamp(x, stype):
    """A time column as a UTC timestamp (the session time zone is UTC: naive times read as UTC),
    as :func:`workbench.lake.timestamps.timestamp_expr`: datetimes, dates, epoch numbers (unit by
    magnitude) and ISO-8601 text (unparsable text becomes null, as in polars)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(stype, (T.TimestampType, T.TimestampNTZType, T.DateType)):
        return x.cast("timestamp")
    if isinstance(stype, T.NumericType):
        return _epoch(x.cast("double"))
    text = F.trim(x.cast("string"))
    return F.when(text.rlike(_EPOCH_RE), _epoch(text.try_cast("double"))).otherwise(text.try_cast("timestamp"))


def _epoch(v):
    from pyspark.sql import functions as F

    a = F.abs(v)
    us = (F.when(a >= 1e17, v / 1e3).when(a >= 1e14, v).when(a >= 1e11, v * 1e3).otherwise(v * 1e6))
    return F.timestamp_micros(F.bround(us, 0).cast("bigint"))


def _hive_base(files: DataFiles) -> Path:
    """The directory above the first ``key=value`` directory of the files."""
    p = files.paths[0].parent
    while "=" in p.name and p != p.parent:
        p = p.parent
    return p


def session_of(spark: Any):
    from workbench.spark.session import spark_session

    return spark_session(spark)
