"""The headline of a triage: the paragraph an on-call engineer pastes into the incident channel.

One set of parts (verdict, culprit, onset, impact, what to do first), written two ways:
Markdown for chat tools (:attr:`Findings.summary_markdown`) and the HTML card at the top of a
report (:func:`headline_html`, which also heads the reports of the studies).
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from workbench.formatting import fmt_number, fmt_pct

__all__ = ["findings_markdown", "headline_html", "headline_parts"]


def _time(v: Any) -> str:
    if isinstance(v, str):
        try:
            v = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return v
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc)
        return v.strftime("%Y-%m-%d %H:%M UTC")
    return "unknown"


def _span(hours: float | None) -> str:
    if hours is None:
        return "unknown"
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


def _quality(q: dict[str, Any] | None) -> str | None:
    if not q or q.get("baseline") is None or q.get("current") is None:
        return None
    text = f"{q['sli']} {fmt_number(q['baseline'], 3)} → {fmt_number(q['current'], 3)}"
    iv = q.get("interval")
    if iv and len(iv) == 2 and None not in iv:
        text += f" (95% interval {fmt_number(iv[0], 3)}–{fmt_number(iv[1], 3)})"
    return text


def headline_parts(findings) -> dict[str, Any]:
    """The headline's parts from :class:`~workbench.rca.Findings`: ``title``, ``verdict`` (the
    cause or ``"none"``), ``lines`` ((label, text) pairs) and ``first`` (what to do first)."""
    top = findings.top
    if top is None:
        best = findings.hypotheses[0] if findings.hypotheses else None
        breached = [s["sli"] for s in findings.symptoms if s.get("breached")]
        lines = [("Checked", f"{len(findings.meta.get('hypotheses') or findings.hypotheses)} causes over "
                             f"{findings.window['rows']:,} requests, {_time(findings.window['start'])} – "
                             f"{_time(findings.window['end'])}")]
        if best is not None:
            lines.append(("Closest", f"{best.cause} ({best.culprit()}), score {best.score:.2f} "
                                     f"below the {findings.threshold:.2f} threshold"))
        lines.append(("Symptoms", ", ".join(breached) + " moved, but no cause explains it" if breached
                      else "no SLI breached"))
        if findings.incomplete:
            lines.append(("Warning", findings.incomplete))
        first = ("widen the window or add lineage (rollouts, pipeline runs) for the symptoms that moved"
                 if breached else "nothing to do: the window looks healthy")
        return {"title": "No root cause found", "verdict": "none", "lines": lines, "first": first}
    lines = [("Culprit", top.culprit(words=True))]
    onset = _time(top.onset)
    if top.onset_interval:
        onset += f" (the data moved between {_time(top.onset_interval[0])} and {_time(top.onset_interval[1])})"
    lines.append(("Onset", onset))
    imp = findings.impact or {}
    if imp.get("requests") is not None:
        share = f" ({fmt_pct(imp['share'])} of the {imp['requests_since_onset']:,} requests since the onset)" \
            if imp.get("share") is not None else ""
        lines.append(("Affected", f"{imp['requests']:,} requests{share}; {imp.get('affected', '')}".rstrip("; ")))
        lines.append(("Since onset", f"{_span(imp.get('hours'))} to the end of the window ({_time(imp.get('until'))})"))
    quality = _quality(imp.get("quality"))
    if quality:
        lines.append(("Quality", quality))
    if findings.incomplete:
        lines.append(("Warning", findings.incomplete))
    title = f"{top.cause.replace('_', ' ').capitalize()}: {top.summary or top.culprit()}"
    first = top.next_steps[0] if top.next_steps else "confirm the culprit against its evidence below"
    return {"title": title, "verdict": top.cause, "lines": lines, "first": first,
            "score": f"score {top.score:.2f} (threshold {findings.threshold:.2f})"}


def findings_markdown(findings) -> str:
    """The headline as Markdown (chat tools render bold and lists)."""
    p = headline_parts(findings)
    head = f"**{p['title']}**" + (f" — {p['score']}" if p.get("score") else "")
    body = [f"- **{label}:** {text}" for label, text in p["lines"]]
    body.append(f"- **Do first:** {p['first']}")
    return "\n".join([head, *body])


def headline_html(doc: dict[str, Any]) -> str:
    """The card at the top of a report, from what the report published (``findings.json``):
    a triage's findings document, or a study's ``{"kind", "summary", "data"}``."""
    if "hypotheses" in doc and "verdict" in doc:
        from workbench.rca.finding import Findings

        p = headline_parts(Findings.from_dict(doc))
        rows = "".join(f"<li><b>{html.escape(label)}:</b> {html.escape(text)}</li>" for label, text in p["lines"])
        score = f' <span class="wb-headline-score">{html.escape(p["score"])}</span>' if p.get("score") else ""
        return (f'<div class="wb-headline" data-verdict="{html.escape(p["verdict"])}">'
                f'<p class="wb-headline-title"><b>{html.escape(p["title"])}</b>{score}</p><ul>{rows}'
                f'<li><b>Do first:</b> {html.escape(p["first"])}</li></ul></div>')
    import mistune

    kind = str(doc.get("kind", "study"))
    verdict = str((doc.get("data") or {}).get("verdict") or "study")
    body = mistune.html(str(doc.get("summary") or ""))
    return (f'<div class="wb-headline" data-verdict="{html.escape(verdict)}" data-kind="{html.escape(kind)}">'
            f'{body}</div>')
