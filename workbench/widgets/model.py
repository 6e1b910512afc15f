"""What the Explorer shows, computed from summaries cached at first load (no UI code here).

One hourly pass over the whole lake (bucket × version × route) answers every control change
except the segment filter, which adds one daily pass keyed by every segment column (cached too).
Nothing here rescans the lake for a UI change the summaries can answer, and nothing is computed
twice: the aggregates a view reads (the baseline and window totals, the window's days) and each
view's frame are kept per the part of the selection they depend on (:data:`DEPENDS`), so going back
to a version, route or window seen before costs a lookup, and a change leaves the views it does not
concern as they are.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence import assess_quality
from workbench.evidence.over_time import PsiOverTime, estimate_over_time, psi_over_time
from workbench.formatting import fmt_number
from workbench.lake import Lake
from workbench.lake.sampling import stable_sample
from workbench.lake.windows import default_windows
from workbench.summaries import Summary, fit_lake_binning, summarize

__all__ = ["ExplorerModel", "Selection"]

ALL = "(all)"
_SCOPE = ("version", "route", "segment", "segment_value")
#: the fields of a :class:`Selection` each view reads: a change of any other leaves the view as it is
DEPENDS = {"slis": (*_SCOPE, "baseline_start", "end", "start"),
           "distribution": (*_SCOPE, "feature", "baseline_start", "baseline_end", "start", "end"),
           "heatmap": (*_SCOPE, "baseline_start", "baseline_end", "end"),
           "quality": (*_SCOPE, "baseline_start", "baseline_end", "end")}
#: how many frames and aggregates the model keeps (least recently used dropped first)
CACHE_SIZE = 256


class Kept:
    """What a model computed, per ``(what, key)``: ``kept(what, key, make)`` is ``make()``, computed
    once (the least recently used of more than :data:`CACHE_SIZE` dropped). The results are frames and
    summaries, which nothing modifies in place."""

    def __init__(self) -> None:
        self._values: OrderedDict[tuple, Any] = OrderedDict()

    def __call__(self, what: str, key: tuple, make):
        k = (what, *key)
        if k in self._values:
            self._values.move_to_end(k)
            return self._values[k]
        value = self._values[k] = make()
        if len(self._values) > CACHE_SIZE:
            self._values.popitem(last=False)
        return value


@dataclass(frozen=True)
class Selection:
    """The controls' state."""

    start: dt.datetime
    end: dt.datetime
    baseline_start: dt.datetime
    baseline_end: dt.datetime
    version: str = ALL
    route: str = ALL
    segment: str = ALL  # a segment column, or ALL
    segment_value: str = ALL
    feature: str | None = None


class ExplorerModel:
    """Cached summaries of a lake and the frames each Explorer view draws.

    The constructor only stores the lake; the lake is read on first use (the time range, then
    the binning and the hourly summary) and the results are cached.
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._kept = Kept()

    @staticmethod
    def _scope(sel: Selection) -> tuple:
        return tuple(getattr(sel, f) for f in _SCOPE)

    @staticmethod
    def view_key(view: str, sel: Selection) -> tuple:
        """The part of ``sel`` the view ``view`` depends on (:data:`DEPENDS`)."""
        return tuple(getattr(sel, f) for f in DEPENDS[view])

    @cached_property
    def _time_range(self) -> tuple[dt.datetime, dt.datetime]:
        return self.lake.time_range()

    @property
    def lo(self) -> dt.datetime:
        """The first timestamp of the lake."""
        return self._time_range[0]

    @property
    def hi(self) -> dt.datetime:
        """The last timestamp of the lake."""
        return self._time_range[1]

    @cached_property
    def binning(self):
        """Bins from the first half of the data: a reference that does not move with the controls."""
        return fit_lake_binning(self.lake, end=self.lo + (self.hi - self.lo) / 2)

    @cached_property
    def hourly(self) -> Summary:
        """One hourly pass over the whole lake (bucket × version × route)."""
        return summarize(self.lake, self.binning, bucket="1h")

    def __repr__(self) -> str:
        state = "summarised" if "hourly" in self.__dict__ else "not read yet"
        return f"ExplorerModel(lake={self.lake.name!r}, {state})"

    # -- options ------------------------------------------------------------------------
    @cached_property
    def versions(self) -> list[str]:
        return sorted(v for v in self.hourly.table["model_version"].unique().to_list() if v is not None)

    @cached_property
    def routes(self) -> list[str]:
        return sorted(r for r in self.hourly.table["route"].unique().to_list() if r is not None)

    @cached_property
    def hours(self) -> list[dt.datetime]:
        return sorted(self.hourly.table["bucket"].unique().to_list())

    @cached_property
    def segments(self) -> Summary | None:
        if not self.lake.segments:
            return None
        # every view can be scoped to a segment value: one daily pass keyed by all segment columns
        return summarize(self.lake, self.binning, bucket="1d", segment=list(self.lake.segments))

    def segment_values(self, column: str) -> list[str]:
        s = self.segments
        if s is None or column not in s.table.columns:
            return []
        return sorted(str(v) for v in s.table[column].unique().to_list() if v is not None)

    def default_selection(self) -> Selection:
        """The default windows (:func:`workbench.lake.windows.default_windows`) on hour boundaries, through
        the last hour of the data."""
        w = default_windows(self.lo, self.hi, until=self.hi + dt.timedelta(hours=1), hourly=True)
        feats = list(self.lake.features)
        return Selection(start=w.start, end=w.end, baseline_start=w.baseline_start, baseline_end=w.baseline_end,
                         feature=feats[0] if feats else None)

    # -- filtering ----------------------------------------------------------------------
    def _filter(self, s: Summary, sel: Selection) -> Summary:
        pred = pl.lit(True)
        if sel.version != ALL:
            pred = pred & (pl.col("model_version") == sel.version)
        if sel.route != ALL:
            pred = pred & (pl.col("route") == sel.route)
        return s.where(pred)

    def scoped(self, sel: Selection) -> Summary:
        """The hourly summary, or the daily segment summary when a segment value is chosen."""
        if sel.segment != ALL and sel.segment_value != ALL and self.segments is not None:
            s = self.segments.where(pl.col(sel.segment) == sel.segment_value)
            return self._filter(s.collapse(("bucket", "model_version", "route")), sel)
        return self._filter(self.hourly, sel)

    def reference(self, sel: Selection) -> Summary:
        """The baseline's scope: the segment filter applies, version and route do not (a new
        version has no baseline of its own; it is compared with what normal traffic looked like)."""
        return self.scoped(replace(sel, version=ALL, route=ALL))

    @staticmethod
    def _between(s: Summary, a: dt.datetime, b: dt.datetime) -> Summary:
        return s.where((pl.col("bucket") >= a) & (pl.col("bucket") < b))

    def _baseline_total(self, sel: Selection) -> Summary:
        """The baseline (:meth:`reference` scope) added up to one row."""
        return self._kept("baseline", (sel.segment, sel.segment_value, sel.baseline_start, sel.baseline_end),
                          lambda: self._between(self.reference(sel), sel.baseline_start, sel.baseline_end).collapse())

    def _window_total(self, sel: Selection) -> Summary:
        """The window (:meth:`scoped`) added up to one row."""
        return self._kept("window", (*self._scope(sel), sel.start, sel.end),
                          lambda: self._between(self.scoped(sel), sel.start, sel.end).collapse())

    def _days(self, sel: Selection, bucket: str) -> Summary:
        """From baseline start to window end (:meth:`scoped`), added up per ``bucket`` (a day)."""
        def make():
            s = self._between(self.scoped(sel), sel.baseline_start, sel.end)
            return replace(s, table=s.table.with_columns(pl.col("bucket").dt.truncate(bucket))).collapse(("bucket",))
        return self._kept("days", (*self._scope(sel), sel.baseline_start, sel.end, bucket), make)

    # -- views --------------------------------------------------------------------------
    def slis_over_time(self, sel: Selection) -> pl.DataFrame:
        """Per bucket: volume, p50/p95/p99 latency, fallback rate (and capture when ingress is known)."""
        return self._kept("slis", (*self._scope(sel), sel.baseline_start, sel.end),
                          lambda: self._slis_over_time(sel))

    def _slis_over_time(self, sel: Selection) -> pl.DataFrame:
        s = self._between(self.scoped(sel), sel.baseline_start, sel.end)
        t = s.collapse(("bucket",)).table.sort("bucket")
        if t.is_empty():
            return pl.DataFrame(schema={"bucket": pl.Datetime("us", "UTC"), "n": pl.Int64})
        out = t.select("bucket", "n", *([(pl.col("fallback") / pl.col("n")).alias("fallback_rate")]
                                        if "fallback" in t.columns else []))
        if s.latency.height:
            q = s.latency_quantiles((0.5, 0.95, 0.99), by=("bucket",))
            out = out.join(q.drop("n"), on="bucket", how="left")
        cap = self.capture
        if cap is not None and sel.route == ALL and sel.version == ALL and sel.segment_value == ALL:
            out = out.join(cap, on="bucket", how="left").with_columns(
                (pl.col("n") / pl.col("requests")).clip(0, 1).alias("capture_rate")).drop("requests")
        return out.sort("bucket")

    @cached_property
    def capture(self) -> pl.DataFrame | None:
        from workbench.evidence.slis import ingress_by_hour

        traffic = self.lake.lineage.traffic
        if traffic.is_empty():
            return None
        ing = ingress_by_hour(replace(self.hourly, start=self.lo, end=self.hi + dt.timedelta(hours=1)), traffic)
        return ing.group_by("bucket").agg(pl.col("requests").sum())

    def markers(self, sel: Selection) -> pl.DataFrame:
        """Rollouts, schema changes and dependency changes between baseline start and window end."""
        return self._kept("markers", (sel.baseline_start, sel.end), lambda: self._markers(sel))

    def _markers(self, sel: Selection) -> pl.DataFrame:
        t = self.lake.timeline(sel.baseline_start, sel.end)
        return t.filter(pl.col("kind").is_in(["rollout", "openlineage_schema_change", "dependency_change",
                                              "feature_version"]))

    def distribution(self, sel: Selection) -> pl.DataFrame:
        """Shares of the chosen feature's bins (or categories) in baseline and window, over all rows:
        missing values (null or NaN) and, when there are any, ±inf values have their own bar."""
        if sel.feature is None:
            return pl.DataFrame()
        return self._kept("distribution", self.view_key("distribution", sel), lambda: self._distribution(sel))

    def _distribution(self, sel: Selection) -> pl.DataFrame:
        f = sel.feature
        base, win = self._baseline_total(sel), self._window_total(sel)  # one row each
        rows = []
        if f in self.binning.numeric:
            edges = self.binning.numeric[f]
            labels = ([f"< {fmt_number(edges[0])}"]
                      + [f"{fmt_number(a)} – {fmt_number(b)}" for a, b in zip(edges[:-1], edges[1:])]
                      + [f">= {fmt_number(edges[-1])}"]) if edges else ["all"]
            parts = {}
            for name, part in (("baseline", base), ("window", win)):
                h = part.histogram(f) if part.rows else np.zeros(len(labels), dtype=np.int64)
                t = part.table if part.rows else None  # one row already
                miss = int(t[f"{f}|null"][0] or 0) if t is not None and f"{f}|null" in t.columns else 0
                inf = int(t[f"{f}|inf"][0] or 0) if t is not None and f"{f}|inf" in t.columns else 0
                parts[name] = (h, miss, inf)
            with_inf = any(p[2] for p in parts.values())
            for name, (h, miss, inf) in parts.items():
                counts = [*h.tolist(), miss] + ([inf] if with_inf else [])
                tot = sum(counts) or 1
                names = [*labels, "(missing)"] + (["(±inf)"] if with_inf else [])
                rows += [{"bin": names[i], "order": i, "share": counts[i] / tot, "which": name}
                         for i in range(len(names))]
        elif f in self.binning.categorical:
            for name, part in (("baseline", base), ("window", win)):
                c = part.category_counts(f) if part.rows else {}
                tot = sum(c.values()) or 1
                rows += [{"bin": k, "order": i, "share": v / tot, "which": name} for i, (k, v) in enumerate(c.items())]
        return pl.DataFrame(rows)

    def drift_heatmap(self, sel: Selection, *, bucket: str = "1d", min_rows: int = 200) -> pl.DataFrame:
        """PSI of every feature, per day of the window, against the baseline
        (:func:`workbench.evidence.over_time.psi_over_time`; days with fewer than ``min_rows`` rows
        are left blank rather than painted red)."""
        return self._kept("heatmap", (*self.view_key("heatmap", sel), bucket, min_rows), lambda: psi_over_time(
            self._baseline_total(sel), self._days(sel, bucket), bucket=bucket, settings=PsiOverTime(min_rows=min_rows)))

    def quality_over_time(self, sel: Selection, *, bucket: str = "1d") -> pl.DataFrame:
        """Per day: realised quality on labelled rows and, for binary models, the label-free estimate
        (:func:`workbench.evidence.over_time.estimate_over_time`)."""
        return self._kept("quality", (*self.view_key("quality", sel), bucket), lambda: self._quality(sel, bucket))

    def _quality(self, sel: Selection, bucket: str) -> pl.DataFrame:
        # the window's days and the baseline are added up once, before the per-day statistics
        daily = self._days(sel, bucket)
        if daily.rows == 0:
            return pl.DataFrame()
        q = assess_quality(daily, by=("bucket",), n_boot=0)
        metric = {"binary_classification": "auc", "multiclass": "accuracy"}.get(self.lake.task, "mae")
        rows = [{"bucket": g["bucket"], "value": g.get(metric), "kind": f"{metric} (labelled)",
                 "labelled": g["labelled"]} for g in q.groups if g.get(metric) is not None and g["labelled"] >= 30]
        est = estimate_over_time(self._baseline_total(sel), daily, bucket=bucket)
        rows += [{"bucket": r["bucket"], "value": r["auc"], "kind": "auc (estimated)", "labelled": 0}
                 for r in est.iter_rows(named=True)]
        return pl.DataFrame(rows)

    def sample(self, sel: Selection, n: int = 25) -> pl.DataFrame:
        """A few predictions of the window, chosen by a hash of the request id (the same rows on every
        run, whatever order the files are read in), in time order; sensitive columns are masked."""
        cols = ["request_id", "timestamp", "model_version", "route"]
        schema = self.lake.predictions().collect_schema().names()
        cols += [c for c in ("prediction", "score", "latency_ms") if c in schema]
        lf = self.lake.predictions(cols).filter((pl.col("timestamp") >= sel.start) & (pl.col("timestamp") < sel.end))
        if sel.version != ALL:
            lf = lf.filter(pl.col("model_version") == sel.version)
        if sel.route != ALL:
            lf = lf.filter(pl.col("route") == sel.route)
        return stable_sample(lf, n).sort(["timestamp", "request_id"])

    def describe(self, sel: Selection) -> dict[str, Any]:
        return {"window_rows": self._window_total(sel).rows, "baseline_rows": self._baseline_total(sel).rows}
