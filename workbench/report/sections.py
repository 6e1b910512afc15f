"""What a template's cells call: one call per section, returning something to display.

Templates stay thin (a parameters cell, then one call and one display per section); the
narrative is generated here from the results, not written into the notebook.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from workbench.exceptions import InsufficientDataError
from workbench.formatting import fmt_duration_hours, fmt_number
from workbench.report.studies import BiasStudy, CanaryReview, DriftStudy, HealthStudy, LatencyStudy, Postmortem, Study
from workbench.results import iso, jsonable
from workbench.tables import Table, fmt_cell, kind_of, table, title

__all__ = ["action_items", "bias_audit", "BiasStudy", "canary_review", "CanaryReview", "drift_study", "DriftStudy",
           "evidence_table", "HealthStudy", "hypotheses_table", "latency_study", "LatencyStudy", "Markdown",
           "model_health", "narrative", "next_steps", "Postmortem", "postmortem", "publish", "setup", "Study",
           "symptoms_table", "table", "timeline_chart_for", "verdicts_table", "worst_segment_chart"]


class Markdown:
    """Markdown text that notebooks render (and nbconvert keeps as HTML)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        # the same text as HTML, so no viewer shows the Markdown marks (a report's HTML, a widget)
        from workbench.tables import markdown_html

        return f'<div class="workbench-markdown">{markdown_html(self.text)}</div>'

    def __repr__(self) -> str:
        return self.text


def setup() -> None:
    """Deprecated: set a report notebook's kernel up in its first cell instead (the built-in
    templates show how). Changes process-wide settings: Altair's renderer (static SVG, drawn by
    vl-convert: no JavaScript, no CDN), its row limit, and polars' table size."""
    import warnings

    import altair as alt

    warnings.warn("report.setup() changes process-wide Altair and polars settings; set the notebook's kernel up "
                  "in its first cell instead (see the built-in templates)", DeprecationWarning, stacklevel=2)
    alt.renderers.enable("svg")
    alt.data_transformers.disable_max_rows()
    pl.Config.set_tbl_rows(50)
    pl.Config.set_fmt_str_lengths(120)


def publish(result, output_dir: str | None) -> Markdown:
    """Write the section's result to ``output_dir/findings.json`` (the runner's contract): from the
    result object, never from cell output. Time-varying fields (seconds) are dropped so the same
    inputs give the same file."""
    if not output_dir:
        return Markdown("_(findings.json not written: no output_dir; the report runner sets it)_")
    doc = result.to_dict() if hasattr(result, "to_dict") else jsonable(result)
    if isinstance(doc.get("meta"), dict):
        doc["meta"] = {k: v for k, v in doc["meta"].items() if k != "seconds"}
    path = Path(output_dir) / "findings.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return Markdown(f"_findings written to `{path.name}`_")


def _when(t) -> str:
    if t is None:
        return "unknown"
    return t.strftime("%Y-%m-%d %H:%M UTC") if isinstance(t, dt.datetime) else str(t)


# -- incident triage ---------------------------------------------------------------------
def narrative(findings) -> Markdown:
    """The verdict in prose, built from the findings."""
    w, b = findings.window, findings.baseline
    lines = [f"Window **{_when(w['start'])} – {_when(w['end'])}** ({w['rows']:,} predictions) against the "
             f"baseline {_when(b['start'])} – {_when(b['end'])} ({b['rows']:,})."]
    top = findings.top
    if getattr(findings, "incomplete", None):
        lines.append(f"**Warning — {findings.incomplete}:** their causes were not tested, so the verdict below "
                     "covers only the others (reasons in the findings' `meta.errors`).")
    if top is None:
        best = findings.hypotheses[0] if findings.hypotheses else None
        lines.append(f"**Verdict: none.** No hypothesis reached the decision threshold ({findings.threshold:.2f})"
                     + (f"; the strongest was {best.cause} at {best.score:.2f}." if best else "."))
    else:
        lines.append(f"**Verdict: {top.cause}** (score {top.score:.2f}) — culprit {top.culprit()}, "
                     f"onset **{_when(top.onset)}**.")
        if top.summary:
            lines.append(top.summary[0].upper() + top.summary[1:] + ".")
        if top.explains is not None:
            lines.append(f"It accounts for {top.explains:.0%} of the window's quality drop.")
        runners = [h for h in findings.hypotheses[1:4] if h.score > 0.1]
        if runners:
            lines.append("Also considered: " + "; ".join(f"{h.cause} ({h.score:.2f}, {h.culprit()})" for h in runners)
                         + ".")
    breached = [s for s in findings.symptoms if s.get("breached")]
    if breached:
        lines.append("Symptoms: " + "; ".join(f"{s['sli']} {fmt_number(s['baseline'])} → {fmt_number(s['current'])}"
                                              for s in breached) + ".")
    return Markdown("\n\n".join(lines))


def symptoms_table(findings) -> Table:
    """The SLIs that moved, baseline against window, breaches highlighted."""
    rows = [{"sli": title(s["sli"]), "baseline": fmt_cell(s.get("baseline"), kind_of(s["sli"])),
             "window": fmt_cell(s.get("current"), kind_of(s["sli"])),
             "objective": fmt_cell(s.get("slo"), kind_of(s["sli"])), "breached": bool(s.get("breached"))}
            for s in findings.symptoms]
    return table(rows, columns={"sli": "SLI", "baseline": "baseline", "window": "window", "objective": "objective",
                                "breached": "breached"}, highlight="breached")


def hypotheses_table(findings, top: int = 10) -> Table:
    """The ranked hypotheses, the diagnosis highlighted."""
    return findings.hypotheses_table(top)


def evidence_table(findings) -> Table | Markdown:
    """The checks behind the diagnosis (or the best hypothesis when none reached the threshold)."""
    top = findings.top or (findings.hypotheses[0] if findings.hypotheses else None)
    if top is None:
        return Markdown("_No evidence: nothing was tested positive._")
    return top.evidence_table()


def next_steps(findings) -> Markdown:
    top = findings.top
    if top is None:
        return Markdown("Nothing to act on: keep the monitors running; re-run when labels arrive.")
    lineage = "\n".join(f"- {ev.kind} at {_when(ev.at)} — {ev.subject or ''} (`{ev.ref}`)" for ev in top.lineage)
    steps = "\n".join(f"1. {s}" for s in top.next_steps)
    return Markdown(steps + ("\n\nLineage relied on:\n\n" + lineage if lineage else ""))


def timeline_chart_for(findings, lake, *, hours: float = 6):
    """Lineage events within ``hours`` of the onset (or of the window start when no hypothesis
    passed), each labelled, with the onset marked: zoomed so one event is not lost on a week."""
    from workbench.charts import timeline_chart
    from workbench.lake.timestamps import parse_time

    lake = _lake(lake)
    top = findings.top
    onset = parse_time(top.onset, what="onset") if top and top.onset else None
    centre = onset or parse_time(findings.window["start"], what="window start")
    lo, hi = centre - dt.timedelta(hours=hours), centre + dt.timedelta(hours=hours)
    return timeline_chart(lake.timeline(lo, hi), onset=onset, start=lo, end=hi)


# -- other studies -----------------------------------------------------------------------
def _lake(lake):
    from workbench.lake import Lake, open_lake

    return lake if isinstance(lake, Lake) else open_lake(lake)


def _window(lake, since, until, baseline_since, baseline_until):
    from workbench.lake.windows import default_windows

    return tuple(default_windows(*lake.time_range(), since=since, until=until, baseline_since=baseline_since,
                                 baseline_until=baseline_until))


def drift_study(lake, *, since: str = "", until: str = "", baseline_since: str = "",
                baseline_until: str = "") -> DriftStudy:
    """Per-feature drift with each feature's provenance: source dataset, field, schema changes."""
    from workbench.evidence import detect_drift
    from workbench.summaries import fit_lake_binning, summarize

    lake = _lake(lake)
    start, end, b_start, b_end = _window(lake, since, until, baseline_since, baseline_until)
    binning = fit_lake_binning(lake, start=b_start, end=b_end)
    drift = detect_drift(summarize(lake, binning, start=b_start, end=b_end, bucket="1d"),
                         summarize(lake, binning, start=start, end=end, bucket="1d"))
    fv = lake.lineage.feature_versions_at(end) if lake.lineage.features.height else pl.DataFrame()
    sc = lake.lineage.schema_changes
    prov = []
    for f in sorted(drift.features, key=lambda f: -f.psi):
        src = fv.filter(pl.col("feature") == f.feature) if fv.height else fv
        ds = src["source_dataset"][0] if src.height else None
        fld = src["source_field"][0] if src.height else None
        changes = sc.filter((pl.col("dataset") == ds) & (pl.col("at") >= b_start) & (pl.col("at") < end)) \
            if ds is not None and sc.height else sc.clear()
        prov.append({"feature": f.feature, "drifted": f.drifted, "psi": round(f.psi, 3),
                     "reasons": "; ".join(f.reasons), "source": f"{ds}.{fld}" if ds else "(no lineage)",
                     "schema changes in range": "; ".join(changes["detail"].to_list()) if changes.height else ""})
    drifted = [f.feature for f in drift.drifted]
    summary = (f"{len(drifted)} of {len(drift.features)} features drifted between {_when(b_start)}–{_when(b_end)} "
               f"and {_when(start)}–{_when(end)}" + (f": {', '.join(drifted)}." if drifted else "."))
    return DriftStudy(summary=summary, drift=drift, provenance=pl.DataFrame(prov),
                      window={"start": start, "end": end}, baseline={"start": b_start, "end": b_end})


def canary_review(lake, *, since: str = "", until: str = "", canary: str = "", primary: str = "") -> CanaryReview:
    """Canary vs primary on the hours both served: go / no-go with the statistics behind it."""
    from workbench.evidence import compare_versions, detect_output_mismapping
    from workbench.evidence.canary import canary_verdict, choose_canary
    from workbench.summaries import fit_lake_binning, summarize

    lake = _lake(lake)
    start, end, b_start, b_end = _window(lake, since, until, "", "")
    binning = fit_lake_binning(lake, start=b_start, end=b_end)
    s = summarize(lake, binning, start=start, end=end)
    pair = choose_canary(s, canary=canary, primary=primary)
    if not pair.is_pair:
        return _no_canary(pair, start, end)
    shared = s.where(pl.col("bucket").is_in(list(pair.shared))) if pair.shared else s
    cmp = compare_versions(shared, pair.primary, pair.canary)
    mm = detect_output_mismapping(s, pair.canary, previous=pair.primary)
    verdict = canary_verdict(cmp, mm)
    checks = pl.DataFrame([{"metric": c["metric"], "primary": fmt_number(c.get("a")), "canary": fmt_number(c.get("b")),
                            "p-value": fmt_number(c.get("p_value")), "test": c.get("test"), "worse": c["worse"]}
                           for c in cmp.checks])
    worse = ", ".join(c["metric"] for c in cmp.worse) or "nothing"
    summary = (f"**{verdict.upper()}** for {pair.canary} against {pair.primary} over {len(pair.shared)} shared hours: "
               f"worse on {worse}" + (f"; outputs look mis-mapped ({mm.detail})" if mm.mismapped else "") + ".")
    return CanaryReview(summary=summary, comparison=cmp, mismapping=mm, checks=checks, verdict=verdict,
                        canary=pair.canary, primary=pair.primary, shared_hours=len(pair.shared))


def _no_canary(pair, start, end) -> CanaryReview:
    """The review of a window one version served alone: no canary, no verdict (comparing a
    version with itself would say GO whatever it did)."""
    from workbench.evidence import MismappingResult

    version = pair.primary
    summary = (f"**NO CANARY** between {_when(start)} and {_when(end)}: only {version} served "
               f"({', '.join(pair.routes)}), so there is nothing to "
               "compare it with and no go / no-go. Pick a window in which a canary served, or pass "
               "`canary=` and `primary=` naming two versions.") if len(pair.versions) <= 1 else (
               f"**NO CANARY**: canary and primary are both {version}; comparing a version with itself says "
               f"nothing. Pass two different versions (the window holds {', '.join(pair.versions)}).")
    detail = "no canary: nothing to compare"
    mm = MismappingResult(version=version, previous=None, inverted=False, auc=None, auc_ci=None, previous_auc=None,
                          mirror_js=None, direct_js=None, detail=detail)
    checks = pl.DataFrame(schema={"metric": pl.String, "primary": pl.String, "canary": pl.String,
                                  "p-value": pl.String, "test": pl.String, "worse": pl.Boolean})
    return CanaryReview(summary=summary, comparison=None, mismapping=mm, checks=checks, verdict="no canary",
                        canary=None, primary=version, shared_hours=0)


def bias_audit(lake, *, version: str = "", previous: str = "", since: str = "", until: str = "") -> BiasStudy:
    """Per-segment metrics before/after a rollout (version vs previous) and the worst slices."""
    from workbench.evidence import segment_deltas, worst_slices
    from workbench.summaries import fit_lake_binning, summarize

    lake = _lake(lake)
    start, end, b_start, b_end = _window(lake, since, until, "", "")
    if not version:
        d = lake.lineage.deployments.sort("deployed_at")
        version = d["model_version"][-1]
    if not previous:
        previous = lake.lineage.previous_version(version) or ""
    binning = fit_lake_binning(lake, start=b_start, end=b_end)
    deltas = []
    for col in lake.segments:
        s = summarize(lake, binning, start=b_start, end=end, bucket="1d", segment=col)
        try:
            deltas.append(segment_deltas(s, col, a=previous, b=version))
        except InsufficientDataError:  # no labels, or a version without rows
            continue
    rows = []
    for sd in deltas:
        for r in sd.rows:
            acc = r["metrics"].get("accuracy") or r["metrics"].get("mae") or {}
            rows.append({"segment": sd.segment, "value": str(r["value"]), "rows": r["n_b"],
                         "before": fmt_number(acc.get("a")), "after": fmt_number(acc.get("b")),
                         "change": fmt_number(acc.get("delta")), "regressed on": ", ".join(r["regressed_on"])})
    cols = [c for c in (*lake.segments, *lake.categorical_features)]
    lf = lake.predictions(with_labels=True).filter(pl.col("model_version") == version)
    slices = worst_slices(lf.filter(pl.col("timestamp") >= b_start), cols, max_order=2, task=lake.task) if cols else None
    regressed = [(sd.segment, r["value"]) for sd in deltas for r in sd.regressed]
    summary = (f"{version} against {previous}: " + (", ".join(f"{c}={v}" for c, v in regressed) + " regressed"
                                                    if regressed else "no segment regressed beyond the whole") + ".")
    return BiasStudy(summary=summary, deltas=deltas, table=pl.DataFrame(rows), slices=slices, version=version,
                     previous=previous)


def latency_study(lake, *, since: str = "", until: str = "") -> LatencyStudy:
    """Hourly p95 latency by version and route against the SLO, with rollouts."""
    from workbench.evidence import compare_versions
    from workbench.summaries import fit_lake_binning, summarize

    lake = _lake(lake)
    start, end, b_start, b_end = _window(lake, since, until, "", "")
    binning = fit_lake_binning(lake, start=b_start, end=b_end)
    s = summarize(lake, binning, start=b_start, end=end, bucket="1h")
    q = s.latency_quantiles((0.5, 0.95, 0.99), by=("bucket", "model_version"))
    by_vr = s.latency_quantiles((0.5, 0.95, 0.99), by=("model_version", "route")).sort(["model_version", "route"])
    slo = lake.manifest.slo.latency_p95_ms
    versions = by_vr["model_version"].unique().to_list()
    base_v = s.where(pl.col("bucket") < start).collapse(("model_version",)).table.sort("n", descending=True)
    ref = base_v["model_version"][0] if base_v.height else None
    comps = []
    for v in sorted(versions):
        if v == ref or ref is None:
            continue
        try:
            c = compare_versions(s, ref, v)
        except InsufficientDataError:  # a version without rows in the window
            continue
        lat = next((x for x in c.checks if x["metric"] == "latency_p95_ms"), None)
        if lat:
            comps.append({"version": v, "against": ref, "p95": round(lat["b"], 1), "reference p95": round(lat["a"], 1),
                          "ratio": round(lat["ratio"], 2), "ratio 99% CI": f"{lat['ratio_ci'][0]:.2f}–"
                          f"{lat['ratio_ci'][1]:.2f}", "slower": lat["worse"]})
    slow = [c["version"] for c in comps if c["slower"]]
    summary = (f"p95 objective {slo:g} ms. " + (f"Slower than {ref}: {', '.join(slow)}." if slow
                                                else f"No version is significantly slower than {ref}."))
    rollouts = lake.timeline(b_start, end).filter(pl.col("kind") == "rollout")
    return LatencyStudy(summary=summary, hourly=q.filter(pl.col("bucket") >= start - dt.timedelta(days=1)),
                        by_version_route=by_vr, comparisons=pl.DataFrame(comps), slo_ms=slo, rollouts=rollouts)


def model_health(lake, *, since: str = "", until: str = "") -> HealthStudy:
    """SLIs per version and route, SLO compliance and error-budget burn (1 h / 6 h) over the window."""
    from dataclasses import replace

    from workbench.evidence import assess_quality, compute_slis
    from workbench.summaries import fit_lake_binning, summarize

    lake = _lake(lake)
    start, end, b_start, b_end = _window(lake, since or "", until, "", "")
    binning = fit_lake_binning(lake, start=b_start, end=b_end)
    s = replace(summarize(lake, binning, start=start, end=end), start=start, end=end)
    slis = compute_slis(s, slo=lake.manifest.slo, traffic=lake.lineage.traffic)
    q = assess_quality(s, by=("model_version",))
    groups = pl.DataFrame([{k: (round(v, 4) if isinstance(v, float) else (", ".join(v) if isinstance(v, list) else v))
                            for k, v in g.items() if k in ("model_version", "route", "n", "p50", "p95", "p99",
                                                           "fallback_rate", "capture_rate", "breached")}
                           for g in slis.groups])
    burn = pl.DataFrame(slis.burn) if slis.burn else pl.DataFrame()
    alerts = pl.DataFrame(slis.alerts) if slis.alerts else pl.DataFrame()
    summary = (f"{len(slis.alerts)} burn-rate alert(s) between {_when(start)} and {_when(end)}"
               + (": " + "; ".join(f"{a['sli']} {a['level']} at {_when(a['at'])}" for a in slis.alerts)
                  if slis.alerts else "; every SLO held."))
    return HealthStudy(summary=summary, slis=slis, groups=groups, burn=burn, alerts=alerts,
                       quality=q.to_frame() if hasattr(q, "to_frame") else None)


def postmortem(lake, *, since: str, until: str = "", verdicts_file: str = "") -> Postmortem:
    """Triage plus a timeline: onset, detection (the first burn-rate alert from an hour before the
    onset), rollouts, mitigation (the culprit version stops serving), MTTD and MTTR
    (:mod:`workbench.evidence.incident_times`)."""
    from dataclasses import replace

    from workbench.evidence import compute_slis
    from workbench.evidence.incident_times import incident_times
    from workbench.rca import triage
    from workbench.summaries import fit_lake_binning, summarize

    lake = _lake(lake)
    f = triage(lake, since=since, until=until or None)
    top = f.top
    start, end = f.window["start"], f.window["end"]
    binning = fit_lake_binning(lake, start=f.baseline["start"], end=f.baseline["end"])
    s = replace(summarize(lake, binning, start=start, end=end), start=start, end=end)
    slis = compute_slis(s, slo=lake.manifest.slo, traffic=lake.lineage.traffic)
    onset = top.onset if top else None
    times = incident_times(onset=onset, alerts=slis.alerts, deployments=lake.lineage.deployments,
                           culprit_version=top.subject.get("model_version") if top else None, window_start=start)
    events = [{"at": onset, "event": f"onset ({top.cause}: {top.culprit()})" if top else "onset"}] if onset else []
    if times.detection:
        events.append({"at": times.detection, "event": f"detection: {times.detection_how}"})
    for r in lake.timeline(start - dt.timedelta(days=1), end).filter(
            pl.col("kind").is_in(["rollout", "openlineage_schema_change", "dependency_change"])).iter_rows(named=True):
        events.append({"at": r["at"], "event": f"{r['kind']}: {r['subject']} {r['detail'][:80]}"})
    if times.mitigation:
        events.append({"at": times.mitigation, "event": "mitigation: the culprit version stopped serving primary"})
    events.sort(key=lambda e: e["at"])
    verdicts = None
    if verdicts_file:
        import yaml

        verdicts = yaml.safe_load(Path(verdicts_file).read_text(encoding="utf-8"))
    actions = list(top.next_steps) if top else ["no root cause found: widen the window or add lineage"]
    if times.mttd is None:
        actions.append("add a burn-rate alert on the SLI that moved: nothing paged for this incident")
    summary = (f"Root cause: **{top.cause}** ({top.culprit()}), onset {_when(onset)}. " if top else
               "No root cause above the threshold. ") + \
        (f"Time to detect: {_hours(times.mttd)}. " if times.mttd is not None else
         "Not detected by a burn-rate alert. ") + \
        (f"Time to mitigate: {_hours(times.mttr)}." if times.mttr is not None else "No mitigation seen in the data.")
    return Postmortem(summary=summary, findings=f, timeline=pl.DataFrame(
        [{"at": iso(e["at"]), "event": e["event"]} for e in events]), mttd_hours=_h(times.mttd),
        mttr_hours=_h(times.mttr), verdicts=verdicts, actions=actions, times=times)


def worst_segment_chart(study):
    """The bias audit's chart for the segment column with the largest regression (or the first)."""
    from workbench.charts import segment_chart

    deltas = study.deltas or []
    if not deltas:
        return Markdown("_No segment could be compared (labels or segments missing)._")
    worst = min(deltas, key=lambda d: min((min(r["metrics"][m]["gap"] for m in r["regressed_on"])
                                           for r in d.regressed), default=0.0))
    metric = "accuracy" if any("accuracy" in r["metrics"] for r in worst.rows) else "mae"
    return segment_chart(worst, metric=metric)


def verdicts_table(study):
    """The analyst's verdicts file as a table: a mapping as field / value rows, a list of mappings
    as rows; other YAML (a plain note) as text. ``_none recorded_`` without a file."""
    v = study.verdicts
    if v is None or v == {} or v == []:
        return Markdown("_none recorded_")
    if isinstance(v, dict):
        return table([{"field": str(k), "value": x if isinstance(x, (str, int, float, bool)) or x is None
                       else json.dumps(jsonable(x))} for k, x in v.items()], columns={"field": "field", "value": "value"})
    if isinstance(v, list) and all(isinstance(x, dict) for x in v):
        return table([{str(k): (x if isinstance(x, (str, int, float, bool)) or x is None else json.dumps(jsonable(x)))
                       for k, x in row.items()} for row in v])
    return Markdown(str(v))


def action_items(study) -> Markdown:
    """The postmortem's action items as a numbered list."""
    return Markdown("\n".join(f"1. {a}" for a in study.actions) or "_none_")


def _h(td) -> float | None:
    return None if td is None else round(td.total_seconds() / 3600, 2)


def _hours(td) -> str:
    return fmt_duration_hours(td.total_seconds())
