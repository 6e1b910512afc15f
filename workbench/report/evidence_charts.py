"""The data behind each cause's evidence chart, read from the lake, and the charts drawn from it.

:func:`cause_charts` draws the chart each top finding's hypothesis names (``Hypothesis.chart``,
drawn by :mod:`workbench.charts.causes`). One hourly summary pass over baseline + window, binned
for the culprit features only, feeds the feature, latency, quality, capture and output charts; a
bias finding adds a daily pass keyed by its segment column, a personal-data finding scans its one
column, an embedding finding samples vectors per hour; a generation lake's causes read one hourly
summary of its LLM calls (:func:`workbench.evidence.summarize_llm`) and draw the proxy the finding
rests on by the culprit's key (prompt version, index build, response model, release, router
decision). :func:`canary_chart` draws a canary review's
quality and latency per version over the hours both versions served.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence.overlap import floor_hour
from workbench.evidence.stats import Z95
from workbench.lake.timestamps import parse_time
from workbench.report.sections import Markdown, _lake, _window
from workbench.summaries.binning import SCORE_BINS, Binning

__all__ = ["canary_chart", "cause_charts", "chart_name"]

HOUR = dt.timedelta(hours=1)
#: how far before the onset (or the window start) the time series reach back
LEAD = dt.timedelta(hours=48)
#: lineage events within this of the onset are marked when the finding relied on none
NEAR = dt.timedelta(hours=6)
#: quality is measured per this many hours (hourly labels are too few for an interval that says anything)
QUALITY_BUCKET = "6h"
#: a quality point needs this many labelled rows
MIN_LABELLED = 30
#: vectors sampled per hour for the embedding series, and from the baseline for its centre
EMBEDDING_PER_HOUR, EMBEDDING_BASELINE = 200, 2000


class _NoData(Exception):
    """What a chart would need and the lake does not have (said in the report, not raised)."""


def chart_name(finding) -> str | None:
    """The evidence chart a finding's hypothesis names: a built-in one by cause, a plugin's by its name."""
    from workbench.rca.engine import BUILTIN_HYPOTHESES, load_hypotheses

    for h in BUILTIN_HYPOTHESES:
        if h.cause == finding.cause and (not finding.hypothesis or finding.hypothesis.endswith(h.__name__)):
            return h.chart or None
    for h in load_hypotheses(plugins=True)[len(BUILTIN_HYPOTHESES):]:
        if getattr(h, "name", None) == finding.hypothesis:
            return getattr(h, "chart", "") or None
    return None


def cause_charts(findings, lake, *, top: int = 2):
    """The evidence chart of each of the ``top`` findings above the threshold, one under the other.

    When none passes, the best hypothesis's chart, titled as not confirmed. A cause whose data the
    lake lacks (no labels, no ingress counts, no latency) is said in words: a Markdown note when
    nothing could be drawn, else a line under the charts.

    Parameters
    ----------
    findings : Findings
        What :func:`workbench.triage` returned (or ``Findings.from_dict`` of a findings.json).
    lake : Lake or path
        The lake triage read.
    top : int, default 2
        How many confirmed findings to draw.

    Examples
    --------
    >>> report.cause_charts(findings, lake)   # doctest: +SKIP
    """
    import altair as alt

    from workbench.charts import note_chart

    lake = _lake(lake)
    chosen = [h for h in findings.hypotheses if h.score >= findings.threshold][:max(top, 1)]
    confirmed = bool(chosen)
    if not chosen:
        chosen = list(findings.hypotheses[:1])
    if not chosen:
        return Markdown("_No hypothesis produced a finding: there is no evidence to chart._")
    scan = _Scan(findings, lake, chosen)
    charts, notes = [], []
    for rank, f in enumerate(chosen, 1):
        culprit = f.culprit() if f.culprit() != "—" else "no single culprit"
        head = (f"{rank}. {f.cause}: {culprit} (score {f.score:.2f})" if confirmed else
                f"{f.cause}: {culprit}, not confirmed (score {f.score:.2f}, below the threshold "
                f"{findings.threshold:.2f})")
        name = chart_name(f)
        build = _BUILDERS.get(name or "")
        if build is None:
            notes.append(f"{head}: its hypothesis names no evidence chart the report knows ({name or 'none'}).")
            continue
        try:
            charts.append(build(f, scan, head))
        except _NoData as exc:
            notes.append(f"{head}: {exc}")
    if not charts:
        return Markdown("\n\n".join(f"_{n}_" for n in notes))
    if notes:
        charts.append(note_chart(" ".join(notes)))
    return alt.vconcat(*charts).properties(spacing=30)


class _Scan:
    """The windows of a triage and the lake passes its charts share, each made once on demand."""

    def __init__(self, findings, lake, chosen) -> None:
        self.lake = lake
        self.start = parse_time(findings.window["start"], what="window start")
        self.end = parse_time(findings.window["end"], what="window end")
        self.b_start = parse_time(findings.baseline["start"], what="baseline start")
        self.b_end = parse_time(findings.baseline["end"], what="baseline end")
        self.features = sorted({f.subject.get("feature") for f in chosen if f.subject.get("feature")})

    def since(self, onset: dt.datetime | None) -> dt.datetime:
        """Where a series starts: ``LEAD`` before the onset (or the window start), within the baseline."""
        return max(floor_hour(self.b_start), floor_hour(min(onset or self.start, self.start) - LEAD))

    @cached_property
    def binning(self) -> Binning:
        """Bins of the culprit features alone, fitted on the baseline as triage fits them."""
        from workbench.results import iso
        from workbench.summaries import fit_binning, window

        lake = self.lake
        num = tuple(f for f in lake.numeric_features if f in self.features)
        cat = tuple(f for f in lake.categorical_features if f in self.features)
        frame = window(lake.predictions([*num, *cat, "timestamp"]), self.b_start, self.b_end)
        try:
            return fit_binning(frame, numeric=num, categorical=cat, start=iso(self.b_start), end=iso(self.b_end))
        except (pl.exceptions.PolarsError, OSError) as exc:  # the lake's named error, as summaries raise it
            raise lake.read_error(exc) from None

    @cached_property
    def llm(self):
        """One pass over the LLM calls of a generation lake, baseline + window, per hour."""
        from workbench.evidence import summarize_llm

        return summarize_llm(self.lake, self.b_start, self.end, bucket="1h")

    @cached_property
    def hourly(self):
        """One pass: baseline + window per hour, version and route (the culprit features binned)."""
        from workbench.summaries import summarize

        binning = self.binning if self.features else Binning(numeric={}, categorical={}, seen={})
        s = summarize(self.lake, binning, start=self.b_start, end=self.end, bucket="1h")
        return replace(s, start=self.b_start, end=self.end)

    def events(self, f, onset: dt.datetime | None) -> pl.DataFrame:
        """The lineage events the finding relied on; when none, those near its onset."""
        rows = [{"at": parse_time(e.at, what="event time"), "kind": e.kind, "subject": e.subject or ""}
                for e in f.lineage if e.at is not None]
        if rows:
            return pl.DataFrame(rows).unique(maintain_order=True)
        if onset is None:
            return pl.DataFrame()
        t = self.lake.timeline(onset - NEAR, onset + NEAR)
        return t.filter(pl.col("kind") != "openlineage_run").select("at", "kind", pl.col("subject").fill_null(""))


def _onset(f) -> dt.datetime | None:
    return parse_time(f.onset, what="onset") if f.onset else None


def _version_pair(lake, version: str | None) -> list[str]:
    if not version:
        raise _NoData("the finding names no model version")
    prev = lake.lineage.previous_version(version) if lake.lineage.deployments.height else None
    return [v for v in (prev, version) if v]


# -- feature and embedding ----------------------------------------------------------------
def _feature_shift(f, scan: _Scan, head: str):
    from workbench.charts import feature_shift_chart

    feature = f.subject.get("feature")
    if feature is None:
        if f.subject.get("column") and "embedding" in scan.lake.roles:
            return _embedding_drift(f, scan, head)
        raise _NoData("the finding names no feature")
    binning = scan.binning
    if feature not in binning.numeric and feature not in binning.categorical:
        raise _NoData(f"{feature} has no values in the baseline to compare with")
    onset = _onset(f)
    s = scan.hourly
    base = s.where((pl.col("bucket") >= floor_hour(scan.b_start)) & (pl.col("bucket") < floor_hour(scan.b_end)))
    after = s.where(pl.col("bucket") >= (floor_hour(onset) + HOUR if onset else floor_hour(scan.start)))
    if after.rows == 0:  # an onset in the window's last hour
        after = s.where(pl.col("bucket") >= floor_hour(scan.start))
    dist = _distribution(base, after, feature)
    t = s.where(pl.col("bucket") >= scan.since(onset)).collapse(("bucket",)).table.sort("bucket")
    n = pl.col("n").cast(pl.Float64)
    cols = [pl.col("bucket"), pl.col("n").alias("rows"), (pl.col(f"{feature}|null") / n).alias("null_rate")]
    category = None
    if feature in binning.numeric:
        valid = n - pl.col(f"{feature}|null") - pl.col(f"{feature}|inf")
        cols.append(pl.when(valid > 0).then(pl.col(f"{feature}|sum") / valid).alias("mean"))
    else:
        vocab = binning.categorical[feature]
        category = _most_moved(dist, vocab)
        if category is not None:
            cols.append((pl.col(f"{feature}|v{vocab.index(category)}") / n).alias("category_share"))
        cols.append((pl.col(f"{feature}|unseen") / n).alias("unseen_share"))
    hourly = t.filter(pl.col("n") > 0).select(cols)
    return feature_shift_chart(dist, hourly, feature=feature, onset=onset, events=scan.events(f, onset),
                               category=category, title=head)


def _most_moved(dist: pl.DataFrame, vocab: list[str]) -> str | None:
    """The baseline value whose share changed most between baseline and window."""
    w = dist.pivot(on="which", index="bin", values="share").filter(pl.col("bin").is_in(vocab))
    if w.is_empty() or "window" not in w.columns or "baseline" not in w.columns:
        return None
    return w.with_columns((pl.col("window") - pl.col("baseline")).abs().alias("d")).sort("d", descending=True)["bin"][0]


def _distribution(base, after, feature: str) -> pl.DataFrame:
    """Shares of the feature's bins (or categories) in the baseline and in the window since the
    onset; missing values (and ±inf, when any) get their own bar."""
    from workbench.formatting import fmt_number

    binning = base.binning
    rows: list[dict[str, Any]] = []
    if feature in binning.numeric:
        edges = binning.numeric[feature]
        labels = ([f"< {fmt_number(edges[0])}"] + [f"{fmt_number(a)} – {fmt_number(b)}"
                                                  for a, b in zip(edges[:-1], edges[1:])]
                  + [f">= {fmt_number(edges[-1])}"]) if edges else ["all"]
        parts = {}
        for name, part in (("baseline", base), ("window", after)):
            t = part.collapse().table.row(0, named=True) if part.rows else {}
            h = part.histogram(feature).tolist() if part.rows else [0] * len(labels)
            parts[name] = (h, int(t.get(f"{feature}|null") or 0), int(t.get(f"{feature}|inf") or 0))
        with_inf = any(p[2] for p in parts.values())
        names = [*labels, "(missing)"] + (["(±inf)"] if with_inf else [])
        for name, (h, miss, inf) in parts.items():
            counts = [*h, miss] + ([inf] if with_inf else [])
            tot = sum(counts) or 1
            rows += [{"bin": names[i], "order": i, "share": counts[i] / tot, "which": name}
                     for i in range(len(names))]
    else:
        for name, part in (("baseline", base), ("window", after)):
            c = part.category_counts(feature) if part.rows else {}
            tot = sum(c.values()) or 1
            rows += [{"bin": k, "order": i, "share": v / tot, "which": name} for i, (k, v) in enumerate(c.items())]
    return pl.DataFrame(rows)


def _embedding_drift(f, scan: _Scan, head: str):
    from workbench.charts import embedding_drift_chart
    from workbench.evidence import sample_embeddings
    from workbench.summaries import window

    if f.subject.get("feature"):  # a vendor change seen on a plain feature: its shift, the change marked
        return _feature_shift(f, scan, head)
    lake = scan.lake
    if "embedding" not in lake.roles:
        raise _NoData("the lake logs no embedding column")
    onset = _onset(f)
    lf = lake.predictions(["request_id", "timestamp", "embedding"])
    base = sample_embeddings(window(lf, scan.b_start, scan.b_end), EMBEDDING_BASELINE)
    if len(base) < 10:
        raise _NoData("too few baseline embeddings to measure a shift against")
    centre = base.mean(axis=0)
    spread = float(np.sqrt(np.sum(base.var(axis=0)))) or 1.0
    # a bounded sample per hour (the first rows logged in it), read once
    hours = (window(lf, scan.since(onset), scan.end).drop_nulls("embedding")
             .with_columns(pl.col("timestamp").dt.truncate("1h").alias("bucket"))
             .filter(pl.int_range(pl.len()).over("bucket") < EMBEDDING_PER_HOUR)
             .select("bucket", "embedding").collect())
    rows = []
    for (bucket,), g in hours.group_by(["bucket"], maintain_order=True):
        x = np.array(g["embedding"].to_list(), dtype=float)
        if x.ndim != 2 or x.shape[1] != base.shape[1]:
            continue
        rows.append({"bucket": bucket, "shift": float(np.linalg.norm(x.mean(axis=0) - centre) / spread),
                     "norm": float(np.linalg.norm(x, axis=1).mean()), "rows": len(x)})
    if not rows:
        raise _NoData("no embeddings logged around the onset")
    frame = pl.DataFrame(rows).sort("bucket")
    column = f.subject.get("column") or lake.manifest.columns.embedding
    return embedding_drift_chart(frame, column=column, dependency=f.subject.get("dependency"), onset=onset,
                                 events=scan.events(f, onset), title=head)


# -- versions ---------------------------------------------------------------------------------
def _latency(f, scan: _Scan, head: str):
    from workbench.charts import latency_by_version_chart

    versions = _version_pair(scan.lake, f.subject.get("model_version"))
    onset = _onset(f)
    s = scan.hourly.where((pl.col("bucket") >= scan.since(onset)) & pl.col("model_version").is_in(versions))
    if s.latency.is_empty():
        raise _NoData("the lake logs no latency")
    q = s.latency_quantiles((0.5, 0.95, 0.99), by=("bucket", "model_version")).sort("bucket", "model_version")
    return latency_by_version_chart(q, version=f.subject["model_version"], onset=onset,
                                    events=scan.events(f, onset), slo_ms=scan.lake.manifest.slo.latency_p95_ms,
                                    title=head)


def _metric(task: str) -> str:
    return {"binary_classification": "auc", "multiclass": "accuracy"}.get(task, "mae")


def _estimates(groups: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Each group's metric and 95 % interval (MAE's from the spread of absolute errors)."""
    out = []
    for g in groups:
        v, n = g.get(metric), g.get("labelled") or 0
        if v is None or n < MIN_LABELLED:
            continue
        ci = g.get(f"{metric}_ci")
        if ci is None and metric == "mae" and g.get("rmse") is not None:
            se = math.sqrt(max(g["rmse"] ** 2 - v * v, 0.0) / n)
            ci = (v - Z95 * se, v + Z95 * se)
        lo, hi = ci if ci else (v, v)
        out.append({**g, "estimate": v, "low": lo, "high": hi, "labelled": n})
    return out


def _quality(f, scan: _Scan, head: str):
    from workbench.charts import quality_by_version_chart
    from workbench.evidence import assess_quality

    lake = scan.lake
    if not lake.has_labels:
        raise _NoData("the lake has no labels, so quality per version cannot be measured")
    versions = _version_pair(lake, f.subject.get("model_version"))
    onset = _onset(f)
    s = scan.hourly.where((pl.col("bucket") >= scan.since(onset)) & pl.col("model_version").is_in(versions))
    s = _rebucket(s, QUALITY_BUCKET)
    metric = _metric(s.task)
    groups = assess_quality(s, by=("bucket", "model_version"), n_boot=0).groups
    rows = [{k: r[k] for k in ("bucket", "model_version", "estimate", "low", "high", "labelled")}
            for r in _estimates(groups, metric)]
    if not rows:
        raise _NoData(f"no {QUALITY_BUCKET} span of {' or '.join(versions)} has {MIN_LABELLED} labelled rows yet "
                      "(labels may not have arrived)")
    return quality_by_version_chart(pl.DataFrame(rows), metric=metric, version=f.subject["model_version"],
                                    onset=onset, events=scan.events(f, onset), title=head)


def _rebucket(s, every: str):
    """The summary with its hourly buckets truncated to ``every`` (groups merge on collapse)."""
    trunc = pl.col("bucket").dt.truncate(every)
    conf = s.confusion.with_columns(trunc) if s.confusion is not None else None
    return replace(s, table=s.table.with_columns(trunc), latency=s.latency.with_columns(trunc), confusion=conf)


def _segments(f, scan: _Scan, head: str):
    from workbench.charts import segment_by_version_chart
    from workbench.evidence import assess_quality
    from workbench.summaries import summarize

    lake = scan.lake
    seg = f.subject.get("segment") or {}
    column, value = seg.get("column"), seg.get("value")
    if not column:
        raise _NoData("the finding names no segment")
    if not lake.has_labels:
        raise _NoData(f"the lake has no labels, so {column}'s metric per version cannot be measured")
    version = f.subject.get("model_version")
    versions = _version_pair(lake, version)
    s = summarize(lake, Binning(numeric={}, categorical={}, seen={}), start=scan.b_start, end=scan.end,
                  bucket="1d", segment=column)
    s = s.where(pl.col("model_version").is_in(versions))
    metric = next((e.check[len("segment_"):-len("_gap")] for e in f.evidence
                   if e.check.startswith("segment_") and e.check.endswith("_gap")), None) or _metric(s.task)
    groups = assess_quality(s, by=("model_version", column), n_boot=0).groups
    rows = [{"value": str(r[column]), "model_version": r["model_version"], "estimate": r["estimate"],
             "low": r["low"], "high": r["high"], "labelled": r["labelled"], "culprit": str(r[column]) == str(value)}
            for r in _estimates(groups, metric)]
    if not rows:
        raise _NoData(f"no value of {column} has {MIN_LABELLED} labelled rows for {' or '.join(versions)}")
    return segment_by_version_chart(pl.DataFrame(rows), column=column, value=str(value), metric=metric,
                                    version=version, previous=versions[0] if len(versions) > 1 else None, title=head)


def _outputs(f, scan: _Scan, head: str):
    from workbench.charts import output_mix_chart
    from workbench.summaries.summary import score_counts

    versions = _version_pair(scan.lake, f.subject.get("model_version"))
    s = scan.hourly.where(pl.col("model_version").is_in(versions))
    rows: list[dict[str, Any]] = []
    t = s.collapse(("model_version",)).table
    scored = t.height and ("score|y1|h0" in t.columns or "score|h0" in t.columns)
    classes = s.confusion is not None and not s.confusion.is_empty()
    if scored and (s.task == "binary_classification" or not classes):
        what = "score"
        for r in t.iter_rows(named=True):
            h = score_counts(r).all
            tot = h.sum() or 1.0
            rows += [{"model_version": r["model_version"], "bin": f"{i / SCORE_BINS:.2f}–{(i + 1) / SCORE_BINS:.2f}",
                      "order": i, "share": float(h[i] / tot), "rows": int(r["n"])} for i in range(SCORE_BINS)]
    elif classes:
        what = "predicted class"
        c = (s.confusion.filter(pl.col("prediction").is_not_null())
             .group_by("model_version", "prediction").agg(pl.col("n").sum())
             .with_columns((pl.col("n") / pl.col("n").sum().over("model_version")).alias("share"),
                           pl.col("n").sum().over("model_version").alias("rows")).sort("model_version", "prediction"))
        order = {k: i for i, k in enumerate(sorted(c["prediction"].unique().to_list()))}
        rows = [{"model_version": r["model_version"], "bin": r["prediction"], "order": order[r["prediction"]],
                 "share": r["share"], "rows": r["rows"]} for r in c.iter_rows(named=True)]
    if not rows:
        raise _NoData("the lake logs neither scores nor predicted classes to compare")
    return output_mix_chart(pl.DataFrame(rows), what=what, version=f.subject["model_version"],
                            previous=versions[0] if len(versions) > 1 else None, title=head)


# -- capture and personal data ----------------------------------------------------------------
def _capture(f, scan: _Scan, head: str):
    from workbench.charts import capture_by_route_chart
    from workbench.evidence.slis import duplicate_rows, ingress_by_hour
    from workbench.summaries import window

    lake = scan.lake
    traffic = lake.lineage.traffic
    if traffic.is_empty():
        raise _NoData("the lake has no ingress counts (metrics/traffic), so no capture rate")
    onset = _onset(f)
    lo = scan.since(onset)
    s = replace(scan.hourly.where(pl.col("bucket") >= lo), start=lo, end=scan.end)
    ing = ingress_by_hour(s, traffic)
    by_route = "route" in ing.columns and ing.height and ing["route"].null_count() == 0
    keys = ["bucket", "route"] if by_route else ["bucket"]
    ing = ing.group_by(keys).agg(pl.col("requests").sum())
    logged = s.collapse(tuple(keys)).table.select(*keys, pl.col("n").cast(pl.Float64))
    # a request logged twice is captured once (as triage counts it)
    dup = duplicate_rows(window(lake.predictions(["request_id", "timestamp", "route"]), lo, scan.end))
    if dup.height:
        logged = (logged.join(dup.group_by(keys).agg(pl.col("dup").sum()), on=keys, how="left")
                  .with_columns((pl.col("n") - pl.col("dup").fill_null(0.0)).clip(0.0).alias("n")).drop("dup"))
    frame = (ing.join(logged, on=keys, how="full", coalesce=True).filter(pl.col("requests") > 0)
             .with_columns(pl.col("n").fill_null(0.0).alias("logged"))
             .with_columns((pl.col("logged") / pl.col("requests")).alias("capture")).sort(keys))
    if not by_route:
        frame = frame.with_columns(pl.lit("(all routes: the ingress does not count routes)").alias("route"))
    if frame.is_empty():
        raise _NoData("no ingress requests counted around the onset")
    return capture_by_route_chart(frame.select("bucket", "route", "capture", "logged", "requests"),
                                  route=f.subject.get("route"), onset=onset, events=scan.events(f, onset),
                                  title=head)


def _pii(f, scan: _Scan, head: str):
    from workbench.charts import pii_hits_chart
    from workbench.evidence import scan_pii
    from workbench.summaries import window

    lake = scan.lake
    column = f.subject.get("column")
    lf = lake.predictions()
    if not column or column not in lf.collect_schema():
        raise _NoData(f"column {column} is not in the predictions")
    onset = _onset(f)
    res = scan_pii(window(lf.select("timestamp", column), scan.since(onset), scan.end), sensitive=lake.sensitive,
                   columns=[column])
    frame = pl.DataFrame(res.hourly) if res.hourly else pl.DataFrame()
    if frame.is_empty() or not frame["hits"].sum():
        raise _NoData(f"no personal data found in {column} around the onset")
    # hours without a match are drawn as zero (the scan lists only hours with one)
    hours = scan.hourly.where(pl.col("bucket") >= scan.since(onset)).collapse(("bucket",)).table.select(
        "bucket", pl.col("n").alias("rows"))
    kinds = frame.select("column", "kind").unique().sort("kind")
    frame = (hours.join(kinds, how="cross")
             .join(frame.select("bucket", "column", "kind", "hits"), on=["bucket", "column", "kind"], how="left")
             .with_columns(pl.col("hits").fill_null(0)).sort("bucket", "kind"))
    return pii_hits_chart(frame.select("bucket", "column", "kind", "hits", "rows"), column=column, onset=onset,
                          events=scan.events(f, onset), title=head)


# -- generation lakes -------------------------------------------------------------------------
def _llm_proxies(f, scan: _Scan, head: str):
    """The proxy the finding rests on (its first evidence check naming one), per hour by the key
    of the culprit (prompt version, index build, response model, release, router decision)."""
    import polars as pl

    from workbench.charts.llm import proxy_over_time_chart
    from workbench.evidence.llm_compare import PROXIES
    from workbench.evidence.llm_frames import culprit_key, proxy_frame_auto

    if scan.lake.task != "generation":
        raise _NoData("the lake is not a generation lake")
    spec = {p.name: p for p in PROXIES}
    proxy = next((e.check for e in f.evidence if e.check in spec), None)
    if proxy is None:
        if any(e.check == "new_topic" for e in f.evidence):
            raise _NoData("a shift of query topics: its evidence is each new topic's share of the prompts "
                          "(the evidence table), not a proxy over time")
        raise _NoData("the finding names no quality or cost proxy that moved")
    ck = culprit_key(f.subject)
    if ck is None:
        raise _NoData("the finding names no prompt, index, model, release or router decision")
    key, value = ck
    onset = _onset(f)
    s = scan.llm.where(pl.col("bucket") >= scan.since(onset))
    dep = str(f.subject.get("dependency") or "")
    if key == "response_model" and ":" in dep:  # a provider snapshot: the calls of that provider and model
        provider, _, model = dep.partition(":")
        s = s.where((pl.col("provider") == provider) & (pl.col("request_model") == model))
    frame = proxy_frame_auto(s, proxy, key, keep=[value] if value else ())
    if frame.is_empty():
        raise _NoData(f"no hour around the onset has enough calls to measure {spec[proxy].label}")
    p = spec[proxy]
    return proxy_over_time_chart(frame, label=p.label, key=key, kind=p.kind, unit=p.unit, onset=onset,
                                 events=scan.events(f, onset), culprit=value, title=head)


_BUILDERS = {"llm_proxies": _llm_proxies,
             "feature_shift": _feature_shift, "latency_by_version": _latency, "segment_by_version": _segments,
             "quality_by_version": _quality, "capture_by_route": _capture, "embedding_drift": _embedding_drift,
             "pii_hits": _pii, "output_mix": _outputs}


# -- canary review ----------------------------------------------------------------------------
def canary_chart(study, lake, *, since: str = "", until: str = ""):
    """Quality (with 95 % intervals) and p50 / p95 / p99 latency of canary and primary over the
    hours both served, from the window :func:`~workbench.report.canary_review` read (pass it the
    same ``since`` / ``until``)."""
    import altair as alt

    from workbench.charts import latency_by_version_chart, quality_by_version_chart
    from workbench.evidence import assess_quality, shared_hours
    from workbench.summaries import summarize

    if not study.canary or not study.primary:
        return Markdown("_No canary served in this window: nothing to compare over time._")
    lake = _lake(lake)
    start, end, _, _ = _window(lake, since, until, "", "")
    pair = [study.primary, study.canary]
    s = summarize(lake, Binning(numeric={}, categorical={}, seen={}), start=start, end=end, bucket="1h")
    hours = shared_hours(s, study.primary, study.canary)
    if not hours:
        return Markdown(f"_{study.canary} and {study.primary} served no hour together in this window._")
    s = s.where(pl.col("bucket").is_in(hours) & pl.col("model_version").is_in(pair))
    title = f"{study.canary} (canary) against {study.primary} (primary) over {len(hours)} shared hours"
    panels = []
    notes = []
    if lake.has_labels:
        metric = _metric(s.task)
        groups = assess_quality(_rebucket(s, QUALITY_BUCKET), by=("bucket", "model_version"), n_boot=0).groups
        rows = [{k: r[k] for k in ("bucket", "model_version", "estimate", "low", "high", "labelled")}
                for r in _estimates(groups, metric)]
        if rows:
            panels.append(quality_by_version_chart(pl.DataFrame(rows), metric=metric, version=study.canary,
                                                   title=f"{metric} per version, {QUALITY_BUCKET} spans of the shared "
                                                         "hours (band: 95% interval)"))
        else:
            notes.append(f"no {QUALITY_BUCKET} span has {MIN_LABELLED} labelled rows of both versions yet")
    else:
        notes.append("no labels: quality not drawn")
    if not s.latency.is_empty():
        q = s.latency_quantiles((0.5, 0.95, 0.99), by=("bucket", "model_version")).sort("bucket", "model_version")
        panels.append(latency_by_version_chart(q, version=study.canary, slo_ms=lake.manifest.slo.latency_p95_ms,
                                               title="Latency p50 / p95 / p99 per version, hour by hour "
                                                     "(orange: p95 objective)"))
    else:
        notes.append("no latency logged")
    if not panels:
        return Markdown(f"_{title}: " + "; ".join(notes) + "._")
    return alt.vconcat(*panels).properties(title=title + (f" ({'; '.join(notes)})" if notes else "")).resolve_scale(
        x="shared")
