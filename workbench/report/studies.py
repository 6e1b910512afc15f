"""The typed results of the report studies (what :mod:`workbench.report.sections` returns).

Each is a frozen dataclass: its summary line is made once, by the function building it, and
``repr`` only shows it (it never computes); in a notebook a study shows its summary (Markdown as
HTML) and its main table. Templates display the attributes through ``report.table``;
``to_dict()`` writes ``{"kind", "summary", "data": {field: value}}``, the ``findings.json`` layout
reports have always had.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from workbench.results import Result, jsonable

__all__ = ["BiasStudy", "CanaryReview", "DriftStudy", "HealthStudy", "LatencyStudy", "Postmortem", "Study"]

#: The longest summary a ``repr`` shows (the whole summary is the notebook's markdown output).
REPR_WIDTH = 100


def _conv(v: Any) -> Any:
    if isinstance(v, pl.DataFrame):
        return jsonable(v.to_dicts())
    if hasattr(v, "to_dict") and not isinstance(v, dict):
        return v.to_dict()
    if isinstance(v, (list, tuple)):
        return [_conv(x) for x in v]
    return jsonable(v)


@dataclass(frozen=True, repr=False)
class Study(Result):
    """Base of the studies: a kind, a one-paragraph summary (markdown) and typed fields."""

    kind: ClassVar[str] = "study"
    summary: str

    def _fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "summary"}

    @property
    def data(self) -> dict[str, Any]:
        """The fields by name (read-only copy), for notebooks written against the untyped ``Study``
        of earlier releases: prefer the attributes."""
        return self._fields()

    def __getitem__(self, name: str) -> Any:
        """``study["checks"]`` is ``study.checks`` (the same compatibility as :attr:`data`)."""
        if name not in self._fields():
            raise KeyError(f"{type(self).__name__} has no field {name!r}; it has {', '.join(self._fields())}")
        return getattr(self, name)

    def _summary(self) -> str:
        line = self.summary.splitlines()[0] if self.summary else ""
        return line if len(line) <= REPR_WIDTH else line[:REPR_WIDTH - 1] + "…"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "summary": self.summary, "data": {k: _conv(v) for k, v in self._fields().items()}}

    #: The field holding the study's main table, and the column (of booleans or text) whose true
    #: or non-empty rows are highlighted.
    main: ClassVar[tuple[str, str | None] | None] = None

    def _repr_markdown_(self) -> str:
        return self.summary

    def main_table(self):
        """The study's main table: a :class:`workbench.tables.Table` of a frame, or the result
        holding it (which renders itself); None when the study has none."""
        from workbench.tables import table

        if self.main is None:
            return None
        field, highlight = self.main
        data = getattr(self, field)
        if data is None or not isinstance(data, pl.DataFrame):
            return data
        if highlight not in data.columns:
            highlight = None
        return table(data, highlight=highlight) if data.height else None

    def _repr_html_(self) -> str:
        """The summary (Markdown as HTML) and the main table: never the ``repr`` line."""
        from workbench.tables import markdown_html

        t = self.main_table()
        return (f'<div class="workbench-study workbench-{self.kind}">{markdown_html(self.summary)}'
                + (t._repr_html_() if t is not None else "") + "</div>")


@dataclass(frozen=True, repr=False)
class DriftStudy(Study):
    """Per-feature drift between a baseline and a window, with each feature's provenance."""

    kind: ClassVar[str] = "drift"
    main: ClassVar[tuple[str, str | None] | None] = ("provenance", "drifted")
    drift: Any  # workbench.evidence.DriftResult
    provenance: pl.DataFrame  # feature, drifted, psi, reasons, source, schema changes in range
    window: dict[str, dt.datetime]  # start, end
    baseline: dict[str, dt.datetime]  # start, end


@dataclass(frozen=True, repr=False)
class CanaryReview(Study):
    """Canary against primary on the hours both served: the verdict and the checks behind it.

    ``verdict`` is ``"go"``, ``"no-go"`` or ``"no canary"`` (one version only: nothing compared).
    """

    kind: ClassVar[str] = "canary"
    main: ClassVar[tuple[str, str | None] | None] = ("comparison", None)
    comparison: Any  # workbench.evidence.VersionComparison, None without a canary
    mismapping: Any  # workbench.evidence.MismappingResult
    checks: pl.DataFrame  # metric, primary, canary, p-value, test, worse (formatted)
    verdict: str
    canary: str | None
    primary: str
    shared_hours: int


@dataclass(frozen=True, repr=False)
class BiasStudy(Study):
    """Per-segment metric changes of ``version`` against ``previous``, and the worst slices."""

    kind: ClassVar[str] = "bias"
    main: ClassVar[tuple[str, str | None] | None] = ("table", "regressed on")
    deltas: list  # workbench.evidence.SegmentDeltas per segment column
    table: pl.DataFrame  # segment, value, rows, before, after, change, regressed on
    slices: Any  # workbench.evidence.SliceResult, None without categorical columns
    version: str
    previous: str


@dataclass(frozen=True, repr=False)
class LatencyStudy(Study):
    """Hourly latency quantiles by version, by version and route, and each version against the reference."""

    kind: ClassVar[str] = "latency"
    main: ClassVar[tuple[str, str | None] | None] = ("comparisons", "slower")
    hourly: pl.DataFrame  # bucket, model_version, p50, p95, p99
    by_version_route: pl.DataFrame
    comparisons: pl.DataFrame  # version, against, p95, reference p95, ratio, ratio 99% CI, slower
    slo_ms: float | None
    rollouts: pl.DataFrame  # the lake's timeline, rollouts only


@dataclass(frozen=True, repr=False)
class HealthStudy(Study):
    """SLIs per version and route, burn rates and alerts over the window."""

    kind: ClassVar[str] = "health"
    main: ClassVar[tuple[str, str | None] | None] = ("groups", "breached")
    slis: Any  # workbench.evidence.SLIResult
    groups: pl.DataFrame
    burn: pl.DataFrame
    alerts: pl.DataFrame
    quality: pl.DataFrame | None


@dataclass(frozen=True, repr=False)
class Postmortem(Study):
    """Triage's findings, the incident's timeline and times (MTTD, MTTR), verdicts and actions."""

    kind: ClassVar[str] = "postmortem"
    main: ClassVar[tuple[str, str | None] | None] = ("timeline", None)
    findings: Any  # workbench.rca.Findings
    timeline: pl.DataFrame  # at (ISO-8601 UTC), event
    mttd_hours: float | None
    mttr_hours: float | None
    verdicts: Any  # the analyst's verdicts file (YAML), None when not given
    actions: list[str]
    times: Any = None  # workbench.evidence.incident_times.IncidentTimes
