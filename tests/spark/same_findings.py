"""The one comparison of triage on Spark with triage on polars (imported by the Spark tests)."""

from __future__ import annotations


def assert_same_findings(fs, fp) -> None:
    """Findings ``fs`` (Spark) as ``fp`` (polars): same verdict, culprit and onset, and every
    hypothesis's score within 0.01."""
    assert fs.verdict["cause"] == fp.verdict["cause"]
    assert abs(fs.verdict["score"] - fp.verdict["score"]) <= 0.01
    if fp.top is not None:
        assert fs.top.subject == fp.top.subject and fs.top.onset == fp.top.onset
    sp = {(h.cause, str(h.subject)): h.score for h in fp.hypotheses}
    ss = {(h.cause, str(h.subject)): h.score for h in fs.hypotheses}
    assert ss.keys() == sp.keys()
    assert all(abs(ss[k] - sp[k]) <= 0.01 for k in sp), {k: (sp[k], ss[k]) for k in sp if abs(ss[k] - sp[k]) > 0.01}
