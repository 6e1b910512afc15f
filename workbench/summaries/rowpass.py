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

from workbench.lake.labels import positive_expr
from workbench.summaries.binning import SCORE_BINS, Binning, latency_bin_expr
from workbench.summaries.summary import _sum_long, merge_tables
from workbench.summaries.tally import feature_tallies, grouped, imap_batches, stream_batches

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
    score_hist: str | None = None  # "plain" (``score|h*``), "by_label" (``score|y1|h*`` ..., ``score|s|h*``)
    order: list[str] | None = None  # the score and label columns in order (``laggs`` and the histogram's)
    positives: bool = False  # prediction and label are read as 1/0/null (:func:`positives`), binary tasks


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

        # Memory: only the ids' hashes and the labels are collected (16 bytes a label); the
        # times are read again for the ids labelled more than once (usually few).
        hashed = labels.select(pl.col("request_id").hash().alias("__h"), "label", "labeled_at")
        df = hashed.select("__h", "label").collect(engine="streaming")
        hs, values = df.get_column("__h"), df.get_column("label")
        del df  # one column at a time below
        order = hs.arg_sort()  # (multithreaded; 4-byte indices)
        # gathered from one chunk: a gather over the hundreds of chunks a scan gives is ~3x slower
        h = hs.rechunk().gather(order).to_numpy()
        del hs
        values = values.rechunk().gather(order)
        del order
        dup = np.zeros(len(h), dtype=bool)
        if len(h) > 1:  # ids labelled more than once: the lake's rule picks one
            same = h[1:] == h[:-1]
            dup[1:] |= same
            dup[:-1] |= same
        if dup.any():
            again = pl.Series("__h", np.unique(h[dup]))
            picked = (latest_labels(hashed.filter(pl.col("__h").is_in(again)), key="__h")
                      .collect(engine="streaming").select("__h", "label"))
            keep = pl.Series(~dup)
            merged = pl.concat([pl.DataFrame({"__h": h, "label": values}).filter(keep), picked]).sort("__h")
            h, values = merged.get_column("__h").to_numpy(), merged.get_column("label")
        return cls(h, values.extend(pl.Series("label", [None], dtype=values.dtype)))

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
    s_dtype = None
    if plan.score_hist:  # the type polars sums the score in
        s_dtype = pl.LazyFrame(schema={"score": schema["score"]}).select(pl.col("score").sum()).collect_schema()["score"]

    def tally(batch: pl.DataFrame) -> Tables:
        if labels is not None:
            batch = batch.with_columns(labels.attach(batch.get_column("__h").to_numpy()).alias("label"))
            batch = screen(batch.drop("__h").lazy(), {"label": labels.dtype}).collect()
        if plan.positives:
            batch = batch.with_columns(positives(batch.get_column(c)) for c in ("prediction", "label")
                                       if c in batch.columns)
        groups, order, starts, gid = grouped(batch, keys)
        batch = batch.with_columns(pl.Series("__g", gid, dtype=pl.UInt32))
        table = groups
        if plan.lprep:
            batch = batch.with_columns(plan.lprep)
        if plan.aggs or plan.laggs:
            if len(starts) == 1:  # one group (a batch within one bucket): no grouping to do
                agg = batch.select(plan.aggs + plan.laggs)
            else:
                agg = batch.group_by("__g").agg(plan.aggs + plan.laggs).sort("__g").drop("__g")
            table = table.hstack(agg[:, :n_aggs])
        if ft is not None:
            table = table.hstack(ft.tally(batch, order, starts, gid))
        if plan.order:
            cols = {c.name: c for c in agg[:, n_aggs:]} if plan.laggs else {}
            if plan.score_hist:
                cols.update(_score_hist(batch, gid, len(starts), plan.score_hist, s_dtype))
            table = table.hstack([cols[c] for c in plan.order])
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

    parts: list[Tables] = []
    for p in imap_batches(tally, stream_batches(q)):
        if p.table.height:
            parts.append(p)
        if len(parts) >= _MERGE_EVERY:  # memory stays bounded by the groups, not the batches
            parts = [_merge(parts, keys, plan)]
    if not parts:  # no rows: the tables empty, with their columns and types
        parts = [tally(q.clear().collect())]
    out = _merge(parts, keys, plan)
    table = _counts_as_int64(out.table, keys)
    latency = out.latency if plan.latency else pl.DataFrame(
        schema={**{k: table.schema[k] for k in keys}, "bin": pl.Int32, "n": pl.Int64})
    return Tables(table, latency, out.confusion)


#: the batches' tallies are added up every this many batches
_MERGE_EVERY = 64


def _merge(parts: list[Tables], keys: list[str], plan: Plan) -> Tables:
    """The tallies of several batches added up (tables sorted by their keys)."""
    table = merge_tables([p.table for p in parts], keys) if len(parts) > 1 else parts[0].table
    latency = _sum_long(pl.concat([p.latency for p in parts]), keys, ["bin"]) if plan.latency else None
    confusion = None
    if plan.confusion is not None:
        confusion = _sum_long(pl.concat([p.confusion for p in parts]), keys, ["prediction", "label"])
    return Tables(table.sort(keys, nulls_last=True), latency, confusion)


def positives(s: pl.Series) -> pl.Series:
    """A binary prediction or label as 1 (positive), 0 or null (:func:`workbench.lake.labels.positive_expr`,
    the lake's one definition), worked out once per distinct value."""
    values = s.drop_nulls().unique()
    if values.len() == 0:
        return pl.Series(s.name, [], dtype=pl.Int8).extend_constant(None, s.len())
    if values.len() > 1_000:
        return pl.select(positive_expr(pl.lit(s))).to_series().alias(s.name)
    codes = pl.select(positive_expr(pl.lit(values))).to_series()
    return s.replace_strict(values, codes, return_dtype=pl.Int8)


def _score_hist(batch: pl.DataFrame, gid: np.ndarray, n_groups: int, how: str, s_dtype) -> dict[str, pl.Series]:
    """The score histogram per group, from ``__score|bin`` (null: no valid score) and, ``by_label``,
    ``__y`` (1, 0, null): rows per bin (by outcome) and the score mass of labelled rows per bin."""
    k = SCORE_BINS
    b = batch.get_column("__score|bin").fill_null(-1).to_numpy()
    ok = b >= 0
    if how == "plain":
        per = np.bincount((gid.astype(np.int64) * k + b)[ok], minlength=n_groups * k).reshape(n_groups, k)
        return {f"score|h{i}": pl.Series(f"score|h{i}", per[:, i], dtype=pl.Int64) for i in range(k)}
    y = batch.get_column("__y").fill_null(-1).to_numpy()
    outcome = np.where(y == 1, 0, np.where(y == 0, 1, 2))  # y1, y0, yna
    code = (gid.astype(np.int64) * 3 + outcome) * k + b
    per = np.bincount(code[ok], minlength=n_groups * 3 * k).reshape(n_groups, 3, k)
    out = {f"score|{name}|h{i}": pl.Series(f"score|{name}|h{i}", per[:, j, i], dtype=pl.Int64)
           for j, name in enumerate(("y1", "y0", "yna")) for i in range(k)}
    lab = ok & (y >= 0)
    score = batch.get_column("score").to_numpy()
    mass = np.bincount((gid.astype(np.int64) * k + b)[lab], weights=score[lab],
                       minlength=n_groups * k).reshape(n_groups, k)
    out.update({f"score|s|h{i}": pl.Series(f"score|s|h{i}", mass[:, i]).cast(s_dtype) for i in range(k)})
    return out


def _counts_as_int64(table: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Counts as Int64 (sums, sums of squares, mins, maxes and errors keep their types)."""
    count_cols = [c for c in table.columns if c not in keys and not c.endswith(("|sum", "|sumsq", "|min", "|max",
                                                                               "abs_err", "sq_err"))
                  and not c.startswith("score|s|")]
    return table.with_columns(pl.col(count_cols).cast(pl.Int64))
