"""``pii_leak``: personal data appears in a column not declared sensitive."""

from __future__ import annotations

from dataclasses import dataclass

import workbench.evidence as ev
from workbench.evidence import stats as st
from workbench.rca.finding import Evidence, Finding, subject
from workbench.rca.hypothesis import Hypothesis

__all__ = ["PIILeak", "PIILeakThresholds"]


@dataclass(frozen=True)
class PIILeakThresholds:
    """Choices of :class:`PIILeak` (see docs/triage.md)."""

    #: the score of personal data that is new in the window (a leak is certain once matched by
    #: a checksum-validated pattern, whatever quality says)
    new_score: float = 0.97
    #: the score of a pattern already as common in the baseline (a look-alike or an older leak)
    known_score: float = 0.3
    #: the rise from the baseline must be this significant (two-proportion z-test) ...
    alpha: float = 1e-3
    #: ... and the share this many times the baseline's
    rise: float = 3.0


PII_LEAK_THRESHOLDS = PIILeakThresholds()

_WORDS = {"email": "e-mail addresses", "phone": "phone numbers", "card": "card numbers (Luhn-valid)",
          "iban": "IBANs (checksum-valid)", "ipv4": "IPv4 addresses", "ipv6": "IPv6 addresses",
          "national_id": "national-id-like numbers"}


class PIILeak(Hypothesis):
    """Text columns not declared sensitive, scanned in baseline and window (counts only, never
    values). Score 0.97 when the share of matching rows rose significantly from the baseline; a
    pattern already as common in the baseline is reported low (likely a look-alike format, or an
    older leak this window did not start)."""

    cause = "pii_leak"
    chart = "pii_hits"

    def __init__(self, thresholds: PIILeakThresholds = PII_LEAK_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        base, win = ctx.pii
        before = {(c["column"], c["kind"]): c for c in base.columns}
        out = []
        seen: set[str] = set()
        for c in win.flagged:  # largest share first; one finding per column
            if c["column"] in seen:
                continue
            seen.add(c["column"])
            b = before.get((c["column"], c["kind"]), {"hits": 0, "rows": base.columns[0]["rows"] if base.columns
                                                      else 0, "share": 0.0})
            diff, p = st.two_proportion(b["hits"], max(b["rows"], 1), c["hits"], c["rows"])
            th = self.thresholds
            new = p < th.alpha and c["share"] > th.rise * b["share"]
            score = th.new_score if new else th.known_score
            onset = self._onset(ctx, win, c) if new else None
            what = _WORDS.get(c["kind"], c["kind"])
            out.append(Finding(
                cause=self.cause, score=score, subject=subject(column=c["column"]),
                onset=onset.at if onset else c["first_seen"],
                onset_interval=(onset.low, onset.high) if onset and onset.low else None,
                evidence=(Evidence(f"pii_{c['kind']}", c["share"], baseline=b["share"], p_value=p,
                                   detail=f"{c['hits']:,} of {c['rows']:,} {c['column']} values ({c['share']:.1%}) "
                                          f"contain {what}; baseline {b['share']:.2%}"),),
                summary=f"{c['column']} carries {what}" + ("" if new else " (already in the baseline)"),
                next_steps=(f"stop writing raw {c['column']} to the prediction log (mask it, or declare it "
                            "sensitive in workbench.yaml so the workbench masks it)",
                            f"redact or purge {c['column']} in rows since the onset, per the retention policy",
                            f"find the code path that started putting {what} into {c['column']}"),
                hypothesis=self.name))
        return out

    @staticmethod
    def _onset(ctx, res, c):
        hits = {r["bucket"]: r["hits"] for r in res.hourly if r["column"] == c["column"] and r["kind"] == c["kind"]}
        hourly = ctx.hourly()
        if hourly.height < ctx.thresholds.onset.min_buckets:
            return None
        times = hourly["bucket"].to_list()
        return ev.detect_onset(times, n=hourly["n"].to_numpy(), events=[hits.get(t, 0) for t in times])
