"""Feature tallies counted batch by batch in numpy: the per-feature columns of a summary table.

Grouped sums in polars scatter every row into its group once per aggregation, and a histogram of
20 bins over 20 features is 400 of them. Here polars streams the rows in batches, each batch is cut
into its key groups (slices when the rows arrive grouped, as time-ordered files do) and numpy
counts each group: one vectorised comparison per edge gives ``count(x > edge)``, and the bin counts
are the differences of those counts. Categorical features are counted from each group's value
counts. The batches' tallies add up like any two summaries (:func:`merge_tables`).

The columns, their order and dtypes are those of the expressions they replace (``f|null`` ..
``f|hK``, ``c|v0`` .. ``c|null``, see :mod:`workbench.summaries.summary`); counts, mins and maxes
are equal, sums are added in another order so they agree to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.summaries.binning import Binning
from workbench.summaries.summary import merge_tables

__all__ = ["feature_table", "feature_columns"]

_INTS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


@dataclass(frozen=True)
class _Numeric:
    """How one numeric feature is read and tallied: its edges (in the dtype the column is compared
    in) and the dtypes its sums, min and max take (those of the polars expressions)."""

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

    def tally(self, s: pl.Series) -> list:
        """null (or NaN), ±inf, sum, sum of squares, min, max (of finite values) and bin counts."""
        if self.is_float:
            x = s.to_numpy()  # a null reads as NaN: both are missing values
            nan = int(np.count_nonzero(np.isnan(x)))
            inf = int(np.count_nonzero(np.isinf(x)))
            xf = x[np.isfinite(x)] if nan or inf else x
        else:
            nan, inf = s.null_count(), 0
            xf = (s.drop_nulls() if nan else s).to_numpy()
        n = len(xf)
        if n == 0:
            zero = 0.0 if self.sum_dtype.is_float() else 0
            return [nan, inf, zero, zero, None, None] + [0] * (len(self.edges) + 1)
        if self.is_float:
            total, squares = xf.sum(), (np.dot(xf, xf) if xf.dtype == np.float64 else (xf * xf).sum())
        else:  # integer sums wrap in their dtype as polars' do
            total = xf.sum(dtype=_np_dtype(self.sum_dtype))
            squares = (xf * xf).sum(dtype=_np_dtype(self.sumsq_dtype))
        above = np.empty(n, dtype=bool)
        gt = [n] + [int(np.count_nonzero(np.greater(xf, e, out=above))) for e in self.edges] + [0]
        bins = [gt[i] - gt[i + 1] for i in range(len(gt) - 1)]
        return [nan, inf, total.item(), squares.item(), xf.min().item(), xf.max().item()] + bins


@dataclass(frozen=True)
class _Categorical:
    """How one categorical feature is tallied: its vocabulary and the values seen in the baseline."""

    name: str
    vocab: pl.Series
    seen: pl.Series

    @property
    def codes(self) -> pl.Series:
        return pl.Series(range(len(self.vocab)), dtype=pl.Int64)

    @property
    def columns(self) -> list[str]:
        c = self.name
        return [f"{c}|v{i}" for i in range(len(self.vocab))] + [f"{c}|other", f"{c}|unseen", f"{c}|null"]

    @property
    def dtypes(self) -> list[pl.DataType]:
        return [pl.Int64] * (len(self.vocab) + 3)

    def tally(self, s: pl.Series) -> list:
        """Rows per vocabulary value, of other values, of values unseen in the baseline, and nulls."""
        vc = s.value_counts()
        values, counts = vc.get_column(s.name), vc.get_column("count").to_numpy().astype(np.int64)
        k = len(self.vocab)
        code = values.replace_strict(self.vocab, self.codes, default=k, return_dtype=pl.Int64).to_numpy()
        code = np.where(values.is_null().to_numpy(), k + 1, code)  # replace_strict gives a null the default
        per = np.bincount(code, weights=counts, minlength=k + 2).astype(np.int64)
        unseen = int(counts[~values.is_in(self.seen.implode()).fill_null(True).to_numpy()].sum())
        return [int(v) for v in per[:k]] + [int(per[k]), unseen, int(per[k + 1])]


def _np_dtype(dtype: pl.DataType):
    return pl.Series([], dtype=dtype).to_numpy().dtype


def _numeric_spec(f: str, edges: list[float], dtype: pl.DataType) -> _Numeric:
    x = pl.col(f)
    finite = pl.when(x.is_finite()).then(x)
    out = pl.LazyFrame(schema={f: dtype}).select(finite.sum().alias("s"), (finite * finite).sum().alias("ss"),
                                                 finite.min().alias("m")).collect_schema()
    is_float = dtype.is_float()
    # polars compares a column with a float literal in the column's float type (a Float32 column
    # with the edge rounded to float32), an integer column as Float64
    e = np.asarray(edges, dtype=np.float32 if dtype == pl.Float32 else np.float64)
    return _Numeric(f, e, is_float, out["s"], out["ss"], out["m"])


def feature_columns(binning: Binning, schema: dict) -> tuple[list[_Numeric], list[_Categorical]]:
    """The numeric and categorical tallies of the binning's features present in ``schema``."""
    num = []
    for f, edges in binning.numeric.items():
        if f in schema:
            dtype = schema[f]
            num.append(_numeric_spec(f, edges, dtype if dtype.is_float() or dtype in _INTS else pl.Float64))
    cat = [_Categorical(c, pl.Series(c, vocab, pl.String), pl.Series(c, binning.seen[c], pl.String))
           for c, vocab in binning.categorical.items() if c in schema]
    return num, cat


def _groups(batch: pl.DataFrame, keys: list[str]):
    """The batch's key groups: (key values, rows), rows sliced when each group's rows are contiguous."""
    runs = (batch.select(keys).with_row_index("__i").group_by(keys, maintain_order=True)
            .agg(pl.col("__i").min().alias("__lo"), pl.len().alias("__n"), pl.col("__i").max().alias("__hi")))
    if (runs["__hi"] - runs["__lo"] + 1 == runs["__n"]).all():
        for row in runs.iter_rows():
            yield row[:len(keys)], batch.slice(row[-3], row[-2])
        return
    for key, part in batch.partition_by(keys, maintain_order=True, as_dict=True).items():
        yield key, part


def feature_table(frame: pl.LazyFrame, binning: Binning, schema: dict, keys: list[str],
                  key_prep: list[pl.Expr]) -> pl.DataFrame | None:
    """Feature tallies per key of ``frame`` (one streaming pass over the keys and features), or
    None when the binning has no feature in ``schema``."""
    num, cat = feature_columns(binning, schema)
    if not num and not cat:
        return None
    cols = [pl.col(k) for k in keys]
    for t in num:
        if t.name not in keys:
            dtype = schema[t.name]
            cols.append(pl.col(t.name) if dtype.is_float() or dtype in _INTS else pl.col(t.name).cast(pl.Float64))
    cols += [pl.col(t.name).cast(pl.String) for t in cat if t.name not in keys]
    q = frame.with_columns(key_prep).select(cols)
    key_schema = {k: v for k, v in q.collect_schema().items() if k in keys}
    tallies = [*num, *cat]
    names = [c for t in tallies for c in t.columns]
    dtypes = [d for t in tallies for d in t.dtypes]
    key_rows: list[tuple] = []
    values: list[list] = [[] for _ in names]
    for batch in q.collect_batches(engine="streaming"):
        for key, part in _groups(batch, keys):
            key_rows.append(key)
            row = [v for t in tallies for v in t.tally(part.get_column(t.name))]
            for col, v in zip(values, row):
                col.append(v)
    table = pl.DataFrame(key_rows, schema=key_schema, orient="row")
    table = table.with_columns(pl.Series(n, v, dtype=d) for n, v, d in zip(names, values, dtypes))
    return merge_tables([table], keys).select(*keys, *names) if table.height else table
