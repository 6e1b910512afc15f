"""The frames the LLM charts, the Explorer and the LLM templates draw, computed from an
:class:`~workbench.summaries.generation.LLMSummary` (one pass over the calls) or, for sampled
calls, from a bounded read of the lake.

Nothing here draws (:mod:`workbench.charts.llm` does) and nothing here shows raw text: a sampled
call's prompt and response are short excerpts with personal data redacted.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np
import polars as pl

from workbench.evidence.llm_compare import PROXIES, proxy_value
from workbench.evidence.llm_text import excerpt  # the one excerpt function: redacted, at most 120 chars
from workbench.evidence.stats import Z95
from workbench.summaries.binning import latency_bin_mid
from workbench.summaries.generation import GROUP_KEYS, LLMSummary

__all__ = ["EVENT_KINDS", "SPLIT_KEYS", "available_proxies", "call_lineage", "culprit_key", "excerpt",
           "finish_mix_frame", "index_builds", "llm_events", "proxy_frame", "proxy_frame_auto", "sampled_calls",
           "split_keys",
           "usage_frame"]

_PROXY = {p.name: p for p in PROXIES}
#: the keys proxies can be split by, in the order offered
SPLIT_KEYS: tuple[str, ...] = ("prompt", "response_model", "index_version", "model_version", "router_decision",
                               "request_model", "provider", "route")
#: lineage kinds drawn as markers on LLM charts
EVENT_KINDS: tuple[str, ...] = ("rollout", "prompt_version", "index_build", "dependency_change")
#: a bucket of a group is drawn when it has at least this many calls (fewer give intervals that say nothing)
MIN_CALLS = 20
OTHER = "(other)"
NONE = "(none)"


def available_proxies(summary: LLMSummary) -> list[str]:
    """The proxies the summary can measure (their tally is present and known on some call)."""
    cols = set(summary.frame.columns)
    out = []
    for p in PROXIES:
        n = f"{p.tally}:n"
        if n in cols and summary.frame[n].sum() > 0:
            out.append(p.name)
    return out


def split_keys(summary: LLMSummary) -> list[str]:
    """The group keys that take a value on some call, in :data:`SPLIT_KEYS` order."""
    return [k for k in SPLIT_KEYS if k in summary.frame.columns and summary.frame[k].drop_nulls().len() > 0]


def culprit_key(subject: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """The summary key a finding's subject names and its culprit value (None when the value is not
    one of the key's: a provider snapshot is named by its provider:model, not the snapshot)."""
    if subject.get("prompt"):
        return "prompt", str(subject["prompt"])
    if subject.get("index"):
        return "index_version", str(subject["index"]).split("@")[-1]
    dep = str(subject.get("dependency") or "")
    if ":" in dep:
        return "response_model", None
    if subject.get("route"):
        return "router_decision", str(subject["route"])
    if dep:
        return "request_model", dep
    if subject.get("model_version"):
        return "model_version", str(subject["model_version"])
    return None


def _top_values(summary: LLMSummary, key: str, top: int, keep: Sequence[str] = ()) -> list[str]:
    vals = summary.values(key)
    chosen = vals[:top]
    chosen += [v for v in keep if v in vals and v not in chosen]
    return chosen


def _grouped(summary: LLMSummary, key: str, top: int, keep: Sequence[str]) -> pl.DataFrame:
    """Tallies per bucket and value of ``key``: the ``top`` values by calls (plus ``keep``), the rest
    as "(other)", calls with no value as "(none)"."""
    chosen = _top_values(summary, key, top, keep)
    group = (pl.when(pl.col(key).is_null()).then(pl.lit(NONE))
             .when(pl.col(key).is_in(chosen)).then(pl.col(key)).otherwise(pl.lit(OTHER)).alias("group"))
    sums = [c for c in summary.frame.columns if c not in ("bucket", *GROUP_KEYS)]
    return (summary.frame.with_columns(group).group_by("bucket", "group").agg(pl.col(sums).sum())
            .sort("bucket", "group"))


def proxy_frame(summary: LLMSummary, proxy: str, key: str | None = None, *, top: int = 6,
                keep: Sequence[str] = (), min_calls: int = MIN_CALLS, every: str | None = None) -> pl.DataFrame:
    """A proxy per bucket (or per ``every``, e.g. "6h", for a proxy measured on a sample of calls)
    and value of ``key`` with a 95 % interval.

    Returns ``bucket, group, estimate, low, high, n`` (``group`` is "all" without a key). Rates get
    a Wilson interval; means a normal one from the sums of squares. Buckets of a group with fewer
    than ``min_calls`` calls carrying the proxy are left out.
    """
    p = _PROXY[proxy]
    if every:
        summary = replace(summary, frame=summary.frame.with_columns(pl.col("bucket").dt.truncate(every)))
    if key is None:
        sums = [c for c in summary.frame.columns if c not in ("bucket", *GROUP_KEYS)]
        t = summary.frame.group_by("bucket").agg(pl.col(sums).sum()).with_columns(pl.lit("all").alias("group"))
    else:
        t = _grouped(summary, key, top, keep)
    rows = []
    for r in t.sort("bucket", "group").iter_rows(named=True):
        v, n = proxy_value(r, proxy)
        if v is None or n < min_calls:
            continue
        if p.kind == "rate":
            lo, hi = _wilson(v, n)
        else:
            var = max(float(r.get(f"{p.tally}:sumsq") or 0.0) / n - v * v, 0.0) * n / max(n - 1, 1)
            half = Z95 * math.sqrt(var / n)
            lo, hi = v - half, v + half
        rows.append({"bucket": r["bucket"], "group": r["group"], "estimate": v, "low": lo, "high": hi, "n": n})
    schema = {"bucket": summary.frame.schema.get("bucket", pl.Datetime("us", "UTC")), "group": pl.String,
              "estimate": pl.Float64, "low": pl.Float64, "high": pl.Float64, "n": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def proxy_frame_auto(summary: LLMSummary, proxy: str, key: str | None = None, **kw) -> pl.DataFrame:
    """:func:`proxy_frame` per hour, or per 6 hours when fewer than half the hours with calls
    would have enough calls carrying the proxy (groundedness is measured on a sample of calls)."""
    hourly = proxy_frame(summary, proxy, key, **kw)
    hours = summary.frame.filter(pl.col("calls") > 0)["bucket"].n_unique()
    if hourly["bucket"].n_unique() >= hours / 2:
        return hourly
    return proxy_frame(summary, proxy, key, every="6h", **kw)


def _wilson(p: float, n: int) -> tuple[float, float]:
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def finish_mix_frame(summary: LLMSummary) -> pl.DataFrame:
    """Per bucket and finish reason: ``bucket, finish_reason, share, calls, rank`` (empty when the
    lake logs no finish reason)."""
    reasons = [e.split(":", 1)[1] for e in summary.events if e.startswith("finish:")]
    if not reasons:
        return pl.DataFrame(schema={"bucket": pl.Datetime("us", "UTC"), "finish_reason": pl.String,
                                    "share": pl.Float64, "calls": pl.Int64, "rank": pl.Int64})
    t = summary.frame.group_by("bucket").agg(pl.col([f"finish:{r}:k" for r in reasons] + ["finish:stop:n"]).sum())
    long = t.unpivot(index=["bucket", "finish:stop:n"], on=[f"finish:{r}:k" for r in reasons],
                     variable_name="finish_reason", value_name="calls")
    order = {r: i for i, r in enumerate(("stop", "length", "content_filter", "tool_calls", "other"))}
    return (long.filter(pl.col("finish:stop:n") > 0)
            .with_columns(pl.col("finish_reason").str.slice(len("finish:")).str.strip_suffix(":k"),
                          (pl.col("calls") / pl.col("finish:stop:n")).alias("share"))
            .with_columns(pl.col("finish_reason").replace_strict(order, default=9).cast(pl.Int64).alias("rank"))
            .select("bucket", "finish_reason", "share", pl.col("calls").cast(pl.Int64), "rank")
            .sort("bucket", "rank"))


#: usage panels: label -> (measure, how): "mean" of a measure, "per1k" (mean x 1000) or "p95" of a latency
USAGE: tuple[tuple[str, str, str], ...] = (
    ("input tokens per call", "input_tokens", "mean"),
    ("output tokens per call", "output_tokens", "mean"),
    ("cost per 1k calls (USD)", "cost", "per1k"),
    ("latency p95 (ms)", "latency_ms", "p95"),
    ("time to first token p95 (ms)", "time_to_first_token_ms", "p95"),
)


def usage_frame(summary: LLMSummary, key: str | None = None, *, top: int = 6, keep: Sequence[str] = (),
                min_calls: int = MIN_CALLS) -> pl.DataFrame:
    """Tokens, cost and latency per bucket by a key: ``bucket, group, measure, value, n`` (the
    measures :data:`USAGE` lists that the lake logs; latencies as p95 of the summary's histogram)."""
    rows: list[dict[str, Any]] = []
    chosen = _top_values(summary, key, top, keep) if key else []

    def label(col: str) -> pl.Expr:
        if key is None:
            return pl.lit("all").alias("group")
        return (pl.when(pl.col(col).is_null()).then(pl.lit(NONE)).when(pl.col(col).is_in(chosen))
                .then(pl.col(col)).otherwise(pl.lit(OTHER)).alias("group"))

    t = summary.frame.with_columns(label(key or "bucket"))
    sums = [c for c in summary.frame.columns if c not in ("bucket", *GROUP_KEYS)]
    t = t.group_by("bucket", "group").agg(pl.col(sums).sum()).sort("bucket", "group")
    for name, measure, how in USAGE:
        if how == "p95":
            lat = summary.latency.filter(pl.col("metric") == measure)
            if lat.is_empty():
                continue
            lat = lat.with_columns(label(key or "bucket")).group_by("bucket", "group", "bin").agg(pl.col("rows").sum())
            for (bucket, group), g in lat.sort("bin").group_by(["bucket", "group"], maintain_order=True):
                n = int(g["rows"].sum())
                if n < min_calls:
                    continue
                cum = np.cumsum(g["rows"].to_numpy())
                i = int(np.searchsorted(cum, max(1, math.ceil(0.95 * n))))
                rows.append({"bucket": bucket, "group": group, "measure": name,
                             "value": float(latency_bin_mid(np.array([g["bin"][i]]))[0]), "n": n})
            continue
        if f"{measure}:n" not in t.columns:
            continue
        for r in t.iter_rows(named=True):
            n = int(r[f"{measure}:n"] or 0)
            if n < min_calls:
                continue
            v = float(r[f"{measure}:sum"] or 0.0) / n
            rows.append({"bucket": r["bucket"], "group": r["group"], "measure": name,
                         "value": v * 1000 if how == "per1k" else v, "n": n})
    schema = {"bucket": summary.frame.schema.get("bucket", pl.Datetime("us", "UTC")), "group": pl.String,
              "measure": pl.String, "value": pl.Float64, "n": pl.Int64}
    order = {u[0]: i for i, u in enumerate(USAGE)}
    out = pl.DataFrame(rows, schema=schema)
    return out.sort(pl.col("measure").replace_strict(order, default=99), "bucket", "group")


def llm_events(lake, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Lineage events an LLM application's calls depend on between ``start`` and ``end``: releases,
    prompt versions, index builds and dependency (provider model) changes (``at, kind, subject``)."""
    t = lake.timeline(start, end)
    if t.is_empty():
        return pl.DataFrame(schema={"at": pl.Datetime("us", "UTC"), "kind": pl.String, "subject": pl.String})
    return (t.filter(pl.col("kind").is_in(list(EVENT_KINDS)))
            .select("at", "kind", pl.col("subject").fill_null("")).sort("at"))


def index_builds(lake) -> pl.DataFrame:
    """The retrieval-index builds of lineage/indexes.csv, oldest first (empty without one)."""
    ix = lake.lineage.indexes
    return ix.sort("built_at") if ix.height else ix


#: the columns of a sampled call: when, who, what it depended on, what it did
_CALL_COLUMNS = ("request_id", "timestamp", "conversation_id", "model_version", "route", "provider", "request_model",
                 "response_model", "prompt_template", "prompt_version", "index_version", "router_decision",
                 "finish_reason", "input_tokens", "output_tokens", "cost", "latency_ms", "policy_action")


def sampled_calls(lake, start: dt.datetime, end: dt.datetime, *, n: int = 20,
                  where: Mapping[str, str] | None = None, seed: int = 0) -> pl.DataFrame:
    """Up to ``n`` calls of ``[start, end)`` chosen by a hash of their request id (the same calls on
    every run), in time order, with their lineage and redacted excerpts (≤ 120 characters) of the
    prompt and the response; never the raw text.

    ``where`` filters on group keys (``prompt`` is "template@version"; the others are columns).
    """
    from workbench.lake.sampling import stable_sample

    schema = lake.predictions().collect_schema().names()
    text = [c for c in ("prompt_text", "response_text") if c in schema]
    cols = [c for c in _CALL_COLUMNS if c in schema]
    lf = lake.predictions([*cols, *text]).filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
    for k, v in (where or {}).items():
        if k == "prompt" and "prompt_version" in schema:
            tpl, _, ver = str(v).rpartition("@")
            lf = lf.filter(pl.col("prompt_version").cast(pl.String) == ver)
            if tpl and "prompt_template" in schema:
                lf = lf.filter(pl.col("prompt_template") == tpl)
        elif k in schema:
            lf = lf.filter(pl.col(k).cast(pl.String) == str(v))
    df = stable_sample(lf, n, seed=seed)
    if "prompt_version" in df.columns:
        tpl = pl.col("prompt_template") if "prompt_template" in df.columns else pl.lit("prompt")
        df = df.with_columns(pl.when(pl.col("prompt_version").is_not_null())
                             .then(pl.format("{}@{}", tpl.fill_null("prompt"), pl.col("prompt_version")))
                             .alias("prompt")).drop([c for c in ("prompt_template", "prompt_version")
                                                     if c in df.columns])
    for c, name in (("prompt_text", "prompt_excerpt"), ("response_text", "response_excerpt")):
        if c in df.columns:
            df = df.with_columns(pl.Series(name, [excerpt(t) for t in df[c].to_list()], dtype=pl.String)).drop(c)
    first = [c for c in ("timestamp", "request_id", "prompt", "index_version", "response_model", "prompt_excerpt",
                         "response_excerpt", "finish_reason") if c in df.columns]
    return df.select(*first, *[c for c in df.columns if c not in first]).sort("timestamp", "request_id")


def call_lineage(lake, call: Mapping[str, Any]) -> pl.DataFrame:
    """What one sampled call depended on, with the lineage row of each when there is one:
    ``what, value, since, detail`` (the prompt version's change, the index build, the release's
    rollout, the provider model the answer came from)."""
    rows = []
    at = call.get("timestamp")
    prompt = call.get("prompt")
    if prompt:
        tpl, _, ver = str(prompt).rpartition("@")
        p = lake.lineage.prompts
        m = p.filter((pl.col("prompt_template") == tpl) & (pl.col("version").cast(pl.String) == ver)) if p.height \
            else p
        r = m.row(0, named=True) if m.height else {}
        rows.append({"what": "prompt version", "value": prompt, "since": r.get("changed_at"),
                     "detail": f"author {r.get('author')}, text sha256 {str(r.get('text_sha256') or '')[:12]}"
                     if r else "no row in lineage/prompts.csv"})
    ix = call.get("index_version")
    if ix:
        b = lake.lineage.indexes
        m = b.filter(pl.col("version").cast(pl.String) == str(ix)) if b.height else b
        r = m.row(0, named=True) if m.height else {}
        rows.append({"what": "index build", "value": f"{r['index']}@{ix}" if r else str(ix), "since": r.get("built_at"),
                     "detail": f"{r.get('documents')} documents from {r.get('source_dataset')}" if r
                     else "no row in lineage/indexes.csv"})
    if call.get("model_version"):
        since = None
        d = lake.lineage.deployments
        if d.height and at is not None:
            m = d.filter((pl.col("model_version") == call["model_version"]) & (pl.col("deployed_at") <= at))
            since = m["deployed_at"].max() if m.height else None
        rows.append({"what": "release", "value": call["model_version"], "since": since, "detail": ""})
    if call.get("response_model") or call.get("request_model"):
        req, resp = call.get("request_model"), call.get("response_model")
        detail = "answered by the model requested" if req == resp or not req else f"requested {req}"
        rows.append({"what": "provider model", "value": f"{call.get('provider') or '?'}:{resp or req}", "since": None,
                     "detail": detail})
    return pl.DataFrame(rows, schema={"what": pl.String, "value": pl.String, "since": pl.Datetime("us", "UTC"),
                                      "detail": pl.String})
