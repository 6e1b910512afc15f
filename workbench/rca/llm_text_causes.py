"""Causes of generation lakes read from the calls' text: ``pii_leak`` (personal data in answers
that the user's own prompt did not carry) and ``data_drift`` as a shift of query topics (clusters
of the window's prompts the baseline lacks). Both read a bounded, deterministic sample of rows
(:func:`~workbench.evidence.llm_rows.leaked_pii`, :func:`~workbench.evidence.llm_topics.new_topics`);
the onset comes from one cheap hourly pass of the pattern (or the topic's top terms) over all
calls of baseline and window.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

from workbench.evidence import stats as st
from workbench.evidence.onset import detect_onset
from workbench.evidence.pii import PII_PATTERNS
from workbench.evidence.strength import ramp
from workbench.exceptions import InsufficientDataError
from workbench.summaries import window
from workbench.rca.finding import Evidence, Finding, subject
from workbench.rca.hypothesis import Hypothesis

__all__ = ["LLMPIILeak", "TopicShift", "LLMTextThresholds"]

_WORDS = {"email": "e-mail addresses", "phone": "phone numbers", "card": "card numbers (Luhn-valid)",
          "iban": "IBANs (checksum-valid)", "ipv4": "IPv4 addresses", "ipv6": "IPv6 addresses",
          "national_id": "national-id-like numbers"}


@dataclass(frozen=True)
class LLMTextThresholds:
    """Choices of the text causes of generation lakes (see docs/genai.md)."""

    #: a leak is new when its share of answers rose significantly and at least this many times
    rise: float = 3.0
    alpha: float = 0.001
    leak_score: float = 0.97
    #: new-topic strength: the window share of flagged topics, from 3 % (noise) to 12 % (a shift)
    topic_lo: float = 0.03
    topic_hi: float = 0.12
    topic_score: float = 0.9
    #: sampled prompts per side
    max_rows: int = 5_000


LLM_TEXT_THRESHOLDS = LLMTextThresholds()


def _hourly(ctx, column: str, pattern: str, *, lower: bool = False, unless: str | None = None) -> pl.DataFrame:
    """Calls per hour of baseline and window (``n``) and those whose ``column`` matches
    ``pattern`` (lower-cased first with ``lower``) while ``unless`` does not (``k``): the onset's
    one pass over every call (on Spark where the rows are)."""
    lo, hi = min(ctx.baseline_start, ctx.start), ctx.end
    if getattr(ctx.lake, "engine", "polars") == "spark":
        from workbench.spark.generation import hourly_matches_spark

        return hourly_matches_spark(ctx.lake, lo, hi, column, pattern, lower=lower, unless=unless)
    x = pl.col(column).str.to_lowercase() if lower else pl.col(column)
    hit = x.str.contains(pattern)
    if unless:
        hit = hit & ~pl.col(unless).fill_null("").str.contains(pattern)
    lf = window(ctx.lake.predictions(), lo, hi)
    return (lf.group_by(pl.col("timestamp").dt.truncate("1h").alias("bucket"))
            .agg(pl.len().alias("n"), hit.fill_null(False).sum().alias("k")).sort("bucket")
            .collect(engine="streaming"))


class LLMPIILeak(Hypothesis):
    """Personal data in answers that their own prompt did not hold (a user's own e-mail echoed
    back is not a leak), rising from the baseline."""

    cause = "pii_leak"
    chart = "pii_hits"

    def __init__(self, thresholds: LLMTextThresholds = LLM_TEXT_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        if ctx.lake.task != "generation" or "response_text" not in ctx.lake.schema:
            return []
        from workbench.evidence.llm_rows import leaked_pii

        th = self.thresholds
        lf = ctx.lake.predictions()
        base = leaked_pii(window(lf, ctx.baseline_start, ctx.baseline_end))
        win = leaked_pii(window(lf, ctx.start, ctx.end))
        before = {k["kind"]: k for k in base.kinds}
        for k in sorted(win.flagged, key=lambda k: -k["share"]):
            b = before.get(k["kind"], {"hits": 0, "rows": base.rows, "share": 0.0})
            _, p = st.two_proportion(b["hits"], max(b["rows"], 1), k["hits"], k["rows"])
            new = p < th.alpha and k["share"] > th.rise * b["share"]
            if not new:
                continue
            h = _hourly(ctx, "response_text", PII_PATTERNS[k["kind"]],
                        unless="prompt_text" if "prompt_text" in ctx.lake.schema else None)
            o = detect_onset(h["bucket"].to_list(), n=h["n"].to_numpy(), events=h["k"].to_numpy()) \
                if h.height >= 5 else None
            what = _WORDS.get(k["kind"], k["kind"])
            near = _events_near(ctx, o.at if o else None, ("index_build", "rollout", "prompt_version"))
            return [Finding(
                cause=self.cause, score=th.leak_score, subject=subject(column="response_text"),
                onset=o.at if o else None, onset_interval=(o.low, o.high) if o and o.low else None,
                evidence=(Evidence(f"pii_{k['kind']}", k["share"], baseline=b["share"], p_value=p, interval=k["ci"],
                                   detail=f"{k['hits']:,} of {k['rows']:,} sampled answers ({k['share']:.2%}) contain "
                                          f"{what} their own prompt did not; baseline {b['share']:.2%}"
                                          f" ({k['echoed']:,} more only echo the user's own data)"),
                          *([Evidence("onset", None, p_value=o.p_value,
                                      detail=f"answers with {what} not in the prompt stepped at "
                                             f"{o.at:%Y-%m-%d %H:%M} UTC")] if o and o.at else [])),
                lineage=tuple(near),
                summary=f"answers carry {what} that the users did not give"
                        + (f", since {near[0].subject} ({near[0].kind.replace('_', ' ')})" if near else ""),
                next_steps=("Stop the leak at its source: find the documents or tool results that carry personal data "
                            "into answers (the retrieval index built near the onset first) and remove them.",
                            "Add an output filter that redacts personal data not present in the user's prompt.",
                            "Redact or purge response_text in logged calls since the onset, per the retention policy."),
                hypothesis=self.name)]
        return []


class TopicShift(Hypothesis):
    """Users started asking about something the baseline lacks: clusters of the window's prompts
    (query embeddings when logged, else TF-IDF of the redacted prompts) with few baseline
    neighbours. No change of the application explains it: ``data_drift`` of ``prompt_text``."""

    cause = "data_drift"
    chart = "llm_proxies"

    def __init__(self, thresholds: LLMTextThresholds = LLM_TEXT_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        lake = ctx.lake
        if lake.task != "generation" or not ({"prompt_text", "query_embedding"} & set(lake.schema)):
            return []
        from workbench.evidence.llm_topics import new_topics

        th = self.thresholds
        lf = lake.predictions()
        try:
            nt = new_topics(window(lf, ctx.baseline_start, ctx.baseline_end), window(lf, ctx.start, ctx.end),
                            max_rows=th.max_rows)
        except InsufficientDataError as exc:
            ctx.notes.append(f"query topics not compared: {exc.message}")
            return []
        flagged = nt.flagged
        if not flagged:
            return []
        share = sum(t["share"] for t in flagged)
        base = sum(t["baseline_share"] for t in flagged)
        s = ramp(share - base, th.topic_lo, th.topic_hi)
        terms = [w for t in flagged for w in t["terms"][:3]]
        o = None
        if terms and "prompt_text" in lake.schema:
            # the onset: the hourly share of prompts with the new topics' top terms, fitted with a ramp
            # (a topic may grow over a day; a step is a one-hour ramp); the window's share of the topic
            # is diluted by the hours before it began, so its size is also read as the ramp's rise
            rx = _distinctive(ctx, list(dict.fromkeys(terms)))
            h = None if rx is None else _hourly(ctx, "prompt_text", rx, lower=True)
            if h is not None and h.height >= 5:
                o = detect_onset(h["bucket"].to_list(), n=h["n"].to_numpy(), events=h["k"].to_numpy(), model="ramp")
                if o.p_value <= th.alpha and o.before is not None and o.after is not None:
                    s = max(s, ramp(o.after - o.before, th.topic_lo, th.topic_hi))
        if s <= 0:
            return []
        top = flagged[0]
        return [Finding(
            cause=self.cause, score=th.topic_score * s, subject=subject(feature="prompt_text"),
            onset=o.at if o else None, onset_interval=(o.low, o.high) if o and o.low else None,
            evidence=tuple(Evidence("new_topic", t["share"], baseline=t["baseline_share"], p_value=t["p_adjusted"],
                                    interval=tuple(t["ci"]) if t.get("ci") else None,
                                    detail=f"{t['share']:.1%} of the window's prompts (baseline {t['baseline_share']:.1%})"
                                           f" are about {', '.join(t['terms'][:4])}; e.g. \"{t['example']}\"")
                           for t in flagged[:3]),
            summary=f"a new query topic ({', '.join(top['terms'][:3])}) holds {share:.0%} of the window's prompts",
            next_steps=("Check whether the assistant's index and prompt cover the new topic; add documents for it.",
                        "Watch the new topic's feedback and escalation rates: new questions are where answers fail first.",
                        "If the topic is out of scope, route it to a fallback answer or a human."),
            hypothesis=self.name)]


def _distinctive(ctx, terms: list[str], lift: float = 5.0) -> str | None:
    """A regex of the ``terms`` at least ``lift`` times as common in the window's prompts as in the
    baseline's (terms the new topic shares with old ones would blur its onset), or None."""
    patterns = {w: rf"\b{re.escape(w)}\b" for w in terms}
    if getattr(ctx.lake, "engine", "polars") == "spark":
        from workbench.spark.generation import term_rates_spark

        rates = term_rates_spark(ctx.lake, ctx.baseline_start, ctx.start, ctx.end, "prompt_text", patterns)
    else:
        lf = window(ctx.lake.predictions(["timestamp", "prompt_text"]), ctx.baseline_start, ctx.end)
        low = pl.col("prompt_text").str.to_lowercase()
        rates = (lf.group_by((pl.col("timestamp") >= ctx.start).alias("win"))
                 .agg(*[low.str.contains(p).mean().alias(w) for w, p in patterns.items()])
                 .collect(engine="streaming"))
    if rates.height < 2:
        return None
    b = rates.filter(~pl.col("win")).row(0, named=True)
    w = rates.filter(pl.col("win")).row(0, named=True)
    keep = [t for t in terms if (w[t] or 0) > 0 and (w[t] or 0) >= lift * (b[t] or 0)]
    return "|".join(rf"\b{re.escape(t)}\b" for t in keep) if keep else None


def _events_near(ctx, at: dt.datetime | None, kinds: tuple[str, ...], hours: float = 3.0):
    from workbench.rca.finding import LineageEvent

    if at is None or ctx.timeline.is_empty():
        return []
    tl = ctx.timeline.filter(pl.col("kind").is_in(list(kinds))
                             & ((pl.col("at") - at).abs() <= dt.timedelta(hours=hours)))
    return [LineageEvent(r["kind"], r["at"], r["ref"], r["subject"], r["detail"]) for r in tl.iter_rows(named=True)][:2]
