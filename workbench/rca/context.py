"""The evidence one triage run shares between hypotheses, computed once and on demand.

A :class:`Context` holds the windows, one hourly summary of baseline + window (one pass), the
drift between them, and lazily: SLIs, the PII scan, per-feature onsets, what each new model
version changed, segment summaries and embedding drift. Hypotheses read it; none re-reads rows
the context already summarised.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Callable

import numpy as np
import polars as pl

from workbench import evidence as ev
from workbench.evidence.slis import duplicate_rows, ingress_by_hour
from workbench.lake import Lake
from workbench.lake.cardinality import HIGH_CARDINALITY_SHARE
from workbench.summaries import Summary, fit_lake_binning, summarize, window
from workbench.summaries.binning import Binning

__all__ = ["Context", "FeatureChange", "Release"]

HOUR = dt.timedelta(hours=1)
#: Optional roles whose absence leaves a check out, and the check (said in the notes).
_OPTIONAL_CHECKS = {"embedding": "embedding drift", "latency_ms": "latency (SLI and regressions)",
                    "fallback": "the fallback rate"}
_REFERENCE = "(reference)"


def ramp(x: float | None, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between: effect size -> strength."""
    if x is None or not math.isfinite(x):
        return 0.0
    return float(min(1.0, max(0.0, (x - lo) / (hi - lo))))


def _first(groups, metric: str) -> float | None:
    return groups[0].get(metric) if groups else None


def _settled(c: FeatureChange) -> dt.datetime:
    """The first whole hour in which ``c`` has surely landed: after its data onset and after the
    lineage events (schema change, dependency version) the hypotheses tie to it, which may fall
    later in the onset hour or just after it."""
    events = [e.get("at") or e.get("changed_at") for e in (*c.schema_changes, *c.dependency_changes)]
    times = [c.onset.at] + [t for t in events if t is not None and c.onset.at <= t <= c.onset.at + 3 * HOUR]
    return floor_hour(max(times)) + HOUR


def floor_hour(t: dt.datetime) -> dt.datetime:
    return t.replace(minute=0, second=0, microsecond=0)


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


@dataclass(frozen=True)
class Release:
    """A model version first deployed shortly before or inside the window, against its predecessor."""

    version: str
    previous: str | None
    first_deployed: dt.datetime | None
    info: dict[str, Any] | None
    previous_info: dict[str, Any] | None
    routes: tuple[str, ...]  # routes it served with traffic in the window
    rows: int
    same_artifact: bool | None
    same_training: bool | None
    new_commit: bool | None
    lineage: list[dict[str, Any]]  # its rollout steps


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
    """

    def __init__(self, lake: Lake, *, start: dt.datetime, end: dt.datetime, baseline_start: dt.datetime,
                 baseline_end: dt.datetime, progress: Callable[[str], None] | None = None,
                 trust_artifacts: bool = False) -> None:
        self.lake = lake
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
        full = summarize(lake, self.binning, start=lo, end=end, bucket="1h")
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
        self.timeline = lake.lineage.timeline(lo - dt.timedelta(days=1), end)

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
        ids = window(self.lake.predictions(["request_id", "timestamp", "route"]), lo, self.end)
        dup = duplicate_rows(ids)
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
    def _cells(self, feature: str, kind: str) -> list[str]:
        if kind == "numeric":
            k = self.binning.n_bins(feature)
            return [f"{feature}|h{i}" for i in range(k)] + [f"{feature}|null"]
        vocab = self.binning.categorical[feature]
        return [f"{feature}|v{i}" for i in range(len(vocab))] + [f"{feature}|other", f"{feature}|null"]

    def onset_of(self, feature: str, kind: str) -> ev.OnsetResult | None:
        """When the window's distribution of ``feature`` moved away from the baseline's.

        The rows falling in the cells (bins, categories, null) that gained share are counted per
        hour; a ramp (a step is a ramp of one hour) is fitted to that rate.
        """
        cells = self._cells(feature, kind)
        base = self.baseline.collapse().table
        hourly = self.hourly()
        if base.is_empty() or hourly.height < 5 or any(c not in hourly.columns for c in cells):
            return None
        b = np.array([base[c][0] or 0 for c in cells], float)
        counts = hourly.select(cells).fill_null(0).to_numpy().astype(float)
        w = counts.sum(axis=0)
        if b.sum() == 0 or w.sum() == 0:
            return None
        gain = (w / w.sum()) > (b / b.sum()) * 1.1 + 1e-4
        if not gain.any():
            return None
        times = hourly["bucket"].to_list()
        null_jump = w[-1] / w.sum() - b[-1] / b.sum()
        if kind == "numeric" and null_jump < 0.01:
            # a numeric distribution moving without a null jump: the hourly mean of each row's
            # baseline percentile (read from the bins) moves about linearly with a location shift,
            # where the share of rows in the gaining bins responds late to a gradual one
            share = b[:-1] / b[:-1].sum()
            mid = np.cumsum(share) - share / 2
            c = counts[:, :-1]
            n = c.sum(axis=1)
            sums = c @ mid
            # remove the daily cycle the baseline shows (hour-of-day mean percentile), so a
            # gradual shift is not mistaken for, or hidden by, the time of day
            bh = self.hourly(self.baseline)
            if bh.height >= 48:
                bc = bh.select(cells[:-1]).fill_null(0).to_numpy().astype(float)
                hours_b = np.array([t.hour for t in bh["bucket"].to_list()])
                bn, bs = bc.sum(axis=1), bc @ mid
                prof = np.zeros(24)
                for hr in range(24):
                    m = (hours_b == hr) & (bn > 0)
                    if bn[m].sum() >= 30:
                        prof[hr] = bs[m].sum() / bn[m].sum() - 0.5
                sums = sums - n * prof[np.array([t.hour for t in times])]
            return ev.detect_onset(times, n=n, sums=sums, sumsq=c @ (mid * mid), model="ramp")
        n = counts.sum(axis=1)
        events = counts[:, gain].sum(axis=1)
        return ev.detect_onset(times, n=n, events=events, model="ramp")

    @cached_property
    def embedding_change(self) -> FeatureChange | None:
        """Embedding drift (centroid, norms, MMD) on bounded samples, when the lake logs one."""
        lake = self.lake
        if "embedding" not in lake.roles:  # an optional role the lake does not log (noted in __init__)
            return None
        self.progress("testing embedding drift")
        lf = lake.predictions(["request_id", "timestamp", "embedding"])
        base = ev.sample_embeddings(window(lf, self.baseline_start, self.baseline_end), 600)
        win = ev.sample_embeddings(window(lf, self.start, self.end), 600)
        if len(base) < 50 or len(win) < 50:
            return None
        res = ev.detect_embedding_drift(base, win, permutations=200)
        if not res.drifted:
            return None
        onset = self._embedding_onset(lf)
        # effect sizes, not the p-value: centroid shift in baseline spreads, change of the norms
        strength = max(ramp(res.centroid_shift, 0.1, 0.4), ramp(abs(math.log(max(res.norm_ratio, 1e-9))), 0.05, 0.3))
        deps = self._dependencies_for(("embedding", lake.manifest.columns.embedding), onset)
        return FeatureChange("embedding", "embedding", res, strength, onset, {}, None, None, [], deps)

    def _embedding_onset(self, lf: pl.LazyFrame) -> ev.OnsetResult | None:
        """Hourly mean embedding norm in the window, and its change point."""
        norm = pl.col("embedding").list.eval(pl.element().cast(pl.Float64) ** 2).list.sum().sqrt()
        t = (window(lf, self.start, self.end).select(pl.col("timestamp").dt.truncate("1h").alias("bucket"),
                                                     norm.alias("x"))
             .group_by("bucket").agg(pl.len().alias("n"), pl.col("x").sum().alias("s"),
                                     (pl.col("x") ** 2).sum().alias("ss")).sort("bucket").collect())
        if t.height < 5:
            return None
        return ev.detect_onset(t["bucket"].to_list(), n=t["n"].to_numpy(), sums=t["s"].to_numpy(),
                               sumsq=t["ss"].to_numpy())

    def _near(self, at: dt.datetime, onset: ev.OnsetResult | None, *, before: float, after: float) -> bool:
        """Is lineage event time ``at`` near the data's onset (or inside the window when unknown)?"""
        if onset is None or onset.at is None:
            return self.start - dt.timedelta(hours=before) <= at <= self.end
        lo = (onset.low or onset.at) - dt.timedelta(hours=before)
        hi = (onset.high or onset.at) + dt.timedelta(hours=after)
        return lo <= at <= hi

    def _dependencies_for(self, names: tuple[str | None, ...], onset) -> list[dict[str, Any]]:
        deps = self.lake.lineage.dependencies
        if deps.is_empty():
            return []
        names_ = {n for n in names if n}
        out = []
        for r in deps.filter(pl.col("previous_version").is_not_null()).iter_rows(named=True):
            if names_ & set(r["consumers"] or []) and self._near(r["changed_at"], onset, before=6, after=3):
                out.append(r)
        return out

    def _schema_changes_for(self, dataset: str | None, onset) -> list[dict[str, Any]]:
        sc = self.lake.lineage.schema_changes
        if dataset is None or sc.is_empty():
            return []
        return [r for r in sc.filter(pl.col("dataset") == dataset).iter_rows(named=True)
                if self._near(r["at"], onset, before=6, after=3)]

    @cached_property
    def feature_changes(self) -> list[FeatureChange]:
        """Every drifted input with its onset, nature and lineage, strongest first."""
        self.progress("locating drift onsets and upstream changes")
        lineage = self.lake.lineage
        fv = lineage.feature_versions_at(self.end) if lineage.features.height else None
        out = []
        for f0 in self.drift.drifted:
            f = f0
            onset = self.onset_of(f0.feature, f0.kind)
            if onset is not None and onset.at is not None and onset.p_value < 0.01:
                # the nature of the change (nulls, unit, codes) read from the rows after the onset,
                # not diluted by the window's healthy first hours
                after = self.window.where(pl.col("bucket") >= floor_hour(onset.at) + HOUR)
                if after.rows >= 100:
                    f = ev.detect_drift(self.baseline, after, features=[f.feature]).features[0]
            src = fv.filter(pl.col("feature") == f.feature) if fv is not None else None
            dataset = src["source_dataset"][0] if src is not None and src.height else None
            field_ = src["source_field"][0] if src is not None and src.height else None
            null_jump = f.null_rate_window - f.null_rate_baseline
            nature = {"null_jump": null_jump, "scale_power": f.scale_power, "scale_ratio": f.scale_ratio,
                      "unseen_share": f.unseen_share}
            strength = max(ramp(f.psi, 0.1, 0.4), ramp(f.js, 0.05, 0.2), ramp(null_jump, 0.02, 0.1),
                           ramp(f.unseen_share, 0.02, 0.1), 1.0 if f.scale_power else 0.0)
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
        """Versions first deployed from 12 h before the window on, that served rows in it."""
        lineage = self.lake.lineage
        served = self.window.collapse(("model_version", "route")).table
        if served.is_empty():
            return []
        rows_by_v = served.group_by("model_version").agg(pl.col("n").sum())
        base_versions = self.baseline.collapse(("model_version",)).table.sort("n", descending=True)
        out = []
        for v, n in rows_by_v.sort("model_version").iter_rows():
            if v is None:
                continue
            info = lineage.version_info(v)
            first = info["first_deployed_at"] if info else None
            in_baseline = v in base_versions["model_version"].to_list()
            if first is None and in_baseline:
                continue
            if first is not None and first < self.start - dt.timedelta(hours=12):
                continue
            prev = lineage.previous_version(v) if info else None
            if prev is None:
                others = [x for x in base_versions["model_version"].to_list() if x != v]
                prev = others[0] if others else None
            pinfo = lineage.version_info(prev) if prev else None

            def same(k):
                if not info or not pinfo or info.get(k) is None or pinfo.get(k) is None:
                    return None
                return info[k] == pinfo[k]

            if first is None:
                # no deployment record: the first hour the version shows up in the logs
                seen = self.full.table.filter((pl.col("model_version") == v) & (pl.col("n") > 0))["bucket"]
                first = seen.min() if seen.len() else None
            routes = tuple(sorted(served.filter(pl.col("model_version") == v)["route"].drop_nulls().to_list()))
            steps = lineage.deployments.filter(pl.col("model_version") == v).sort("deployed_at").to_dicts()
            commit = same("serving_commit")
            out.append(Release(v, prev, first, info, pinfo, routes, int(n), same("artifact_digest"),
                               same("training_dataset"), None if commit is None else not commit, steps))
        return out

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
            except ValueError:
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
        since = floor_hour(change.onset.at) - 3 * HOUR
        new = [r.version for r in self.releases if r.first_deployed is None or r.first_deployed >= since]
        s = self.window.where((pl.col("bucket") >= _settled(change)) & ~pl.col("model_version").is_in(new))
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
        t = self.full.table
        hv = set(t.filter(pl.col("model_version") == release.version)["bucket"].to_list())
        hp = set(t.filter(pl.col("model_version") == release.previous)["bucket"].to_list())
        both = sorted(hv & hp)
        if not both:
            return None
        s = self.full.where(pl.col("bucket").is_in(both) & pl.col("model_version").is_in([release.version,
                                                                                         release.previous]))
        try:
            return ev.compare_versions(s, release.previous, release.version)
        except ValueError:
            return None

    @cached_property
    def input_onset(self) -> dt.datetime | None:
        """The first whole hour after the strongest input change's onset (None: no dated change)."""
        dated = [c for c in self.feature_changes if c.onset is not None and c.onset.at is not None]
        if not dated:
            return None
        return _settled(max(dated, key=lambda c: c.strength))

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
        except ValueError:
            return None

    def mismapping(self, release: Release) -> ev.MismappingResult | None:
        try:
            return ev.detect_output_mismapping(self.full, release.version, previous=release.previous)
        except ValueError:
            return None

    @cached_property
    def _segments(self) -> Summary:
        """One daily pass keyed by every segment column at once (counts and label/score tallies
        only: segment deltas need no feature histograms)."""
        self.progress(f"summarising by segments {', '.join(self.lake.segments)}")
        bare = replace(self.binning, numeric={}, categorical={}, seen={})
        return summarize(self.lake, bare, start=min(self.baseline_start, self.start), end=self.end, bucket="1d",
                         segment=list(self.lake.segments))

    def segment_summary(self, column: str) -> Summary:
        """The segment pass collapsed to one segment column."""
        s = self._segments
        return s.collapse(("bucket", "model_version", "route", column))

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

    def segment_regression(self, release: Release) -> dict[str, Any] | None:
        """The segment value whose accuracy/AUC fell most against the whole's change with the
        release (significant after BH), with how much of the overall change it explains."""
        cache = self.__dict__.setdefault("_segreg", {})
        if release.version in cache:
            return cache[release.version]
        best = None
        if release.previous is not None:
            for col in self.lake.segments:
                # the reference is every row the release did not serve (its predecessor, and the
                # version before when the predecessor itself is recent and has few labels)
                s = self.segment_summary(col)
                v = release.version
                ref = pl.when(pl.col("model_version") == v).then(pl.lit(v)).otherwise(pl.lit(_REFERENCE))
                s = replace(s, table=s.table.with_columns(ref.alias("model_version")), confusion=None)
                try:
                    sd = ev.segment_deltas(s, col, a=_REFERENCE, b=v)
                except (ValueError, KeyError, IndexError):
                    continue
                for row in sd.regressed:
                    for m in row["regressed_on"]:
                        v = row["metrics"][m]
                        overall = sd.overall[m]["delta"]
                        share = row["share_b"] or 0.0
                        if overall >= -0.01:
                            explains = 1.0
                        else:
                            explains = float(np.clip(share * v["delta"] / overall, 0.0, 1.0))
                        cand = {"column": col, "value": row["value"], "metric": m, "gap": v["gap"],
                                "gap_ci": v["gap_ci"], "q_value": v.get("q_value"), "a": v["a"], "b": v["b"],
                                "overall": overall, "share": share, "explains": explains,
                                "strength": ramp(-v["gap"], 0.03, 0.08)}
                        if best is None or cand["strength"] * explains > best["strength"] * best["explains"]:
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
                from workbench.exceptions import WorkbenchError
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
        from workbench.exceptions import WorkbenchError
        from workbench.explain import importance_shift, load_artifact

        self.progress(f"permutation importance of {version} (alibi)")
        try:
            model = load_artifact(uri, root=self.lake.root, trust_artifacts=self.trust_artifacts)
            lf = self.lake.predictions(with_labels=True).filter(pl.col("label").is_not_null())
            base = window(lf, self.baseline_start, self.baseline_end).collect()
            win = window(lf, self.start, self.end).collect()
            if base.height < 100 or win.height < 100:
                return None
            return importance_shift(model, base, win, numeric=self.lake.numeric_features,
                                    categorical=self.lake.categorical_features, task=self.lake.task)
        except (WorkbenchError, ImportError, ValueError) as exc:
            self.notes.append(f"importance: {exc}")
            return None

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
        cols = [c for c, t in schema.items() if t == pl.String and c not in skip and c not in lake.sensitive]
        base = ev.scan_pii(window(lf, self.baseline_start, self.baseline_end), sensitive=lake.sensitive,
                           columns=cols)
        win = ev.scan_pii(window(lf, self.start, self.end), sensitive=lake.sensitive, columns=cols)
        return base, win

    def _labels_missing(self, qb: ev.QualityResult, qw: ev.QualityResult) -> str | None:
        """Why the quality symptoms are absent, when the lake has labels but they measure nothing."""
        lake = self.lake
        if not lake.has_labels:
            return None
        gb, gw = (q.groups[0] if q.groups else {} for q in (qb, qw))
        if gb.get("labelled") and gw.get("labelled"):
            if lake.task == "binary_classification" and not (gb.get("positives") or gw.get("positives")):
                return ("no label of baseline or window reads as positive (1, true, yes, y, t, pos, positive or "
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
        """SLIs and quality, baseline against window, with the objective and whether breached."""
        b, w = self.slis
        slo = self.lake.manifest.slo
        out = []

        def total(res: ev.SLIResult, key: str, weight: str = "n"):
            vals = [(g.get(key), g.get(weight) or 0) for g in res.groups if g.get(key) is not None]
            tot = sum(n for _, n in vals)
            return sum(v * n for v, n in vals) / tot if tot else None

        for sli, objective in (("latency_p95_ms", slo.latency_p95_ms), ("fallback_rate", slo.fallback_rate)):
            key = "p95" if sli == "latency_p95_ms" else sli
            cur = max((g[key] for g in w.groups if g.get(key) is not None and g["n"] >= 30), default=None)
            base = total(b, key)
            breached = any(sli in g["breached"] for g in w.groups)
            out.append({"sli": sli, "baseline": base, "current": cur, "slo": objective, "breached": breached})
        cap = self.capture
        cap_b = cap_w = None
        if cap is not None:
            tb = cap.filter(pl.col("bucket") < floor_hour(self.baseline_end))
            tw = cap.filter(pl.col("bucket") >= floor_hour(self.start))
            cap_b = tb["n"].sum() / tb["requests"].sum() if tb["requests"].sum() else None
            cap_w = tw["n"].sum() / tw["requests"].sum() if tw["requests"].sum() else None
        if cap_w is not None:
            out.append({"sli": "capture_rate", "baseline": cap_b, "current": cap_w, "slo": slo.capture_rate,
                        "breached": cap_w < slo.capture_rate})
        qb, qw = self.quality
        if (why := self._labels_missing(qb, qw)) is not None:
            self.notes.append(why)
        for metric in ("auc", "accuracy", "mae"):
            vb = qb.groups[0].get(metric) if qb.groups else None
            vw = qw.groups[0].get(metric) if qw.groups else None
            if vb is not None and vw is not None:
                ci = qw.groups[0].get(f"{metric}_ci")
                worse = ci is not None and (ci[1] < vb if metric != "mae" else ci[0] > vb)
                out.append({"sli": metric, "baseline": vb, "current": vw, "slo": None, "breached": bool(worse),
                            "interval": ci})
        out.append({"sli": "drifted_features", "baseline": 0, "current": len(self.drift.drifted), "slo": None,
                    "breached": bool(self.drift.drifted)})
        return out
