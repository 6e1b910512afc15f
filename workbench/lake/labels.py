"""What counts as a positive binary label (or prediction): one definition for every layer.

A value is positive when, as text in lower case, it is one of :data:`POSITIVE_TEXT`, or when it
reads as a number above 0.5 (so ``1``, ``1.0``, ``0.9``, ``True``). Anything else is negative;
null stays null. The summaries, replay and permutation importance all read labels through here.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

__all__ = ["POSITIVE_TEXT", "positive_expr", "positive_mask"]

#: text spellings of a positive label (compared in lower case, surrounding spaces ignored)
POSITIVE_TEXT = ("1", "true", "yes", "y", "t", "pos", "positive")
#: a label read as a number is positive above this
_NUMERIC_CUT = 0.5


def positive_expr(col: str | pl.Expr) -> pl.Expr:
    """A polars expression giving 1 for a positive value, 0 for any other, null for null (Int8)."""
    c = pl.col(col) if isinstance(col, str) else col
    text = c.cast(pl.String).str.strip_chars().str.to_lowercase()
    return (pl.when(c.is_null()).then(None)
            .otherwise(text.is_in(list(POSITIVE_TEXT))
                       | (text.cast(pl.Float64, strict=False) > _NUMERIC_CUT).fill_null(False))
            .cast(pl.Int8))


def positive_mask(values: pl.Series | Iterable) -> np.ndarray:
    """The same definition on a Series, array or list: a boolean array, null (None) read as False."""
    if isinstance(values, pl.Series):
        s = values
    elif isinstance(values, np.ndarray):
        s = pl.Series("v", values)
    else:
        s = pl.Series("v", list(values), strict=False)
    return pl.select(positive_expr(pl.lit(s)).fill_null(0)).to_series().to_numpy().astype(bool)
