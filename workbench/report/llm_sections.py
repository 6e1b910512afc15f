"""The calls the LLM templates make (``llm-incident``, ``rag-health``): one call, one display each.

Frames come from :mod:`workbench.evidence.llm_frames`, charts from :mod:`workbench.charts.llm`.
Text is never shown raw: sampled calls carry redacted excerpts of at most 120 characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from workbench.report.sections import Markdown, _lake, _window
from workbench.report.studies import Study

__all__ = ["RagHealth", "culprit_calls", "culprit_proxies", "llm_lineage_chart", "llm_triage", "rag_health",
           "rag_health_chart"]

#: proxies a RAG application's retrieval and answers show in, in the order drawn
RAG_PROXIES = ("empty_retrieval_rate", "top_retrieval_score", "grounded_share", "unsupported_citations",
               "thumbs_down_rate")


def _generation(lake, what: str):
    from workbench.exceptions import UsageError

    lake = _lake(lake)
    if lake.task != "generation":
        raise UsageError(f"{what}: lake {lake.name!r} is a {lake.task} lake, not task: generation",
                         hint="this section reads LLM calls; see docs/genai.md for the lake contract")
    return lake


def _times(findings):
    from workbench.lake.timestamps import parse_time

    top = findings.top or (findings.hypotheses[0] if findings.hypotheses else None)
    onset = parse_time(top.onset, what="onset") if top is not None and top.onset else None
    return (top, onset, parse_time(findings.baseline["start"], what="baseline start"),
            parse_time(findings.window["end"], what="window end"))


def llm_triage(lake, *, since: str = "", until: str = "", baseline_since: str = "", baseline_until: str = ""):
    """:func:`workbench.triage` of a generation lake with a template's string parameters (empty:
    the default windows, :func:`workbench.lake.windows.default_windows`)."""
    from workbench.rca import triage

    lake = _generation(lake, "llm-incident")
    start, _, _, _ = _window(lake, since, until, baseline_since, baseline_until)
    return triage(lake, since=start, until=until or None, baseline_since=baseline_since or None,
                  baseline_until=baseline_until or None)


def culprit_proxies(findings, lake, *, top: int = 3):
    """The proxies the top finding rests on (up to ``top``), per hour by the culprit's key (prompt
    version, index build, response model, release, router decision), from the baseline to the
    end of the window, then the finish-reason mix; lineage events and the onset marked."""
    import altair as alt

    from workbench.charts.llm import finish_mix_chart, proxy_over_time_chart
    from workbench.evidence import summarize_llm
    from workbench.evidence.llm_compare import PROXIES
    from workbench.evidence.llm_frames import culprit_key, finish_mix_frame, llm_events, proxy_frame_auto

    lake = _generation(lake, "culprit_proxies")
    f, onset, start, end = _times(findings)
    spec = {p.name: p for p in PROXIES}
    proxies = [e.check for e in f.evidence if e.check in spec][:top] if f is not None else []
    ck = culprit_key(f.subject) if f is not None else None
    key, value = ck if ck else ("prompt", None)
    if not proxies:
        proxies = ["thumbs_down_rate"]
    s = summarize_llm(lake, start, end)
    events = llm_events(lake, start, end)
    charts = []
    for name in proxies:
        frame = proxy_frame_auto(s, name, key, keep=[value] if value else ())
        if frame.height:
            p = spec[name]
            charts.append(proxy_over_time_chart(frame, label=p.label, key=key, kind=p.kind, unit=p.unit, onset=onset,
                                                events=events, culprit=value))
    mix = finish_mix_frame(s)
    if mix.height:
        charts.append(finish_mix_chart(mix, onset=onset, events=events))
    if not charts:
        return Markdown("_No hour of the window has enough calls to draw a proxy._")
    # each chart its own colours: prompt versions and finish reasons do not share a legend
    return alt.vconcat(*charts).properties(spacing=30).resolve_scale(color="independent")


def culprit_calls(findings, lake, *, n: int = 12):
    """Calls served by the culprit after the onset (the window's calls when the finding names no
    single value), chosen by a hash of the request id: their lineage and redacted excerpts."""
    from workbench.evidence.llm_frames import culprit_key, sampled_calls
    from workbench.tables import table

    from workbench.lake.timestamps import parse_time

    lake = _generation(lake, "culprit_calls")
    f, onset, _, end = _times(findings)
    start = onset or parse_time(findings.window["start"], what="window start")
    where: dict[str, str] = {}
    ck = culprit_key(f.subject) if f is not None else None
    if ck and ck[1]:
        where[ck[0]] = ck[1]
    calls = sampled_calls(lake, start, end, n=n, where=where)
    who = f"{ck[0]} = {ck[1]}" if where else "any"
    shown = [c for c in ("timestamp", "prompt", "index_version", "response_model", "finish_reason", "prompt_excerpt",
                         "response_excerpt", "request_id") if c in calls.columns]
    return table(calls, columns=shown, max_rows=n, empty=f"no call served by {who} after the onset",
                 caption=f"{calls.height} calls served by {who} since {start:%Y-%m-%d %H:%M} UTC "
                         "(excerpts: at most 120 characters, personal data redacted)")


def llm_lineage_chart(findings, lake):
    """Releases, prompt versions, index builds and provider model changes from the baseline to
    the end of the window, the onset marked."""
    from workbench.charts import timeline_chart
    from workbench.evidence.llm_frames import EVENT_KINDS

    lake = _lake(lake)
    _, onset, start, end = _times(findings)
    t = lake.timeline(start, end)
    if t.height:
        t = t.filter(pl.col("kind").is_in(list(EVENT_KINDS)))
    return timeline_chart(t, onset=onset, start=start, end=end)


# -- RAG health -------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class RagHealth(Study):
    """Retrieval and groundedness per index build over a window.

    Attributes
    ----------
    builds : DataFrame
        Per index version serving calls in the window: the build (``index build``, ``built_at``,
        ``documents`` from lineage), ``first_call_at``, ``calls``, the RAG proxies by name
        (:data:`RAG_PROXIES`), and ``worse``: the proxies significantly worse than under the build
        before it (empty when none).
    indexes : DataFrame
        lineage/indexes.csv, oldest first.
    window : dict
        ``start``, ``end`` (ISO-8601 UTC) of the window read.
    """

    kind: ClassVar[str] = "rag_health"
    main: ClassVar = ("builds", "worse")
    builds: pl.DataFrame
    indexes: pl.DataFrame
    window: dict[str, str]


def rag_health(lake, *, since: str = "", until: str = "", baseline_since: str = "",
               baseline_until: str = "") -> RagHealth:
    """Retrieval health and groundedness per index build, from the baseline start to the window end.

    Each build is compared with the build that served calls before it (by first call) on the RAG
    proxies (two-proportion z-test for rates, Welch's test for means; p ≤ 0.001 and an effect
    size past the proxy's noise floor count as worse)."""
    from workbench.evidence import summarize_llm
    from workbench.evidence.llm_compare import PROXIES, compare_proxies, proxy_value
    from workbench.evidence.llm_frames import index_builds
    from workbench.results import iso

    lake = _generation(lake, "rag_health")
    start, end, b_start, _ = _window(lake, since, until, baseline_since, baseline_until)
    s = summarize_llm(lake, b_start, end)
    spec = {p.name: p for p in PROXIES}
    ix = index_builds(lake)
    t = s.totals(("index_version",)).filter(pl.col("index_version").is_not_null())
    first = (s.frame.filter(pl.col("index_version").is_not_null()).group_by("index_version")
             .agg(pl.col("bucket").min().alias("first_call")))
    t = t.join(first, on="index_version").sort("first_call")
    rows: list[dict[str, Any]] = []
    prev = None
    for r in t.iter_rows(named=True):
        build = ix.filter(pl.col("version").cast(pl.String) == r["index_version"]) if ix.height else ix
        b = build.row(0, named=True) if build.height else {}
        row = {"index build": f"{b['index']}@{r['index_version']}" if b else r["index_version"],
               "built_at": b.get("built_at"), "documents": b.get("documents"), "first_call_at": r["first_call"],
               "calls": r["calls"]}
        for name in RAG_PROXIES:  # named as the proxies are (tables show *_rate and *_share as %)
            row[name] = proxy_value(r, name)[0]
        worse = []
        if prev is not None:
            ch = compare_proxies(prev, r, proxies=RAG_PROXIES)
            worse = [spec[c.proxy].label for c in ch.values()
                     if c.p_value <= 1e-3 and c.effect >= spec[c.proxy].lo]
        row["worse"] = ", ".join(worse)
        rows.append(row)
        prev = r
    builds = pl.DataFrame(rows) if rows else pl.DataFrame({"index build": [], "calls": []})
    bad = [r["index build"] for r in rows if r["worse"]]
    n = len(rows)
    summary = (f"{n} index build{'s' if n != 1 else ''} served calls between {b_start:%Y-%m-%d} and "
               f"{end:%Y-%m-%d %H:%M} UTC. "
               + (f"Worse than the build before: {', '.join(bad)}." if bad
                  else "No build is significantly worse than the one before it on retrieval or groundedness."))
    if not rows:
        summary = "No call of the window logs an index version: nothing to compare (see docs/genai.md)."
    return RagHealth(summary=summary, builds=builds, indexes=ix,
                     window={"start": iso(b_start), "end": iso(end), "since": iso(start)})


def rag_health_chart(study: RagHealth, lake):
    """The RAG proxies per hour by index build over the study's window, index builds marked."""
    import altair as alt

    from workbench.charts.llm import proxy_over_time_chart
    from workbench.evidence import summarize_llm
    from workbench.evidence.llm_compare import PROXIES
    from workbench.lake.timestamps import parse_time
    from workbench.evidence.llm_frames import llm_events, proxy_frame_auto

    lake = _generation(lake, "rag_health_chart")
    start, end = parse_time(study.window["start"]), parse_time(study.window["end"])
    s = summarize_llm(lake, start, end)
    spec = {p.name: p for p in PROXIES}
    events = llm_events(lake, start, end)
    events = events.filter(pl.col("kind") == "index_build") if events.height else events
    charts = []
    for name in RAG_PROXIES:
        frame = proxy_frame_auto(s, name, "index_version")
        if frame.height:
            p = spec[name]
            charts.append(proxy_over_time_chart(frame, label=p.label, key="index_version", kind=p.kind, unit=p.unit,
                                                events=events))
    if not charts:
        return Markdown("_The lake logs no retrieval (no retrieved ids, scores or context): nothing to draw._")
    return alt.vconcat(*charts).properties(spacing=25, title="Retrieval and groundedness per hour by index build "
                                                             "(dashed: index builds)").resolve_scale(color="shared")

