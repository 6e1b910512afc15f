"""The :class:`Lake`: one opened, validated, read-only telemetry lake.

``open_lake`` reads the manifest and lineage, checks the schemas of every data
file and a sample of their timestamps, and builds lazy frames; it collects no
prediction rows. ``Lake.validate()`` makes the full-data checks (duplicates,
unparsable timestamps, labels that join nothing, missing and invalid values) in
one pass.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Sequence

import polars as pl

from workbench.exceptions import (
    CorruptFileError,
    DuplicateRequestIdWarning,
    EmptyDataError,
    InvalidValueError,
    LabelJoinError,
    LakeValidationWarning,
    RequestNotFoundError,
    TimestampError,
    UsageError,
    WorkbenchError,
)
from workbench.lake.chain import LineageChain
from workbench.lake.checks import contract_warnings, read_notes
from workbench.lake.files import DataFiles, corrupt_text_file, find_bad_line, sanitize, scan_files
from workbench.lake.lineage import Lineage, load_lineage
from workbench.lake.locate import locate_type_error
from workbench.lake.manifest import Manifest, lake_root, read_manifest
from workbench.lake.masking import Masker, resolve_mask_key
from workbench.lake.tables import (
    _STRING_ROLES,
    LabelsTable,
    PredictionsTable,
    check_not_empty,
    latest_feedback,
    latest_labels,
    load_labels,
    load_predictions,
)
from workbench.results import Result, iso

__all__ = ["Lake", "LakeProfile", "open_lake"]

#: a numeric feature with at least this share of null, NaN or ±inf values gets a warning
MISSING_WARN_SHARE = 0.3
#: roles whose invalid values make a row invalid (see the contract's "Missing values")
_SCREENED = ("score", "latency_ms", "prediction", "label")
_NULL_IS_INVALID = ("score", "latency_ms")  # logged on every row; a null label is one not known yet


def open_lake(path: str | os.PathLike, *, mask_key: bytes | str | None = None, engine: str = "polars",
              spark: Any = None) -> "Lake":
    """Open a telemetry lake (read-only) and check it against the contract.

    Parameters
    ----------
    path : str or PathLike
        The lake directory (holding ``workbench.yaml``).
    mask_key : bytes or str, optional
        Key of the HMAC that masks sensitive columns. Defaults to
        ``$WORKBENCH_MASK_KEY``, else a per-user key in ``~/.config/workbench``.
    engine : {"polars", "spark"}, default "polars"
        What computes the summaries (binning, every summary pass): polars on this machine, or
        Apache Spark (the ``spark`` extra) where the rows are; both give the same summaries.
    spark : SparkSession or str, optional
        With ``engine="spark"``: a SparkSession, or a master URL (``local[2]``,
        ``spark://host:7077``, ``sc://host:15002`` for Spark Connect). Default ``local[*]``.

    Returns
    -------
    Lake

    Raises
    ------
    WorkbenchError
        A subclass naming the file, column or line when the lake breaks the contract.

    Examples
    --------
    >>> import workbench as wb
    >>> lake = wb.open_lake("datasets/demo-lake")            # doctest: +SKIP
    >>> lake.predictions().filter(pl.col("route") == "canary")  # lazy  # doctest: +SKIP
    """
    return Lake(path, mask_key=mask_key, engine=engine, spark=spark)


@dataclass(frozen=True, repr=False)
class LakeProfile(Result):
    """Facts about the rows of a lake, from one pass over a few columns."""

    rows: int
    start: dt.datetime | None
    end: dt.datetime | None
    versions: dict[str, int]
    routes: dict[str, int]
    version_routes: list[dict[str, Any]]
    duplicate_request_ids: int
    null_timestamps: int
    null_counts: dict[str, int] = field(default_factory=dict)
    nan_counts: dict[str, int] = field(default_factory=dict)  # float columns with NaN values
    inf_counts: dict[str, int] = field(default_factory=dict)  # float columns with ±inf values
    invalid_counts: dict[str, int] = field(default_factory=dict)  # score, latency_ms, prediction, label
    label_rows: int | None = None
    labeled_predictions: int | None = None
    orphan_labels: int | None = None
    label_lag_hours_median: float | None = None
    warnings: tuple[str, ...] = field(default=())
    errors: tuple[str, ...] = field(default=())  # what validate(strict=True) raises on

    def _summary(self) -> str:
        return f"rows={self.rows}, start={iso(self.start)}, end={iso(self.end)}, versions={len(self.versions)}"


class Lake:
    """An opened telemetry lake. Use :func:`open_lake`.

    Everything row-sized stays lazy: :meth:`predictions` and :meth:`labels` return
    polars ``LazyFrame`` objects; nothing is collected until a caller asks.
    Sensitive columns are masked with a keyed hash inside those frames.

    Attributes
    ----------
    root : Path
    manifest : Manifest
    lineage : Lineage
    """

    def __init__(self, path: str | os.PathLike, *, mask_key: bytes | str | None = None, engine: str = "polars",
                 spark: Any = None) -> None:
        if engine not in ("polars", "spark"):
            raise UsageError("unknown engine", column="engine", expected="polars or spark", found=repr(engine)[:40])
        self.engine = engine
        self.root = lake_root(path).resolve()
        self.manifest: Manifest = read_manifest(self.root)
        key = resolve_mask_key(mask_key)
        self._masker = Masker(key)
        session, scan = None, None
        if engine == "spark":
            from workbench.spark.session import spark_session

            session = spark_session(spark)
        if self.manifest.spark_sources:  # a Spark table or an object-store URI: only Spark reads it
            from workbench.spark.sources import refuse_without_spark, spark_scan

            refuse_without_spark(self.manifest, engine)
            scan = spark_scan(session, self.root, self.manifest)
        self._preds: PredictionsTable = load_predictions(self.root, self.manifest, self._masker, scan=scan)
        check_not_empty(self._preds)
        self._labels: LabelsTable | None = load_labels(self.root, self.manifest, self._masker, self._preds,
                                                       scan=scan)
        self.lineage: Lineage = load_lineage(self.root, self.manifest, self._preds.numeric + self._preds.categorical)
        self.warnings: list[str] = list(self.lineage.warnings)
        for w in self.lineage.warnings:
            warnings.warn(w, LakeValidationWarning, stacklevel=3)
        self.spark_lake = None  # the Spark side (workbench.spark.frames.SparkLake) with engine="spark"
        if engine == "spark":
            from workbench.spark.frames import SparkLake

            self.spark_lake = SparkLake(self, session, key)

    # -- description -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def task(self) -> str:
        return self.manifest.task

    @property
    def roles(self) -> tuple[str, ...]:
        """Roles present in predictions (canonical column names)."""
        return self._preds.roles

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return self._preds.numeric

    @property
    def categorical_features(self) -> tuple[str, ...]:
        return self._preds.categorical

    @property
    def features(self) -> tuple[str, ...]:
        return self._preds.numeric + self._preds.categorical

    @property
    def segments(self) -> tuple[str, ...]:
        return self._preds.segments

    @property
    def sensitive(self) -> tuple[str, ...]:
        return self._preds.sensitive

    @property
    def other_columns(self) -> tuple[str, ...]:
        """Columns the manifest names neither as role, feature, segment nor sensitive."""
        return self._preds.other

    @property
    def schema(self) -> dict[str, pl.DataType]:
        """Column -> dtype of the normalised predictions frame."""
        return dict(self._preds.schema)

    @property
    def has_labels(self) -> bool:
        return self._labels is not None

    def time_range(self) -> tuple[dt.datetime, dt.datetime]:
        """First and last prediction timestamps (UTC), read once and kept.

        Raises
        ------
        EmptyDataError
            The lake holds no prediction rows.
        """
        return self._time_range

    @cached_property
    def _time_range(self) -> tuple[dt.datetime, dt.datetime]:
        if self.spark_lake is not None:  # read where the rows are
            lo, hi = self.spark_lake.time_range()
            if lo is None:
                raise EmptyDataError(f"lake {self.name!r} has no predictions", file=str(self.root))
            return lo, hi
        r = self.predictions(["timestamp"]).select(pl.col("timestamp").min().alias("lo"),
                                                    pl.col("timestamp").max().alias("hi")).collect()
        lo, hi = r["lo"][0], r["hi"][0]
        if lo is None:
            raise EmptyDataError(f"lake {self.name!r} has no predictions", file=str(self.root))
        return lo, hi

    def files(self) -> list[dict[str, Any]]:
        """Every data file the lake reads: table, path (relative), size and mtime."""
        out = []
        tables = [("predictions", self._preds.files)]
        if self._labels is not None and self._labels.files is not None:
            tables.append(("labels", self._labels.files))
        for what, fs in tables:
            for p in fs.paths:
                st = p.stat()
                out.append({"table": what, "path": fs.rel(p), "bytes": st.st_size, "mtime": st.st_mtime})
        for key, spec in self.lineage.sources.items():
            for p in sorted(self.root.glob(spec)) if any(c in spec for c in "*?[") else [self.root / spec]:
                if p.is_file():
                    st = p.stat()
                    out.append({"table": f"lineage.{key}", "path": str(p.relative_to(self.root)),
                                "bytes": st.st_size, "mtime": st.st_mtime})
        return out

    # -- data ---------------------------------------------------------------------------
    def predictions(self, columns: Sequence[str] | None = None, *, with_labels: bool = False) -> pl.LazyFrame:
        """The predictions, normalised and masked, as a lazy frame.

        Parameters
        ----------
        columns : sequence of str, optional
            Columns to keep (canonical role names, features, ...). All by default.
        with_labels : bool, default False
            Left-join the labels on ``request_id`` (adds ``label`` and ``labeled_at``).
        """
        lf = self._preds.frame
        if with_labels and self._labels is not None and self.task == "generation":
            if not self._labels.inline:
                fb = latest_feedback(self._labels.frame.with_columns(pl.col("request_id").hash().alias("__h"))
                                     .drop("request_id"), key="__h")
                lf = (lf.drop("feedback", "escalated", "labeled_at", strict=False)
                      .with_columns(pl.col("request_id").hash().alias("__h"))
                      .join(fb, on="__h", how="left").drop("__h"))
            else:
                lf = lf.with_columns(pl.col("timestamp").alias("labeled_at"))
        elif with_labels and self._labels is not None and not self._labels.inline:
            # Joined on 64-bit hashes of the ids: a third of the memory of string keys. A false
            # match needs two of the ids to collide: ~N*M/2^64, about 5e-6 for 10M x 10M.
            # A request labelled twice keeps its latest label (see latest_labels).
            lab = latest_labels(self._labels.frame.select(pl.col("request_id").hash().alias("__h"),
                                                          "label", "labeled_at"), key="__h")
            lf = (lf.drop("label", "labeled_at", strict=False)
                  .with_columns(pl.col("request_id").hash().alias("__h"))
                  .join(lab, on="__h", how="left").drop("__h"))
        elif with_labels and self._labels is not None and self._labels.inline:
            lf = lf.with_columns(pl.col("timestamp").alias("labeled_at"))
        if columns is not None:
            lf = lf.select(list(columns))
        return lf

    def labels(self) -> pl.LazyFrame | None:
        """Labels as ``request_id, label, labeled_at`` (lazy), or None when the lake has none."""
        return None if self._labels is None else self._labels.frame

    # -- lineage ------------------------------------------------------------------------
    def timeline(self, start=None, end=None) -> pl.DataFrame:
        """Every lineage event between ``start`` and ``end``, in time order.

        See :meth:`Lineage.timeline`.
        """
        return self.lineage.timeline(start, end)

    def lineage_of(self, request_id: str) -> LineageChain:
        """The whole lineage chain of one prediction.

        model version -> rollout step -> training dataset, artifact digest, serving
        commit -> each feature's version -> its source dataset -> the last upstream
        run before the request and its schema -> dependency versions in effect.

        Raises
        ------
        RequestNotFoundError
            When no prediction has this request id.
        """
        rid = str(request_id)
        candidates = [rid]
        if "request_id" in self.sensitive or self.manifest.columns.request_id in self.manifest.sensitive:
            candidates.append(self._masker.mask_value(rid))
        cols = [c for c in ("request_id", "timestamp", "model_version", "route", "feature_set_version")
                if c in self._preds.schema]
        rows = self._collect(self._preds.frame.select(cols)
                             .filter(pl.col("request_id").is_in(candidates)).head(2), "predictions")
        if rows.is_empty():
            msg = "no prediction has this request id"
            raise RequestNotFoundError(msg, file=self.manifest.predictions, column="request_id",
                                       found=repr(rid)[:60] if not self.sensitive else "an unknown id",
                                       hint="take an id from lake.predictions(); ids are matched exactly.")
        row = rows.row(0, named=True)
        return LineageChain.build(row, self.lineage, features=self.features,
                                  duplicates=rows.height > 1)

    # -- checks -------------------------------------------------------------------------
    @cached_property
    def _profile(self) -> LakeProfile:
        lf = self._preds.frame
        counts = self._preds.count_frame  # only ever aggregated: no value leaves this method
        by = counts.group_by("model_version", "route").agg(
            pl.len().alias("rows"), pl.col("timestamp").min().alias("start"),
            pl.col("timestamp").max().alias("end"),
        )
        # Null counts of every column make this one pass read (and so check) every value.
        # Distinct ids are counted on 64-bit hashes: 8 bytes an id instead of the string
        # (a collision among 10^8 ids has probability ~3e-4).
        # NaN and ±inf of float features and roles are counted in the same pass.
        schema = counts.collect_schema()
        floats = [c for c in dict.fromkeys((*self.numeric_features, *_SCREENED))
                  if c in schema and schema[c].is_float()]
        glob = counts.select(pl.len().alias("rows"), pl.col("request_id").hash().n_unique().alias("unique_ids"),
                         pl.col("timestamp").null_count().alias("null_ts"),
                         pl.all().null_count().name.prefix("null:"),
                         *[pl.col(c).is_nan().sum().alias(f"nan:{c}") for c in floats],
                         *[pl.col(c).is_infinite().sum().alias(f"inf:{c}") for c in floats])
        queries = [by, glob]
        if self._labels is not None:
            # Joins on 64-bit hashes of the ids: a tenth of the memory of string keys.
            lab = self._labels.frame.select(pl.col("request_id").hash().alias("h"), "labeled_at")
            ids = lf.select(pl.col("request_id").hash().alias("h"), "timestamp")
            queries.append(lab.select(pl.len().alias("label_rows")))
            queries.append(lab.join(ids, on="h", how="semi").select(pl.len().alias("joined")))
            # one label per prediction, the latest: a relabelled request counts once, with its last lag
            if self.task == "generation":
                latest = latest_feedback(self._labels.frame.with_columns(pl.col("request_id").hash().alias("h"))
                                         .drop("request_id"), key="h")
            else:
                latest = latest_labels(self._labels.frame.select(pl.col("request_id").hash().alias("h"), "label",
                                                                 "labeled_at"), key="h")
            queries.append(ids.join(latest, on="h", how="inner")
                           .select(pl.len().alias("labeled"),
                                   ((pl.col("labeled_at") - pl.col("timestamp")).dt.total_seconds() / 3600)
                                   .median().alias("lag_h")))
            if not self._labels.inline and self._labels.frame.collect_schema().get("label", pl.Null).is_float():
                x = pl.col("label")
                queries.append(self._labels.frame.select(x.is_nan().sum().alias("nan"),
                                                         x.is_infinite().sum().alias("inf")))        # One query at a time: run together they would hold every hash table at once.
        res = [self._collect(q, "predictions") for q in queries]
        by_df, g = res[0], res[1].row(0, named=True)
        versions: dict[str, int] = {}
        routes: dict[str, int] = {}
        for r in by_df.sort(["start", "model_version"]).iter_rows(named=True):
            versions[r["model_version"]] = versions.get(r["model_version"], 0) + r["rows"]
            routes[r["route"]] = routes.get(r["route"], 0) + r["rows"]
        vr = [{k: v for k, v in r.items()} for r in by_df.sort(["start", "route"]).iter_rows(named=True)]
        kw: dict[str, Any] = {}
        if self._labels is not None:
            label_rows = res[2]["label_rows"][0]
            joined = res[3]["joined"][0]
            kw = {"label_rows": label_rows, "labeled_predictions": res[4]["labeled"][0],
                  "orphan_labels": label_rows - joined, "label_lag_hours_median": res[4]["lag_h"][0]}
        nulls = {k[5:]: v for k, v in g.items() if k.startswith("null:")}
        nans = {k[4:]: int(v) for k, v in g.items() if k.startswith("nan:") and v}
        infs = {k[4:]: int(v) for k, v in g.items() if k.startswith("inf:") and v}
        invalid = {}
        for c in _SCREENED:
            k = nans.get(c, 0) + infs.get(c, 0) + (nulls.get(c, 0) if c in _NULL_IS_INVALID else 0)
            if c == "label" and len(res) > 5:  # NaN/inf labels in labels/
                k += int(res[5]["nan"][0] or 0) + int(res[5]["inf"][0] or 0)
            if k:
                invalid[c] = k
        return LakeProfile(
            rows=g["rows"], start=by_df["start"].min(), end=by_df["end"].max(), null_counts=nulls,
            nan_counts=nans, inf_counts=infs, invalid_counts=invalid,
            versions=versions, routes=routes, version_routes=vr,
            duplicate_request_ids=g["rows"] - g["unique_ids"], null_timestamps=g["null_ts"], **kw,
        )

    def profile(self) -> LakeProfile:
        """Row counts, time span, versions and routes (one pass; cached)."""
        return self._profile

    def validate(self, *, strict: bool = True) -> LakeProfile:
        """Full-data checks in one pass; returns the profile with its warnings.

        Parameters
        ----------
        strict : bool, default True
            Raise on invalid values (below); with False they are listed in the profile's
            ``errors`` (and warned) instead, as ``workbench lake-info`` shows them.

        Raises
        ------
        TimestampError
            Rows whose timestamp is missing or unparsable.
        LabelJoinError
            Labels exist but none joins a prediction.
        InvalidValueError
            Rows whose score or latency_ms is null, NaN or ±inf, or whose prediction or label is
            NaN or ±inf (the message names the column and the count). Analyses leave such rows
            out and count them; this says the writer should be fixed.

        Warns
        -----
        DuplicateRequestIdWarning
            With the number of repeated request ids.
        LakeValidationWarning
            A numeric feature with no value at all (every row null or NaN), or with at least
            :data:`MISSING_WARN_SHARE` of null, NaN or ±inf values.

        Examples
        --------
        >>> lake.validate(strict=False).nan_counts               # doctest: +SKIP
        {'amount': 12}
        """
        p = self._profile
        found: list[str] = []
        if p.null_timestamps:
            where = self._first_file_with_null_timestamps()
            msg = f"{p.null_timestamps} prediction rows have a missing or unparsable timestamp"
            raise TimestampError(msg, file=where, column=self.manifest.columns.timestamp,
                                 expected="an ISO-8601 UTC time on every row",
                                 found=f"{p.null_timestamps} of {p.rows} rows without one",
                                 hint="fix the writer; every prediction needs its time.")
        if p.duplicate_request_ids:
            text = f"{p.duplicate_request_ids} prediction rows repeat a request_id already seen"
            found.append(text)
            warnings.warn(text, DuplicateRequestIdWarning, stacklevel=2)
        if p.label_rows:
            joined = p.label_rows - (p.orphan_labels or 0)
            if joined == 0:
                msg = "labels join no prediction"
                raise LabelJoinError(
                    msg, file=self.manifest.labels, column="request_id",
                    expected="label request_ids that occur in predictions",
                    found=f"{p.label_rows} label rows, 0 matches",
                    hint="check that labels and predictions use the same request ids "
                         "(and map `columns: {request_id: ...}` if the name differs).",
                )
            if p.orphan_labels and p.orphan_labels / p.label_rows > 0.01:
                text = (f"{p.orphan_labels} of {p.label_rows} labels match no prediction "
                        f"({p.orphan_labels / p.label_rows:.1%})")
                found.append(text)
                warnings.warn(text, LakeValidationWarning, stacklevel=2)
        found += self._missing_warnings(p)
        errors = self._invalid_errors(p)
        if errors and strict:
            raise errors[0]
        for e in errors:
            warnings.warn(str(e).split("\n")[0], LakeValidationWarning, stacklevel=2)
        found = list(self.warnings) + found + contract_warnings(self, p)
        return LakeProfile(**{**{f: getattr(p, f) for f in p.__dataclass_fields__}, "warnings": tuple(found),
                              "errors": tuple(str(e).split("\n")[0] for e in errors)})

    def _missing_warnings(self, p: LakeProfile) -> list[str]:
        """Numeric features that are empty, or mostly null, NaN or ±inf (warned, and returned)."""
        out = []
        for f in self.numeric_features:
            null, nan, inf = p.null_counts.get(f, 0), p.nan_counts.get(f, 0), p.inf_counts.get(f, 0)
            if not p.rows or not null + nan + inf:
                continue
            if null + nan == p.rows:
                text = f"feature `{f}` has no value: all {p.rows:,} rows are null ({null:,}) or NaN ({nan:,})"
            elif (null + nan + inf) / p.rows >= MISSING_WARN_SHARE:
                text = (f"feature `{f}` is {(null + nan + inf) / p.rows:.0%} missing or invalid: {null:,} null, "
                        f"{nan:,} NaN, {inf:,} ±inf of {p.rows:,} rows")
            else:
                continue
            out.append(text)
            warnings.warn(text, LakeValidationWarning, stacklevel=3)
        return out

    def _invalid_errors(self, p: LakeProfile) -> list[InvalidValueError]:
        """One error per role with invalid values (see :meth:`validate`)."""
        out = []
        for c, k in p.invalid_counts.items():
            name = getattr(self.manifest.columns, c, None) or c
            external = c == "label" and self._labels is not None and not self._labels.inline
            what = "null, NaN or infinite" if c in _NULL_IS_INVALID else "NaN or infinite"
            parts = [f"{p.null_counts.get(c, 0):,} null"] if c in _NULL_IS_INVALID else []
            parts += [f"{p.nan_counts.get(c, 0):,} NaN", f"{p.inf_counts.get(c, 0):,} ±inf"]
            found = f"{k:,} rows" + ("" if external else f" of {p.rows:,} ({', '.join(parts)})")
            msg = f"{k:,} row{'s have' if k != 1 else ' has'} a {what} `{name}`"
            bad = pl.col(c).is_nan() | pl.col(c).is_infinite() if p.nan_counts.get(c) or p.inf_counts.get(c) \
                else pl.col(c).is_null()
            where = self.manifest.labels if external else self._first_file_with(bad, c)
            out.append(InvalidValueError(
                msg, file=where, column=name,
                expected=f"a finite number in `{name}` on every row" + (" that has one" if c in ("label", "prediction")
                                                                        else ""),
                found=found,
                hint="fix the writer. Until then triage and the summaries leave those rows out of the analyses "
                     "that need the value and count them; `lake.validate(strict=False)` lists this without raising."))
        return out

    def read_notes(self) -> list[str]:
        """What reading the predictions left out or assumed, for analyses that do not run
        :meth:`validate` (triage): see :func:`workbench.lake.checks.read_notes`."""
        return read_notes(self)

    def _first_file_with_null_timestamps(self) -> str:
        return self._first_file_with(pl.col("timestamp").is_null(), "timestamp")

    def _first_file_with(self, bad: pl.Expr, column: str) -> str:
        """The first predictions file with a row where ``bad`` holds (the glob if none alone)."""
        files = self._preds.files
        if len(files.paths) == 1:
            return files.rel(files.paths[0])
        for p in files.paths:
            try:
                one = load_predictions(self.root, dataclasses.replace(self.manifest, predictions=files.rel(p)),
                                       self._masker)
                n = one.frame.select(bad.alias(column).sum()).collect().item()
            except Exception:  # a file that cannot be read at all is reported elsewhere
                continue
            if n:
                return files.rel(p)
        return files.spec

    # -- plumbing -----------------------------------------------------------------------
    def _collect(self, lf: pl.LazyFrame, what: str) -> pl.DataFrame:
        return self._collect_all([lf], what)[0]

    def _collect_all(self, lfs: list[pl.LazyFrame], what: str = "predictions") -> list[pl.DataFrame]:
        try:
            return pl.collect_all(lfs, engine="streaming")
        except Exception as exc:
            raise self.read_error(exc, what) from None

    def read_error(self, exc: Exception, what: str = "predictions") -> WorkbenchError:
        """The named error for a failure while reading rows: the file, line and column of a value
        that breaks its column's type (CSV), else the first file that cannot be read.

        Layers that collect the lake's frames themselves (the summaries) raise this instead of
        the engine's error.
        """
        if isinstance(exc, WorkbenchError):
            return exc
        src = self.manifest.columns.mapping()
        text = {src[r] for r in _STRING_ROLES} | {src["timestamp"]}
        text |= set(self.manifest.features.categorical) | set(self.manifest.segments) | set(self.manifest.sensitive)
        located = locate_type_error(self._preds.files, sensitive=tuple(self.manifest.sensitive),
                                    string_columns=frozenset(text))
        if located is None and self._labels is not None and self._labels.files is not None:
            located = locate_type_error(self._labels.files, string_columns=frozenset({src["request_id"], "request_id",
                                                                                      "labeled_at"}))
        if located is not None:
            return located
        culprit = self._culprit_file()
        if isinstance(culprit, tuple):  # a text file with a line that breaks its format
            return corrupt_text_file(*culprit, exc)
        msg = f"cannot read {what}"
        return CorruptFileError(msg, file=culprit, found=sanitize(str(exc)),
                                hint="a data file is malformed or a value breaks its column's type; "
                                     "fix or remove that file.")

    def _culprit_file(self) -> str | tuple[DataFiles, Path]:
        """The first predictions or labels file that fails to read on its own (with its table
        when a line of it breaks the CSV/NDJSON format)."""
        tables = [self._preds.files]
        if self._labels is not None and self._labels.files is not None:
            tables.append(self._labels.files)
        for files in tables:
            if len(files.paths) == 1:
                try:
                    scan_files(files).select(pl.all().null_count()).collect()
                except Exception:
                    p = files.paths[0]
                    return (files, p) if find_bad_line(p, files.format) else files.rel(p)
                continue
            for p in files.paths:
                one = dataclasses.replace(files, paths=(p,))
                try:
                    scan_files(one).select(pl.all().null_count()).collect()
                except Exception:
                    return (files, p) if find_bad_line(p, files.format) else files.rel(p)
        return self._preds.files.spec

    def __repr__(self) -> str:
        f = self._preds.files
        return (f"Lake({self.name!r}, task={self.task!r}, predictions={f.format}×{len(f.paths)} files, "
                f"features={len(self.features)}, labels={'yes' if self.has_labels else 'no'}, "
                f"{self.lineage!r})")

    def _repr_html_(self) -> str:
        f = self._preds.files
        items = [
            ("path", str(self.root)), ("task", self.task),
            ("predictions", f"{f.format}, {len(f.paths)} file(s){' (hive)' if f.hive else ''}"),
            ("numeric features", ", ".join(self.numeric_features) or "—"),
            ("categorical features", ", ".join(self.categorical_features) or "—"),
            ("segments", ", ".join(self.segments) or "—"),
            ("sensitive (masked)", ", ".join(self.sensitive) or "—"),
            ("lineage", repr(self.lineage)),
        ]
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in items)
        return (f"<div class='workbench-lake'><b>Lake {html.escape(self.name)}</b>"
                f"<table>{rows}</table><small>lazy: no rows read</small></div>")
