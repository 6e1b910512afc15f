"""Timestamps: every time column of a lake becomes ``Datetime("us", "UTC")``.

The contract says times are UTC and tz-naive values are read as UTC. Text
columns are checked on a sample when the lake opens (unparsable values and
a mix of zone-aware and naive values are errors) and in full by
``Lake.validate()``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from workbench.exceptions import TimestampError

__all__ = ["UTC_DT", "timestamp_expr", "check_timestamp_values", "zone_kind", "to_utc", "parse_time"]

UTC_DT = pl.Datetime("us", "UTC")
_AWARE = re.compile(r"(Z|z|[+-]\d\d:?\d\d)$")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Epoch numbers: pick the unit by magnitude (seconds around 1.7e9 in the 2020s).
_EPOCH_UNITS = ((1e17, "ns"), (1e14, "us"), (1e11, "ms"), (0, "s"))


def timestamp_expr(name: str, dtype: pl.DataType, *, alias: str | None = None) -> pl.Expr:
    """An expression turning column ``name`` of ``dtype`` into UTC datetimes.

    Unparsable text becomes null here; callers check samples first and
    ``Lake.validate`` counts what was lost.
    """
    col = pl.col(name)
    if dtype == UTC_DT:  # already UTC microseconds: the bare column, so window filters reach the scan
        expr = col
    elif isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            expr = col.dt.replace_time_zone("UTC")
        else:
            expr = col.dt.convert_time_zone("UTC")
        expr = expr.dt.cast_time_unit("us")
    elif dtype == pl.Date:
        expr = col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    elif dtype.is_integer() or dtype.is_float():
        expr = _epoch_expr(col)
    elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        text = col.cast(pl.String).str.strip_chars()
        iso_expr = _with_offset(text).str.to_datetime(time_zone="UTC", strict=False, time_unit="us")
        is_epoch = text.str.contains(r"^-?\d+(\.\d+)?$")
        expr = pl.when(is_epoch).then(_epoch_expr(text)).otherwise(iso_expr)
    else:  # callers check dtypes before building expressions
        raise TypeError(f"cannot read {dtype} as a timestamp")
    return expr.alias(alias or name)


def _with_offset(text: pl.Expr) -> pl.Expr:
    """ISO text with an explicit offset on every value: ``Z`` becomes ``+00:00`` and a naive value
    gets ``+00:00`` (the contract reads tz-naive values as UTC).

    Polars infers one format per column from its first value, so without this a file of naive
    times scanned after files of zoned ones (or the other way round) would parse to null.
    """
    t = text.str.replace(r"[zZ]$", "+00:00")
    date_only = t.str.contains(r"^\d{4}-\d{2}-\d{2}$")
    naive = ~t.str.contains(r"[+-]\d\d:?\d\d$") & t.str.contains(r"^\d{4}-\d{2}-\d{2}[T ]\d")
    return (pl.when(date_only).then(t + "T00:00:00+00:00")
            .when(naive).then(t + "+00:00")
            .otherwise(t))


def _epoch_expr(col: pl.Expr) -> pl.Expr:
    v = col.cast(pl.Float64, strict=False)
    a = v.abs()
    us = (
        pl.when(a >= 1e17).then(v / 1e3)
        .when(a >= 1e14).then(v)
        .when(a >= 1e11).then(v * 1e3)
        .otherwise(v * 1e6)
    )
    return us.round(0).cast(pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def check_timestamp_values(
    values: Sequence[str | None],
    *,
    file: str,
    column: str,
    first_line: int = 2,
) -> None:
    """Raise :class:`TimestampError` when text timestamps are unparsable or tz-mixed.

    ``values`` are raw strings in file order; ``first_line`` is the line of the
    first value (2 for a CSV with a header, 1 for NDJSON) so errors name a line.
    """
    cleaned = [None if v is None else str(v).strip() for v in values]
    aware_at = naive_at = None
    for i, s in enumerate(cleaned):
        if s is None or not _DATE_LIKE.match(s):
            continue  # non-dates are reported as unparsable below
        if _AWARE.search(s):
            aware_at = aware_at if aware_at is not None else i
        else:
            naive_at = naive_at if naive_at is not None else i
        if aware_at is not None and naive_at is not None:
            later = max(aware_at, naive_at)
            msg = "timestamps mix zone-aware and naive values"
            raise TimestampError(
                msg, file=file, column=column, line=first_line + later,
                expected="all values with a zone (e.g. 2026-03-10T14:00:00Z) or all without (read as UTC)",
                found=f"line {first_line + aware_at} has a zone, line {first_line + naive_at} has none",
                hint="write every timestamp in UTC with a trailing Z.",
            )
    if not cleaned:
        return
    s = pl.Series("t", cleaned, dtype=pl.String)
    parsed = s.str.to_datetime(time_zone="UTC", strict=False, time_unit="us")
    numeric = s.str.contains(r"^-?\d+(\.\d+)?$")  # epoch numbers written as text are fine
    bad = (parsed.is_null() & s.is_not_null() & ~numeric.fill_null(False)).arg_true()
    if len(bad):
        i = int(bad[0])
        msg = "timestamp cannot be parsed"
        raise TimestampError(
            msg, file=file, column=column, line=first_line + i,
            expected="ISO-8601 such as 2026-03-10T14:00:00Z (or epoch seconds / ms)",
            found=repr(values[i])[:60] + (f" and {len(bad) - 1} more in the sample" if len(bad) > 1 else ""),
            hint="fix the writer, or map the right column with `columns: {timestamp: ...}`.",
        )


def zone_kind(values: Sequence[str | None]) -> str | None:
    """``"aware"`` when the first date-like text value carries a zone, ``"naive"`` when it does
    not, None without one (the values of one file are all one kind: see :func:`check_timestamp_values`)."""
    for v in values:
        s = None if v is None else str(v).strip()
        if s and _DATE_LIKE.match(s):
            return "aware" if _AWARE.search(s) else "naive"
    return None


def to_utc(s: pl.Series) -> pl.Series:
    """Eagerly convert a series to UTC datetimes (used for small lineage tables)."""
    name = s.name or "t"
    return pl.DataFrame({name: s}).select(timestamp_expr(name, s.dtype)).to_series()


def parse_time(value, *, what: str = "time"):
    """Parse a user-given time (str, datetime, date) into an aware UTC ``datetime``.

    Raises :class:`TimestampError` naming ``what`` when it cannot.
    """
    import datetime as _dt

    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.replace(tzinfo=_dt.timezone.utc) if value.tzinfo is None \
            else value.astimezone(_dt.timezone.utc)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc)
    if isinstance(value, str):
        s = value.strip()
        try:
            parsed = _dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parse_time(parsed)
    msg = f"cannot read {what} as a time"
    raise TimestampError(msg, column=what, expected="ISO-8601 such as 2026-03-10T14:00Z",
                         found=repr(value)[:60])
