"""Samples chosen by a stable key, never by row position.

A multi-file scan or a join yields rows in an order that can change from run to run, so
``df.sample(n, seed=...)`` (which picks positions) or ``head(n)`` after a scan picks different rows
on a rerun. :func:`stable_sample` instead ranks rows by a seeded hash of a key column (the request
id) and keeps the ``n`` smallest: the same rows, in the same order, whatever order they arrive in.
"""

from __future__ import annotations

import polars as pl

__all__ = ["stable_sample", "stable_sample_expr"]

_HASH = "__wb_hash"


def stable_sample_expr(frame: pl.LazyFrame | pl.DataFrame, *, seed: int = 0, key: str = "request_id") -> pl.Expr:
    """The ranking hash :func:`stable_sample` orders by: of ``key`` when the frame has it, else of
    the whole row (identical rows then tie, and their order does not matter)."""
    names = frame.collect_schema().names()
    if key in names:
        return pl.col(key).hash(seed=seed)
    return pl.struct(names).hash(seed=seed)


def stable_sample(frame: pl.LazyFrame | pl.DataFrame, n: int, *, seed: int = 0,
                  key: str = "request_id") -> pl.DataFrame:
    """Up to ``n`` rows of ``frame``, chosen and ordered by a seeded hash of ``key``.

    Parameters
    ----------
    frame : LazyFrame or DataFrame
        Rows to choose from, in any order (a lazy frame is collected with only ``n`` rows kept).
    n : int
        How many rows at most.
    seed : int, default 0
        Seed of the hash: another seed gives another sample.
    key : str, default "request_id"
        A column that identifies a row. Without it the whole row is hashed.

    Returns
    -------
    DataFrame
        The rows with the ``n`` smallest hashes (ties broken by ``key``), sorted by hash.

    Notes
    -----
    The hash is polars' ``Expr.hash(seed=...)``: the same in every process and on every machine for
    one installed polars version, but polars does not promise it across versions, so a sample
    (and what is computed from it) may change when polars is upgraded. Lock the environment to
    reproduce a report exactly.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"request_id": [f"r{i}" for i in range(100)], "x": range(100)})
    >>> a = stable_sample(df, 5)
    >>> b = stable_sample(df.reverse(), 5)
    >>> a.equals(b)
    True
    """
    h = stable_sample_expr(frame, seed=seed, key=key)
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    names = lf.collect_schema().names()
    by = [_HASH, key] if key in names else [_HASH]
    out = lf.with_columns(h.alias(_HASH)).bottom_k(max(int(n), 0), by=by).sort(by)
    return out.drop(_HASH).collect()
