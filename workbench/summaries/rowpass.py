"""The one pass: every tally of a summary from one stream of prediction batches.

polars streams the rows (keys computed, score, latency and prediction screened, features cast) in
batches; each batch is put in key-group order once (:func:`workbench.summaries.tally.grouped`) and
gives, per group, the feature tallies (numpy, :mod:`workbench.summaries.tally`), the row, score
and label tallies (the polars expressions of :mod:`workbench.summaries.engine`, grouped by the
batch's group index), the latency histogram and the confusion counts. The batches' tallies add up
like any two summaries (:func:`~workbench.summaries.summary.merge_tables`).

Labels kept in their own table are attached batch by batch from a :class:`LabelLookup` (the
latest label per request id, sorted by the id's 64-bit hash, the key :meth:`Lake.predictions`
joins on), so the predictions are read once and never joined as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.summaries.binning import Binning, latency_bin_expr
from workbench.summaries.summary import _sum_long, merge_tables
from workbench.summaries.tally import feature_tallies, grouped, map_batches

__all__ = ["LabelLookup", "Plan", "Tables", "one_pass"]


@dataclass(frozen=True)
class Plan:
    """What the pass tallies: row aggregations (``aggs``), columns to add before the score and
    label aggregations (``lprep``, ``laggs``), whether latency is binned, and the confusion's
    prediction and label expressions (None: no confusion table)."""

    aggs: list[pl.Expr]
    lprep: list[pl.Expr]
    laggs: list[pl.Expr]
    latency: bool
    confusion: list[pl.Expr] | None


@dataclass(frozen=True)
class Tables:
    """The pass's three tables (see :class:`~workbench.summaries.summary.Summary`)."""

    table: pl.DataFrame
    latency: pl.DataFrame
    confusion: pl.DataFrame | None


@dataclass(frozen=True)
class LabelLookup:
    """One label per request id, for attaching labels to batches of predictions.

    ``hashes`` are the ids' 64-bit polars hashes, sorted; ``values`` the label of each, plus one
    trailing null (the label of an id with no label). The ids are matched on their hashes exactly
    as :meth:`workbench.lake.Lake.predictions` (``with_labels=True``) joins them, so the labels
    attached are those of that join, row for row.
    """

    hashes: np.ndarray
    values: pl.Series

    @property
    def dtype(self) -> pl.DataType:
        return self.values.dtype

    @classmethod
    def from_labels(cls, labels: pl.LazyFrame) -> LabelLookup:
        """From a labels frame (``request_id``, ``label``, ``labeled_at``): the latest label of
        each id (:func:`workbench.lake.tables.latest_labels`, the lake's one rule)."""
        from workbench.lake.tables import latest_labels

        lab = latest_labels(labels.select(pl.col("request_id").hash().alias("__h"), "label", "labeled_at"),
                            key="__h")
        df = lab.select("__h", "label").collect(engine="streaming").sort("__h")
        values = df.get_column("label")
        return cls(df.get_column("__h").to_numpy(), values.extend(pl.Series("label", [None], dtype=values.dtype)))

    def attach(self, h: np.ndarray) -> pl.Series:
        """The label of each hash in ``h`` (null when the id has none)."""
        n = len(self.hashes)
        if n == 0 or len(h) == 0:
            return self.values.gather(np.full(len(h), n, dtype=np.int64))
        order = np.argsort(h)  # sorted needles: the binary searches walk the table in order
        idx = np.empty(len(h), dtype=np.int64)
        idx[order] = np.searchsorted(self.hashes, h[order])
        np.minimum(idx, n - 1, out=idx)
        return self.values.gather(np.where(self.hashes[idx] == h, idx, n))


def one_pass(frame: pl.LazyFrame, binning: Binning, schema: dict, keys: list[str], key_prep: list[pl.Expr],
             plan: Plan, *, labels: LabelLookup | None = None, features: bool = True) -> Tables:
    """Every tally of ``plan`` (and the feature tallies of ``binning`` unless ``features`` is
    False) per key of ``frame``, reading it once in batches."""
    from workbench.summaries.engine import screen  # (engine imports this module)

    frame = screen(frame, schema)
    if labels is not None:
        frame = frame.with_columns(pl.col("request_id").hash().alias("__h"))
    ft = feature_tallies(binning, schema, keys) if features else None
    roles = [c for c in ("fallback", "latency_ms", "score", "prediction", "label") if c in schema]
    flags = [f"__{c}|invalid" for c in ("score", "latency_ms", "prediction", "label") if c in schema]
    cols = [pl.col(k) for k in keys] + [pl.col(c) for c in (*roles, *flags) if c not in keys]
    if labels is not None:
        cols.append(pl.col("__h"))
    if ft is not None:
        cols += [e for e in ft.columns if e.meta.output_name() not in keys and e.meta.output_name() not in roles]
    q = frame.with_columns(key_prep).select(cols)
    n_aggs = len(plan.aggs)

    def tally(batch: pl.DataFrame) -> Tables | None:
        if labels is not None:
            batch = batch.with_columns(labels.attach(batch.get_column("__h").to_numpy()).alias("label"))
            batch = screen(batch.drop("__h").lazy(), {"label": labels.dtype}).collect()
        groups, batch, starts = grouped(batch, keys)
        gid = np.repeat(np.arange(len(starts), dtype=np.uint32), np.diff(np.append(starts, batch.height)))
        batch = batch.with_columns(pl.Series("__g", gid, dtype=pl.UInt32))
        table = groups
        if plan.aggs or plan.laggs:
            agg = (batch.lazy().with_columns(plan.lprep).group_by("__g").agg(plan.aggs + plan.laggs)
                   .sort("__g").drop("__g").collect())
            table = table.hstack(agg[:, :n_aggs])
            if ft is not None:
                table = table.hstack(ft.tally(batch, starts))
            table = table.hstack(agg[:, n_aggs:])
        elif ft is not None:
            table = table.hstack(ft.tally(batch, starts))
        lat = conf = None
        if plan.latency:
            lat = (batch.select("__g", latency_bin_expr().alias("bin")).group_by("__g", "bin")
                   .agg(pl.len().cast(pl.Int64).alias("n")))
            lat = groups[lat.get_column("__g").to_numpy()].hstack(lat.drop("__g"))
        if plan.confusion is not None:
            conf = (batch.select("__g", *plan.confusion).group_by("__g", "prediction", "label")
                    .agg(pl.len().cast(pl.Int64).alias("n")))
            conf = groups[conf.get_column("__g").to_numpy()].hstack(conf.drop("__g"))
        return Tables(_counts_as_int64(table, keys), lat, conf)

    parts = [p for p in map_batches(tally, q.collect_batches(engine="streaming")) if p.table.height]
    if not parts:  # no rows: the tables empty, with their columns and types
        parts = [tally(q.clear().collect())]
    table = merge_tables([p.table for p in parts], keys)
    table = _counts_as_int64(table.sort(keys, nulls_last=True), keys)
    if plan.latency:
        latency = _sum_long(pl.concat([p.latency for p in parts]), keys, ["bin"])
    else:
        latency = pl.DataFrame(schema={**{k: table.schema[k] for k in keys}, "bin": pl.Int32, "n": pl.Int64})
    confusion = None
    if plan.confusion is not None:
        confusion = _sum_long(pl.concat([p.confusion for p in parts]), keys, ["prediction", "label"])
    return Tables(table, latency, confusion)


def _counts_as_int64(table: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Counts as Int64 (sums, sums of squares, mins, maxes and errors keep their types)."""
    count_cols = [c for c in table.columns if c not in keys and not c.endswith(("|sum", "|sumsq", "|min", "|max",
                                                                               "abs_err", "sq_err"))
                  and not c.startswith("score|s|")]
    return table.with_columns(pl.col(count_cols).cast(pl.Int64))
