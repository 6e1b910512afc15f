"""Feature tallies counted batch by batch in numpy: the per-feature columns of a summary table.

Grouped sums in polars scatter every row into its group once per aggregation, and a histogram of
20 bins over 20 features is 400 of them. Here polars streams the rows in batches, each batch is put
in key-group order (left as it is when the rows arrive grouped, as time-ordered files do) and numpy
counts every group at once: one vectorised comparison per edge gives ``count(x > edge)`` per group,
and the bin counts are the differences of those counts. Categorical features are counted from the
batch's (group, value) counts. The batches' tallies add up like any two summaries
(:func:`merge_tables`).

The columns, their order and dtypes are those of the polars expressions they replaced (``f|null``
.. ``f|hK``, ``c|v0`` .. ``c|null``, see :mod:`workbench.summaries.summary`); counts, mins and
maxes are equal, sums are added in another order so they agree to rounding.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.summaries.binning import Binning

__all__ = ["FeatureTallies", "feature_tallies", "grouped", "imap_batches", "map_batches", "stream_batches"]

_INTS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
#: up to this many distinct (group, value) pairs in a batch, categorical values are looked up in Python
_FEW_VALUES = 512
#: up to this many groups in a batch, counts are taken group by group on slices; above, in one reduceat
_FEW_GROUPS = 64


def _count(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """True values of ``mask`` per group (groups are the runs beginning at ``starts``)."""
    if len(starts) == 1:
        return np.array([np.count_nonzero(mask)], dtype=np.int64)
    if len(starts) <= _FEW_GROUPS:
        ends = np.append(starts[1:], len(mask))
        return np.array([np.count_nonzero(mask[a:b]) for a, b in zip(starts, ends)], dtype=np.int64)
    return np.add.reduceat(mask.view(np.uint8), starts, dtype=np.int64)


def _sum(values: np.ndarray, starts: np.ndarray, dtype) -> np.ndarray:
    """Sums per group, in ``dtype`` (pairwise for a few groups, in row order for many)."""
    if len(starts) <= _FEW_GROUPS:
        ends = np.append(starts[1:], len(values))
        return np.array([values[a:b].sum(dtype=dtype) for a, b in zip(starts, ends)])
    return np.add.reduceat(values, starts, dtype=dtype)


def _sum_squares(values: np.ndarray, starts: np.ndarray, dtype) -> np.ndarray:
    """Sums of squares per group (squares in the values' type, added up in ``dtype``)."""
    if values.dtype == np.float64 and len(starts) <= _FEW_GROUPS:
        ends = np.append(starts[1:], len(values))
        return np.array([np.dot(values[a:b], values[a:b]) for a, b in zip(starts, ends)])
    return _sum(values * values, starts, dtype)


@dataclass(frozen=True)
class _Numeric:
    """How one numeric feature is read and tallied: its edges (in the type the column is compared
    in) and the dtypes of its sums, min and max (those the polars expressions gave)."""

    name: str
    edges: np.ndarray
    is_float: bool
    sum_dtype: pl.DataType
    sumsq_dtype: pl.DataType
    minmax_dtype: pl.DataType

    @property
    def columns(self) -> list[str]:
        f = self.name
        return ([f"{f}|null", f"{f}|inf", f"{f}|sum", f"{f}|sumsq", f"{f}|min", f"{f}|max"]
                + [f"{f}|h{i}" for i in range(len(self.edges) + 1)])

    @property
    def dtypes(self) -> list[pl.DataType]:
        return ([pl.Int64, pl.Int64, self.sum_dtype, self.sumsq_dtype, self.minmax_dtype, self.minmax_dtype]
                + [pl.Int64] * (len(self.edges) + 1))

    def tally(self, s: pl.Series, starts: np.ndarray) -> list:
        """Per group: null (or NaN), ±inf, sum, sum of squares, min, max (of finite values) and
        bin counts, one array (or list) per column."""
        n = len(s)
        sizes = np.diff(np.append(starts, n))
        null = None
        if self.is_float:
            x = s.to_numpy()  # a null reads as NaN: both are missing values
            with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, or finite values adding up past the range
                total = _sum(x, starts, np.float64)  # float32 values are added up in float64
            if np.isfinite(total).all():  # so no group has a NaN, null or ±inf
                nan = inf = np.zeros(len(starts), dtype=np.int64)
                vals = low = high = x
            else:
                missing, infinite = np.isnan(x), np.isinf(x)
                nan, inf = _count(missing, starts), _count(infinite, starts)
                finite = ~(missing | infinite)
                vals, low, high = np.where(finite, x, 0), np.where(finite, x, np.inf), np.where(finite, x, -np.inf)
                total = _sum(vals, starts, np.float64)
            with np.errstate(over="ignore"):  # squares of finite values past the range: inf, as polars gives
                squares = _sum_squares(vals, starts, np.float64)
            cmp = high  # -inf (a missing or infinite value) is above no edge
        else:
            nan, inf = s.null_count(), np.zeros(len(starts), dtype=np.int64)
            if nan:
                null = s.is_null().to_numpy()
                nan = _count(null, starts)
            else:
                nan = np.zeros(len(starts), dtype=np.int64)
            vals = (s.fill_null(0) if null is not None else s).to_numpy()
            total = _sum(vals, starts, _np_dtype(self.sum_dtype))  # wraps as polars' sums do
            squares = _sum(vals * vals, starts, _np_dtype(self.sumsq_dtype))
            low, high = vals, vals
            cmp = vals.astype(np.float64)  # compared as Float64, as polars compares it with a float
            if null is not None:
                low = np.where(null, np.iinfo(vals.dtype).max, vals)
                high = np.where(null, np.iinfo(vals.dtype).min, vals)
                cmp[null] = -np.inf
        present = sizes - nan - inf
        lo = [v if k else None for v, k in zip(np.minimum.reduceat(low, starts).tolist(), present)]
        hi = [v if k else None for v, k in zip(np.maximum.reduceat(high, starts).tolist(), present)]
        above = np.empty(n, dtype=bool)
        gt = [present] + [_count(np.greater(cmp, e, out=above), starts) for e in self.edges] + [0]
        bins = [gt[i] - gt[i + 1] for i in range(len(gt) - 1)]
        return [nan, inf, total, squares, lo, hi, *bins]


@dataclass(frozen=True)
class _Categorical:
    """How one categorical feature is tallied: its vocabulary and the values seen in the baseline."""

    name: str
    vocab: pl.Series
    seen: pl.Series

    @property
    def columns(self) -> list[str]:
        c = self.name
        return [f"{c}|v{i}" for i in range(len(self.vocab))] + [f"{c}|other", f"{c}|unseen", f"{c}|null"]

    @property
    def dtypes(self) -> list[pl.DataType]:
        return [pl.Int64] * (len(self.vocab) + 3)

    @functools.cached_property
    def _lookup(self) -> tuple[dict[str, int], frozenset[str]]:
        """Each vocabulary value's position, and the seen values, for Python lookups."""
        vocab = self.vocab.to_list()
        return {v: i for i, v in reversed(list(enumerate(vocab)))}, frozenset(self.seen.drop_nulls().to_list())

    def tally(self, s: pl.Series, group: pl.Series | None, n_groups: int) -> list:
        """Per group: rows per vocabulary value, of other values, of values unseen in the
        baseline, and nulls (``group`` gives each row's group; None when there is one)."""
        if group is None:
            vc = s.value_counts()
            g = np.zeros(vc.height, dtype=np.int64)
        else:
            vc = pl.DataFrame([group, s]).group_by(group.name, s.name).len("count")
            g = vc.get_column(group.name).to_numpy().astype(np.int64)
        values, counts = vc.get_column(s.name), vc.get_column("count").to_numpy().astype(np.int64)
        k = len(self.vocab)
        if len(values) <= _FEW_VALUES:  # looked up in Python: cheaper than three polars calls
            index, seen = self._lookup
            listed = values.to_list()
            code = np.array([k + 1 if v is None else index.get(v, k) for v in listed], dtype=np.int64)
            unseen = np.array([v is not None and v not in seen for v in listed], dtype=bool)
        else:
            code = values.replace_strict(self.vocab, pl.Series(range(k), dtype=pl.Int64), default=k,
                                         return_dtype=pl.Int64).to_numpy()
            code = np.where(values.is_null().to_numpy(), k + 1, code)  # replace_strict gives a null the default
            unseen = ~values.is_in(self.seen.implode()).fill_null(True).to_numpy()
        per = np.bincount(g * (k + 2) + code, weights=counts, minlength=n_groups * (k + 2))
        per = per.reshape(n_groups, k + 2).astype(np.int64)
        unseen = np.bincount(g, weights=counts * unseen, minlength=n_groups).astype(np.int64)
        return [per[:, i] for i in range(k)] + [per[:, k], unseen, per[:, k + 1]]


def _np_dtype(dtype: pl.DataType) -> np.dtype:
    return pl.Series([], dtype=dtype).to_numpy().dtype


def _numeric(f: str, edges: list[float], dtype: pl.DataType) -> _Numeric:
    x = pl.col(f)
    finite = pl.when(x.is_finite()).then(x)
    out = pl.LazyFrame(schema={f: dtype}).select(finite.sum().alias("s"), (finite * finite).sum().alias("ss"),
                                                 finite.min().alias("m")).collect_schema()
    # polars compares a column with a float literal in the column's float type (a Float32 column
    # with the edge rounded to float32), an integer column as Float64
    e = np.asarray(edges, dtype=np.float32 if dtype == pl.Float32 else np.float64)
    return _Numeric(f, e, dtype.is_float(), out["s"], out["ss"], out["m"])


def _read_as(dtype: pl.DataType) -> pl.DataType:
    """The type a numeric feature is tallied in: its own when float or integer, else Float64."""
    return dtype if dtype.is_float() or dtype in _INTS else pl.Float64


def grouped(batch: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, np.ndarray | None, np.ndarray, np.ndarray]:
    """The batch's key groups (one row each); the order that puts the batch's rows in group order
    (None when they are already), where each group starts in that order, and each row's group
    (in the batch's own order).

    Rows of time-ordered files arrive in runs of one key (a bucket, a version): those are found by
    comparing each row's keys with the previous row's, which costs a fraction of grouping; when a
    key comes back after another (runs that are not groups), the rows are grouped."""
    fast = _runs(batch, keys)
    if fast is not None:
        return fast
    runs = (batch.select(keys).with_row_index("__i").group_by(keys, maintain_order=True)
            .agg(pl.col("__i")))
    n = batch.height
    if runs.height <= 1:
        return runs.select(keys), None, np.zeros(runs.height, dtype=np.int64), np.zeros(n, dtype=np.uint32)
    sizes = runs.get_column("__i").list.len().to_numpy().astype(np.int64)
    order = runs.get_column("__i").explode().to_numpy()
    starts = np.append(0, np.cumsum(sizes)[:-1])
    ids = np.repeat(np.arange(runs.height, dtype=np.uint32), sizes)
    if (np.diff(order) != 1).any():  # rows of a group are not contiguous
        gid = np.empty(n, dtype=np.uint32)
        gid[order] = ids
        return runs.select(keys), order, starts, gid
    return runs.select(keys), None, starts, ids


def _runs(batch: pl.DataFrame, keys: list[str]):
    """:func:`grouped` of a batch whose groups are runs of rows, or None when they are not."""
    n = batch.height
    if n == 0 or not keys:
        return None
    frame = batch.select(keys)
    new = frame.select(pl.any_horizontal([pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys])).to_series()
    if new.sum() > max(_FEW_GROUPS, n // 16):  # short runs (a segment among the keys): grouping is cheaper
        return None
    heads = np.flatnonzero(new.to_numpy())  # row 0: its keys' "previous" is null, unequal unless a key is null
    if not len(heads) or heads[0] != 0:
        heads = np.append(0, heads)
    groups = frame[heads]
    if len(heads) > 1 and groups.is_duplicated().any():  # a key came back: its rows are two runs
        return None
    sizes = np.diff(np.append(heads, n))
    return groups, None, heads.astype(np.int64), np.repeat(np.arange(len(heads), dtype=np.uint32), sizes)


@dataclass(frozen=True)
class FeatureTallies:
    """The feature tallies of a binning on a frame's schema: the columns to read (``columns``,
    cast to the type they are tallied in) and, per batch in group order, the tally columns."""

    numeric: list[_Numeric]
    categorical: list[_Categorical]
    columns: list[pl.Expr]

    @property
    def names(self) -> list[str]:
        return [c for t in (*self.numeric, *self.categorical) for c in t.columns]

    @property
    def dtypes(self) -> list[pl.DataType]:
        return [d for t in (*self.numeric, *self.categorical) for d in t.dtypes]

    def tally(self, batch: pl.DataFrame, order: np.ndarray | None, starts: np.ndarray,
              gid: np.ndarray) -> pl.DataFrame:
        """Per group of ``batch`` (see :func:`grouped`: ``order`` puts its rows in group order, where
        groups start at ``starts``; ``gid`` is each row's group): every tally column."""
        if not len(starts):
            return pl.DataFrame(schema=dict(zip(self.names, self.dtypes)))
        # numeric values are counted in group order (gathered: a numeric column is cheap to move);
        # categorical ones by (group, value), in any order
        values = [v for t in self.numeric
                  for v in t.tally(_in_order(batch.get_column(t.name), order), starts)]
        g = None if len(starts) == 1 else pl.Series("__g", gid)
        values += [v for t in self.categorical for v in t.tally(batch.get_column(t.name), g, len(starts))]
        return _frame(self.names, values, self.dtypes, len(starts))


def _frame(names: list[str], values: list, dtypes: list[pl.DataType], height: int) -> pl.DataFrame:
    """The tally columns as a frame: the Int64 and Float64 arrays (nearly all of them) in one
    matrix each, made columns by polars at once (one Series per column costs more than the counts
    they hold); the rest (lists with nulls, other types) one by one."""
    by_type: dict[pl.DataType, list[int]] = {pl.Int64: [], pl.Float64: []}
    rest = []
    for i, (v, d) in enumerate(zip(values, dtypes)):
        np_type = _MATRIX.get(d)
        if np_type is not None and isinstance(v, np.ndarray) and v.dtype == np_type and v.shape == (height,):
            by_type[d].append(i)
        else:
            rest.append(pl.Series(names[i], v, dtype=d))
    parts = [pl.Series(np.column_stack([values[i] for i in idx]).ravel()).reshape((height, len(idx)))
             .arr.to_struct([names[i] for i in idx]).struct.unnest() for idx in by_type.values() if idx]
    return pl.concat(parts + [pl.DataFrame(rest)], how="horizontal").select(names)


_MATRIX = {pl.Int64: np.int64, pl.Float64: np.float64}


def _in_order(s: pl.Series, order: np.ndarray | None) -> pl.Series:
    return s if order is None else s.gather(order)


def feature_tallies(binning: Binning, schema: dict, keys: list[str]) -> FeatureTallies | None:
    """How the binning's features in ``schema`` are tallied, or None when it has none there."""
    num = [_numeric(f, edges, _read_as(schema[f])) for f, edges in binning.numeric.items() if f in schema]
    cat = [_Categorical(c, pl.Series(c, vocab, pl.String), pl.Series(c, binning.seen[c], pl.String))
           for c, vocab in binning.categorical.items() if c in schema]
    if not num and not cat:
        return None
    cols = [pl.col(t.name).cast(_read_as(schema[t.name])) for t in num if t.name not in keys]
    cols += [pl.col(t.name).cast(pl.String) for t in cat if t.name not in keys]
    return FeatureTallies(num, cat, cols)


#: row groups polars' Parquet reader decodes ahead of a pass's batches (its default decodes several
#: whole files' worth ahead: with 250k-row groups, a 1M-row pass held ~250 MB of them; see
#: benchmarks/README.md). A value the user set in the environment is left as it is.
PREFETCH_ROW_GROUPS = 1
_PREFETCH_VAR = "POLARS_ROW_GROUP_PREFETCH_SIZE"
_settings_lock = threading.Lock()
_running = 0  # passes running under the settings of :func:`_pass_settings`
_undo = None  # what puts the settings back, once the last pass ends


@contextlib.contextmanager
def _pass_settings():
    """While a pass runs: few row groups read ahead (memory stays bounded by a few row groups,
    not by the files read at once), and BLAS calls on the calling thread (BLAS's own threads spin
    waiting for work after each call, and on a machine of few cores they take the core the other
    batch's thread needs: on 2 cores the numeric tallies of 16 batches on two threads took 0.51 s
    with them, 0.25-0.30 s without). Both are process-wide, so passes on several threads share
    them: the first sets them, the last puts them back."""
    global _running, _undo
    with _settings_lock:
        if _running == 0:
            _undo = _apply_settings()
        _running += 1
    try:
        yield
    finally:
        with _settings_lock:
            _running -= 1
            if _running == 0:
                _undo()
                _undo = None


def _apply_settings():
    set_env = _PREFETCH_VAR not in os.environ
    if set_env:
        os.environ[_PREFETCH_VAR] = str(PREFETCH_ROW_GROUPS)
    try:
        from threadpoolctl import threadpool_limits  # (scikit-learn's dependency)

        blas = threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover
        blas = None

    def undo():
        if blas is not None:
            blas.restore_original_limits()
        if set_env:
            os.environ.pop(_PREFETCH_VAR, None)
    return undo


def stream_batches(frame: pl.LazyFrame):
    """The rows of ``frame`` in batches from polars' streaming engine (under :func:`_pass_settings`)."""
    with _pass_settings():
        yield from frame.collect_batches(engine="streaming")


def map_batches(fn, batches) -> list:
    """``fn`` of every batch, on as many threads as polars uses (numpy and polars release the GIL
    while they count), a bounded number of batches in flight."""
    return list(imap_batches(fn, batches))


def imap_batches(fn, batches):
    """:func:`map_batches` as a generator: each result, in batch order, as soon as it is ready
    (under :func:`_pass_settings`)."""
    workers = max(1, min(pl.thread_pool_size(), 4))
    if workers == 1:
        yield from (fn(b) for b in batches)
        return
    pending = deque()
    with _pass_settings(), ThreadPoolExecutor(max_workers=workers) as pool:
        for b in batches:
            pending.append(pool.submit(fn, b))
            while len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
