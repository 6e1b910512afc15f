"""The symptom table of a triage: each service level and quality measure, baseline against window,
with its objective and whether it is breached (the ``symptoms`` of the findings contract)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from workbench.evidence.drift import DriftResult
from workbench.evidence.overlap import floor_hour
from workbench.evidence.quality import QualityResult
from workbench.evidence.slis import SLIResult
from workbench.lake.manifest import SLO
from workbench.results import Result

__all__ = ["QUALITY_SYMPTOMS", "SYMPTOM_MIN_ROWS", "Symptom", "capture_rates", "symptom_table"]

#: quality measures reported as symptoms (those the task measures); each carries an interval
QUALITY_SYMPTOMS = ("auc", "accuracy", "mae")
#: fewest rows a version × route group needs in the window for its p95 latency / fallback rate
#: to be the window's "current" value (the worst group's): fewer, and one slow request decides it
SYMPTOM_MIN_ROWS = 30


@dataclass(frozen=True, repr=False)
class Symptom(Result):
    """One row of the symptom table."""

    sli: str
    baseline: float | None
    current: float | None
    slo: float | None
    breached: bool
    interval: tuple[float, float] | None = None  # the window's 95 % interval (quality measures)

    def as_row(self) -> dict[str, Any]:
        """The row of the findings document (``interval`` only for quality measures)."""
        row = {"sli": self.sli, "baseline": self.baseline, "current": self.current, "slo": self.slo,
               "breached": self.breached}
        if self.sli in QUALITY_SYMPTOMS:
            row["interval"] = self.interval
        return row

    def _summary(self) -> str:
        return f"{self.sli}: {self.baseline} -> {self.current}" + (" (breached)" if self.breached else "")


def capture_rates(capture: pl.DataFrame | None, *, baseline_end: dt.datetime,
                  start: dt.datetime) -> tuple[float | None, float | None]:
    """Logged rows / ingress requests over the baseline and over the window (None: no ingress)."""
    if capture is None:
        return None, None
    tb = capture.filter(pl.col("bucket") < floor_hour(baseline_end))
    tw = capture.filter(pl.col("bucket") >= floor_hour(start))
    cap_b = tb["n"].sum() / tb["requests"].sum() if tb["requests"].sum() else None
    cap_w = tw["n"].sum() / tw["requests"].sum() if tw["requests"].sum() else None
    return cap_b, cap_w


def _weighted(res: SLIResult, key: str, weight: str = "n") -> float | None:
    vals = [(g.get(key), g.get(weight) or 0) for g in res.groups if g.get(key) is not None]
    tot = sum(n for _, n in vals)
    return sum(v * n for v, n in vals) / tot if tot else None


def symptom_table(slis: tuple[SLIResult, SLIResult], quality: tuple[QualityResult, QualityResult],
                  drift: DriftResult, slo: SLO, *, capture: pl.DataFrame | None = None,
                  baseline_end: dt.datetime, start: dt.datetime,
                  min_rows: int = SYMPTOM_MIN_ROWS) -> list[Symptom]:
    """SLIs and quality, baseline against window, with the objective and whether breached.

    Latency p95 and fallback rate: the baseline's row-weighted mean against the window's worst
    version × route group (of at least ``min_rows`` rows), breached when any group breaches its
    objective. Capture rate (with ingress counts): logged / ingress over each side. Quality:
    breached when the window's 95 % interval lies wholly on the worse side of the baseline's
    value. Last, the count of drifted features.

    Parameters
    ----------
    slis, quality : (baseline, window) pairs
    drift : DriftResult
    slo : SLO
    capture : DataFrame, optional
        ``bucket, requests, n`` over baseline + window (see ``Context.capture``).
    baseline_end, start : datetime
        Where the baseline ends and the window starts.
    min_rows : int

    Examples
    --------
    >>> symptom_table(ctx.slis, ctx.quality, ctx.drift, lake.manifest.slo, capture=ctx.capture,
    ...               baseline_end=ctx.baseline_end, start=ctx.start)          # doctest: +SKIP
    """
    b, w = slis
    out = []
    for sli, objective in (("latency_p95_ms", slo.latency_p95_ms), ("fallback_rate", slo.fallback_rate)):
        key = "p95" if sli == "latency_p95_ms" else sli
        cur = max((g[key] for g in w.groups if g.get(key) is not None and g["n"] >= min_rows), default=None)
        breached = any(sli in g["breached"] for g in w.groups)
        out.append(Symptom(sli, _weighted(b, key), cur, objective, breached))
    cap_b, cap_w = capture_rates(capture, baseline_end=baseline_end, start=start)
    if cap_w is not None:
        out.append(Symptom("capture_rate", cap_b, cap_w, slo.capture_rate, cap_w < slo.capture_rate))
    qb, qw = quality
    for metric in QUALITY_SYMPTOMS:
        vb = qb.groups[0].get(metric) if qb.groups else None
        vw = qw.groups[0].get(metric) if qw.groups else None
        if vb is not None and vw is not None:
            ci = qw.groups[0].get(f"{metric}_ci")
            worse = ci is not None and (ci[1] < vb if metric != "mae" else ci[0] > vb)
            out.append(Symptom(metric, vb, vw, None, bool(worse), ci))
    out.append(Symptom("drifted_features", 0, len(drift.drifted), None, bool(drift.drifted)))
    return out
