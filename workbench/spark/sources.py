"""Predictions and labels that only Spark reads: a Spark/Hive catalog table or an object-store URI.

The manifest may name them (``predictions: {table: db.preds}``, ``predictions: s3a://bucket/preds/``,
``labels: {path: gs://bucket/labels/, format: csv}``; see docs/telemetry-lake.md). Such a lake
opens only with ``engine="spark"``: the polars engine refuses it with a :class:`UsageError`
saying so, since the driver cannot (and should not) read the rows itself.

The lake is still checked by the same code as a file lake (roles, features, sensitive columns,
types: the same named errors), on the schema Spark reports. The lake's polars frames over such a
source stream the columns they need from Spark through Arrow (a polars IO source: projection and
``head`` pushed down to Spark); the summaries, the PII counts, duplicate ids, the time range and
the samples run on Spark and never use them. Lineage and metrics tables stay files in the lake
directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from workbench.exceptions import CorruptFileError, DataFileNotFoundError, UsageError
from workbench.lake.files import DataFiles, sanitize
from workbench.lake.manifest import Manifest, SparkSource

__all__ = ["SparkFiles", "polars_dtype", "refuse_without_spark", "spark_scan"]

_BATCH = 100_000


@dataclass(frozen=True)
class SparkFiles(DataFiles):
    """A table of the lake that Spark reads (no local files: ``paths`` is empty)."""

    source: SparkSource | None = None
    frame: Any = None  # the Spark DataFrame, as read

    def rel(self, p) -> str:
        return str(p)


def refuse_without_spark(manifest: Manifest, engine: str) -> None:
    """The polars engine cannot open a lake whose predictions or labels are a Spark table or a URI."""
    if not manifest.spark_sources:
        return
    if engine == "spark":
        return
    what, src = next(iter(manifest.spark_sources.items()))
    kind = "a Spark table" if src.kind == "table" else "an object-store URI"
    raise UsageError(f"`{what}` is {kind} ({src.describe()}): only Spark reads it", column=what,
                     expected="local files for engine='polars'", found=src.describe(),
                     hint="open the lake with engine='spark' (workbench ... --engine spark), or point "
                          f"`{what}:` at local files.")


def _read(session, src: SparkSource, what: str):
    """The Spark DataFrame of a source; a missing table or path is a named error."""
    try:
        if src.kind == "table":
            df = session.table(src.name)
        else:
            r = session.read.format(src.format or "parquet")
            if src.format == "csv":
                r = r.option("header", "true").option("inferSchema", "true").option("mode", "FAILFAST")
            elif src.format == "json":
                r = r.option("mode", "FAILFAST")
            df = r.load(src.name)
        df.schema  # noqa: B018 - resolves the table or lists the files now, not at the first query
        return df
    except Exception as exc:  # pyspark's AnalysisException and friends (Connect has its own classes)
        text = str(exc)
        missing = any(k in text for k in ("TABLE_OR_VIEW_NOT_FOUND", "PATH_NOT_FOUND", "does not exist",
                                          "Path does not exist", "not found"))
        if missing:
            hint = ("check the name, and that the session's catalog has it (spark.sql('SHOW TABLES IN db'))"
                    if src.kind == "table" else "check the URI, and that the cluster can reach the store")
            raise DataFileNotFoundError(f"the {what} {src.describe()} does not exist", file=src.describe(),
                                        expected=f"a readable {what} " + ("table" if src.kind == "table" else "path"),
                                        found="nothing", hint=hint) from None
        raise CorruptFileError(f"Spark cannot read the {what} {src.describe()}", file=src.describe(),
                               found=sanitize(text.splitlines()[0] if text else type(exc).__name__),
                               hint="check the format (`format:` in the manifest) and the files.") from None


def polars_dtype(t) -> pl.DataType:
    """The polars dtype of a Spark SQL type, as Arrow brings it (timestamps as UTC microseconds)."""
    from pyspark.sql import types as T

    simple = [(T.StringType, pl.String), (T.LongType, pl.Int64), (T.IntegerType, pl.Int32),
              (T.ShortType, pl.Int16), (T.ByteType, pl.Int8), (T.DoubleType, pl.Float64), (T.FloatType, pl.Float32),
              (T.BooleanType, pl.Boolean), (T.DateType, pl.Date), (T.DecimalType, pl.Float64),
              (T.TimestampNTZType, pl.Datetime("us")), (T.TimestampType, pl.Datetime("us", "UTC"))]
    for cls, dtype in simple:
        if isinstance(t, cls):
            return dtype
    if isinstance(t, T.ArrayType):
        return pl.List(polars_dtype(t.elementType))
    return pl.String  # anything else travels as text


def _spark_column(name: str, t):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    c = F.col(f"`{name}`")
    if isinstance(t, T.DecimalType):
        return c.cast("double").alias(name)
    if polars_dtype(t) == pl.String and not isinstance(t, T.StringType):
        return c.cast("string").alias(name)
    return c


def polars_frame(df, what: str) -> pl.LazyFrame:
    """A lazy polars frame over a Spark DataFrame: each query streams the columns it needs (and
    no more rows than a ``head`` asks) from Spark through Arrow."""
    from polars.io.plugins import register_io_source

    types = {f.name: f.dataType for f in df.schema.fields}
    schema = {n: polars_dtype(t) for n, t in types.items()}

    def source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
               batch_size: int | None) -> Iterator[pl.DataFrame]:
        cols = list(with_columns) if with_columns is not None else list(schema)
        sdf = df.select(*[_spark_column(c, types[c]) for c in cols]) if cols else df.select()
        if n_rows is not None:
            sdf = sdf.limit(n_rows)
        try:
            table = sdf.toArrow()
        except Exception as exc:
            raise CorruptFileError(f"Spark cannot read {what}", found=sanitize(str(exc).splitlines()[0])) from None
        out = pl.from_arrow(table)
        if not isinstance(out, pl.DataFrame):  # pragma: no cover - toArrow gives a table
            out = out.to_frame()
        out = out.cast({c: schema[c] for c in cols}, strict=False) if cols else pl.DataFrame()
        if cols and "" in out.columns:  # pragma: no cover
            out = out.drop("")
        if predicate is not None:
            out = out.filter(predicate)
        for i in range(0, max(out.height, 1), batch_size or _BATCH):
            yield out.slice(i, batch_size or _BATCH)

    return register_io_source(io_source=source, schema=schema)


def spark_scan(session, root: Path, manifest: Manifest):
    """``scan(what) -> (SparkFiles, LazyFrame)`` for the tables the manifest gives as Spark sources
    (``None`` for a table read from files)."""

    def scan(what: str):
        src = manifest.spark_sources.get(what)
        if src is None:
            return None
        df = _read(session, src, what)
        files = SparkFiles(what=what, spec=src.describe(), format="spark", paths=(), root=root, source=src,
                           frame=df)
        return files, polars_frame(df, src.describe())

    return scan
