"""Predictions and labels: checked against the contract and normalised, lazily.

After normalisation a predictions frame has the canonical role names
(``request_id``, ``timestamp``, ``model_version``, ``route``, ...), UTC
timestamps, string ids and codes, masked sensitive columns, and every other
column as written. Nothing is collected here except schemas and a small sample.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from workbench.exceptions import (
    ColumnCollisionError,
    ColumnNotFoundError,
    ColumnTypeError,
    CorruptFileError,
    EmptyDataError,
    TelemetrySchemaError,
)
from workbench.lake._suggest import did_you_mean
from workbench.lake.files import DataFiles, corrupt_text_file, find_bad_line, resolve_files, sanitize, scan_files
from workbench.lake.manifest import FEEDBACK_ROLES, GENAI_ROLES, REQUIRED_ROLES, ROLE_DEFAULTS, Manifest
from workbench.lake.masking import Masker
from workbench.lake.timestamps import UTC_DT, check_timestamp_values, timestamp_expr, zone_kind

__all__ = ["PredictionsTable", "LabelsTable", "load_predictions", "load_labels", "latest_labels", "latest_feedback"]

# Roles stored as text whatever the writer used (ids, versions, codes).
_STRING_ROLES = ("request_id", "trace_id", "model_version", "route", "feature_set_version", "shadow_of",
                 "router_decision", "conversation_id", "operation", "provider", "request_model", "response_model",
                 "prompt_template", "prompt_version", "finish_reason", "index_version", "policy_action")
# Free text of LLM calls: kept as text (analysed in memory, shown only as redacted excerpts).
_TEXT_ROLES = ("prompt_text", "response_text", "context_text")
_COUNT_ROLES = ("input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens")
_NUMBER_ROLES = ("latency_ms", "score", "cost", "router_score", "time_to_first_token_ms")
_LIST_ROLES = {"retrieved_ids": pl.String, "policy_flags": pl.String, "retrieval_scores": pl.Float64}
# Roles read from labels/, never looked for among the predictions' roles (feedback may be inline).
_LABEL_ONLY_ROLES = ("labeled_at",)
_SAMPLE_FILES = 50
_SAMPLE_ROWS = 2_000


@dataclass(frozen=True)
class PredictionsTable:
    """The normalised predictions of a lake (lazy) and what is known about them."""

    files: DataFiles
    frame: pl.LazyFrame
    roles: tuple[str, ...]              # roles present (canonical names)
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    segments: tuple[str, ...]
    sensitive: tuple[str, ...]
    other: tuple[str, ...]
    schema: dict[str, pl.DataType] = field(default_factory=dict)
    count_frame: pl.LazyFrame | None = None  # sensitive columns unmasked: for counting only
    naive_time_files: tuple[str, ...] = ()  # text times without a zone among files with one


@dataclass(frozen=True)
class LabelsTable:
    """Delayed ground truth: ``request_id``, ``label``, ``labeled_at`` (lazy)."""

    files: DataFiles | None
    frame: pl.LazyFrame
    inline: bool


def latest_labels(labels: pl.LazyFrame, key: str = "request_id") -> pl.LazyFrame:
    """One label per ``key``: the one with the latest ``labeled_at`` (a relabel corrects the first).

    A missing ``labeled_at`` counts as older than any time. Ties (equal times, or both missing)
    keep a valid label over an invalid one (null, NaN, ±inf), then the greatest label value:
    an order that depends neither on file names nor on row order, so the answer is the same
    however the files are named, split or scanned.
    """
    schema = labels.collect_schema()
    label = pl.col("label")
    valid = label.is_not_null()
    if schema["label"].is_float():
        valid = valid & label.is_finite()
    order = [pl.col("labeled_at"), valid, label]
    return (labels.group_by(key)
            .agg(label.sort_by(order, nulls_last=False).last(),
                 pl.col("labeled_at").sort_by(order, nulls_last=False).last()))


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "str"
    if isinstance(dtype, (pl.Datetime, pl.Date)):
        return "time"
    if isinstance(dtype, (pl.List, pl.Array)):
        return "list"
    return "other"


def load_predictions(root: Path, manifest: Manifest, masker: Masker, *, scan=None) -> PredictionsTable:
    """Resolve, scan and normalise ``predictions/`` (lazy). ``scan(what)``, when given, reads a
    table the manifest names as a Spark source (:func:`workbench.spark.sources.spark_scan`)."""
    role_src = manifest.columns.mapping()
    files, lf = (scan and scan("predictions")) or _scan_predictions(root, manifest, role_src)
    schema = _schema(lf, files)
    where = manifest.predictions
    present = _present_roles(manifest, role_src, schema, where)
    rename = _role_renames(present, schema, where)
    _check_listed_columns(manifest, schema, where)
    sensitive = set(manifest.sensitive)
    role_cols = set(present.values())
    exprs = [_role_expr(role, src, schema[src], where, sensitive, masker) for role, src in present.items()]
    exprs += _numeric_feature_exprs(manifest, schema, role_cols, where, masker)
    exprs += _column_exprs(manifest, schema, role_cols, where, masker)
    naive_files: tuple[str, ...] = ()
    if "timestamp" in present and _kind(schema[present["timestamp"]]) == "str":
        naive_files = _check_timestamp_samples(files, present["timestamp"])
    frame = lf.select(exprs)
    count_frame = _count_frame(lf, exprs, {rename.get(c, c) for c in sensitive}, rename)
    if "route" not in present:
        frame = frame.with_columns(pl.lit("primary").alias("route"))
        count_frame = count_frame.with_columns(pl.lit("primary").alias("route"))
        present["route"] = "route"
    mapped = set(present.values()) | set(manifest.features.all) | set(manifest.segments) | sensitive
    return PredictionsTable(
        files=files, frame=frame, roles=tuple(r for r in ROLE_DEFAULTS if r in present),
        numeric=_canon(manifest.features.numeric, rename),
        categorical=_canon(manifest.features.categorical, rename),
        segments=_canon(manifest.segments, rename),
        sensitive=_canon(manifest.sensitive, rename),
        other=_canon([c for c in schema if c not in mapped], rename), schema=dict(_schema(frame, files)),
        count_frame=count_frame, naive_time_files=naive_files,
    )


def _scan_predictions(root: Path, manifest: Manifest, role_src: dict[str, str]) -> tuple[DataFiles, pl.LazyFrame]:
    """Resolve the predictions files and scan them lazily: ids, codes, times and text-like
    columns read as text, numeric features, latency and score as numbers."""
    string_src = {role_src[r] for r in _STRING_ROLES} | {role_src["timestamp"]}
    string_src |= set(manifest.features.categorical) | set(manifest.segments) | set(manifest.sensitive)
    files = resolve_files(root, manifest.predictions, what="predictions")
    numeric_src = set(manifest.features.numeric) | {role_src[r] for r in _NUMBER_ROLES}
    if manifest.task == "generation":
        string_src |= {role_src[r] for r in _TEXT_ROLES}
        numeric_src |= {role_src[r] for r in _COUNT_ROLES}
    return files, scan_files(files, string_columns=frozenset(string_src), numeric_columns=frozenset(numeric_src))


def _present_roles(manifest: Manifest, role_src: dict[str, str], schema: dict[str, pl.DataType],
                   where: str) -> dict[str, str]:
    """The roles found in the predictions (role -> source column); a required role, a role the
    manifest mapped explicitly, and a model output (score or prediction) must be there."""
    names = list(schema)
    present: dict[str, str] = {}
    generation = manifest.task == "generation"
    for role, src in role_src.items():
        if role in _LABEL_ONLY_ROLES or (not generation and (role in GENAI_ROLES or role in FEEDBACK_ROLES)):
            continue
        if role in FEEDBACK_ROLES and src not in schema:
            continue  # delayed feedback lives in labels/
        if src in schema:
            present[role] = src
        elif role in REQUIRED_ROLES or (role in manifest.columns.explicit and role != "label"):
            # (an explicitly mapped label may live in labels/ instead of predictions/)
            msg = f"column `{src}` not found in {where} (role `{role}`)"
            raise ColumnNotFoundError(
                msg, file=where, column=src, expected=f"a column for the `{role}` role",
                found=", ".join(names)[:400],
                hint=did_you_mean(src, _unclaimed(names, {v for r, v in role_src.items() if r != role}),
                                  f"map it in workbench.yaml: columns: {{{role}: <column>}}"),
            )
    if generation:
        return present  # an LLM call's output is its text, tokens and finish reason: no score needed
    if manifest.task == "regression" and "prediction" not in present:
        _missing_output(where, names, "prediction", role_src)
    if "score" not in present and "prediction" not in present:
        _missing_output(where, names, "score", role_src)
    return present


def _role_renames(present: dict[str, str], schema: dict[str, pl.DataType], where: str) -> dict[str, str]:
    """Source column -> role name, refusing a mapping whose role name is another column's name."""
    rename = {src: role for role, src in present.items()}
    for role, src in present.items():
        if role != src and role in schema and role not in rename:
            msg = f"mapping role `{role}` onto column `{src}` would hide the column `{role}`"
            raise ColumnCollisionError(
                msg, file=where, column=role, expected=f"no other column named `{role}`",
                found=f"both `{src}` (mapped to {role}) and `{role}`",
                hint=f"rename `{role}` in the writer, or map the `{role}` role to it.",
            )
    return rename


def _check_listed_columns(manifest: Manifest, schema: dict[str, pl.DataType], where: str) -> None:
    """Every feature, segment and sensitive column the manifest lists must be in the predictions."""
    names = list(schema)
    feats = manifest.features
    for kind, cols in (("numeric feature", feats.numeric), ("categorical feature", feats.categorical),
                       ("segment", manifest.segments), ("sensitive column", manifest.sensitive)):
        for c in cols:
            if c not in schema:
                msg = f"{kind} `{c}` not found in {where}"
                raise ColumnNotFoundError(
                    msg, file=where, column=c, expected=f"the {kind} the manifest lists",
                    found=", ".join(names)[:400],
                    hint=did_you_mean(c, names, "fix the name in workbench.yaml or in the writer."),
                )


def _numeric_feature_exprs(manifest: Manifest, schema: dict[str, pl.DataType], role_cols: set[str], where: str,
                           masker: Masker) -> list[pl.Expr]:
    """Numeric features (other than role columns) as Float64, masked when sensitive; a column
    that is not a number is refused."""
    exprs: list[pl.Expr] = []
    for c in manifest.features.numeric:
        if c in role_cols:
            continue
        k = _kind(schema[c])
        if c in manifest.sensitive:
            exprs.append(masker.expr(c))
        elif k in ("int", "float"):
            exprs.append(pl.col(c).cast(pl.Float64))
        else:
            _bad_type(where, c, schema[c], "a number (int or float)",
                      "declare it under features.categorical, or write numbers")
    return exprs


def _column_exprs(manifest: Manifest, schema: dict[str, pl.DataType], role_cols: set[str], where: str,
                  masker: Masker) -> list[pl.Expr]:
    """Every other column, once: sensitive ones masked, categorical features and segments as
    text codes (a float segment kept as is), the rest as written."""
    feats = manifest.features
    listed = set(feats.numeric)
    exprs: list[pl.Expr] = []
    for c in (*feats.categorical, *manifest.segments, *manifest.sensitive, *schema):
        if c in role_cols or c in listed:
            continue
        listed.add(c)
        if c in manifest.sensitive:
            exprs.append(masker.expr(c))
            continue
        k = _kind(schema[c])
        if c in feats.categorical or c in manifest.segments:
            if k in ("str", "int", "bool"):
                exprs.append(pl.col(c).cast(pl.String))
            elif k == "float" and c in manifest.segments:
                exprs.append(pl.col(c))  # numeric segment (e.g. a score band): kept as is
            else:
                _bad_type(where, c, schema[c], "text, integer or boolean codes",
                          "declare numeric features under features.numeric")
        else:
            exprs.append(pl.col(c))
    return exprs


def _count_frame(lf: pl.LazyFrame, exprs: list[pl.Expr], masked: set[str], rename: dict[str, str]) -> pl.LazyFrame:
    """The normalised frame with the ``masked`` (canonical) columns unmasked, for counts that never
    show a value (null counts, distinct ids): masking millions of values just to count them is waste."""
    rename_back = {role: src for src, role in rename.items()}
    return lf.select([pl.col(rename_back.get(n, n)).alias(n) if n in masked else e
                      for e, n in ((e, e.meta.output_name()) for e in exprs)])


def _canon(columns: Iterable[str], rename: dict[str, str]) -> tuple[str, ...]:
    """Column names as the normalised frame calls them (a role's source column by its role)."""
    return tuple(rename.get(c, c) for c in columns)


def _missing_output(where, names, role, role_src) -> None:
    msg = f"no model output column in {where}"
    raise ColumnNotFoundError(
        msg, file=where, column=role_src[role],
        expected=f"a `{role_src['score']}` (score) or `{role_src['prediction']}` (prediction) column",
        found=", ".join(names)[:400],
        hint="map the output in workbench.yaml: columns: {score: <column>, prediction: <column>}",
    )


def _bad_type(where, column, dtype, expected, hint) -> None:
    msg = f"column `{column}` of {where} has the wrong type"
    raise ColumnTypeError(msg, file=where, column=column, expected=expected, found=str(dtype), hint=hint)


def _role_expr(role: str, src: str, dtype: pl.DataType, where: str, sensitive: set[str],
               masker: Masker | None = None) -> pl.Expr:
    k = _kind(dtype)
    col = pl.col(src)
    if src in sensitive and (role in _STRING_ROLES or role in _TEXT_ROLES) and masker is not None:
        # A role column declared sensitive (e.g. request_id) is masked like any other;
        # equality is kept, so labels (masked with the same key) still join.
        return masker.expr(src).alias(role)
    if role == "timestamp":
        if k not in ("str", "time", "int", "float"):
            _bad_type(where, src, dtype, "a timestamp (datetime, ISO-8601 text or epoch number)",
                      "write UTC times, e.g. 2026-03-10T14:00:00Z")
        return timestamp_expr(src, dtype, alias=role)
    if role in _STRING_ROLES:
        if k not in ("str", "int", "bool"):
            _bad_type(where, src, dtype, "text or integer ids", f"write `{src}` as text")
        return col.cast(pl.String).alias(role)
    if role in _TEXT_ROLES:
        if k not in ("str", "other"):
            _bad_type(where, src, dtype, "text", f"write `{src}` as text")
        return col.cast(pl.String).alias(role)
    if role in _COUNT_ROLES:
        if k not in ("int", "float"):
            _bad_type(where, src, dtype, "a token count (integer)", f"write `{src}` as a number")
        return col.cast(pl.Float64).round(0).cast(pl.Int64, strict=False).alias(role)
    if role in _LIST_ROLES:
        return _list_expr(role, src, dtype, where)
    if role == "escalated":
        return _bool_expr(role, col, k, src, where, dtype)
    if role == "feedback":
        if k not in ("int", "float", "bool"):
            _bad_type(where, src, dtype, "a number (-1, 0, 1 or a score)", f"write `{src}` as a number")
        return col.cast(pl.Float64).alias(role)
    if role == "query_embedding":
        return _vector_expr(role, src, dtype, where)
    if role in _NUMBER_ROLES:
        if k not in ("int", "float"):
            _bad_type(where, src, dtype, "a number", f"write `{src}` as a number")
        return col.cast(pl.Float64).alias(role)
    if role == "fallback":
        return _bool_expr(role, col, k, src, where, dtype)
    if role in ("prediction", "label"):
        if k not in ("str", "int", "float", "bool"):
            _bad_type(where, src, dtype, "a class label or a number", f"write `{src}` as a scalar")
        return col.alias(role)
    if role == "embedding":
        return _vector_expr(role, src, dtype, where)
    return col.alias(role)  # pragma: no cover - every role is handled above


def _bool_expr(role: str, col: pl.Expr, k: str, src: str, where: str, dtype: pl.DataType) -> pl.Expr:
    if k == "bool":
        return col.alias(role)
    if k in ("int", "float"):
        return (col != 0).alias(role)
    if k == "str":
        low = col.cast(pl.String).str.to_lowercase().str.strip_chars()
        return (pl.when(low.is_in(["true", "1", "yes", "t", "y"])).then(True)
                .when(low.is_in(["false", "0", "no", "f", "n", ""])).then(False)
                .otherwise(None)).alias(role)
    _bad_type(where, src, dtype, "a boolean (true/false or 0/1)", f"write `{src}` as true/false")
    raise AssertionError  # pragma: no cover - _bad_type raises


def _vector_expr(role: str, src: str, dtype: pl.DataType, where: str) -> pl.Expr:
    k = _kind(dtype)
    col = pl.col(src)
    if k == "list":
        inner = dtype.inner if hasattr(dtype, "inner") else None
        if inner is not None and not (inner.is_numeric()):
            _bad_type(where, src, dtype, "a list of numbers", f"write `{src}` as list<float>")
        return col.cast(pl.List(pl.Float32)).alias(role)
    if k == "str":
        return col.str.json_decode(pl.List(pl.Float32)).alias(role)
    _bad_type(where, src, dtype, "a list of numbers", f"write `{src}` as list<float>")
    raise AssertionError  # pragma: no cover - _bad_type raises


def _list_expr(role: str, src: str, dtype: pl.DataType, where: str) -> pl.Expr:
    """A list role (retrieved ids, retrieval scores, policy flags): a list column as is, or text
    written by a CSV/NDJSON writer as a JSON array (``["a", "b"]``) or ``;``-separated values."""
    inner = _LIST_ROLES[role]
    k = _kind(dtype)
    col = pl.col(src)
    if k == "list":
        if inner == pl.Float64 and not dtype.inner.is_numeric():
            _bad_type(where, src, dtype, "a list of numbers", f"write `{src}` as list<float>")
        return col.cast(pl.List(inner), strict=False).alias(role)
    if k == "str":
        items = (col.str.strip_chars().str.strip_chars("[]").str.replace_all('"', "", literal=True)
                 .str.replace_all(";", ",", literal=True).str.split(",")
                 .list.eval(pl.element().str.strip_chars()).list.filter(pl.element() != ""))
        return items.cast(pl.List(inner), strict=False).alias(role)
    _bad_type(where, src, dtype, "a list (or text holding a JSON array)", f"write `{src}` as a list column")
    raise AssertionError  # pragma: no cover - _bad_type raises

def _schema(lf: pl.LazyFrame, files: DataFiles) -> dict[str, pl.DataType]:
    try:
        return dict(lf.collect_schema())
    except Exception as exc:
        msg = f"cannot read the schema of {files.what}"
        raise TelemetrySchemaError(msg, file=files.spec, found=sanitize(str(exc)),
                                   hint="files of one table must have compatible columns.") from None


def _check_timestamp_samples(files: DataFiles, column: str) -> tuple[str, ...]:
    """Check text timestamps on the first rows of (up to) the first files; returns the files
    whose times carry no zone when others do (read as UTC, as the contract says)."""
    kinds: dict[str, str | None] = {}
    for p in files.paths[:_SAMPLE_FILES]:
        if files.format == "csv":
            lf = pl.scan_csv(p, infer_schema=False, n_rows=_SAMPLE_ROWS)
            first_line = 2
        elif files.format == "ndjson":
            lf = pl.scan_ndjson(p, n_rows=_SAMPLE_ROWS, schema_overrides={column: pl.String})
            first_line = 1
        else:
            lf = pl.scan_parquet(p, n_rows=_SAMPLE_ROWS)
            first_line = 1
        try:
            values = lf.select(pl.col(column).cast(pl.String)).collect().to_series().to_list()
        except Exception as exc:
            if find_bad_line(p, files.format):
                raise corrupt_text_file(files, p, exc) from None
            msg = f"cannot read timestamps of {files.what}"
            raise CorruptFileError(msg, file=files.rel(p), column=column, found=sanitize(str(exc))) from None
        check_timestamp_values(values, file=files.rel(p), column=column, first_line=first_line)
        kinds[files.rel(p)] = zone_kind(values)
    if "aware" not in kinds.values():
        return ()
    return tuple(f for f, k in kinds.items() if k == "naive")


def check_not_empty(table: PredictionsTable) -> int:
    """Raise :class:`EmptyDataError` when there are no prediction rows; returns 0/1 (has rows)."""
    try:
        n = table.frame.select(pl.col("request_id")).head(1).collect().height
    except Exception as exc:
        msg = "cannot read predictions"
        raise CorruptFileError(msg, file=table.files.spec, found=sanitize(str(exc))) from None
    if n == 0:
        msg = "the lake has no prediction rows"
        raise EmptyDataError(msg, file=table.files.spec, expected="at least one row",
                             found=f"{len(table.files.paths)} file(s) with 0 rows",
                             hint="point `predictions:` at the files your serving path writes.")
    return n


def load_labels(root: Path, manifest: Manifest, masker: Masker, preds: PredictionsTable, *,
                scan=None) -> LabelsTable | None:
    """The labels table, or the inline label column of predictions, or None (``scan``: as for
    :func:`load_predictions`)."""
    spec = manifest.labels
    spark = scan and scan("labels")
    files = spark[0] if spark else (resolve_files(root, spec, what="labels", required=manifest.labels_explicit)
                                    if spec else None)
    if manifest.task == "generation":
        return _load_feedback(files, manifest, masker, preds, frame=spark[1] if spark else None)
    if files is None:
        if "label" in preds.roles:
            frame = preds.frame.select("request_id", "label", pl.col("timestamp").alias("labeled_at"))
            return LabelsTable(files=None, frame=frame, inline=True)
        return None
    role_src = manifest.columns.mapping()
    rid, lab = role_src["request_id"], role_src["label"]
    lf = spark[1] if spark else scan_files(files, string_columns=frozenset({rid, "request_id", "labeled_at"}))
    schema = _schema(lf, files)
    names = list(schema)
    rid = rid if rid in schema else "request_id"
    lab = lab if lab in schema else "label"
    for role, src in (("request_id", rid), ("label", lab)):
        if src not in schema:
            msg = f"column `{src}` not found in {spec} (role `{role}`)"
            raise ColumnNotFoundError(msg, file=spec, column=src, expected=f"a `{role}` column",
                                      found=", ".join(names)[:400],
                                      hint=did_you_mean(src, _unclaimed(names, {rid, lab, "labeled_at"} - {src}),
                                                        "labels need request_id, label, labeled_at."))
    sensitive = set(manifest.sensitive)
    exprs = [masker.expr(rid).alias("request_id") if rid in sensitive
             else _role_expr("request_id", rid, schema[rid], spec, set()),
             _role_expr("label", lab, schema[lab], spec, set())]
    if "labeled_at" in schema:
        k = _kind(schema["labeled_at"])
        if k not in ("str", "time", "int", "float"):
            _bad_type(spec, "labeled_at", schema["labeled_at"], "a timestamp", "write UTC times")
        if k == "str":
            _check_timestamp_samples(files, "labeled_at")
        exprs.append(timestamp_expr("labeled_at", schema["labeled_at"]))
    else:
        exprs.append(pl.lit(None, dtype=UTC_DT).alias("labeled_at"))
    return LabelsTable(files=files, frame=lf.select(exprs), inline=False)


def _load_feedback(files: DataFiles | None, manifest: Manifest, masker: Masker,
                   preds: PredictionsTable, *, frame: pl.LazyFrame | None = None) -> LabelsTable | None:
    """Delayed feedback of a generation lake: ``request_id, feedback, escalated, labeled_at`` from
    labels/ (either of feedback / escalated may be missing, not both), or inline in predictions.
    ``frame``: the labels as Spark gives them (a table or a URI), instead of scanning ``files``."""
    if files is None:
        inline = [r for r in FEEDBACK_ROLES if r in preds.roles]
        if not inline:
            return None
        frame = preds.frame.select("request_id", *[pl.col(r) if r in inline else pl.lit(None).alias(r)
                                                   for r in FEEDBACK_ROLES],
                                   pl.col("timestamp").alias("labeled_at"))
        return LabelsTable(files=None, frame=frame.cast({"feedback": pl.Float64, "escalated": pl.Boolean}),
                           inline=True)
    spec = manifest.labels
    role_src = manifest.columns.mapping()
    rid = role_src["request_id"]
    lf = frame if frame is not None else scan_files(files, string_columns=frozenset({rid, "request_id",
                                                                                      role_src["labeled_at"]}))
    schema = _schema(lf, files)
    names = list(schema)
    rid = rid if rid in schema else "request_id"
    if rid not in schema:
        msg = f"column `{rid}` not found in {spec} (role `request_id`)"
        raise ColumnNotFoundError(msg, file=spec, column=rid, expected="a `request_id` column",
                                  found=", ".join(names)[:400],
                                  hint="feedback needs request_id, feedback and/or escalated, labeled_at.")
    found = {r: role_src[r] for r in FEEDBACK_ROLES if role_src[r] in schema}
    if not found:
        msg = f"no feedback column in {spec}"
        raise ColumnNotFoundError(
            msg, file=spec, column=role_src["feedback"],
            expected=f"a `{role_src['feedback']}` (feedback) and/or `{role_src['escalated']}` (escalated) column",
            found=", ".join(names)[:400],
            hint=did_you_mean(role_src["feedback"], _unclaimed(names, {rid, role_src["labeled_at"]}),
                              "map them in workbench.yaml: columns: {feedback: <column>, escalated: <column>}"))
    exprs = [masker.expr(rid).alias("request_id") if rid in set(manifest.sensitive)
             else _role_expr("request_id", rid, schema[rid], spec, set())]
    for r in FEEDBACK_ROLES:
        exprs.append(_role_expr(r, found[r], schema[found[r]], spec, set()) if r in found
                     else pl.lit(None, dtype=pl.Float64 if r == "feedback" else pl.Boolean).alias(r))
    at = role_src["labeled_at"]
    if at in schema:
        k = _kind(schema[at])
        if k not in ("str", "time", "int", "float"):
            _bad_type(spec, at, schema[at], "a timestamp", "write UTC times")
        if k == "str":
            _check_timestamp_samples(files, at)
        exprs.append(timestamp_expr(at, schema[at], alias="labeled_at"))
    else:
        exprs.append(pl.lit(None, dtype=UTC_DT).alias("labeled_at"))
    return LabelsTable(files=files, frame=lf.select(exprs), inline=False)


def latest_feedback(feedback: pl.LazyFrame, key: str = "request_id") -> pl.LazyFrame:
    """One feedback row per ``key``: the latest known (a later thumbs replaces an earlier one);
    escalated is true when any row says so."""
    order = [pl.col("labeled_at"), pl.col("feedback").is_not_null(), pl.col("feedback")]
    return (feedback.group_by(key)
            .agg(pl.col("feedback").sort_by(order, nulls_last=False).drop_nulls().last(),
                 pl.when(pl.col("escalated").is_not_null().any()).then(pl.col("escalated").any())
                 .alias("escalated"),
                 pl.col("labeled_at").max()))


def _unclaimed(names, claimed) -> list[str]:
    """Column names a "did you mean" may suggest: not the ones already serving another role
    (a missing `label` must not be answered with `labeled_at`)."""
    return [n for n in names if n not in claimed]
