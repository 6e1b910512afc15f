"""The evidence chart of each cause: what a reader needs to see to believe the verdict.

Each hypothesis names its chart (``Hypothesis.chart``, a key of :data:`CAUSE_CHARTS`); the data
each function draws is computed in :mod:`workbench.report.evidence_charts`, never here. Every
time axis is UTC; the onset is a red rule labelled "onset" and lineage events are dashed rules
labelled with their kind and subject; every mark has a tooltip.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import polars as pl

from workbench.charts.charts import _WIDTH, _data, _records, _time_tip, _time_x, distribution_chart
from workbench.results import iso

__all__ = ["CAUSE_CHARTS", "capture_by_route_chart", "embedding_drift_chart", "feature_shift_chart",
           "latency_by_version_chart", "note_chart", "output_mix_chart", "pii_hits_chart", "quality_by_version_chart",
           "segment_by_version_chart"]

_HEIGHT = 150
_ONSET = "#d62728"


def _rows(frame: pl.DataFrame | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    return _records(frame) if isinstance(frame, pl.DataFrame) else list(frame)


def _markers(onset: dt.datetime | None, events: pl.DataFrame | None) -> list[alt.Chart]:
    """The onset (red) and lineage events (dashed), each a rule with its label beside it."""
    layers = []
    ev = _rows(events.select("at", "kind", "subject") if events is not None and events.height else None)
    if ev:
        base = alt.Chart(_data(ev)).transform_calculate(
            label="datum.subject ? datum.kind + ': ' + datum.subject : datum.kind")
        tip = ["kind:N", "subject:N", _time_tip("at", "at")]
        # labels run down beside their rule: events minutes apart (rollout steps) stay readable
        layers += [base.mark_rule(color="#555", strokeDash=[4, 3]).encode(x=_time_x("at"), tooltip=tip),
                   base.mark_text(angle=90, align="left", baseline="bottom", dy=-3, fontSize=9, color="#555",
                                  limit=140).encode(x=_time_x("at"), y=alt.value(14), text="label:N", tooltip=tip)]
    if onset is not None:
        base = alt.Chart(_data([{"at": iso(onset), "what": "onset"}]))
        tip = ["what:N", _time_tip("at", "onset")]
        layers += [base.mark_rule(color=_ONSET, strokeWidth=2).encode(x=_time_x("at"), tooltip=tip),
                   base.mark_text(align="left", baseline="top", dx=4, fontSize=10, fontWeight="bold",
                                  color=_ONSET).encode(x=_time_x("at"), y=alt.value(0), text="what:N", tooltip=tip)]
    return layers


def _series(frame: pl.DataFrame, y: str, title: str, *, color: str | None = None,
            tooltip: list | None = None, onset=None, events=None, band: tuple[str, str] | None = None,
            zero: bool = False) -> alt.LayerChart:
    """An hourly series (``bucket`` + ``y``) with optional interval band and the markers."""
    base = alt.Chart(_data(_rows(frame)))
    enc_color = {"color": alt.Color(f"{color}:N", title={"model_version": "version"}.get(color, color))} if color else {}
    tips = [_time_tip("bucket", "time"), *(tooltip or [alt.Tooltip(f"{y}:Q", format=".3~g")])]
    layers = []
    if band:
        layers.append(base.mark_area(opacity=0.2).encode(
            x=_time_x("bucket"), y=alt.Y(f"{band[0]}:Q"), y2=f"{band[1]}:Q", tooltip=tips, **enc_color))
    layers.append(base.mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=_time_x("bucket"), y=alt.Y(f"{y}:Q", title=title, scale=alt.Scale(zero=zero)), tooltip=tips,
        **enc_color))
    return alt.layer(*layers, *_markers(onset, events)).properties(width=_WIDTH, height=_HEIGHT)


def feature_shift_chart(distribution: pl.DataFrame, hourly: pl.DataFrame, *, feature: str,
                        onset: dt.datetime | None = None, events: pl.DataFrame | None = None,
                        category: str | None = None, title: str | None = None) -> alt.VConcatChart:
    """A feature's baseline vs window distribution, then its hourly mean (numeric) or the share of
    ``category`` and of values unseen in the baseline (categorical), and its null rate, with the
    onset and the schema / dependency changes marked.

    Parameters
    ----------
    distribution : DataFrame
        ``bin, order, share, which`` (``which`` is ``baseline`` or ``window``), as
        :func:`~workbench.charts.distribution_chart` draws it.
    hourly : DataFrame
        ``bucket, rows, null_rate`` and ``mean`` (numeric) or ``category_share`` and ``unseen_share``
        (categorical).
    """
    dist = distribution_chart(distribution, feature=feature).properties(
        title=f"{feature}: baseline vs window since the onset")
    panels = [dist]
    rows = alt.Tooltip("rows:Q", format=",")
    if "mean" in hourly.columns:
        panels.append(_series(hourly, "mean", f"{feature} hourly mean", onset=onset, events=events,
                              tooltip=[alt.Tooltip("mean:Q", format=".4~g"), rows]).properties(
            title=f"{feature}: hourly mean (red: onset; dashed: lineage)"))
    if "category_share" in hourly.columns:
        what = category or "the category"
        panels.append(_series(hourly, "category_share", f"share of {what}", onset=onset, events=events, zero=True,
                              tooltip=[alt.Tooltip("category_share:Q", format=".1%"), rows]).properties(
            title=f"{feature}: hourly share of {what} (the value whose share moved most)"))
    if "unseen_share" in hourly.columns:
        panels.append(_series(hourly, "unseen_share", "share unseen in the baseline", onset=onset, events=events,
                              tooltip=[alt.Tooltip("unseen_share:Q", format=".1%"), rows], zero=True).properties(
            title=f"{feature}: hourly share of values the baseline never had"))
    panels.append(_series(hourly, "null_rate", "null rate", onset=onset, events=events, zero=True,
                          tooltip=[alt.Tooltip("null_rate:Q", format=".1%"), rows]).properties(
        title=f"{feature}: hourly null rate"))
    return alt.vconcat(*panels).properties(title=title or f"{feature}: what changed")


def latency_by_version_chart(frame: pl.DataFrame, *, version: str, onset: dt.datetime | None = None,
                             events: pl.DataFrame | None = None, slo_ms: float | None = None,
                             title: str | None = None) -> alt.LayerChart:
    """Hourly p50 / p95 / p99 latency per version (``bucket, model_version, p50, p95, p99, n``),
    the rollout marked, the p95 objective as an orange rule."""
    qs = [q for q in ("p50", "p95", "p99") if q in frame.columns]
    base = alt.Chart(_data(_rows(frame))).transform_fold(qs, as_=["quantile", "ms"])
    lines = base.mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=_time_x("bucket"), y=alt.Y("ms:Q", title="latency (ms)", scale=alt.Scale(type="log")),
        color=alt.Color("model_version:N", title="version"),
        strokeDash=alt.StrokeDash("quantile:N", title="quantile", sort=qs),
        tooltip=[_time_tip("bucket", "hour"), alt.Tooltip("model_version:N", title="version"), "quantile:N",
                 alt.Tooltip("ms:Q", format=".0f"), alt.Tooltip("n:Q", title="rows", format=",")])
    layers = [lines]
    if slo_ms is not None:
        layers.append(alt.Chart(_data([{"slo": slo_ms, "what": "p95 objective"}])).mark_rule(
            color="#ff7f0e").encode(y="slo:Q", tooltip=["what:N", alt.Tooltip("slo:Q", title="ms")]))
    return alt.layer(*layers, *_markers(onset, events)).properties(
        width=_WIDTH, height=200,
        title=title or f"Latency p50 / p95 / p99 per version: {version} (red: rollout; orange: p95 objective)")


def segment_by_version_chart(frame: pl.DataFrame, *, column: str, value: str, metric: str, version: str,
                             previous: str | None = None, title: str | None = None) -> alt.LayerChart:
    """A segment column's metric per value and version with 95 % intervals
    (``value, model_version, estimate, low, high, labelled, culprit``); the culprit value in bold."""
    base = alt.Chart(_data(_rows(frame)))
    y = alt.Y("value:N", title=column, sort=alt.EncodingSortField("value"))
    tips = ["value:N", alt.Tooltip("model_version:N", title="version"),
            alt.Tooltip("estimate:Q", title=metric, format=".3f"), alt.Tooltip("low:Q", format=".3f"),
            alt.Tooltip("high:Q", format=".3f"), alt.Tooltip("labelled:Q", format=",")]
    color = alt.Color("model_version:N", title="version")
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("low:Q", title=f"{metric} (95% interval)",
                                                        scale=alt.Scale(zero=False)),
                                                x2="high:Q", y=y, yOffset="model_version:N", color=color,
                                                tooltip=tips)
    points = base.mark_point(filled=True, size=70).encode(
        x="estimate:Q", y=y, yOffset="model_version:N", color=color, tooltip=tips,
        shape=alt.Shape("culprit:N", title=None, scale=alt.Scale(domain=[True, False], range=["diamond", "circle"]),
                        legend=None))
    against = f" against {previous}" if previous else ""
    return alt.layer(bars, points).properties(
        width=_WIDTH, title=title or f"{metric} by {column} per version: {column}={value} with {version}{against}")


def quality_by_version_chart(frame: pl.DataFrame, *, metric: str, version: str, onset: dt.datetime | None = None,
                             events: pl.DataFrame | None = None, title: str | None = None) -> alt.LayerChart:
    """Quality per version over time with its 95 % interval as a band
    (``bucket, model_version, estimate, low, high, labelled``), the rollout marked."""
    tips = [alt.Tooltip("model_version:N", title="version"), alt.Tooltip("estimate:Q", title=metric, format=".3f"),
            alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"),
            alt.Tooltip("labelled:Q", format=",")]
    return _series(frame, "estimate", f"{metric} (95% interval)", color="model_version", band=("low", "high"),
                   tooltip=tips, onset=onset, events=events).properties(
        title=title or f"{metric} per version over time: {version} (band: 95% interval; red: rollout)")


def capture_by_route_chart(frame: pl.DataFrame, *, route: str | None = None, onset: dt.datetime | None = None,
                           events: pl.DataFrame | None = None, title: str | None = None) -> alt.LayerChart:
    """Hourly capture rate (logged rows / ingress requests) per route
    (``bucket, route, capture, logged, requests``)."""
    tips = ["route:N", alt.Tooltip("capture:Q", format=".1%"), alt.Tooltip("logged:Q", format=",.0f"),
            alt.Tooltip("requests:Q", format=",.0f")]
    where = f" (culprit: {route})" if route else ""
    return _series(frame, "capture", "capture rate (logged / ingress)", color="route", tooltip=tips,
                   onset=onset, events=events).properties(
        height=200, title=title or f"Capture rate per route{where}")


def embedding_drift_chart(frame: pl.DataFrame, *, column: str, dependency: str | None = None,
                          onset: dt.datetime | None = None, events: pl.DataFrame | None = None,
                          title: str | None = None) -> alt.VConcatChart:
    """An embedding's hourly centroid shift from the baseline (in baseline spreads) and mean norm
    (``bucket, shift, norm, rows``), the dependency change marked."""
    rows = alt.Tooltip("rows:Q", title="rows sampled", format=",")
    shift = _series(frame, "shift", "centroid shift (baseline spreads)", onset=onset, events=events, zero=True,
                    tooltip=[alt.Tooltip("shift:Q", format=".3f"), rows]).properties(
        title=f"{column}: hourly centroid shift from the baseline")
    norm = _series(frame, "norm", "mean vector norm", onset=onset, events=events,
                   tooltip=[alt.Tooltip("norm:Q", format=".3f"), rows]).properties(title=f"{column}: hourly mean norm")
    dep = f" when {dependency} changed" if dependency else ""
    return alt.vconcat(shift, norm).properties(title=title or f"{column}: embedding drift over time{dep}")


def pii_hits_chart(frame: pl.DataFrame, *, column: str, onset: dt.datetime | None = None,
                   events: pl.DataFrame | None = None, title: str | None = None) -> alt.LayerChart:
    """Rows with personal data per hour and column (``bucket, column, kind, hits, rows``)."""
    bars = alt.Chart(_data(_rows(frame))).mark_bar().encode(
        x=_time_x("bucket", time_unit="utcyearmonthdatehours"), y=alt.Y("sum(hits):Q", title="rows with a match"),
        color=alt.Color("column:N", title="column"),
        tooltip=[alt.Tooltip("bucket:T", timeUnit="utcyearmonthdatehours", title="hour (UTC)"), "column:N",
                 "kind:N", alt.Tooltip("sum(hits):Q", title="hits", format=","),
                 alt.Tooltip("sum(rows):Q", title="rows scanned", format=",")])
    return alt.layer(bars, *_markers(onset, events)).properties(
        width=_WIDTH, height=_HEIGHT, title=title or f"Personal data in {column}: matching rows per hour")


def output_mix_chart(frame: pl.DataFrame, *, what: str, version: str, previous: str | None = None,
                     title: str | None = None) -> alt.Chart:
    """Shares of each score bin or class per version (``model_version, bin, order, share, rows``)."""
    against = f" against {previous}" if previous else ""
    return alt.Chart(_data(_rows(frame))).mark_bar().encode(
        x=alt.X("bin:N", sort=alt.EncodingSortField("order"), title=what), xOffset="model_version:N",
        y=alt.Y("share:Q", title="share of rows", axis=alt.Axis(format="%")),
        color=alt.Color("model_version:N", title="version"),
        tooltip=[alt.Tooltip("model_version:N", title="version"), alt.Tooltip("bin:N", title=what),
                 alt.Tooltip("share:Q", format=".1%"), alt.Tooltip("rows:Q", title="rows of the version", format=",")],
    ).properties(width=_WIDTH, height=_HEIGHT, title=title or f"{what} per version: {version}{against}")


def note_chart(text: str) -> alt.Chart:
    """A line of text where a chart could not be drawn (what data was missing)."""
    return alt.Chart(_data([{"note": text}])).mark_text(
        align="left", fontSize=12, color="#555", limit=_WIDTH * 1.4).encode(
        x=alt.value(0), text="note:N", tooltip=["note:N"]).properties(width=_WIDTH, height=20)


#: chart name (``Hypothesis.chart``) -> the function drawing it
CAUSE_CHARTS = {"feature_shift": feature_shift_chart, "latency_by_version": latency_by_version_chart,
                "segment_by_version": segment_by_version_chart, "quality_by_version": quality_by_version_chart,
                "capture_by_route": capture_by_route_chart, "embedding_drift": embedding_drift_chart,
                "pii_hits": pii_hits_chart, "output_mix": output_mix_chart}


# the generation causes' chart lives with the other LLM charts (it reads this module's markers)
from workbench.charts.llm import proxy_over_time_chart  # noqa: E402

CAUSE_CHARTS["llm_proxies"] = proxy_over_time_chart
