"""The evidence one triage run shares between hypotheses, computed once and on demand.

A :class:`Context` holds the windows, one hourly summary of baseline + window (one pass), the
drift between them, and lazily: SLIs, the PII scan, per-feature onsets, what each new model
version changed, segment summaries and embedding drift. It only gathers and caches: the
estimates themselves (onsets, releases, segment regressions, the symptom table, hours both
versions served) live in the evidence modules that own them. Hypotheses read it; none re-reads
rows the context already summarised.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Callable

import numpy as np
import polars as pl

import workbench.evidence as ev
from workbench.evidence.onset import distribution_onset, mean_onset
from workbench.evidence.overlap import floor_hour, on_shared_hours
from workbench.evidence.releases import Release, detect_releases
from workbench.evidence.segment_regression import SegmentRegression, worst_segment_regression
from workbench.evidence.slis import duplicate_rows, ingress_by_hour
from workbench.evidence.strength import ramp
from workbench.evidence.symptoms import symptom_table
from workbench.exceptions import InsufficientDataError, WorkbenchError
from workbench.lake import Lake
from workbench.lake.cardinality import HIGH_CARDINALITY_SHARE
from workbench.lake.labels import POSITIVE_TEXT
from workbench.lake.manifest import GENAI_ROLES
from workbench.lake.row_groups import sample_frame
from workbench.lake.sampling import stable_sample
from workbench.rca.thresholds import RCA_THRESHOLDS, RcaThresholds
from workbench.summaries import Summary, fit_lake_binning, summarize, window
from workbench.summaries.lake import label_lookup
from workbench.summaries.binning import Binning

__all__ = ["Context", "FeatureChange", "Release", "floor_hour", "ramp"]

HOUR = dt.timedelta(hours=1)
#: Optional roles whose absence leaves a check out, and the check (said in the notes).
#: the columns of a summary's table segment deltas read (with the ``score|...`` tallies)
_SEGMENT_TALLIES = ("n", "labelled", "correct", "abs_err", "sq_err")
_OPTIONAL_CHECKS = {"embedding": "embedding drift", "latency_ms": "latency (SLI and regressions)",
                    "fallback": "the fallback rate"}


def _first(groups, metric: str) -> float | None:
    return groups[0].get(metric) if groups else None


def _settled(c: FeatureChange, slack: dt.timedelta = RCA_THRESHOLDS.settle_slack) -> dt.datetime:
    """The first whole hour in which ``c`` has surely landed: after its data onset and after the
    lineage events (schema change, dependency version) the hypotheses tie to it, which may fall
    later in the onset hour or just after it (up to ``slack``)."""
    events = [e.get("at") or e.get("changed_at") for e in (*c.schema_changes, *c.dependency_changes)]
    times = [c.onset.at] + [t for t in events if t is not None and c.onset.at <= t <= c.onset.at + slack]
    return floor_hour(max(times)) + HOUR


@dataclass(frozen=True)
class FeatureChange:
    """A drifted input column (or the embedding) with what the lineage and the data say about it."""

    feature: str
    kind: str  # numeric | categorical | embedding
    drift: Any  # FeatureDrift or EmbeddingDrift
    strength: float  # [0, 1] from the effect sizes
    onset: ev.OnsetResult | None
    nature: dict[str, Any]  # null_jump, scale_power, unseen_share, mean_shift_sd
    source_dataset: str | None
    source_field: str | None
    schema_changes: list[dict[str, Any]]  # on the source dataset, near the onset
    dependency_changes: list[dict[str, Any]]  # whose consumers include the feature, near the onset


class Context:
    """Evidence for one triage: ``[baseline_start, baseline_end)`` against ``[start, end)``.

    Parameters
    ----------
    lake : Lake
    start, end : datetime
        The analyst's incident window (``end`` exclusive).
    baseline_start, baseline_end : datetime
        The reference window.
    progress : callable, optional
        Called with a short message at each step.
    thresholds : RcaThresholds, optional
        The cross-cutting statistical choices (see docs/triage.md).
    """

    def __init__(self, lake: Lake, *, start: dt.datetime, end: dt.datetime, baseline_start: dt.datetime,
                 baseline_end: dt.datetime, progress: Callable[[str], None] | None = None,
                 trust_artifacts: bool = False, thresholds: RcaThresholds = RCA_THRESHOLDS) -> None:
        self.lake = lake
        self.thresholds = thresholds
        self.trust_artifacts = trust_artifacts
        self.notes: list[str] = []  # evidence that could not be gathered, and why
        self.start, self.end = start, end
        self.baseline_start, self.baseline_end = baseline_start, baseline_end
        self.progress = progress or (lambda msg: None)
        self.progress("fitting bins on the baseline")
        self.notes += lake.read_notes()
        for role, what in _OPTIONAL_CHECKS.items():
            if role not in lake.roles:
                self.notes.append(f"no `{getattr(lake.manifest.columns, role)}` column in predictions (optional "
                                  f"`{role}` role): {what} not tested")
        self.binning: Binning = fit_lake_binning(lake, start=baseline_start, end=baseline_end)
        for c, d in sorted((self.binning.meta.get("high_cardinality") or {}).items()):
            self.notes.append(f"categorical feature {c} is id-like ({d['distinct']:,} distinct values in "
                              f"{d['rows']:,} baseline rows, more than {HIGH_CARDINALITY_SHARE:.0%} distinct): "
                              "not tested for codes never seen before; its null rate still is")
        self.progress("summarising baseline and window (one pass)")
        lo = min(baseline_start, start)
        segs = self._riding_segments(lo, end)
        # the labels read once for this pass and, when the segments do not ride on it, the segment pass
        self._labels = label_lookup(lake)
        full = summarize(lake, self.binning, start=lo, end=end, bucket="1h", segment=segs or None,
                         label_lookup=self._labels)
        if segs or not lake.segments:
            self._labels = None  # no segment pass to share them with
        # segment columns ride on the one pass when they have few values: the segment summary
        # is this pass's (no second pass); everything else reads it collapsed to the usual keys
        self._by_segment: Summary | None = full if segs else None
        if segs:
            full = full.collapse(("bucket", "model_version", "route"))
        self.full: Summary = full
        b_end, w_start = floor_hour(baseline_end), floor_hour(start)
        self.baseline: Summary = replace(
            full.where((pl.col("bucket") >= floor_hour(baseline_start)) & (pl.col("bucket") < b_end)),
            start=baseline_start, end=baseline_end)
        self.window: Summary = replace(full.where(pl.col("bucket") >= w_start), start=start, end=end)
        self.drift = ev.detect_drift(self.baseline, self.window)
        # rows with a null/NaN/inf score or latency, or a NaN/inf prediction or label: left out of
        # the analyses that need the value (the summary counts them), and said so
        self.invalid_values: dict[str, int] = full.invalid_counts()
        if self.invalid_values:
            self.notes.append("rows with an invalid value, left out of the analyses that need it: " + ", ".join(
                f"{n:,} with {'a null, NaN or infinite' if c in ('score', 'latency_ms') else 'a NaN or infinite'} "
                f"{c}" for c, n in self.invalid_values.items()))
        self.timeline = lake.lineage.timeline(lo - thresholds.timeline_lead, end)

    # -- generation lakes --------------------------------------------------------------
    @cached_property
    def llm(self):
        """Evidence of a generation lake's LLM calls (:class:`~workbench.rca.llm_evidence.LLMEvidence`)."""
        from workbench.rca.llm_evidence import LLMEvidence

        return LLMEvidence(self)

    # -- service levels ---------------------------------------------------------------
    @cached_property
    def slis(self) -> tuple[ev.SLIResult, ev.SLIResult]:
        """SLIs of (baseline, window), per version and route."""
        slo, traffic = self.lake.manifest.slo, self.lake.lineage.traffic
        dup = self.duplicates if traffic.height else None
        return (ev.compute_slis(self.baseline, slo=slo, traffic=traffic, duplicates=dup),
                ev.compute_slis(self.window, slo=slo, traffic=traffic, duplicates=dup))

    @cached_property
    def duplicates(self) -> pl.DataFrame:
        """Rows of baseline + window repeating a request id, per hour and route (``bucket, route,
        dup``); the capture rate leaves them out, and a note says how many there were."""
        lo = min(self.baseline_start, self.start)
        if getattr(self.lake, "engine", "polars") == "spark":  # counted where the rows are
            from workbench.spark.evidence import duplicate_rows_spark

            dup = duplicate_rows_spark(self.lake, lo, self.end)
        else:
            dup = duplicate_rows(window(self.lake.predictions(["request_id", "timestamp", "route"]), lo, self.end))
        total = int(dup["dup"].sum()) if dup.height else 0
        if total:
            self.notes.append(f"{total:,} prediction rows of baseline + window repeat a request_id already "
                              "logged: counted once in the capture rate (logged requests / ingress requests)")
        return dup

    @cached_property
    def quality(self) -> tuple[ev.QualityResult, ev.QualityResult]:
        """Quality over all versions of (baseline, window)."""
        return ev.assess_quality(self.baseline, by=()), ev.assess_quality(self.window, by=())

    def hourly(self, summary: Summary | None = None) -> pl.DataFrame:
        """The summary's wide table collapsed to one row per hour bucket, sorted."""
        s = summary if summary is not None else self.window
        return s.collapse(("bucket",)).table.sort("bucket")

    # -- inputs -----------------------------------------------------------------------
    def onset_of(self, feature: str, kind: str) -> ev.OnsetResult | None:
        """When the window's distribution of ``feature`` moved away from the baseline's
        (see :func:`~workbench.evidence.onset.distribution_onset`)."""
        return distribution_onset(self.baseline, self.window, feature, kind, thresholds=self.thresholds.onset)

    @cached_property
    def embedding_change(self) -> FeatureChange | None:
        """Embedding drift (centroid, norms, MMD) on bounded samples, when the lake logs one."""
        lake = self.lake
        if "embedding" not in lake.roles:  # an optional role the lake does not log (noted in __init__)
            return None
        self.progress("testing embedding drift")
        th = self.thresholds
        cols = ["request_id", "timestamp", "embedding"]
        lf = lake.predictions(cols)
        budget = th.embedding_sample * th.embedding_read_per_vector
        spark = getattr(lake, "engine", "polars") == "spark"
        if spark:  # sampled by Spark (stable by request id): only the sample reaches the driver
            from workbench.spark.samples import embedding_norm_onset_spark, sample_embeddings_spark

            base = sample_embeddings_spark(lake, self.baseline_start, self.baseline_end, th.embedding_sample,
                                           read_budget=budget)
            win = sample_embeddings_spark(lake, self.start, self.end, th.embedding_sample, read_budget=budget)
        else:
            base = ev.sample_embeddings(self._rows(cols, self.baseline_start, self.baseline_end, budget,
                                                   "embedding"), th.embedding_sample)
            win = ev.sample_embeddings(self._rows(cols, self.start, self.end, budget, "embedding"),
                                       th.embedding_sample)
        if len(base) < th.embedding_min or len(win) < th.embedding_min:
            return None
        try:
            res = ev.detect_embedding_drift(base, win, permutations=th.embedding_permutations)
        except InsufficientDataError:
            return None
        if not res.drifted:
            return None
        norm = pl.col("embedding").list.eval(pl.element().cast(pl.Float64) ** 2).list.sum().sqrt()
        if spark:
            onset = embedding_norm_onset_spark(lake, self.start, self.end, thresholds=th.onset)
        else:
            onset = mean_onset(window(lf, self.start, self.end), norm, thresholds=th.onset)
        # effect sizes, not the p-value: centroid shift in baseline spreads, change of the norms
        # (the norm ratio floored at 1e-9 only to keep the log finite)
        strength = max(ramp(res.centroid_shift, th.centroid_lo, th.centroid_hi),
                       ramp(abs(math.log(max(res.norm_ratio, 1e-9))), th.norm_lo, th.norm_hi))
        deps = self._dependencies_for(("embedding", lake.manifest.columns.embedding), onset)
        return FeatureChange("embedding", "embedding", res, strength, onset, {}, None, None, [], deps)

    def _rows(self, columns: list[str], start: dt.datetime, end: dt.datetime, budget: int, what: str,
              *, whole: bool = False) -> pl.LazyFrame:
        """Rows of ``[start, end)`` for a check that reads rows: a bounded sample of Parquet row
        groups spread over the window when the window holds more than ``budget`` rows (see
        :mod:`workbench.lake.row_groups`; noted), else (or with ``whole``) the whole window."""
        sample = None if whole else sample_frame(self.lake, columns, start, end, budget)
        if sample is None:
            return window(self.lake.predictions(columns), start, end)
        side = "baseline" if start == self.baseline_start else "window"
        self.notes.append(f"{what} read from {sample.describe()} of the {side}")
        return window(sample.frame, start, end)

    def _near(self, at: dt.datetime, onset: ev.OnsetResult | None) -> bool:
        """Is lineage event time ``at`` near the data's onset (or inside the window when unknown)?"""
        before, after = self.thresholds.near_before, self.thresholds.near_after
        if onset is None or onset.at is None:
            return self.start - before <= at <= self.end
        return (onset.low or onset.at) - before <= at <= (onset.high or onset.at) + after

    def _dependencies_for(self, names: tuple[str | None, ...], onset) -> list[dict[str, Any]]:
        deps = self.lake.lineage.dependencies
        if deps.is_empty():
            return []
        names_ = {n for n in names if n}
        out = []
        for r in deps.filter(pl.col("previous_version").is_not_null()).iter_rows(named=True):
            if names_ & set(r["consumers"] or []) and self._near(r["changed_at"], onset):
                out.append(r)
        return out

    def _schema_changes_for(self, dataset: str | None, onset) -> list[dict[str, Any]]:
        sc = self.lake.lineage.schema_changes
        if dataset is None or sc.is_empty():
            return []
        return [r for r in sc.filter(pl.col("dataset") == dataset).iter_rows(named=True)
                if self._near(r["at"], onset)]

    @cached_property
    def feature_changes(self) -> list[FeatureChange]:
        """Every drifted input with its onset, nature and lineage, strongest first."""
        self.progress("locating drift onsets and upstream changes")
        lineage = self.lake.lineage
        fv = lineage.feature_versions_at(self.end) if lineage.features.height else None
        th = self.thresholds
        out = []
        for f0 in self.drift.drifted:
            f = f0
            onset = self.onset_of(f0.feature, f0.kind)
            if onset is not None and onset.at is not None and onset.p_value < th.onset_alpha:
                # the nature of the change (nulls, unit, codes) read from the rows after the onset,
                # not diluted by the window's healthy first hours
                after = self.window.where(pl.col("bucket") >= floor_hour(onset.at) + HOUR)
                if after.rows >= th.nature_min_rows:
                    f = ev.detect_drift(self.baseline, after, features=[f.feature]).features[0]
            src = fv.filter(pl.col("feature") == f.feature) if fv is not None else None
            dataset = src["source_dataset"][0] if src is not None and src.height else None
            field_ = src["source_field"][0] if src is not None and src.height else None
            null_jump = f.null_rate_window - f.null_rate_baseline
            nature = {"null_jump": null_jump, "scale_power": f.scale_power, "scale_ratio": f.scale_ratio,
                      "unseen_share": f.unseen_share}
            # a power-of-ten scale change is unmistakable whatever its distances
            strength = max(ramp(f.psi, th.psi_lo, th.psi_hi), ramp(f.js, th.js_lo, th.js_hi),
                           ramp(null_jump, th.null_lo, th.null_hi), ramp(f.unseen_share, th.unseen_lo, th.unseen_hi),
                           1.0 if f.scale_power else 0.0)
            out.append(FeatureChange(
                f.feature, f.kind, f, strength, onset, nature, dataset, field_,
                self._schema_changes_for(dataset, onset),
                self._dependencies_for((f.feature, field_), onset)))
        emb = self.embedding_change
        if emb is not None:
            out.append(emb)
        return sorted(out, key=lambda c: -c.strength)

    @cached_property
    def input_change(self) -> float:
        """How strongly the inputs changed (0 = no drifted input): discounts before/after quality
        comparisons, which a population change confounds."""
        return max((c.strength for c in self.feature_changes), default=0.0)

    # -- model versions ---------------------------------------------------------------
    @cached_property
    def releases(self) -> list[Release]:
        """Versions first deployed from ``thresholds.release_lookback`` (12 h) before the window on,
        that served rows in it (see :func:`~workbench.evidence.releases.detect_releases`)."""
        return detect_releases(self.baseline, self.window, self.lake.lineage, history=self.full,
                               lookback=self.thresholds.release_lookback)

    def compare(self, release: Release) -> ev.VersionComparison | None:
        """The release against its predecessor over baseline + window (quality, latency, scores)."""
        return self._compare(release.version, release.previous)

    def _compare(self, v: str, prev: str | None) -> ev.VersionComparison | None:
        key = (v, prev)
        cache = self.__dict__.setdefault("_cmp", {})
        if key not in cache:
            s = self.full.where(pl.col("model_version").is_in([v, prev]))
            try:
                cache[key] = ev.compare_versions(s, prev, v) if prev else None
            except InsufficientDataError:
                cache[key] = None
        return cache[key]

    def drop_explained_by_version(self, version: str) -> float | None:
        """Share of the window's quality drop (against the baseline) that disappears when the
        version's rows are left out: how much of the drop is confined to that version."""
        metric, sign = self._quality_metric()
        b, w = self._overall_quality()
        rest_s = self.window.where(pl.col("model_version") != version)
        rest = _first(ev.assess_quality(rest_s, by=(), n_boot=0).groups, metric) if rest_s.rows else None
        if b is None or w is None:
            return None
        drop = sign * (b - w)
        if drop <= 0:
            return None
        if rest is None:
            return 1.0
        return float(np.clip(sign * (rest - w) / drop, 0.0, 1.0))

    def drop_explained_by_inputs(self, change: FeatureChange) -> float | None:
        """Share of the window's quality drop (against the baseline) that rows untouched by a
        release rolled out with the change show after ``change``'s onset: how much of the drop the input change alone
        accounts for (the predecessor keeps serving the changed inputs)."""
        if change.onset is None or change.onset.at is None:
            return None
        metric, sign = self._quality_metric()
        b, w = self._overall_quality()
        if b is None or w is None or sign * (b - w) <= 0:
            return None
        # versions rolled out with the change (from 3 h before its onset hour) are left out
        since = floor_hour(change.onset.at) - self.thresholds.rolled_out_with
        new = [r.version for r in self.releases if r.first_deployed is None or r.first_deployed >= since]
        s = self.window.where((pl.col("bucket") >= _settled(change, self.thresholds.settle_slack))
                              & ~pl.col("model_version").is_in(new))
        after = _first(ev.assess_quality(s, by=(), n_boot=0).groups, metric) if s.rows else None
        if after is None:
            return None
        return round(float(np.clip(sign * (b - after) / (sign * (b - w)), 0.0, 1.0)), 4)

    def _quality_metric(self) -> tuple[str, float]:
        metric = {"binary_classification": "auc", "multiclass": "accuracy"}.get(self.lake.task, "mae")
        return metric, (-1.0 if metric == "mae" else 1.0)

    def _overall_quality(self) -> tuple[float | None, float | None]:
        metric, _ = self._quality_metric()
        qb, qw = self.quality  # baseline and window overall, computed once per triage
        return _first(qb.groups, metric), _first(qw.groups, metric)

    def concurrent(self, release: Release) -> ev.VersionComparison | None:
        """The same comparison on the hours both versions served (comparable inputs), if any."""
        if release.previous is None:
            return None
        s = on_shared_hours(self.full, release.version, release.previous)
        if s is None:
            return None
        try:
            return ev.compare_versions(s, release.previous, release.version)
        except InsufficientDataError:
            return None

    @cached_property
    def input_onset(self) -> dt.datetime | None:
        """The first whole hour after the strongest input change's onset (None: no dated change)."""
        dated = [c for c in self.feature_changes if c.onset is not None and c.onset.at is not None]
        if not dated:
            return None
        return _settled(max(dated, key=lambda c: c.strength), self.thresholds.settle_slack)

    def after_inputs(self, release: Release) -> ev.VersionComparison | None:
        """The release against its predecessor on the hours after the inputs changed only.

        When the inputs changed (a schema change, drift), before/after comparisons are confounded
        by it; after it both versions read the same changed inputs, so a difference between them
        is the model's. Uses every hour from the input change on (the predecessor's last hours
        before the release took over, the hours both served, the release's own hours).
        """
        at = self.input_onset
        if at is None or release.previous is None:
            return None
        s = self.full.where((pl.col("bucket") >= at)
                            & pl.col("model_version").is_in([release.version, release.previous]))
        try:
            return ev.compare_versions(s, release.previous, release.version)
        except InsufficientDataError:
            return None

    def mismapping(self, release: Release) -> ev.MismappingResult | None:
        """Inverted scores or permuted classes of the release (None: it has no rows)."""
        try:
            return ev.detect_output_mismapping(self.full, release.version, previous=release.previous)
        except InsufficientDataError:
            return None

    def _riding_segments(self, lo: dt.datetime, end: dt.datetime) -> list[str]:
        """The segment columns to add to the main pass's keys: all of them when the first rows of
        the span show few enough combinations of their values, else none (an id-like segment
        would multiply the pass's groups; it gets a pass of its own, without feature histograms)."""
        segs = list(self.lake.segments)
        if not segs:
            return []
        th = self.thresholds
        head = window(self.lake.predictions(["timestamp", *segs]), lo, end).head(th.segment_ride_rows)
        distinct = head.select(pl.col(c).n_unique() for c in segs).collect()
        return segs if math.prod(distinct.row(0)) <= th.segment_ride_groups else []

    @cached_property
    def _segments(self) -> Summary:
        """The main pass keyed by every segment column at once when they rode on it, else one
        daily pass keyed by them all (counts and label/score tallies only: segment deltas need
        no feature histograms)."""
        self.progress(f"summarising by segments {', '.join(self.lake.segments)}")
        if self._by_segment is not None:
            return self._by_segment
        bare = replace(self.binning, numeric={}, categorical={}, seen={})
        labels, self._labels = self._labels, None  # (their last use)
        return summarize(self.lake, bare, start=min(self.baseline_start, self.start), end=self.end, bucket="1d",
                         segment=list(self.lake.segments), label_lookup=labels)

    @cached_property
    def _segment_tallies(self) -> Summary:
        """The segment pass with what segment deltas read only: row counts and the label and score
        tallies (no feature histograms, latency or confusion tables to add up per column)."""
        s = self._segments
        keep = [c for c in s.table.columns if c in s.keys or c in _SEGMENT_TALLIES or c.startswith("score|")]
        return replace(s, table=s.table.select(keep), latency=s.latency.clear(), confusion=None)

    def segment_summary(self, column: str) -> Summary:
        """The segment pass collapsed to one segment column (counts, label and score tallies)."""
        return self._segment_tallies.collapse(("bucket", "model_version", "route", column))

    @cached_property
    def capture(self) -> pl.DataFrame | None:
        """Logged rows ``n`` and ingress ``requests`` per hour (and route, when the ingress has
        routes) over baseline + window; None without ingress counts."""
        traffic = self.lake.lineage.traffic
        if traffic.is_empty():
            return None
        full = replace(self.full, start=min(self.baseline_start, self.start), end=self.end)
        ing = ingress_by_hour(full, traffic)
        if ing.is_empty():
            return None
        by_route = "route" in ing.columns and ing["route"].null_count() == 0
        keys = ["bucket", "route"] if by_route else ["bucket"]
        ing = ing.group_by(keys).agg(pl.col("requests").sum())
        logged = self.full.collapse(tuple(keys)).table.select(*keys, pl.col("n").cast(pl.Float64))
        dup = self.duplicates.group_by(keys).agg(pl.col("dup").sum())
        logged = (logged.join(dup, on=keys, how="left")
                  .with_columns((pl.col("n") - pl.col("dup").fill_null(0.0)).clip(0.0).alias("n")).drop("dup"))
        return (ing.join(logged, on=keys, how="full", coalesce=True)
                .with_columns(pl.col("requests").fill_null(0.0), pl.col("n").fill_null(0.0)).sort(keys))

    def segment_regression(self, release: Release) -> SegmentRegression | None:
        """The segment value whose accuracy/AUC fell most against the whole's change with the
        release (significant after BH), with how much of the overall change it explains; across
        every segment column (see :func:`~workbench.evidence.segment_regression.worst_segment_regression`)."""
        cache = self.__dict__.setdefault("_segreg", {})
        if release.version in cache:
            return cache[release.version]
        best = None
        if release.previous is not None:
            for col in self.lake.segments:
                cand = worst_segment_regression(self.segment_summary(col), col, release.version,
                                                thresholds=self.thresholds.segments)
                if cand is not None and (best is None or cand.strength * cand.explains > best.strength * best.explains):
                    best = cand
        cache[release.version] = best
        return best

    # -- artifacts ----------------------------------------------------------------------
    def _artifact_uri(self, version: str | None) -> str | None:
        if version is None:
            return None
        d = self.lake.lineage.deployments.filter(pl.col("model_version") == version)
        uris = [u for u in d["artifact_uri"].drop_nulls().to_list() if u] if "artifact_uri" in d.columns else []
        return uris[0] if uris else None

    def replay(self, release: Release):
        """Old and new artifacts on the release's window rows (None without both artifacts)."""
        cache = self.__dict__.setdefault("_replay", {})
        if release.version not in cache:
            res = None
            if self._artifact_uri(release.version) and self._artifact_uri(release.previous):
                self.progress(f"replaying {release.version}'s rows with {release.previous}'s model")
                from workbench.explain import replay

                try:
                    res = replay(self.lake, release.version, release.previous, start=self.start, end=self.end,
                                 baseline_start=self.baseline_start, baseline_end=self.baseline_end,
                                 trust_artifacts=self.trust_artifacts)
                except WorkbenchError as exc:
                    self.notes.append(f"replay of {release.version}: {exc.message}")
            cache[release.version] = res
        return cache[release.version]

    @cached_property
    def importance(self):
        """Permutation importance of the window's main version on baseline vs window rows (alibi),
        when its artifact is available; None otherwise."""
        served = self.window.collapse(("model_version",)).table.sort("n", descending=True)
        version = served["model_version"][0] if served.height else None
        uri = self._artifact_uri(version)
        if uri is None or not self.lake.has_labels:
            return None
        from workbench.explain import importance_shift, load_artifact

        self.progress(f"permutation importance of {version} (alibi)")
        try:
            model = load_artifact(uri, root=self.lake.root, trust_artifacts=self.trust_artifacts)
            base, win = (self._labelled_sample(lo, hi) for lo, hi in ((self.baseline_start, self.baseline_end),
                                                                      (self.start, self.end)))
            if min(base.height, win.height) < self.thresholds.importance_min_rows:
                return None
            return importance_shift(model, base, win, numeric=self.lake.numeric_features,
                                    categorical=self.lake.categorical_features, task=self.lake.task)
        except (WorkbenchError, ImportError, ValueError) as exc:
            # ValueError: the artifact's own predict (scikit-learn, a team's model) rejecting the
            # logged inputs is a fact about the artifact, noted, not a failed triage
            self.notes.append(f"importance: {exc}")
            return None

    def _labelled_sample(self, start, end) -> pl.DataFrame:
        """Up to ``importance_sample_rows`` labelled rows of ``[start, end)``, a stable sample by
        request id (taken by Spark on the Spark engine): the rows permutation importance reads."""
        n = self.thresholds.importance_sample_rows
        if getattr(self.lake, "engine", "polars") == "spark":
            from workbench.spark.samples import window_sample_spark

            return window_sample_spark(self.lake, n, start=start, end=end, with_labels=True, labelled=True)
        lf = self.lake.predictions(with_labels=True).filter(pl.col("label").is_not_null())
        return stable_sample(window(lf, start, end), n)

    # -- personal data ----------------------------------------------------------------
    @cached_property
    def pii(self) -> tuple[ev.PIIResult, ev.PIIResult]:
        """PII scans of (baseline, window) over text columns not declared sensitive."""
        self.progress("scanning text columns for personal data")
        lake = self.lake
        lf = lake.predictions()
        schema = lf.collect_schema()
        skip = {"request_id", "trace_id", "model_version", "route", "prediction", "label", "feature_set_version",
                *lake.categorical_features, *lake.segments}
        if lake.task == "generation":
            # the calls' texts are scanned by the generation-lake check (personal data in an answer
            # that the user's own prompt did not carry); ids, models and versions hold none
            skip |= set(GENAI_ROLES) | {"router_decision", "shadow_of"}
        cols = [c for c, t in schema.items() if t == pl.String and c not in skip and c not in lake.sensitive]
        if getattr(lake, "engine", "polars") == "spark":  # counted where the rows are: every row, counts only
            from workbench.spark.pii import scan_pii_spark

            base, win = scan_pii_spark(lake, cols, [(self.baseline_start, self.baseline_end), (self.start, self.end)])
            return base, win
        if not cols:
            return (ev.scan_pii(window(lf.select("timestamp"), self.baseline_start, self.baseline_end), columns=[]),
                    ev.scan_pii(window(lf.select("timestamp"), self.start, self.end), columns=[]))
        read, budget, notes = ["timestamp", *cols], self.thresholds.pii_sample_rows, len(self.notes)

        def scan(whole: bool) -> tuple[ev.PIIResult, ev.PIIResult]:
            # a sample (bounded) is matched value by value: text columns repeat values
            return tuple(ev.scan_pii(self._rows(read, a, b, budget, "the PII scan", whole=whole),
                                     sensitive=lake.sensitive, columns=cols, by_value=not whole)
                         for a, b in ((self.baseline_start, self.baseline_end), (self.start, self.end)))

        base, win = scan(whole=False)
        if win.flagged and len(self.notes) > notes:
            # personal data in the sample: counts, shares and the hourly onset from every row
            del self.notes[notes:]
            base, win = scan(whole=True)
        return base, win

    def _labels_missing(self, qb: ev.QualityResult, qw: ev.QualityResult) -> str | None:
        """Why the quality symptoms are absent, when the lake has labels but they measure nothing."""
        lake = self.lake
        if not lake.has_labels:
            return None
        gb, gw = (q.groups[0] if q.groups else {} for q in (qb, qw))
        if gb.get("labelled") and gw.get("labelled"):
            if lake.task == "binary_classification" and not (gb.get("positives") or gw.get("positives")):
                return (f"no label of baseline or window reads as positive ({', '.join(POSITIVE_TEXT)} or "
                        "a number above 0.5): AUC and log loss are not measured; check how labels are written")
            return None
        labels = lake.labels()
        h = pl.col("request_id").hash()
        counts = pl.collect_all([labels.select(pl.len().alias("n")),
                                 labels.select(h.alias("h")).join(lake.predictions(["request_id"]).select(h.alias("h")),
                                                                  on="h", how="semi").select(pl.len().alias("n"))])
        total, joined = counts[0]["n"][0], counts[1]["n"][0]
        side = "baseline" if not gb.get("labelled") else "window"
        if total and not joined:
            return (f"labels join no prediction (0 of {total:,} label request_ids occur in predictions): quality "
                    "(AUC, accuracy) is not measured; check that labels use the predictions' request ids")
        return (f"no labelled prediction in the {side} ({joined:,} of {total:,} labels join a prediction, none "
                f"there yet: ground truth arrives late): quality is not compared")

    # -- symptoms ---------------------------------------------------------------------
    @cached_property
    def symptoms(self) -> list[dict[str, Any]]:
        """SLIs and quality, baseline against window, with the objective and whether breached
        (rows of the findings document; see :func:`~workbench.evidence.symptoms.symptom_table`)."""
        slis, capture = self.slis, self.capture  # first: they may note duplicated request ids
        qb, qw = self.quality
        if (why := self._labels_missing(qb, qw)) is not None:
            self.notes.append(why)
        table = symptom_table(slis, (qb, qw), self.drift, self.lake.manifest.slo, capture=capture,
                              baseline_end=self.baseline_end, start=self.start)
        return [s.as_row() for s in table]
