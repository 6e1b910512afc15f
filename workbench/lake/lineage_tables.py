"""The lineage tables written as CSV/Parquet (deployments, features, dependencies, traffic):
read eagerly with every column as text, then validated row by row so that an error names the
file, the column and the line. Each reader returns a typed frame of its ``*_SCHEMA``.
"""

from __future__ import annotations

import polars as pl

from workbench.exceptions import LineageError, TimestampError
from workbench.lake.files import DataFiles, read_table
from workbench.lake.timestamps import UTC_DT, check_timestamp_values, to_utc

__all__ = ["ROUTES", "DEPLOYMENTS_SCHEMA", "FEATURES_SCHEMA", "DEPENDENCIES_SCHEMA", "TRAFFIC_SCHEMA",
           "PROMPTS_SCHEMA", "INDEXES_SCHEMA", "PRICES_SCHEMA",
           "read_deployments", "read_features", "read_dependencies", "read_traffic", "read_prompts",
           "read_indexes", "read_prices"]

ROUTES = ("primary", "canary", "shadow")
_DEPLOY_COLS = {
    "required": ("model_version", "deployed_at", "route", "traffic_pct"),
    "optional": ("training_dataset", "artifact_digest", "serving_commit", "artifact_uri", "notes"),
}
_FEATURE_COLS = {
    "required": ("feature", "version", "valid_from", "source_dataset", "source_field"),
    "optional": ("transform",),
}
_DEP_COLS = {"required": ("dependency", "version", "changed_at"), "optional": ("consumers",)}
_TRAFFIC_COLS = {"required": ("timestamp", "interval_s", "requests"), "optional": ("route",)}

DEPLOYMENTS_SCHEMA = {
    "model_version": pl.String, "deployed_at": UTC_DT, "route": pl.String, "traffic_pct": pl.Float64,
    "training_dataset": pl.String, "artifact_digest": pl.String, "serving_commit": pl.String,
    "artifact_uri": pl.String, "notes": pl.String, "line": pl.Int64,
}
FEATURES_SCHEMA = {
    "feature": pl.String, "version": pl.String, "valid_from": UTC_DT, "source_dataset": pl.String,
    "source_field": pl.String, "transform": pl.String, "line": pl.Int64,
}
DEPENDENCIES_SCHEMA = {
    "dependency": pl.String, "version": pl.String, "changed_at": UTC_DT,
    "consumers": pl.List(pl.String), "previous_version": pl.String, "line": pl.Int64,
}
_PROMPT_COLS = {"required": ("prompt_template", "version", "changed_at"), "optional": ("text_sha256", "author")}
_INDEX_COLS = {"required": ("index", "version", "built_at"), "optional": ("documents", "source_dataset")}
_PRICE_COLS = {"required": ("provider", "model", "valid_from", "input_per_1k", "output_per_1k"),
               "optional": ("currency",)}
PROMPTS_SCHEMA = {"prompt_template": pl.String, "version": pl.String, "changed_at": UTC_DT, "text_sha256": pl.String,
                  "author": pl.String, "previous_version": pl.String, "line": pl.Int64}
INDEXES_SCHEMA = {"index": pl.String, "version": pl.String, "built_at": UTC_DT, "documents": pl.Float64,
                  "source_dataset": pl.String, "previous_version": pl.String, "previous_documents": pl.Float64,
                  "line": pl.Int64}
PRICES_SCHEMA = {"provider": pl.String, "model": pl.String, "valid_from": UTC_DT, "input_per_1k": pl.Float64,
                 "output_per_1k": pl.Float64, "currency": pl.String, "line": pl.Int64}
TRAFFIC_SCHEMA = {"timestamp": UTC_DT, "interval_s": pl.Float64, "requests": pl.Float64, "route": pl.String}
def _read_strings(f: DataFiles, cols: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    """Read a lineage table with every column as text, checking required columns."""
    df = read_table(f, string_columns=frozenset(cols["required"] + cols["optional"]))
    missing = [c for c in cols["required"] if c not in df.columns]
    if missing:
        msg = f"column `{missing[0]}` not found in {f.spec}"
        raise LineageError(msg, file=f.spec, column=missing[0],
                           expected="columns " + ", ".join(cols["required"]),
                           found=", ".join(df.columns)[:300] or "no columns",
                           hint="see docs/telemetry-lake.md for the lineage tables.")
    for c in cols["optional"]:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    first = 2 if f.format == "csv" else 1
    return df.with_row_index("line", offset=first).with_columns(pl.col("line").cast(pl.Int64))


def _require_values(df: pl.DataFrame, cols: tuple[str, ...], f: DataFiles) -> pl.DataFrame:
    """Strip text columns and raise on the first row missing a required value."""
    df = df.with_columns(pl.col(c).cast(pl.String).str.strip_chars() for c in cols)
    for c in cols:
        empty = (df[c].is_null() | (df[c] == "")).arg_true()
        if len(empty):
            msg = f"a row of {f.spec} has no `{c}`"
            raise LineageError(msg, file=f.spec, column=c, line=int(df["line"][int(empty[0])]),
                               expected=f"a value in every row for {', '.join(cols)}", found="an empty value",
                               hint="fill it in or remove the row.")
    return df


def _times(df: pl.DataFrame, col: str, f: DataFiles) -> pl.DataFrame:
    s = df[col]
    if s.dtype == pl.String:
        check_timestamp_values(s.to_list(), file=f.spec, column=col, first_line=int(df["line"][0]) if df.height else 2)
    out = to_utc(s)
    nulls = out.is_null().arg_true()
    if len(nulls):
        i = int(nulls[0])
        msg = "a lineage time is missing or cannot be parsed"
        raise TimestampError(msg, file=f.spec, column=col, line=int(df["line"][i]),
                             expected="an ISO-8601 UTC time", found="an empty value",
                             hint="every lineage row needs its time.")
    return df.with_columns(out.alias(col))


def _numbers(df: pl.DataFrame, col: str, f: DataFiles, *, lo: float, hi: float | None) -> pl.DataFrame:
    s = df[col].cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    invalid = s.is_null() | s.is_nan() | (s < lo)
    if hi is not None:
        invalid = invalid | (s > hi)
    bad = invalid.arg_true()
    if len(bad):
        i = int(bad[0])
        msg = f"`{col}` is not a valid number"
        raise LineageError(msg, file=f.spec, column=col, line=int(df["line"][i]),
                           expected=f"a number >= {lo}" + (f" and <= {hi}" if hi is not None else ""),
                           found=repr(df[col][i]))
    return df.with_columns(s.alias(col))


def read_deployments(f: DataFiles) -> pl.DataFrame:
    """deployments: one row per rollout step, sorted by time (then line)."""
    df = _read_strings(f, _DEPLOY_COLS)
    df = _times(df, "deployed_at", f)
    df = _numbers(df, "traffic_pct", f, lo=0, hi=100)
    df = _require_values(df, ("model_version", "route"), f)
    df = df.with_columns(pl.col(c).cast(pl.String).str.strip_chars() for c in _DEPLOY_COLS["optional"])
    bad = (~df["route"].is_in(list(ROUTES))).arg_true()
    if len(bad):
        i = int(bad[0])
        msg = "unknown route in deployments"
        raise LineageError(msg, file=f.spec, column="route", line=int(df["line"][i]),
                           expected=" | ".join(ROUTES), found=repr(df["route"][i]))
    return df.select(list(DEPLOYMENTS_SCHEMA)).cast(DEPLOYMENTS_SCHEMA).sort(["deployed_at", "line"])


def read_features(f: DataFiles) -> pl.DataFrame:
    """features: feature provenance, sorted by ``valid_from`` (then line)."""
    df = _read_strings(f, _FEATURE_COLS)
    df = _times(df, "valid_from", f)
    df = _require_values(df, ("feature", "version", "source_dataset", "source_field"), f)
    df = df.with_columns(pl.col("transform").cast(pl.String).str.strip_chars())
    return df.select(list(FEATURES_SCHEMA)).cast(FEATURES_SCHEMA).sort(["valid_from", "line"])


def read_dependencies(f: DataFiles) -> pl.DataFrame:
    """dependencies: each change with the version it replaced, sorted by time (then line)."""
    df = _read_strings(f, _DEP_COLS)
    df = _times(df, "changed_at", f)
    df = _require_values(df, ("dependency", "version"), f)
    df = df.with_columns(
        pl.col("consumers").cast(pl.String).fill_null("").str.split(";")
        .list.eval(pl.element().str.strip_chars()).list.filter(pl.element() != ""),
    ).sort(["changed_at", "line"])
    df = df.with_columns(pl.col("version").shift(1).over("dependency").alias("previous_version"))
    return df.select(list(DEPENDENCIES_SCHEMA)).cast(DEPENDENCIES_SCHEMA)


def read_traffic(f: DataFiles) -> pl.DataFrame:
    """metrics/traffic: requests the ingress counted per interval, sorted by time."""
    df = _read_strings(f, _TRAFFIC_COLS)
    df = _times(df, "timestamp", f)
    df = _numbers(df, "interval_s", f, lo=0, hi=None)
    df = _numbers(df, "requests", f, lo=0, hi=None)
    df = df.with_columns(pl.col("route").cast(pl.String).str.strip_chars())
    return df.select(list(TRAFFIC_SCHEMA)).cast(TRAFFIC_SCHEMA).sort("timestamp")


def read_prompts(f: DataFiles) -> pl.DataFrame:
    """prompts: prompt template versions with the version each replaced, sorted by time (then line)."""
    df = _read_strings(f, _PROMPT_COLS)
    df = _times(df, "changed_at", f)
    df = _require_values(df, ("prompt_template", "version"), f)
    df = df.with_columns(pl.col(c).cast(pl.String).str.strip_chars() for c in _PROMPT_COLS["optional"])
    df = df.sort(["changed_at", "line"]).with_columns(
        pl.col("version").shift(1).over("prompt_template").alias("previous_version"))
    return df.select(list(PROMPTS_SCHEMA)).cast(PROMPTS_SCHEMA)


def read_indexes(f: DataFiles) -> pl.DataFrame:
    """indexes: retrieval-index builds with the build each replaced, sorted by time (then line)."""
    df = _read_strings(f, _INDEX_COLS)
    df = _times(df, "built_at", f)
    df = _require_values(df, ("index", "version"), f)
    if df["documents"].drop_nulls().len():
        filled = df.with_columns(pl.col("documents").fill_null("0"))
        _numbers(filled, "documents", f, lo=0, hi=None)
    df = df.with_columns(pl.col("documents").cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False),
                         pl.col("source_dataset").cast(pl.String).str.strip_chars())
    df = df.sort(["built_at", "line"]).with_columns(
        pl.col("version").shift(1).over("index").alias("previous_version"),
        pl.col("documents").shift(1).over("index").alias("previous_documents"))
    return df.select(list(INDEXES_SCHEMA)).cast(INDEXES_SCHEMA)


def read_prices(f: DataFiles) -> pl.DataFrame:
    """prices: per provider and model, the price per 1k input and output tokens from ``valid_from``."""
    df = _read_strings(f, _PRICE_COLS)
    df = _times(df, "valid_from", f)
    df = _require_values(df, ("provider", "model"), f)
    df = _numbers(df, "input_per_1k", f, lo=0, hi=None)
    df = _numbers(df, "output_per_1k", f, lo=0, hi=None)
    df = df.with_columns(pl.col("currency").cast(pl.String).str.strip_chars().fill_null("USD"))
    return df.select(list(PRICES_SCHEMA)).cast(PRICES_SCHEMA).sort(["valid_from", "line"])
