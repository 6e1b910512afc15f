"""Where a text file breaks its column's type: the file, line and column of the first bad value.

Polars infers a CSV column's type from the first rows; a value further down that does not parse
fails the whole scan with a message naming neither the file nor the line. When a read fails,
this re-reads each CSV file as text and finds the first value its inferred type cannot hold.
"""

from __future__ import annotations

import polars as pl

from workbench.exceptions import ColumnTypeError
from workbench.lake.files import DataFiles, scan_files, sanitize

__all__ = ["locate_type_error"]


def _typed(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean


def _parses(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Whether the text of a field is a value of ``dtype`` as the CSV reader parses it."""
    if dtype == pl.Boolean:
        return text.str.to_lowercase().is_in(["true", "false"])
    return text.str.strip_chars().cast(dtype, strict=False).is_not_null()


def locate_type_error(files: DataFiles, *, sensitive: tuple[str, ...] = (),
                      string_columns: frozenset[str] = frozenset()) -> ColumnTypeError | None:
    """The error for the first value of a CSV file that its column's inferred type cannot hold.

    Parameters
    ----------
    files : DataFiles
        The table's files; only CSV files are searched.
    sensitive : tuple of str
        Columns whose value must not be shown (the error says where it is, not what).
    string_columns : frozenset of str
        Columns read as text anyway (never a type error).

    Returns
    -------
    ColumnTypeError or None
        Naming the file, the line (the header is line 1) and the column; None when no CSV file
        has such a value.
    """
    if files.format != "csv":
        return None
    for p in files.paths:
        one = DataFiles(files.what, files.spec, files.format, (p,), files.root)
        try:
            schema = scan_files(one, string_columns=string_columns).collect_schema()
            typed = [c for c, t in schema.items() if _typed(t) and c not in string_columns]
            if not typed:
                continue
            raw = pl.scan_csv(p, infer_schema=False).select(typed).with_row_index("__row")
            bad = [(pl.col(c).is_not_null() & ~_parses(pl.col(c), schema[c])).alias(c) for c in typed]
            hit = raw.filter(pl.any_horizontal(bad)).head(1).collect()
            flags = hit.select(bad).row(0, named=True) if hit.height else {}
        except Exception:  # a file that cannot be read even as text is reported by the caller
            continue
        if hit.is_empty():
            continue
        row = hit.row(0, named=True)
        col = next(c for c in typed if flags[c])
        shown = "a value (not shown: sensitive column)" if col in sensitive else repr(sanitize(row[col], limit=40))
        msg = f"a value of column `{col}` is not a {_kind(schema[col])}"
        return ColumnTypeError(
            msg, file=files.rel(p), line=int(row["__row"]) + 2, column=col,
            expected=f"{_kind(schema[col])} values, as in the file's first rows ({schema[col]})",
            found=shown,
            hint="fix or blank that value (an empty field is a missing value), or declare the column as text "
                 "(a categorical feature) if it is not a number.")
    return None


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "boolean"
    return "number" if dtype.is_numeric() else str(dtype)
