"""The charts. Each takes a result and returns an Altair chart (no computation beyond reshaping)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import polars as pl

from workbench.results import iso

__all__ = ["distribution_chart", "drift_chart", "heatmap_chart", "hypotheses_chart", "latency_chart", "quality_chart",
           "segment_chart", "series_chart", "slis_chart", "timeline_chart"]

_WIDTH = 560
#: Every time axis is in UTC (as the lake is), and says so: the viewer's time zone never shifts it.
TIME_TITLE = "time (UTC)"


def _time_x(field: str, *, title: str | None = TIME_TITLE, domain=None, time_unit: str | None = None) -> alt.X:
    """A temporal x encoding on a UTC scale (``timeUnit`` always a ``utc...`` one)."""
    scale = alt.Scale(type="utc", domain=domain) if domain else alt.Scale(type="utc")
    kw = {"timeUnit": time_unit} if time_unit else {}
    if time_unit and time_unit.endswith("date"):  # one tick per day: half-day ticks repeat the date label
        kw["axis"] = alt.Axis(tickCount={"interval": "day", "step": 1})
    return alt.X(f"{field}:T", title=title, scale=scale, **kw)


def _time_tip(field: str, title: str | None = None) -> alt.Tooltip:
    """A time in a tooltip, formatted in UTC and labelled so."""
    return alt.Tooltip(f"{field}:T", timeUnit="utcyearmonthdatehoursminutes", title=f"{title or field} (UTC)")


def inline_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` as the charts carry them inline (JSON-safe: times as ISO-8601 strings)."""
    def clean(v):
        if isinstance(v, (dt.datetime, dt.date)):
            return iso(v)
        return v
    return [{k: clean(v) for k, v in r.items()} for r in rows]


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    # inline values (JSON-safe): a chart carries its data, so a saved spec stands alone
    return alt.Data(values=inline_rows(rows))


def hypotheses_chart(findings) -> alt.Chart:
    """Ranked hypotheses as bars of their score, with the decision threshold as a rule."""
    rows = [{"rank": i, "cause": h.cause, "culprit": h.culprit(), "score": h.score,
             "label": f"{h.cause}: {h.culprit()}"} for i, h in enumerate(findings.hypotheses[:10], 1)]
    if not rows:
        rows = [{"rank": 1, "cause": "none", "culprit": "—", "score": 0.0, "label": "no hypothesis"}]
    bars = alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("score:Q", scale=alt.Scale(domain=[0, 1]), title="score"),
        y=alt.Y("label:N", sort=alt.EncodingSortField("rank"), title=None),
        color=alt.Color("cause:N", legend=None),
        tooltip=["cause:N", "culprit:N", alt.Tooltip("score:Q", format=".2f")])
    rule = alt.Chart(_data([{"threshold": findings.threshold}])).mark_rule(strokeDash=[4, 3]).encode(
        x="threshold:Q")
    return (bars + rule).properties(width=_WIDTH, title="Hypotheses (dashed: decision threshold)")


def drift_chart(drift, *, top: int = 15) -> alt.Chart:
    """Per-feature drift (PSI), drifted features highlighted."""
    feats = sorted(drift.features, key=lambda f: -f.psi)[:top]
    rows = [{"feature": f.feature, "psi": min(f.psi, 10.0), "js": f.js, "q_value": f.q_value,
             "drifted": "drifted" if f.drifted else "stable", "kind": f.kind} for f in feats]
    return alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("psi:Q", title="PSI (capped at 10)"),
        y=alt.Y("feature:N", sort="-x", title=None),
        color=alt.Color("drifted:N", scale=alt.Scale(domain=["drifted", "stable"], range=["#d62728", "#9e9e9e"]),
                        title=None),
        tooltip=["feature:N", "kind:N", alt.Tooltip("psi:Q", format=".3f"), alt.Tooltip("js:Q", format=".3f"),
                 alt.Tooltip("q_value:Q", format=".2g")],
    ).properties(width=_WIDTH, title="Drift per feature, baseline vs window")


def series_chart(frame: pl.DataFrame, *, y: str, title: str, color: str | None = None,
                 onset: dt.datetime | None = None, events: pl.DataFrame | None = None) -> alt.Chart:
    """A per-bucket series (``bucket`` + ``y`` [+ ``color``]) with the onset and lineage events as rules."""
    cols = ["bucket", y] + ([color] if color else [])
    base = alt.Chart(_data(frame.select(cols).to_dicts()))
    colour = {"color": alt.Color(f"{color}:N")} if color else {}
    line = base.mark_line(point=False).encode(x=_time_x("bucket"), y=alt.Y(f"{y}:Q", title=y), **colour)
    # invisible points carry the tooltips (a line's own tooltip names only its first point)
    tips = [_time_tip("bucket", "time"), alt.Tooltip(f"{y}:Q", format=",.4~g")] + ([f"{color}:N"] if color else [])
    points = base.mark_circle(size=40, opacity=0).encode(x=_time_x("bucket"), y=f"{y}:Q", tooltip=tips, **colour)
    layers = [line, points]
    if events is not None and events.height:
        ev = events.select(pl.col("at").alias("bucket"), "kind", "subject").to_dicts()
        layers.append(alt.Chart(_data(ev)).mark_rule(color="#888", strokeDash=[2, 2]).encode(
            x=_time_x("bucket"), tooltip=["kind:N", "subject:N", _time_tip("bucket", "at")]))
    if onset is not None:
        layers.append(alt.Chart(_data([{"bucket": onset, "what": "onset"}])).mark_rule(color="#d62728").encode(
            x=_time_x("bucket"), tooltip=["what:N", _time_tip("bucket", "at")]))
    return alt.layer(*layers).properties(width=_WIDTH, height=180, title=title)


def latency_chart(study, *, slo_ms: float | None = None, onset: dt.datetime | None = None) -> alt.Chart:
    """Hourly p95 latency per version against the SLO, from a latency study
    (:class:`workbench.report.LatencyStudy`: its ``hourly`` quantiles and ``slo_ms``).

    A frame (``bucket``, ``model_version``, ``p95``) is accepted too, with ``slo_ms`` given.
    """
    if isinstance(study, pl.DataFrame):
        frame = study
    else:
        frame = study.hourly
        slo_ms = study.slo_ms if slo_ms is None else slo_ms
    chart = series_chart(frame, y="p95", color="model_version", title="p95 latency (ms) per version",
                         onset=onset)
    if slo_ms is not None:
        rule = alt.Chart(_data([{"slo": slo_ms}])).mark_rule(color="#ff7f0e").encode(y="slo:Q")
        chart = alt.layer(chart, rule)
    return chart


def timeline_chart(timeline: pl.DataFrame, *, onset: dt.datetime | None = None,
                   start: dt.datetime | None = None, end: dt.datetime | None = None) -> alt.Chart:
    """Lineage events (rollouts, schema changes, dependency changes, ...) as ticks per kind, each
    labelled with its subject beside it; the onset as a red rule. Routine OpenLineage runs are left
    out (they would drown the rest). ``start`` / ``end`` zoom the axis (e.g. the onset ± 6 h)."""
    t = timeline
    if "kind" in t.columns:
        t = t.filter(pl.col("kind") != "openlineage_run")
    if start is not None and end is not None and t.height:
        t = t.filter((pl.col("at") >= start) & (pl.col("at") <= end))
    rows = t.select("at", "kind", "subject", "detail").to_dicts() if t.height else []
    x = _time_x("at", domain=[iso(start), iso(end)] if start and end else None)
    tip = [_time_tip("at"), "kind:N", "subject:N", "detail:N"]
    base = alt.Chart(_data(rows))
    ticks = base.mark_tick(thickness=2, size=18).encode(
        x=x, y=alt.Y("kind:N", title=None), color=alt.Color("kind:N", legend=None), tooltip=tip)
    labels = base.mark_text(align="left", baseline="middle", dx=5, fontSize=10, limit=220).encode(
        x=_time_x("at"), y=alt.Y("kind:N"), text="subject:N", tooltip=tip)
    layers = [ticks, labels]
    if onset is not None:
        o = alt.Chart(_data([{"at": onset, "what": "onset"}]))
        layers += [o.mark_rule(color="#d62728", strokeWidth=2).encode(x=_time_x("at"),
                                                                      tooltip=["what:N", _time_tip("at")]),
                   o.mark_text(align="left", baseline="top", dx=4, color="#d62728", fontWeight="bold").encode(
                       x=_time_x("at"), y=alt.value(0), text="what:N", tooltip=["what:N", _time_tip("at")])]
    n = len({r["kind"] for r in rows})
    return alt.layer(*layers).properties(width=_WIDTH, height=max(60, 28 * n),
                                         title="Lineage around the onset (red: onset; routine runs left out)")


def segment_chart(deltas, *, metric: str | None = None) -> alt.Chart:
    """Per-segment metric change between two versions, with 95 % intervals; regressed ones in red.

    ``metric`` defaults to the first metric a segment regressed on, else AUC, accuracy or MAE,
    whichever the deltas carry: the chart shows what went wrong, not a metric that stayed flat.
    """
    if metric is None:
        regressed = [m for r in deltas.rows for m in r["regressed_on"]]
        present = {m for r in deltas.rows for m in r["metrics"]}
        metric = regressed[0] if regressed else next((m for m in ("auc", "accuracy", "mae") if m in present),
                                                      "accuracy")
    rows = []
    for r in deltas.rows:
        m = r["metrics"].get(metric)
        if m is None:
            continue
        rows.append({"value": str(r["value"]), "delta": m["delta"], "low": m["ci"][0], "high": m["ci"][1],
                     "regressed": "regressed" if metric in r["regressed_on"] else "ok"})
    base = alt.Chart(_data(rows))
    points = base.mark_point(filled=True, size=60).encode(
        x=alt.X("delta:Q", title=f"{metric} change ({deltas.b} - {deltas.a})"),
        y=alt.Y("value:N", title=deltas.segment),
        color=alt.Color("regressed:N", scale=alt.Scale(domain=["regressed", "ok"], range=["#d62728", "#1f77b4"]),
                        title=None),
        tooltip=[alt.Tooltip("value:N", title=deltas.segment), alt.Tooltip("delta:Q", format="+.3f", title="change"),
                 alt.Tooltip("low:Q", format="+.3f", title="95% low"), alt.Tooltip("high:Q", format="+.3f",
                                                                                   title="95% high"),
                 alt.Tooltip("regressed:N", title="verdict")])
    bars = base.mark_rule().encode(x="low:Q", x2="high:Q", y="value:N")
    zero = alt.Chart(_data([{"x": 0}])).mark_rule(color="#888").encode(x="x:Q")
    return alt.layer(bars, points, zero).properties(width=_WIDTH, title=f"{metric} by {deltas.segment}")


def slis_chart(frame: pl.DataFrame, markers: pl.DataFrame | None = None, *, window_start=None,
               brush: bool = False) -> alt.Chart:
    """SLIs per bucket (volume, p50/p95/p99, fallback and capture rates) stacked, with lineage markers.

    The rows travel once, as named top-level datasets the panels refer to (layering inline data
    would copy it into every panel).
    """
    if frame.is_empty():
        return alt.Chart(_data([])).mark_text().properties(title="no rows in this selection")
    datasets = slis_datasets(frame, markers, window_start=window_start)
    panels = []
    specs = [("n", "volume (rows)"), ("p95", "latency p50 / p95 / p99 (ms)"), ("fallback_rate", "fallback rate"),
             ("capture_rate", "capture rate (logged / ingress)")]
    x = _time_x("bucket")
    for col, title in specs:
        if col not in frame.columns:
            continue
        base = alt.Chart(alt.NamedData(name="slis"))
        if col == "p95":
            qs = [c for c in ("p50", "p95", "p99") if c in frame.columns]
            line = base.transform_fold(qs, as_=["quantile", "ms"]).mark_line().encode(
                x=x, y=alt.Y("ms:Q", title=None), color=alt.Color("quantile:N"))
        else:
            line = base.mark_line().encode(x=x, y=alt.Y(f"{col}:Q", title=None))
        if col == "n" and brush:
            # drag across the volume panel to choose a time range (the Explorer sets its window)
            line = line.add_params(alt.selection_interval(name="brush", encodings=["x"]))
        layers = [line]
        if "markers" in datasets:
            layers.append(alt.Chart(alt.NamedData(name="markers")).mark_rule(strokeDash=[3, 3]).encode(
                x=_time_x("at"), color=alt.Color("kind:N", legend=None),
                tooltip=["kind:N", "subject:N", _time_tip("at")]))
        if "start" in datasets:
            layers.append(alt.Chart(alt.NamedData(name="start")).mark_rule(color="#d62728").encode(x=_time_x("at")))
        panels.append(alt.layer(*layers).properties(width=_WIDTH, height=90, title=title))
    return alt.vconcat(*panels).properties(
        title="SLIs over time (dashed: lineage events; red: window start)", datasets=datasets)


def slis_datasets(frame: pl.DataFrame, markers: pl.DataFrame | None = None, *,
                  window_start=None) -> dict[str, list[dict[str, Any]]]:
    """The named datasets :func:`slis_chart` carries (``slis``, and ``markers`` and ``start`` when
    given): with the same columns, a chart differs from another only by these."""
    datasets = {"slis": _records(frame)}
    if markers is not None and markers.height:
        datasets["markers"] = _records(markers.select("at", "kind", "subject"))
    if window_start is not None:
        datasets["start"] = [{"at": iso(window_start)}]
    return datasets


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts, times as ISO-8601 UTC strings (formatted by polars, not per value).

    A time without a zone is UTC (the lake's contract) and is written with its ``Z``: without it
    the browser would read it in the viewer's local time.
    """
    times = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    return frame.with_columns([pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                               if frame.schema[c].time_zone else pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                               for c in times]).to_dicts()


def distribution_chart(frame: pl.DataFrame, *, feature: str) -> alt.Chart:
    """Baseline vs window shares per bin (numeric) or category."""
    return alt.Chart(_data(frame.to_dicts())).mark_bar().encode(
        x=alt.X("bin:N", sort=alt.EncodingSortField("order"), title=None),
        xOffset="which:N", y=alt.Y("share:Q", title="share of rows"),
        color=alt.Color("which:N", scale=alt.Scale(domain=["baseline", "window"], range=["#9e9e9e", "#1f77b4"]),
                        title=None),
        tooltip=["bin:N", "which:N", alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=_WIDTH, title=f"{feature}: baseline vs window")


def heatmap_chart(frame: pl.DataFrame) -> alt.Chart:
    """PSI per feature and day against the baseline."""
    return alt.Chart(_data(frame.to_dicts())).mark_rect().encode(
        x=_time_x("bucket", title="day (UTC)", time_unit="utcyearmonthdate"), y=alt.Y("feature:N", title=None),
        color=alt.Color("psi:Q", scale=alt.Scale(scheme="orangered", domain=[0, 1], clamp=True), title="PSI"),
        tooltip=["feature:N", alt.Tooltip("bucket:T", timeUnit="utcyearmonthdate", title="day (UTC)"),
                 alt.Tooltip("psi:Q", format=".3f")],
    ).properties(width=_WIDTH, title="Drift heatmap: PSI per feature and day vs the baseline")


def quality_chart(frame: pl.DataFrame) -> alt.Chart:
    """Quality per day, realised on labels and estimated without them."""
    return alt.Chart(_data(frame.to_dicts())).mark_line(point=True).encode(
        x=_time_x("bucket"), y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color("kind:N", title=None),
        tooltip=[_time_tip("bucket", "time"), "kind:N", alt.Tooltip("value:Q", format=".3f")],
    ).properties(width=_WIDTH, height=150, title="Quality over time")


def burn_chart(study) -> alt.Chart:
    """Error-budget burn per SLI and hour (1 h solid, 6 h dashed) against the page and ticket burn
    rates, alerts marked, from a health study (:class:`workbench.report.HealthStudy`: its ``slis``)
    or an :class:`~workbench.evidence.SLIResult`."""
    from workbench.evidence.slis import PAGE_BURN, TICKET_BURN

    slis = getattr(study, "slis", study)
    rows = [{"bucket": r["bucket"], "sli": r["sli"], "window": w, "burn": r[f"burn_{w}"], "level": r.get("level")}
            for r in slis.burn for w in ("1h", "6h")]
    if not rows:
        return alt.Chart(_data([])).mark_text().properties(title="no SLO to burn against in this window")
    base = alt.Chart(_data(rows))
    x = _time_x("bucket")
    y = alt.Y("burn:Q", title="burn rate (× budget)", scale=alt.Scale(type="symlog"))
    tips = [_time_tip("bucket", "hour"), "sli:N", "window:N", alt.Tooltip("burn:Q", format=".2f"), "level:N"]
    lines = base.mark_line().encode(x=x, y=y, color=alt.Color("sli:N", title="SLI"),
                                    strokeDash=alt.StrokeDash("window:N", title="window",
                                                              sort=["1h", "6h"]))
    points = base.mark_circle(size=40, opacity=0).encode(x=x, y="burn:Q", tooltip=tips)
    limits = alt.Chart(_data([{"burn": PAGE_BURN, "what": f"page ({PAGE_BURN:g}× in 1 h)"},
                              {"burn": TICKET_BURN, "what": f"ticket ({TICKET_BURN:g}× in 6 h)"}])).mark_rule(
        color="#d62728", strokeDash=[4, 3]).encode(y="burn:Q", tooltip=["what:N"])
    layers = [lines, points, limits]
    if slis.alerts:
        layers.append(alt.Chart(_data([{"at": a["at"], "what": f"{a['level']}: {a['sli']}"} for a in slis.alerts]))
                      .mark_rule(color="#d62728").encode(x=_time_x("at"), tooltip=["what:N", _time_tip("at")]))
    return alt.layer(*layers).properties(width=_WIDTH, height=200,
                                         title="Error-budget burn per SLI (red dashed: page and ticket rates)")
