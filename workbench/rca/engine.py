"""Triage: build the evidence once, test every hypothesis against it, rank the findings."""

from __future__ import annotations

import time
import warnings
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Iterable


from workbench._version import __version__
from workbench.evidence._scipy import prefetch
from workbench.exceptions import EmptyDataError, HypothesisError, HypothesisWarning, UsageError, WorkbenchError
from workbench.lake import Lake, open_lake
from workbench.lake.files import sanitize
from workbench.lake.timestamps import parse_time
from workbench.lake.windows import default_windows
from workbench.rca.bias_regression import BiasRegression
from workbench.rca.context import Context
from workbench.rca.data_drift import DataDrift
from workbench.rca.finding import DECISION_THRESHOLD, Finding, Findings
from workbench.rca.hypothesis import Hypothesis
from workbench.rca.impact import measure_impact
from workbench.rca.latency_regression import LatencyRegression
from workbench.rca.llm_causes import LLM_HYPOTHESES
from workbench.rca.pii_leak import PIILeak
from workbench.rca.retrain_regression import RetrainRegression
from workbench.rca.schema_mismatch import SchemaMismatch
from workbench.rca.serving_bug import ServingBug
from workbench.rca.telemetry_loss import TelemetryLoss
from workbench.rca.third_party_change import ThirdPartyChange
from workbench.results import iso

__all__ = ["BUILTIN_HYPOTHESES", "ENTRY_POINT_GROUP", "SHARE_WEIGHT", "HypothesisWarning", "load_hypotheses",
           "rank_hypotheses", "triage", "weigh_by_share"]

ENTRY_POINT_GROUP = "workbench.hypotheses"
BUILTIN_HYPOTHESES: tuple[type[Hypothesis], ...] = (
    DataDrift, SchemaMismatch, ThirdPartyChange, LatencyRegression, ServingBug, RetrainRegression, BiasRegression,
    TelemetryLoss, PIILeak, *LLM_HYPOTHESES)


class _Callable(Hypothesis):
    def __init__(self, fn: Callable, name: str) -> None:
        self._fn, self._name = fn, name
        self.cause = getattr(fn, "cause", name)
        self.chart = getattr(fn, "chart", "")

    @property
    def name(self) -> str:
        return self._name

    def evaluate(self, ctx):
        return self._fn(ctx)


def _as_hypothesis(obj: Any, name: str) -> Hypothesis:
    if isinstance(obj, type) and issubclass(obj, Hypothesis):
        return obj()
    if isinstance(obj, Hypothesis) or hasattr(obj, "evaluate"):
        return obj
    if callable(obj):
        return _Callable(obj, name)
    msg = f"hypothesis plugin {name}: not a Hypothesis subclass or instance, nor a callable ctx -> Finding"
    raise HypothesisError(msg, expected="a Hypothesis subclass or instance, or a callable ctx -> Finding",
                          found=type(obj).__name__, hint=f"register a Hypothesis under the {ENTRY_POINT_GROUP} "
                                                          "entry points")


def load_hypotheses(*, plugins: bool = True) -> list[Hypothesis]:
    """The built-in hypotheses, then those registered under the ``workbench.hypotheses`` entry points."""
    out: list[Hypothesis] = [h() for h in BUILTIN_HYPOTHESES]
    if plugins:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            try:
                out.append(_as_hypothesis(ep.load(), f"{ep.module}:{ep.attr}" if ep.attr else ep.name))
            except Exception as exc:  # a broken plugin must not stop triage
                warnings.warn(f"hypothesis plugin {ep.name!r} ({ep.value}) could not be loaded: {exc}",
                              HypothesisWarning, stacklevel=2)
    return out


def rank_hypotheses(ctx: Context, hypotheses: Iterable[Hypothesis], *,
                    threshold: float = DECISION_THRESHOLD) -> tuple[list[Finding], list[dict]]:
    """Every hypothesis's findings, highest score first; failures are reported, not raised."""
    findings, errors = [], []
    for h in hypotheses:
        name = getattr(h, "name", repr(h))
        try:
            res = h.evaluate(ctx)
        except Exception as exc:
            why = _error_text(exc)
            errors.append({"hypothesis": name, "error": why})
            warnings.warn(f"hypothesis {name} failed: {why}", HypothesisWarning, stacklevel=2)
            continue
        if res is None:
            continue
        for f in [res] if isinstance(res, Finding) else list(res):
            if not isinstance(f, Finding):
                errors.append({"hypothesis": name, "error": f"returned {type(f).__name__}, not a Finding"})
                continue
            findings.append(weigh_by_share(f if f.hypothesis else _with(f, hypothesis=name), threshold))
    findings.sort(key=lambda f: (-f.score, f.cause, f.culprit()))
    return findings, errors


def _error_text(exc: Exception) -> str:
    """One short line on why a hypothesis failed: a library's message (a polars plan runs to
    pages and may quote values) is cut to its first line with quoted values redacted."""
    if isinstance(exc, WorkbenchError):
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {sanitize(str(exc))}"


_B_SINCE, _B_UNTIL = "baseline_since (--baseline-since)", "baseline_until (--baseline-until)"


def _check_baseline(b_start, b_end, start, end, lo, *, given: tuple[bool, bool]) -> None:
    """Refuse an empty or reversed baseline, or one reaching into the window, naming the
    parameter that set the offending bound (``given``: whether baseline_since / _until were passed)."""
    since_given, until_given = given
    if b_end <= b_start:
        if since_given and until_given:
            msg = f"triage: the baseline is reversed ({_B_SINCE} {iso(b_start)} is not before {_B_UNTIL} {iso(b_end)})"
            raise UsageError(msg, column="baseline_since", expected="baseline_since < baseline_until",
                             found=f"{iso(b_start)} .. {iso(b_end)}", hint="swap the two baseline bounds")
        if since_given:
            msg = (f"triage: {_B_SINCE} {iso(b_start)} is not before the baseline's end {iso(b_end)} (the window "
                   "start, since no baseline_until was given)")
            raise UsageError(msg, column="baseline_since", expected=f"a time before {iso(b_end)}",
                             found=iso(b_start), hint="move --baseline-since earlier, or give --baseline-until")
        if until_given:
            msg = f"triage: {_B_UNTIL} {iso(b_end)} is at or before the first prediction {iso(lo)}"
            raise UsageError(msg, column="baseline_until", expected=f"a time after {iso(lo)}", found=iso(b_end),
                             hint="move --baseline-until later, or leave it out to end the baseline at --since")
        msg = (f"triage: no data before --since {iso(start)} for a baseline (the data starts at {iso(lo)})")
        raise UsageError(msg, column="since", expected=f"a time after {iso(lo)}", found=iso(start),
                         hint="pick a later --since, or give --baseline-since/--baseline-until")
    if b_end > start and b_start < end:
        which = _B_UNTIL if until_given else _B_SINCE
        msg = (f"triage: the baseline {iso(b_start)} .. {iso(b_end)} overlaps the window {iso(start)} .. {iso(end)}; "
               "rows in both would be compared with themselves and hide the change")
        raise UsageError(msg, column=which.split()[0], expected=f"a baseline ending at or before {iso(start)}",
                         found=f"{which} gives {iso(b_end if until_given else b_start)}",
                         hint="end the baseline at --since (leave --baseline-until out), or start the window later")


#: how much of a confident score's excess over the threshold rests on the share of the quality drop
#: a cause explains (see :func:`weigh_by_share`)
SHARE_WEIGHT = 0.9


def weigh_by_share(f: Finding, threshold: float = DECISION_THRESHOLD) -> Finding:
    """Rank confident causes by the share of the quality drop they explain.

    A finding above ``threshold`` with a known ``explains`` below 1 keeps
    ``threshold + (score - threshold) * (1 - SHARE_WEIGHT * (1 - explains))``: it stays confident
    (a cause of drift that costs no quality is still a cause), but when two real causes coincide
    (a retrain rolled out in the hour an upstream unit change landed) the one accounting for more
    of the drop ranks first, so the verdict names the larger. Scores at or below the threshold,
    and findings without ``explains`` (latency, capture, personal data), are left as they are.
    """
    if f.explains is None or f.explains >= 1.0 or f.score <= threshold:
        return f
    share = min(max(float(f.explains), 0.0), 1.0)
    return _with(f, score=round(threshold + (f.score - threshold) * (1.0 - SHARE_WEIGHT * (1.0 - share)), 4))


def _with(f: Finding, **kw) -> Finding:
    from dataclasses import replace

    return replace(f, **kw)


def triage(lake: Lake | str | Path, since, until=None, *, baseline_since=None, baseline_until=None,
           hypotheses: Iterable[Hypothesis] | None = None, plugins: bool = True,
           threshold: float = DECISION_THRESHOLD, progress: Callable[[str], None] | None = None,
           mask_key: str | bytes | None = None, trust_artifacts: bool = False) -> Findings:
    """What went wrong in ``[since, until)``, why, and since when.

    Parameters
    ----------
    lake : Lake or path
    since, until : datetime or ISO-8601 str
        The incident window as the analyst knows it; ``until`` defaults to the end of the data.
        It may start well before the fault: the onset is estimated, not assumed.
    baseline_since, baseline_until : optional
        Reference window; defaults to the 7 days before ``since``, clipped to the data.
    hypotheses : iterable of Hypothesis, optional
        Replace the built-in + plugin hypotheses.
    threshold : float
        Verdict ``"none"`` below this score (see :data:`DECISION_THRESHOLD`).
    progress : callable, optional
        Receives a short message at each step (the CLI prints them).
    trust_artifacts : bool, default False
        Let replays load pickle/joblib artifacts and untrusted skops types (see
        :func:`workbench.explain.load_artifact`). Without it such artifacts are skipped, and
        ``meta["notes"]`` says why.

    Returns
    -------
    Findings
        Ranked hypotheses; ``.verdict``, ``.to_dict()`` (the findings contract), notebook repr.

    Examples
    --------
    >>> f = wb.triage("datasets/demo-lake", since="2026-03-17")   # doctest: +SKIP
    >>> f.verdict                                                 # doctest: +SKIP
    {'cause': 'schema_mismatch', 'score': 0.97}
    """
    t0 = time.perf_counter()
    prefetch()  # scipy.stats loads in the background while the lake is opened and summarised
    say = progress or (lambda msg: None)
    if not isinstance(lake, Lake):
        lake = open_lake(lake, mask_key=mask_key)
    lo, hi = lake.time_range()
    start = parse_time(since, what="since")  # triage needs a window start: no default here
    w = default_windows(lo, hi, since=start, until=until, baseline_since=baseline_since,
                        baseline_until=baseline_until)
    end = w.end
    if start > hi or end <= lo:
        raise EmptyDataError(f"triage: no predictions in the window {iso(start)} .. {iso(end)}; the data covers "
                             f"{iso(lo)} .. {iso(hi)}", file=str(lake.root))
    if end <= start:
        raise UsageError(f"triage: the window is empty (since {iso(start)} is not before until {iso(end)})",
                         hint="give --until after --since, or leave it out to use the end of the data")
    b_start, b_end = w.baseline_start, w.baseline_end
    _check_baseline(b_start, b_end, start, end, lo, given=(baseline_since is not None, baseline_until is not None))
    ctx = Context(lake, start=start, end=end, baseline_start=b_start, baseline_end=b_end, progress=say,
                  trust_artifacts=trust_artifacts)
    if ctx.window.rows == 0:
        raise EmptyDataError(f"triage: no predictions in the window {iso(start)} .. {iso(end)}", file=str(lake.root))
    if ctx.baseline.rows == 0:
        raise EmptyDataError(f"triage: no predictions in the baseline {iso(b_start)} .. {iso(b_end)}",
                             file=str(lake.root))
    hs = list(hypotheses) if hypotheses is not None else load_hypotheses(plugins=plugins)
    say(f"testing {len(hs)} hypotheses")
    findings, errors = rank_hypotheses(ctx, hs, threshold=threshold)
    symptoms = ctx.symptoms
    top = findings[0] if findings and findings[0].score >= threshold else None
    quality = next((s for s in symptoms if s.get("breached") and s.get("interval")), None)
    impact = measure_impact(lake, top, end=end, quality=quality)
    # no timings in the document: the same lake must give the same bytes (progress reports the time)
    say(f"done in {time.perf_counter() - t0:.1f} s")
    meta = {"workbench": __version__,
            "hypotheses": [getattr(h, "name", repr(h)) for h in hs], "errors": errors,
            "drifted_features": [f.feature for f in ctx.drift.drifted], "notes": list(ctx.notes),
            "invalid_values": dict(ctx.invalid_values)}
    return Findings(lake=lake.name, window={"start": start, "end": end, "rows": ctx.window.rows},
                    baseline={"start": b_start, "end": b_end, "rows": ctx.baseline.rows},
                    symptoms=tuple(symptoms), hypotheses=tuple(findings), threshold=threshold, meta=meta,
                    impact=impact)
