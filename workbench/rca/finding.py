"""What triage returns: a :class:`Finding` per hypothesis, ranked into :class:`Findings`.

The JSON form is the findings contract (``docs/findings.md``): ``Findings.to_dict()`` gives the
document ``workbench triage --json`` writes, with ``schema_version`` 1.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import Any

from workbench.exceptions import FindingError
from workbench.formatting import fmt_number
from workbench.results import Result, iso, jsonable

__all__ = ["CAUSES", "DECISION_THRESHOLD", "FINDINGS_MIME", "SUBJECT_KEYS", "Evidence", "EvidenceList", "Finding",
           "Findings", "LineageEvent", "subject"]

#: The taxonomy of causes (``"none"`` is the verdict when no hypothesis reaches the threshold).
CAUSES = ("data_drift", "schema_mismatch", "latency_regression", "bias_regression", "third_party_change",
          "telemetry_loss", "retrain_regression", "pii_leak", "serving_bug", "prompt_regression",
          "provider_model_change", "retrieval_regression", "safety_regression", "cost_regression",
          "routing_regression")

#: Keys of a finding's subject; each names one kind of culprit (null when it does not apply).
SUBJECT_KEYS = ("feature", "column", "model_version", "segment", "dependency", "dataset", "route", "prompt", "index")

#: A hypothesis whose score reaches this is a diagnosis; below it, the verdict is ``"none"``.
#: Scores are built so that 0.5 means "the symptom is clearly there (significant and above its
#: effect-size floor) and the lineage does not contradict this cause".
DECISION_THRESHOLD = 0.5
#: The MIME type of a findings document (its JupyterLab view is the extension's findings renderer).
FINDINGS_MIME = "application/vnd.workbench.findings+json"


def subject(**values: Any) -> dict[str, Any]:
    """A subject dict with every key of :data:`SUBJECT_KEYS` (unknown keys are an error)."""
    unknown = set(values) - set(SUBJECT_KEYS)
    if unknown:
        msg = f"subject: unknown keys {sorted(unknown)}"
        raise FindingError(msg, expected=f"some of {list(SUBJECT_KEYS)}", found=str(sorted(unknown)),
                           hint="name the culprit with the subject keys of the findings contract")
    return {k: values.get(k) for k in SUBJECT_KEYS}


@dataclass(frozen=True, repr=False)
class Evidence(Result):
    """One check behind a finding: the statistic, its baseline, how sure (p-value or interval)."""

    check: str
    statistic: float | None
    baseline: float | None = None
    p_value: float | None = None
    interval: tuple[float, float] | None = None
    detail: str = ""

    def _summary(self) -> str:
        return f"{self.check}: {self.detail}"


class EvidenceList(tuple):
    """A finding's evidence: a tuple of :class:`Evidence` that a notebook shows as a table
    (``f.top.evidence``); equal to, and serialised as, the plain tuple."""

    __slots__ = ()

    def table(self):
        """The checks as a :class:`workbench.tables.Table`."""
        from workbench.tables import table

        return table([{"check": e.check, "statistic": e.statistic, "baseline": e.baseline, "p_value": e.p_value,
                       "interval": e.interval, "detail": e.detail} for e in self],
                     columns={"check": "check", "statistic": "statistic", "baseline": "baseline",
                              "p_value": "p-value", "interval": "interval", "detail": "detail"},
                     units={"p_value": "p", "interval": "ci"})

    def _repr_html_(self) -> str:
        return self.table().to_html()

    def _repr_markdown_(self) -> str:
        return self.table().to_markdown()

    def __repr__(self) -> str:
        return "(" + ", ".join(map(repr, self)) + ("," if len(self) == 1 else "") + ")"


@dataclass(frozen=True, repr=False)
class LineageEvent(Result):
    """A lineage event a finding relied on (``ref`` points back to the lake: a runId, a CSV line)."""

    kind: str
    at: dt.datetime | None
    ref: str | None
    subject: str | None = None
    detail: str | None = None

    def _summary(self) -> str:
        return f"{self.kind} {iso(self.at)} {self.subject or ''}".strip()


@dataclass(frozen=True, repr=False)
class Finding(Result):
    """A tested hypothesis: cause, score in [0, 1], culprit, onset, evidence, lineage, next steps.

    Attributes
    ----------
    cause : str
        One of :data:`CAUSES` (a plugin may add its own).
    score : float
        In [0, 1], comparable across causes; see :data:`DECISION_THRESHOLD`.
    subject : dict
        The culprit, keyed by :data:`SUBJECT_KEYS`.
    onset : datetime or None
        First affected moment, with ``onset_interval`` when it was estimated from the data.
    explains : float or None
        For quality drops, the share of the window's drop confined to the culprit's rows.
    """

    cause: str
    score: float
    subject: dict[str, Any]
    onset: dt.datetime | None = None
    evidence: tuple[Evidence, ...] = ()
    lineage: tuple[LineageEvent, ...] = ()
    next_steps: tuple[str, ...] = ()
    onset_interval: tuple[dt.datetime, dt.datetime] | None = None
    explains: float | None = None
    summary: str = ""
    hypothesis: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            msg = f"Finding({self.cause!r}): score out of range"
            raise FindingError(msg, expected="a score in [0, 1]", found=repr(self.score),
                               hint="build scores from ramp() of effect sizes times supports in [0, 1]")
        if not isinstance(self.evidence, EvidenceList):
            object.__setattr__(self, "evidence", EvidenceList(self.evidence))
        missing = [k for k in SUBJECT_KEYS if k not in self.subject]
        if missing:
            object.__setattr__(self, "subject", {**subject(), **self.subject})

    def culprit(self, *, words: bool = False) -> str:
        """The subject as short text (``model_version=1.6.0``, ``segment=region=EU``); with
        ``words``, as a sentence reads it (``model version 1.6.0``)."""
        parts = []
        for k in SUBJECT_KEYS:
            v = self.subject.get(k)
            if v is None:
                continue
            if isinstance(v, dict):
                v = "=".join(str(x) for x in v.values())
            parts.append(f"{k.replace('_', ' ')} {v}" if words else f"{k}={v}")
        return ", ".join(parts) or "—"

    def _summary(self) -> str:
        return f"{self.cause}, score={self.score:.2f}, {self.culprit()}, onset={iso(self.onset)}"

    def evidence_table(self):
        """The checks behind this finding as a :class:`workbench.tables.Table`."""
        return self.evidence.table()

    def _repr_html_(self) -> str:
        from workbench.formatting import fmt_pct, fmt_time
        from workbench.tables import block, table

        text = (f"score {self.score:.2f} · culprit {self.culprit()} · onset {fmt_time(self.onset)}"
                + (f" · explains {fmt_pct(self.explains, 0)} of the quality drop" if self.explains is not None else "")
                + (f". {self.summary}" if self.summary else ""))
        lineage = table([{"kind": e.kind, "at": e.at, "subject": e.subject, "ref": e.ref} for e in self.lineage],
                        caption="Lineage relied on") if self.lineage else ""
        steps = ("<p><b>Next steps</b></p><ol>" + "".join(f"<li>{html.escape(x)}</li>" for x in self.next_steps)
                 + "</ol>") if self.next_steps else ""
        return block(self.cause, text, self.evidence_table(), lineage, steps, css="workbench-finding")


@dataclass(frozen=True, repr=False)
class Findings(Result):
    """The triage document: window, baseline, symptoms, ranked hypotheses and the verdict."""

    lake: str
    window: dict[str, Any]
    baseline: dict[str, Any]
    symptoms: tuple[dict[str, Any], ...]
    hypotheses: tuple[Finding, ...]
    threshold: float = DECISION_THRESHOLD
    meta: dict[str, Any] = field(default_factory=dict)
    #: What the diagnosis cost (affected requests since the onset, their share, hours, the quality
    #: drop): see :func:`workbench.rca.impact.measure_impact`. None without a diagnosis.
    impact: dict[str, Any] | None = None

    @property
    def summary_markdown(self) -> str:
        """The headline as Markdown, for a chat tool or an incident channel: verdict, culprit,
        onset, impact (requests and share of traffic, quality drop with its interval, time since
        the onset) and what to do first."""
        from workbench.rca.headline import findings_markdown

        return findings_markdown(self)

    @property
    def verdict(self) -> dict[str, Any]:
        """``cause`` and ``score``; plus ``incomplete`` when some hypothesis failed (see :attr:`incomplete`)."""
        top = self.top
        if top is None:
            best = self.hypotheses[0].score if self.hypotheses else 0.0
            out: dict[str, Any] = {"cause": "none", "score": round(1.0 - best, 4)}
        else:
            out = {"cause": top.cause, "score": top.score}
        if self.incomplete:
            out["incomplete"] = self.incomplete
        return out

    @property
    def failed(self) -> tuple[str, ...]:
        """Hypotheses that raised or returned something other than findings (``meta.errors``)."""
        return tuple(dict.fromkeys(e.get("hypothesis", "?") for e in self.meta.get("errors") or ()))

    @property
    def incomplete(self) -> str | None:
        """``"incomplete: N of M hypotheses failed (...)"`` when some failed, else None.

        A failed hypothesis tested nothing: its cause may be the real one, so a verdict (``none``
        above all) read without this would claim more than the run checked.
        """
        failed = self.failed
        if not failed:
            return None
        ran = len(self.meta.get("hypotheses") or ()) or len(failed)
        names = ", ".join(f.rsplit(".", 1)[-1] for f in failed)
        return f"incomplete: {len(failed)} of {ran} hypotheses failed ({names})"

    @property
    def top(self) -> Finding | None:
        """The diagnosis: the best hypothesis when it reaches the threshold, else None."""
        return self.hypotheses[0] if self.hypotheses and self.hypotheses[0].score >= self.threshold else None

    def to_dict(self) -> dict[str, Any]:
        """The findings document (contract ``schema_version`` 1)."""
        return {"schema_version": 1, "lake": self.lake, "window": jsonable(self.window),
                "baseline": jsonable(self.baseline), "symptoms": jsonable(list(self.symptoms)),
                "hypotheses": [h.to_dict() for h in self.hypotheses], "verdict": jsonable(self.verdict),
                "threshold": self.threshold, "meta": jsonable(self.meta)} | (
                    {"impact": jsonable(self.impact)} if self.impact is not None else {})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Findings":
        return cls(lake=d["lake"], window=d["window"], baseline=d["baseline"], symptoms=tuple(d["symptoms"]),
                   hypotheses=tuple(Finding.from_dict(h) for h in d["hypotheses"]),
                   threshold=d.get("threshold", DECISION_THRESHOLD), meta=d.get("meta") or {},
                   impact=d.get("impact"))

    def _summary(self) -> str:
        v = self.verdict
        return (f"verdict={v['cause']!r} ({v['score']:.2f}), hypotheses={len(self.hypotheses)}"
                + (f", {self.incomplete}" if self.incomplete else ""))

    def render(self, *, top: int = 5) -> str:
        """Short ranked summary for a terminal."""
        w, b = self.window, self.baseline
        lines = [f"workbench triage — {self.lake}",
                 f"window   {_t(w['start'])} .. {_t(w['end'])}  ({w['rows']:,} rows)",
                 f"baseline {_t(b['start'])} .. {_t(b['end'])}  ({b['rows']:,} rows)"]
        breached = [s for s in self.symptoms if s.get("breached")]
        if breached:
            lines.append("symptoms " + "; ".join(
                f"{s['sli']} {fmt_number(s['baseline'])} -> {fmt_number(s['current'])}" for s in breached))
        v = self.verdict
        lines.append("")
        if self.incomplete:
            lines.append(f"!! {self.incomplete} — their causes were not tested, so the verdict "
                         "covers only the others (reasons in meta.errors)")
        if self.top is None:
            lines.append(f"verdict: none — no hypothesis reached {self.threshold:.2f}"
                         + (" among those that ran" if self.incomplete else ""))
        else:
            t = self.top
            lines.append(f"verdict: {t.cause} (score {t.score:.2f}) — {t.culprit()}, onset {iso(t.onset) or '?'}")
            if t.summary:
                lines.append(f"  {t.summary}")
            for e in t.evidence[:4]:
                lines.append(f"  · {e.detail}")
            for s in t.next_steps[:3]:
                lines.append(f"  → {s}")
        rest = self.hypotheses[:top]
        if rest:
            lines.append("")
            lines.append("rank  score  cause                culprit")
            for i, h in enumerate(rest, 1):
                lines.append(f"{i:>4}  {h.score:5.2f}  {h.cause:<20} {h.culprit()}")
        del v
        return "\n".join(lines)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        """The findings document as ``application/vnd.workbench.findings+json`` (drawn by the
        JupyterLab extension's findings view) with ``text/html`` and ``text/plain`` fallbacks
        (nbconvert, a report's HTML, a terminal keep those)."""
        bundle = {FINDINGS_MIME: self.to_dict(),
                  "text/html": self._repr_html_(), "text/plain": repr(self)}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle

    def hypotheses_table(self, top: int | None = None):
        """The ranked hypotheses as a :class:`workbench.tables.Table` (the diagnosis highlighted)."""
        from workbench.tables import table

        rows = [{"rank": i, "cause": h.cause, "score": h.score, "culprit": h.culprit(), "onset": h.onset,
                 "why": h.summary, "top": h is self.top} for i, h in enumerate(self.hypotheses[:top], 1)]
        return table(rows, columns=["rank", "cause", "score", "culprit", "onset", "why"], units={"score": "psi"},
                     highlight="top")

    def _repr_html_(self) -> str:
        from workbench.formatting import fmt_time
        from workbench.tables import block

        v, top = self.verdict, self.top
        warn = f"<p><b>{html.escape(self.incomplete)}</b></p>" if self.incomplete else ""
        verdict = (f"verdict {v['cause']} (score {v['score']:.2f})"
                   + (f", culprit {top.culprit()}, onset {fmt_time(top.onset)}" if top else
                      f": no hypothesis reached {self.threshold:.2f}")
                   + f"; window {fmt_time(self.window['start'])} – {fmt_time(self.window['end'])}")
        evidence = ""
        if top is not None and top.evidence:
            evidence = "<p><b>Evidence</b> for " + html.escape(top.cause) + "</p>" + top.evidence_table().to_html()
        return block(f"Triage of {self.lake}", verdict, warn, self.hypotheses_table(), evidence,
                     css="workbench-findings")


def _t(v) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%MZ") if v.tzinfo else v.strftime("%Y-%m-%d %H:%M")
    return str(v)
