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

    ``hashes`` are the ids' 64-bit polars hashes, sorted. With ``codes``, the label of the id at
    position ``i`` is ``values[codes[i]]``: ``values`` holds each distinct label once (labels are
    classes, or numbers with few values: 1 or 2 bytes an id instead of 8); without, ``values[i]``
    is the label itself. ``values`` ends with a null, the label of an id with no label. The ids
    are matched on their hashes exactly as :meth:`workbench.lake.Lake.predictions`
    (``with_labels=True``) joins them, so the labels attached are those of that join, row for row.
    """

    hashes: np.ndarray
    values: pl.Series
    codes: np.ndarray | None = None

    @property
    def dtype(self) -> pl.DataType:
        return self.values.dtype

    @classmethod
    def from_labels(cls, labels: pl.LazyFrame) -> LabelLookup:
        """From a labels frame (``request_id``, ``label``, ``labeled_at``): the latest label of
        each id (:func:`workbench.lake.tables.latest_labels`, the lake's one rule)."""
        from workbench.lake.tables import latest_labels

        # Memory: only the ids' hashes and the labels are collected; the times are read again for
        # the ids labelled more than once (usually few). Labels with few distinct values are held
        # as codes, and the hashes are sorted a slice of hash values at a time (_sorted).
        hashed = labels.select(pl.col("request_id").hash().alias("__h"), "label", "labeled_at")
        h, payload, distinct = _collect(hashed.select("__h", "label"))
        h, payload = _sorted(h, payload)
        dup = np.zeros(len(h), dtype=bool)
        if len(h) > 1:  # ids labelled more than once: the lake's rule picks one
            same = h[1:] == h[:-1]
            dup[1:] |= same
            dup[:-1] |= same
        if dup.any():
            again = pl.Series("__h", np.unique(h[dup]))
            picked = (latest_labels(hashed.filter(pl.col("__h").is_in(again.implode())), key="__h")
                      .collect(engine="streaming").select("__h", "label").sort("__h"))
            first = dup.copy()  # the first row of each id's run keeps the picked label
            first[1:] &= ~(h[1:] == h[:-1])
            rows = np.flatnonzero(first)
            chosen = picked.get_column("label")
            if distinct is not None:
                chosen = chosen.replace_strict(distinct, pl.Series(np.arange(len(distinct)))).to_numpy()
                payload[rows] = chosen.astype(payload.dtype)
            else:
                payload = payload.scatter(rows, chosen)
            keep = ~dup | first
            h = h[keep]
            payload = payload[keep] if distinct is not None else payload.filter(pl.Series(keep))
        if distinct is not None:
            return cls(h, distinct.extend(pl.Series("label", [None], dtype=distinct.dtype)).alias("label"), payload)
        return cls(h, payload.extend(pl.Series("label", [None], dtype=payload.dtype)).alias("label"))

    def attach(self, h: np.ndarray) -> pl.Series:
        """The label of each hash in ``h`` (null when the id has none)."""
        n = len(self.hashes)
        missing = len(self.values) - 1  # the trailing null
        if n == 0 or len(h) == 0:
            return self.values.gather(np.full(len(h), missing, dtype=np.int64))
        order = np.argsort(h)  # sorted needles: the binary searches walk the table in order
        idx = np.empty(len(h), dtype=np.int64)
        idx[order] = np.searchsorted(self.hashes, h[order])
        np.minimum(idx, n - 1, out=idx)
        hit = self.hashes[idx] == h
        if self.codes is not None:
            return self.values.gather(np.where(hit, self.codes[idx], missing))
        return self.values.gather(np.where(hit, idx, missing))


#: labels with fewer than this many distinct values are held as codes
_MAX_CODES = (1 << 16) - 1


def _collect(frame: pl.LazyFrame) -> tuple[np.ndarray, np.ndarray | pl.Series, pl.Series | None]:
    """The ids' hashes (``__h``) and their labels, batch by batch into arrays sized from the
    table's row count: the labels as codes into their distinct values (returned third), or, when
    they have many distinct values (or -0.0 next to 0.0, which distinct values merge), as a
    Series (and None)."""
    from workbench.summaries.tally import stream_batches

    total = int(frame.select(pl.len()).collect(engine="streaming").item())  # Parquet footers
    h = np.empty(total, dtype=np.uint64)
    codes = np.empty(total, dtype=np.uint16)
    distinct = frame.select("label").clear().collect().to_series()
    parts: list[pl.Series] | None = None  # the labels themselves, once codes will not do
    pos = 0
    for batch in stream_batches(frame):
        k = batch.height
        if pos + k > len(h):  # rows added since the count
            h = np.resize(h, pos + k)
            codes = np.resize(codes, pos + k)
        h[pos:pos + k] = batch.get_column("__h").to_numpy()
        label = batch.get_column("label")
        if parts is None:
            grown = pl.concat([distinct, label.unique(maintain_order=True)]).unique(maintain_order=True)
            if len(grown) >= _MAX_CODES or _negative_zero(label):
                parts = [distinct.gather(codes[:pos])] if pos else []
            else:
                distinct = grown  # (values already there keep their positions: codes stay valid)
                codes[pos:pos + k] = label.replace_strict(distinct, pl.Series(np.arange(len(distinct))),
                                                          return_dtype=pl.UInt16).to_numpy()
        if parts is not None:
            parts.append(label)
        pos += k
    h = h[:pos]
    if parts is not None:
        return h, pl.concat(parts, rechunk=True) if parts else distinct, None
    codes = codes[:pos]
    return h, codes.astype(np.uint8) if len(distinct) < 255 else codes, distinct


def _negative_zero(label: pl.Series) -> bool:
    if not label.dtype.is_float():
        return False
    x = label.to_numpy()
    return bool((np.signbit(x) & (x == 0)).any())


#: the hashes are sorted in this many slices of hash values (their top bits), so the sort's
#: scratch memory is that of one slice
_SLICES = 16


def _sorted(h: np.ndarray, payload):
    """``h`` sorted, with ``payload`` (a numpy array or a Series) in the same order."""
    out_h = np.empty_like(h)
    is_np = isinstance(payload, np.ndarray)
    out_p = np.empty_like(payload) if is_np else []
    top = (h >> np.uint64(60)).astype(np.uint8)  # 16 slices of the hash values, in order
    start = 0
    for s in range(_SLICES):
        rows = np.flatnonzero(top == s)
        part = h[rows]
        order = np.argsort(part)  # (ties: one id labelled twice, resolved below whatever their order)
        out_h[start:start + len(rows)] = part[order]
        if is_np:
            out_p[start:start + len(rows)] = payload[rows[order]]
        else:
            out_p.append(payload.gather(rows[order]))
        start += len(rows)
        del rows, part, order
    if not is_np:
        out_p = pl.concat(out_p, rechunk=True) if out_p else payload.clear()
    return out_h, out_p


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
