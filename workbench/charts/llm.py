"""Charts of LLM calls (``task: generation`` lakes): quality and cost proxies over time split by
what the calls depend on, the finish-reason mix, and tokens / cost / latency / time to first token.

Pure functions over small frames computed in :mod:`workbench.evidence.llm_frames` (never here). Time
axes are UTC; the onset is a red rule and lineage events (prompt versions, index builds, releases,
provider model updates) are dashed rules labelled with their kind and subject, as in
:mod:`workbench.charts.causes`. Every mark has a tooltip.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from workbench.charts.causes import _HEIGHT, _markers, _rows
from workbench.charts.charts import _WIDTH, _records, _time_tip, _time_x

__all__ = ["finish_mix_chart", "proxy_over_time_chart", "usage_over_time_chart"]

#: how a group key is called on a chart
KEY_TITLES = {"prompt": "prompt version", "response_model": "response model", "request_model": "requested model",
              "index_version": "index build", "model_version": "release", "router_decision": "router decision",
              "provider": "provider", "route": "route"}


def _key_title(key: str) -> str:
    return KEY_TITLES.get(key, key)


def proxy_over_time_chart(frame: pl.DataFrame, *, label: str, key: str, kind: str = "rate", unit: str = "",
                          onset: dt.datetime | None = None, events: pl.DataFrame | None = None,
                          culprit: str | None = None, title: str | None = None) -> alt.LayerChart:
    """A proxy per bucket, one line per value of ``key`` with its 95 % interval as a band.

    Parameters
    ----------
    frame : DataFrame
        ``bucket, group, estimate, low, high, n`` (``group``: the value of ``key``).
    label, kind, unit :
        The proxy's label, ``rate`` (drawn as a percentage) or ``mean``, and its unit.
    culprit : str, optional
        The value of ``key`` a finding blames: drawn thicker.
    """
    fmt = ".1%" if kind == "rate" else ".4~g"
    ytitle = f"{label}{f' ({unit})' if unit else ''}"
    # the rows are the layer's own data (band and line inherit it), set after combining (Altair
    # deep-copies subcharts' data when combining them), as a plain dict (not validated row by row)
    base = alt.Chart()
    color = alt.Color("group:N", title=_key_title(key))
    tips = [_time_tip("bucket", "hour"), alt.Tooltip("group:N", title=_key_title(key)),
            alt.Tooltip("estimate:Q", title=label, format=fmt), alt.Tooltip("low:Q", format=fmt),
            alt.Tooltip("high:Q", format=fmt), alt.Tooltip("n:Q", title="calls", format=",")]
    yaxis = alt.Axis(format="%") if kind == "rate" else alt.Axis()
    band = base.mark_area(opacity=0.15).encode(x=_time_x("bucket"), y=alt.Y("low:Q"), y2="high:Q", color=color,
                                               tooltip=tips)
    width = (alt.condition(alt.datum.group == culprit, alt.value(3), alt.value(1.5)) if culprit else alt.value(1.5))
    lines = base.mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=_time_x("bucket"), y=alt.Y("estimate:Q", title=ytitle, axis=yaxis, scale=alt.Scale(zero=kind == "rate")),
        color=color, strokeWidth=width, tooltip=tips)
    blame = f" (culprit: {culprit})" if culprit else ""
    out = alt.layer(band, lines, *_markers(onset, events))
    out.data = {"values": _rows(frame)}
    return out.properties(
        width=_WIDTH, height=_HEIGHT + 30,
        title=title or f"{label} per hour by {_key_title(key)}{blame} (band: 95% interval; red: onset; "
                       "dashed: lineage)")


def finish_mix_chart(frame: pl.DataFrame, *, onset: dt.datetime | None = None, events: pl.DataFrame | None = None,
                     title: str | None = None) -> alt.LayerChart:
    """Share of calls per finish reason per bucket, stacked (``bucket, finish_reason, share, calls``)."""
    order = ["stop", "length", "content_filter", "tool_calls", "other"]
    bars = alt.Chart({"values": _rows(frame)}).mark_area().encode(
        x=_time_x("bucket"), y=alt.Y("share:Q", title="share of calls", axis=alt.Axis(format="%"), stack="normalize"),
        color=alt.Color("finish_reason:N", title="finish reason", sort=order,
                        scale=alt.Scale(domain=order, range=["#9ecae1", "#ff7f0e", "#d62728", "#2ca02c", "#7f7f7f"])),
        order=alt.Order("rank:Q"),
        tooltip=[_time_tip("bucket", "hour"), "finish_reason:N", alt.Tooltip("share:Q", format=".2%"),
                 alt.Tooltip("calls:Q", title="calls with this reason", format=",")])
    return alt.layer(bars, *_markers(onset, events)).properties(
        width=_WIDTH, height=_HEIGHT, title=title or "Finish reasons per hour (length: truncated; content_filter: "
                                                     "stopped by the provider's filter)")


def usage_over_time_chart(frame: pl.DataFrame, *, key: str, onset: dt.datetime | None = None,
                          events: pl.DataFrame | None = None, title: str | None = None) -> alt.VConcatChart:
    """Tokens, cost and latency per bucket by a key, one panel per measure.

    ``frame``: ``bucket, group, measure, value, n`` where ``measure`` is a label such as
    "input tokens per call", "cost per 1k calls (USD)", "latency p95 (ms)" or "TTFT p95 (ms)";
    panels come in the order measures first appear.
    """
    measures = list(dict.fromkeys(frame["measure"].to_list())) if frame.height else []
    if not measures:
        from workbench.charts.causes import note_chart

        return alt.vconcat(note_chart("no tokens, cost or latency logged for these calls"))
    # the rows travel once, as the top-level data every panel inherits and filters by measure; set
    # after the panels are combined (Altair deep-copies subcharts' data when combining them)
    base = alt.Chart()
    marks = _markers(onset, events)  # the same rules on every panel, built once
    panels = []
    for m in measures:
        tips = [_time_tip("bucket", "hour"), alt.Tooltip("group:N", title=_key_title(key)),
                alt.Tooltip("value:Q", title=m, format=",.4~g"), alt.Tooltip("n:Q", title="calls", format=",")]
        line = base.transform_filter(alt.datum.measure == m).mark_line(point=alt.OverlayMarkDef(size=10)).encode(
            x=_time_x("bucket"), y=alt.Y("value:Q", title=m, scale=alt.Scale(zero=False)),
            color=alt.Color("group:N", title=_key_title(key)), tooltip=tips)
        panels.append(alt.layer(line, *marks).properties(width=_WIDTH, height=110, title=m))
    out = alt.vconcat(*panels).properties(title=title or f"Tokens, cost and latency per hour by {_key_title(key)}")
    out.data = {"values": _records(frame)}  # a plain dict: not validated row by row
    return out
