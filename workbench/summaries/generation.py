"""The one-pass summary of LLM calls (``task: generation`` lakes).

One streaming pass over predictions (joined to their delayed feedback) gives, per time bucket and
per combination of what an LLM call depends on (application release, route, provider, requested
and answering model, prompt template@version, retrieval-index version, router decision), mergeable
tallies: rows, sums and sums of squares of every measured quantity (tokens, cost, latency, time
to first token, and the per-row text signals the caller passes in), and counts of events (finish
reasons, policy actions, thumbs-down, escalations, refusals ...). Latency and time to first token
also get log-spaced histograms for their quantiles. Every detector of generation lakes works on
this summary; the text of a call is read once here and never kept.

Per-row text signals are computed by expressions the caller passes (``signals``): the summaries
layer only aggregates them (booleans become event counts, numbers sums), so it knows nothing of
what a refusal or a grounded answer is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import polars as pl

from workbench.exceptions import WorkbenchError
from workbench.lake.files import sanitize
from workbench.summaries.binning import latency_bin_expr

__all__ = ["GROUP_KEYS", "MEASURES", "EVENTS", "LLMSummary", "summarize_calls", "call_cost_expr"]

#: What an LLM call depends on: the summary's group keys (absent roles are null).
GROUP_KEYS: tuple[str, ...] = ("model_version", "route", "provider", "request_model", "response_model", "prompt",
                               "index_version", "router_decision")
#: Numeric roles summed per group (with sums of squares and non-null counts).
MEASURES: tuple[str, ...] = ("input_tokens", "output_tokens", "cost", "latency_ms", "time_to_first_token_ms")
#: Events counted per group: name -> (expression that is true for the event, expression that is
#: true when the event is known), built from the roles present.
EVENTS: tuple[str, ...] = ("finish:stop", "finish:length", "finish:content_filter", "finish:tool_calls",
                           "finish:other", "policy:blocked", "policy:rewritten", "feedback:negative",
                           "feedback:positive", "escalated")
_FINISH = ("stop", "length", "content_filter", "tool_calls")


def call_cost_expr(prices: pl.DataFrame | None, columns: Sequence[str]) -> pl.Expr | None:
    """Cost of each call: the logged ``cost`` when there is one, else input and output tokens
    priced by ``prices`` (lineage/prices.csv) in force at the call's time for its provider and
    model (the requested model's name, or the answering model's when only that is priced).

    A small ``when/then`` chain over the price rows, so the cost streams with the scan (no join)."""
    cols = set(columns)
    logged = pl.col("cost") if "cost" in cols else None
    priced = None
    if prices is not None and prices.height and {"input_tokens", "output_tokens", "provider"} <= cols:
        rows = prices.sort("valid_from").with_columns(
            pl.col("valid_from").shift(-1).over(["provider", "model"]).alias("until"))
        expr = None
        for r in rows.iter_rows(named=True):
            model = pl.lit(False)
            for m in ("request_model", "response_model"):
                if m in cols:
                    model = model | (pl.col(m) == r["model"])
            cond = (pl.col("provider") == r["provider"]) & model & (pl.col("timestamp") >= r["valid_from"])
            if r["until"] is not None:
                cond = cond & (pl.col("timestamp") < r["until"])
            value = (pl.col("input_tokens").cast(pl.Float64) * (r["input_per_1k"] / 1000.0)
                     + pl.col("output_tokens").cast(pl.Float64) * (r["output_per_1k"] / 1000.0))
            expr = pl.when(cond).then(value) if expr is None else expr.when(cond).then(value)
        priced = expr.otherwise(None) if expr is not None else None
    if logged is not None and priced is not None:
        return pl.coalesce(logged, priced).alias("cost")
    if logged is not None:
        return logged.alias("cost")
    return None if priced is None else priced.alias("cost")


def _keys(columns: set[str]) -> list[pl.Expr]:
    out = []
    for k in GROUP_KEYS:
        if k == "prompt":
            if "prompt_version" in columns:
                tpl = pl.col("prompt_template") if "prompt_template" in columns else pl.lit("prompt")
                out.append(pl.when(pl.col("prompt_version").is_not_null())
                           .then(pl.format("{}@{}", tpl.fill_null("prompt"), pl.col("prompt_version")))
                           .alias("prompt"))
            else:
                out.append(pl.lit(None, dtype=pl.String).alias("prompt"))
        elif k in columns:
            out.append(pl.col(k).cast(pl.String))
        else:
            out.append(pl.lit(None, dtype=pl.String).alias(k))
    return out


def _event_exprs(columns: set[str]) -> dict[str, tuple[pl.Expr, pl.Expr]]:
    out: dict[str, tuple[pl.Expr, pl.Expr]] = {}
    if "finish_reason" in columns:
        fr = pl.col("finish_reason").str.to_lowercase().str.strip_chars()
        known = fr.is_not_null() & (fr != "")
        for f in _FINISH:
            out[f"finish:{f}"] = (fr == f, known)
        out["finish:other"] = (~fr.is_in(list(_FINISH)), known)
    if "policy_action" in columns:
        pa = pl.col("policy_action").str.to_lowercase().str.strip_chars()
        known = pa.is_not_null() & (pa != "")
        out["policy:blocked"] = (pa == "blocked", known)
        out["policy:rewritten"] = (pa == "rewritten", known)
    if "feedback" in columns:
        fb = pl.col("feedback")
        known = fb.is_not_null() & fb.is_finite()
        out["feedback:negative"] = (fb < 0, known)
        out["feedback:positive"] = (fb > 0, known)
    if "escalated" in columns:
        out["escalated"] = (pl.col("escalated"), pl.col("escalated").is_not_null())
    return out


@dataclass(frozen=True)
class LLMSummary:
    """Tallies of LLM calls per time bucket and per :data:`GROUP_KEYS` combination.

    Attributes
    ----------
    frame : DataFrame
        One row per bucket x group: ``calls``; ``<m>:n``, ``<m>:sum``, ``<m>:sumsq`` for every
        measure and numeric signal; ``<e>:n`` (rows where the event is known) and ``<e>:k`` (rows
        where it happened) for every event and boolean signal.
    latency : DataFrame
        bucket x group x ``metric`` (latency_ms or time_to_first_token_ms) x ``bin`` -> ``rows``
        (log-spaced bins of :func:`workbench.summaries.binning.latency_bin_expr`).
    measures, events : tuple of str
        The numeric quantities and the events tallied (those the lake's columns allow).
    """

    frame: pl.DataFrame
    latency: pl.DataFrame
    measures: tuple[str, ...]
    events: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    bucket: str = "1h"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return int(self.frame["calls"].sum()) if self.frame.height else 0

    def where(self, predicate: pl.Expr) -> "LLMSummary":
        """The summary restricted to the buckets/groups matching ``predicate`` (on bucket and keys)."""
        return replace(self, frame=self.frame.filter(predicate), latency=self.latency.filter(predicate))

    def totals(self, by: Sequence[str] = ()) -> pl.DataFrame:
        """Tallies summed over everything but ``by`` (bucket and/or group keys)."""
        sums = [c for c in self.frame.columns if c not in ("bucket", *GROUP_KEYS)]
        if not by:
            return self.frame.select(pl.col(sums).sum())
        return self.frame.group_by(list(by)).agg(pl.col(sums).sum()).sort(list(by), nulls_last=True)

    def latency_counts(self, metric: str = "latency_ms", by: Sequence[str] = ()) -> pl.DataFrame:
        """Histogram rows of ``metric`` summed over everything but ``by`` (and ``bin``)."""
        lat = self.latency.filter(pl.col("metric") == metric)
        return lat.group_by([*by, "bin"]).agg(pl.col("rows").sum()).sort([*by, "bin"])

    def values(self, key: str) -> list[str]:
        """Distinct values of a group key, by calls, most first."""
        t = self.totals((key,)).filter(pl.col(key).is_not_null()).sort("calls", descending=True)
        return t[key].to_list()


def summarize_calls(frame: pl.LazyFrame, *, start: dt.datetime, end: dt.datetime, bucket: str = "1h",
                    signals: Sequence[pl.Expr] = (), prices: pl.DataFrame | None = None,
                    what: str = "predictions") -> LLMSummary:
    """Summarise the LLM calls of ``frame`` in ``[start, end)`` (one streaming pass).

    Parameters
    ----------
    frame : LazyFrame
        Normalised predictions of a generation lake (canonical role names), with the feedback
        columns when known (``lake.predictions(with_labels=True)``).
    signals : sequence of Expr
        Per-row expressions computed from the call's columns (e.g. a refusal flag, a
        groundedness share); Boolean ones are tallied as events, numeric ones as measures.
    prices : DataFrame, optional
        ``lake.lineage.prices``, to cost calls that carry no ``cost``.
    """
    schema = frame.collect_schema()
    columns = set(schema)
    lf = frame.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
    cost = call_cost_expr(prices, list(columns))
    if cost is not None:
        lf = lf.with_columns(cost)
        columns.add("cost")
    sig_names = [s.meta.output_name() for s in signals]
    if signals:
        lf = lf.with_columns(*signals)
    keyed = lf.with_columns(pl.col("timestamp").dt.truncate(bucket).alias("bucket"), *_keys(columns))
    sig_schema = keyed.select(sig_names).collect_schema() if sig_names else {}
    measures = [m for m in MEASURES if m in columns] + [s for s in sig_names if sig_schema[s] != pl.Boolean]
    events = _event_exprs(columns)
    for s in sig_names:
        if sig_schema[s] == pl.Boolean:
            events[s] = (pl.col(s), pl.col(s).is_not_null())
    aggs: list[pl.Expr] = [pl.len().cast(pl.Int64).alias("calls")]
    for m in measures:
        x = pl.col(m).cast(pl.Float64)
        ok = x.is_not_null() & x.is_finite()
        aggs += [ok.sum().cast(pl.Int64).alias(f"{m}:n"), x.filter(ok).sum().alias(f"{m}:sum"),
                 (x * x).filter(ok).sum().alias(f"{m}:sumsq")]
    for e, (hit, known) in events.items():
        aggs += [known.fill_null(False).sum().cast(pl.Int64).alias(f"{e}:n"),
                 (hit & known).fill_null(False).sum().cast(pl.Int64).alias(f"{e}:k")]
    keys = ["bucket", *GROUP_KEYS]
    lat_parts = [keyed.select(*keys, pl.lit(m).alias("metric"), latency_bin_expr(m).alias("bin"))
                 for m in ("latency_ms", "time_to_first_token_ms") if m in columns]
    queries = [keyed.group_by(keys).agg(aggs)]
    if lat_parts:
        lat = pl.concat(lat_parts).filter(pl.col("bin").is_not_null())
        queries.append(lat.group_by([*keys, "metric", "bin"]).agg(pl.len().cast(pl.Int64).alias("rows")))
    try:
        out = pl.collect_all(queries, engine="streaming")
    except WorkbenchError:
        raise
    except Exception as exc:  # a corrupt file shows up here, deep in the scan
        msg = f"cannot summarise the LLM calls in {what}"
        raise WorkbenchError(msg, file=what, found=type(exc).__name__ + ": " + sanitize(str(exc)),
                             hint="run workbench validate on the lake to find the file.") from None
    main = out[0].sort(keys, nulls_last=True)
    lat_df = out[1] if lat_parts else pl.DataFrame(
        schema={**{k: main.schema[k] for k in keys}, "metric": pl.String, "bin": pl.Int32, "rows": pl.Int64})
    return LLMSummary(frame=main, latency=lat_df.sort([*keys, "metric", "bin"], nulls_last=True),
                      measures=tuple(measures), events=tuple(events), start=start, end=end, bucket=bucket,
                      meta={"signals": sig_names, "priced": cost is not None and "cost" not in schema})
