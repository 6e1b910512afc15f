"""The :class:`Lake`: one opened, validated, read-only telemetry lake.

``open_lake`` reads the manifest and lineage, checks the schemas of every data
file and a sample of their timestamps, and builds lazy frames; it collects no
prediction rows. ``Lake.validate()`` makes the full-data checks (duplicates,
unparsable timestamps, labels that join nothing) in one pass.
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
    LabelJoinError,
    LakeValidationWarning,
    RequestNotFoundError,
    TimestampError,
)
from workbench.lake.chain import LineageChain
from workbench.lake.checks import contract_warnings, read_notes
from workbench.lake.files import DataFiles, corrupt_text_file, find_bad_line, sanitize, scan_files
from workbench.lake.lineage import Lineage, load_lineage
from workbench.lake.manifest import Manifest, lake_root, read_manifest
from workbench.lake.masking import Masker, resolve_mask_key
from workbench.lake.tables import LabelsTable, PredictionsTable, check_not_empty, load_labels, load_predictions
from workbench.results import Result, iso

__all__ = ["Lake", "LakeProfile", "open_lake"]


def open_lake(path: str | os.PathLike, *, mask_key: bytes | str | None = None) -> "Lake":
    """Open a telemetry lake (read-only) and check it against the contract.

    Parameters
    ----------
    path : str or PathLike
        The lake directory (holding ``workbench.yaml``).
    mask_key : bytes or str, optional
        Key of the HMAC that masks sensitive columns. Defaults to
        ``$WORKBENCH_MASK_KEY``, else a per-user key in ``~/.config/workbench``.

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
    return Lake(path, mask_key=mask_key)


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
    label_rows: int | None = None
    labeled_predictions: int | None = None
    orphan_labels: int | None = None
    label_lag_hours_median: float | None = None
    warnings: tuple[str, ...] = field(default=())

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

    def __init__(self, path: str | os.PathLike, *, mask_key: bytes | str | None = None) -> None:
        self.root = lake_root(path).resolve()
        self.manifest: Manifest = read_manifest(self.root)
        self._masker = Masker(resolve_mask_key(mask_key))
        self._preds: PredictionsTable = load_predictions(self.root, self.manifest, self._masker)
        check_not_empty(self._preds)
        self._labels: LabelsTable | None = load_labels(self.root, self.manifest, self._masker, self._preds)
        self.lineage: Lineage = load_lineage(self.root, self.manifest, self._preds.numeric + self._preds.categorical)
        self.warnings: list[str] = list(self.lineage.warnings)
        for w in self.lineage.warnings:
            warnings.warn(w, LakeValidationWarning, stacklevel=3)

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
        if with_labels and self._labels is not None and not self._labels.inline:
            # Joined on 64-bit hashes of the ids: a third of the memory of string keys. A false
            # match needs two of the ids to collide: ~N*M/2^64, about 5e-6 for 10M x 10M.
            lab = (self._labels.frame.select(pl.col("request_id").hash().alias("__h"), "label", "labeled_at")
                   .unique(subset="__h", keep="last", maintain_order=False))
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
        glob = counts.select(pl.len().alias("rows"), pl.col("request_id").hash().n_unique().alias("unique_ids"),
                         pl.col("timestamp").null_count().alias("null_ts"),
                         pl.all().null_count().name.prefix("null:"))
        queries = [by, glob]
        if self._labels is not None:
            # Joins on 64-bit hashes of the ids: a tenth of the memory of string keys.
            lab = self._labels.frame.select(pl.col("request_id").hash().alias("h"), "labeled_at")
            ids = lf.select(pl.col("request_id").hash().alias("h"), "timestamp")
            queries.append(lab.select(pl.len().alias("label_rows")))
            queries.append(lab.join(ids, on="h", how="semi").select(pl.len().alias("joined")))
            queries.append(ids.join(lab, on="h", how="inner")
                           .select(pl.len().alias("labeled"),
                                   ((pl.col("labeled_at") - pl.col("timestamp")).dt.total_seconds() / 3600)
                                   .median().alias("lag_h")))
        # One query at a time: run together they would hold every hash table at once.
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
        return LakeProfile(
            rows=g["rows"], start=by_df["start"].min(), end=by_df["end"].max(), null_counts=nulls,
            versions=versions, routes=routes, version_routes=vr,
            duplicate_request_ids=g["rows"] - g["unique_ids"], null_timestamps=g["null_ts"], **kw,
        )

    def profile(self) -> LakeProfile:
        """Row counts, time span, versions and routes (one pass; cached)."""
        return self._profile

    def validate(self) -> LakeProfile:
        """Full-data checks in one pass; returns the profile with its warnings.

        Raises
        ------
        TimestampError
            Rows whose timestamp is missing or unparsable.
        LabelJoinError
            Labels exist but none joins a prediction.

        Warns
        -----
        DuplicateRequestIdWarning
            With the number of repeated request ids.
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
        found = list(self.warnings) + found + contract_warnings(self, p)
        return LakeProfile(**{**{f: getattr(p, f) for f in p.__dataclass_fields__}, "warnings": tuple(found)})

    def read_notes(self) -> list[str]:
        """What reading the predictions left out or assumed, for analyses that do not run
        :meth:`validate` (triage): see :func:`workbench.lake.checks.read_notes`."""
        return read_notes(self)

    def _first_file_with_null_timestamps(self) -> str:
        files = self._preds.files
        if len(files.paths) == 1:
            return files.rel(files.paths[0])
        for p in files.paths:
            try:
                one = load_predictions(self.root, dataclasses.replace(self.manifest, predictions=files.rel(p)),
                                       self._masker)
                n = one.frame.select(pl.col("timestamp").null_count()).collect().item()
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
            culprit = self._culprit_file()
            if isinstance(culprit, tuple):  # a text file with a line that breaks its format
                raise corrupt_text_file(*culprit, exc) from None
            msg = f"cannot read {what}"
            raise CorruptFileError(msg, file=culprit, found=sanitize(str(exc)),
                                   hint="a data file is malformed or a value breaks its column's type; "
                                        "fix or remove that file.") from None

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
