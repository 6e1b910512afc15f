"""What the quality and cost proxies of LLM calls are, and how two sets of calls compare on them.

A *proxy* is a number an LLM application's health shows in without a judge: thumbs-down and
escalation rates, refusals, truncations, content-filter stops, blocked answers, groundedness of
answers in their retrieved context, unsupported citations, empty retrievals, retrieval scores,
tokens, cost and latency per call. :data:`PROXIES` says for each which tally of an
:class:`~workbench.summaries.generation.LLMSummary` it reads, whether it is a rate or a mean,
which direction is worse, and its family (quality, safety, retrieval, cost, latency, behaviour).

:func:`compare_proxies` compares two sets of calls (summed tallies) on every proxy the data
allows: the difference with a 95 % interval, a two-sided p-value (two-proportion z-test for
rates, Welch's test for means, both from the sums alone) and a standardised effect size
(Cohen's h for rates, Cohen's d for means) so that big samples do not make a trivial change look
important. :func:`proxy_series` gives a proxy per bucket for onset detection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import polars as pl

from workbench.evidence._scipy import stats
from workbench.evidence.onset import OnsetResult, detect_onset
from workbench.evidence.stats import Z95, two_proportion
from workbench.summaries.generation import LLMSummary

__all__ = ["FINISH_REASONS", "Proxy", "PROXIES", "ProxyChange", "compare_proxies", "finish_mix", "proxy_series",
           "proxy_onset", "proxy_value", "share_change"]


@dataclass(frozen=True)
class Proxy:
    """One proxy: ``kind`` "rate" reads ``<tally>:k`` / ``<tally>:n``; "mean" reads
    ``<tally>:sum`` / ``<tally>:n``. ``worse`` is +1 when a rise is worse, -1 when a fall is.
    ``lo``/``hi``: the standardised effect below which a change is noise and above which it is
    unmistakable (Cohen's h or d)."""

    name: str
    tally: str
    kind: str
    worse: int
    family: str
    label: str
    unit: str = ""
    lo: float = 0.08
    hi: float = 0.30


PROXIES: tuple[Proxy, ...] = (
    Proxy("thumbs_down_rate", "feedback:negative", "rate", +1, "quality", "thumbs-down rate (of calls with feedback)"),
    Proxy("escalation_rate", "escalated", "rate", +1, "quality", "escalation rate"),
    Proxy("grounded_share", "grounded_share", "mean", -1, "quality", "groundedness (share of answer words in context)"),
    Proxy("unsupported_citations", "unsupported_citations", "mean", +1, "quality",
          "citations of documents not retrieved, per call"),
    Proxy("citations", "citations", "mean", -1, "quality", "citations per call"),
    Proxy("truncation_rate", "finish:length", "rate", +1, "quality", "truncated answers (finish_reason length)"),
    Proxy("refusal_rate", "refusal", "rate", +1, "safety", "refusals"),
    Proxy("content_filter_rate", "finish:content_filter", "rate", +1, "safety", "content-filter stops"),
    Proxy("blocked_rate", "policy:blocked", "rate", +1, "safety", "answers blocked by the policy gate"),
    Proxy("rewritten_rate", "policy:rewritten", "rate", +1, "safety", "answers rewritten by the policy gate"),
    Proxy("empty_retrieval_rate", "empty_retrieval", "rate", +1, "retrieval", "calls with no document retrieved"),
    Proxy("top_retrieval_score", "top_retrieval_score", "mean", -1, "retrieval", "best retrieval score"),
    Proxy("input_tokens", "input_tokens", "mean", +1, "cost", "input tokens per call", "tokens"),
    Proxy("output_tokens", "output_tokens", "mean", +1, "cost", "output tokens per call", "tokens"),
    Proxy("cost_per_call", "cost", "mean", +1, "cost", "cost per call", "USD"),
    Proxy("latency_ms", "latency_ms", "mean", +1, "latency", "latency", "ms"),
    Proxy("ttft_ms", "time_to_first_token_ms", "mean", +1, "latency", "time to first token", "ms"),
    Proxy("response_chars", "response_chars", "mean", +1, "behaviour", "answer length", "chars"),
    Proxy("output_input_ratio", "output_input_ratio", "mean", +1, "behaviour", "output/input token ratio"),
)
#: The finish reasons whose mix :func:`finish_mix` compares.
FINISH_REASONS = ("stop", "length", "content_filter", "tool_calls", "other")
_BY_NAME = {p.name: p for p in PROXIES}


@dataclass(frozen=True)
class ProxyChange:
    """One proxy in calls ``a`` (reference) and ``b``: values, difference ``b - a`` with a 95 %
    interval, p-value, effect size (signed so that > 0 is worse) and the calls each rests on."""

    proxy: str
    a: float | None
    b: float | None
    difference: float | None
    interval: tuple[float, float] | None
    p_value: float
    effect: float
    n_a: int
    n_b: int

    @property
    def spec(self) -> Proxy:
        return _BY_NAME[self.proxy]

    @property
    def worse(self) -> float:
        """The effect when it is a change for the worse, else 0."""
        return max(self.effect, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"proxy": self.proxy, "a": self.a, "b": self.b, "difference": self.difference,
                "interval": list(self.interval) if self.interval else None, "p_value": self.p_value,
                "effect": self.effect, "n_a": self.n_a, "n_b": self.n_b}

    def describe(self) -> str:
        p = self.spec
        fmt = (lambda v: f"{v:.1%}") if p.kind == "rate" else (lambda v: f"{v:,.3g}{' ' + p.unit if p.unit else ''}")
        return (f"{p.label}: {fmt(self.a)} -> {fmt(self.b)} (n={self.n_a:,} vs {self.n_b:,}, "
                f"p={self.p_value:.2g}, effect {self.effect:+.2f})")


def _get(row: Mapping[str, Any], key: str) -> float:
    v = row.get(key)
    return 0.0 if v is None else float(v)


def proxy_value(row: Mapping[str, Any], proxy: str) -> tuple[float | None, int]:
    """The proxy's value in summed tallies ``row`` and the rows it rests on."""
    p = _BY_NAME[proxy]
    n = int(_get(row, f"{p.tally}:n"))
    if n == 0:
        return None, 0
    top = _get(row, f"{p.tally}:k" if p.kind == "rate" else f"{p.tally}:sum")
    return top / n, n


def _compare(p: Proxy, a: Mapping[str, Any], b: Mapping[str, Any], min_n: int) -> ProxyChange | None:
    va, na = proxy_value(a, p.name)
    vb, nb = proxy_value(b, p.name)
    if va is None or vb is None or na < min_n or nb < min_n:
        return None
    if p.kind == "rate":
        diff, pv = two_proportion(va * na, na, vb * nb, nb)
        se = math.sqrt(va * (1 - va) / na + vb * (1 - vb) / nb)
        effect = 2 * math.asin(math.sqrt(min(max(vb, 0), 1))) - 2 * math.asin(math.sqrt(min(max(va, 0), 1)))
    else:
        ssa, ssb = _get(a, f"{p.tally}:sumsq"), _get(b, f"{p.tally}:sumsq")
        vara = max(ssa / na - va * va, 0.0) * na / max(na - 1, 1)
        varb = max(ssb / nb - vb * vb, 0.0) * nb / max(nb - 1, 1)
        diff = vb - va
        se = math.sqrt(vara / na + varb / nb)
        if se > 0:
            t = diff / se
            df = se ** 4 / ((vara / na) ** 2 / max(na - 1, 1) + (varb / nb) ** 2 / max(nb - 1, 1) or 1e-300)
            pv = float(2 * stats.t.sf(abs(t), df))
        else:
            pv = 1.0 if diff == 0 else 0.0
        pooled = math.sqrt((vara + varb) / 2)
        effect = diff / pooled if pooled > 0 else (0.0 if diff == 0 else math.copysign(10.0, diff))
    ci = (diff - Z95 * se, diff + Z95 * se)
    return ProxyChange(p.name, va, vb, diff, ci, pv, float(effect * p.worse), na, nb)


def compare_proxies(a: Mapping[str, Any], b: Mapping[str, Any], *, min_n: int = 30,
                    proxies: tuple[str, ...] | None = None) -> dict[str, ProxyChange]:
    """Every proxy both sets of calls carry, ``b`` against ``a`` (summed tallies, e.g. one row of
    :meth:`LLMSummary.totals`). Proxies resting on fewer than ``min_n`` calls on a side are left out."""
    out = {}
    for p in PROXIES:
        if proxies is not None and p.name not in proxies:
            continue
        c = _compare(p, a, b, min_n)
        if c is not None:
            out[p.name] = c
    return out


def proxy_series(summary: LLMSummary, proxy: str, where: pl.Expr | None = None) -> pl.DataFrame:
    """Per bucket: ``bucket``, ``n`` and ``events`` (rates) or ``sums``/``sumsq`` (means)."""
    p = _BY_NAME[proxy]
    s = summary if where is None else summary.where(where)
    cols = [c for c in (f"{p.tally}:n", f"{p.tally}:k", f"{p.tally}:sum", f"{p.tally}:sumsq") if c in s.frame.columns]
    if f"{p.tally}:n" not in cols:
        return pl.DataFrame(schema={"bucket": s.frame.schema.get("bucket", pl.Datetime("us", "UTC")), "n": pl.Int64})
    t = s.frame.group_by("bucket").agg(pl.col(cols).sum()).sort("bucket")
    return t.rename({c: c.split(":")[-1] for c in cols})


def proxy_onset(summary: LLMSummary, proxy: str, where: pl.Expr | None = None) -> OnsetResult | None:
    """The change point of a proxy's per-bucket series (a step), or None without data."""
    p = _BY_NAME[proxy]
    t = proxy_series(summary, proxy, where)
    if "sum" not in t.columns and "k" not in t.columns:
        return None
    t = t.filter(pl.col("n") > 0)
    if t.height < 5:
        return None
    times = t["bucket"].to_list()
    if p.kind == "rate":
        return detect_onset(times, n=t["n"].to_numpy(), events=t["k"].to_numpy())
    return detect_onset(times, n=t["n"].to_numpy(), sums=t["sum"].to_numpy(), sumsq=t["sumsq"].to_numpy())


def finish_mix(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[float, float, int] | None:
    """Chi-square test of the finish-reason mix of two sets of calls (summed tallies):
    ``(statistic, p_value, dof)``, or None when a side has no known finish reason."""
    from workbench.evidence.stats import chi2_counts

    ca = [_get(a, f"finish:{r}:k") for r in FINISH_REASONS]
    cb = [_get(b, f"finish:{r}:k") for r in FINISH_REASONS]
    if sum(ca) == 0 or sum(cb) == 0:
        return None
    return chi2_counts(ca, cb)


def share_change(summary_a: pl.DataFrame, summary_b: pl.DataFrame, key: str) -> dict[str, dict[str, float]]:
    """Share of calls per value of ``key`` in two totals tables (``totals((key,))``)."""
    out: dict[str, dict[str, float]] = {}
    na, nb = float(summary_a["calls"].sum() or 0), float(summary_b["calls"].sum() or 0)
    for side, t, n in (("a", summary_a, na), ("b", summary_b, nb)):
        for r in t.iter_rows(named=True):
            if r[key] is None or n == 0:
                continue
            out.setdefault(r[key], {"a": 0.0, "b": 0.0})[side] = r["calls"] / n
    return out


