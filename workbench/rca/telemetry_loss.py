"""``telemetry_loss``: fewer requests were logged than the ingress saw."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

import workbench.evidence as ev
from workbench.evidence import stats as st
from workbench.evidence.overlap import floor_hour
from workbench.evidence.strength import ramp
from workbench.rca.finding import Evidence, Finding, LineageEvent, subject
from workbench.rca.hypothesis import Hypothesis, rollout_events

__all__ = ["TelemetryLoss", "TelemetryThresholds"]


@dataclass(frozen=True)
class TelemetryThresholds:
    """Choices of :class:`TelemetryLoss` (see docs/triage.md)."""

    #: significance of a capture drop (two-proportion z-test on hourly counts, which seasonality
    #: makes optimistic: stricter than the package's default)
    alpha: float = 1e-3
    #: a route's drop that makes it "lossy" (2 points of capture)
    route_drop: float = 0.02
    #: hourly buckets in the window to place the onset of the loss
    min_buckets: int = 5
    #: the whole's capture drop mapped to strength: 1 point -> 0 ...
    drop_lo: float = 0.01
    #: ... 5 points -> 1
    drop_hi: float = 0.05
    #: a loss confined to one route (of its own traffic): 3 points -> 0 ...
    route_drop_lo: float = 0.03
    #: ... 15 points -> 1
    route_drop_hi: float = 0.15
    #: the score of an unmistakable loss
    max_score: float = 0.95
    #: a route "kept" its capture only with this many requests after the onset (enough to see a loss)
    kept_min_requests: int = 200
    #: ... and when its drop plus this many standard errors stays within ...
    kept_z: float = 2.0
    #: ... the larger of this floor (1 point) ...
    kept_floor: float = 0.01
    #: ... and the lossy route's drop divided by this (a third of it)
    kept_fraction: float = 3.0
    #: without per-route ingress: a slice logs materially less when the upper end of its logged/
    #: expected ratio's interval is below this
    ratio_max: float = 0.9
    #: requests a version needs on a route (hours it served alone) to estimate its capture
    version_min_requests: int = 20


TELEMETRY_THRESHOLDS = TelemetryThresholds()


def _loss(cap: pl.DataFrame, start: dt.datetime, base_end: dt.datetime, reference: float | None = None, *,
          min_buckets: int = TELEMETRY_THRESHOLDS.min_buckets):
    """Onset of lost rows in the window and capture before/after it, for one hourly series."""
    w = cap.filter((pl.col("bucket") >= start) & (pl.col("requests") > 0)).sort("bucket")
    b = cap.filter((pl.col("bucket") < base_end) & (pl.col("requests") > 0))
    if w.is_empty():
        return None
    req, n = w["requests"].to_numpy(), w["n"].to_numpy()
    lost = np.clip(req - n, 0, None)
    onset = ev.detect_onset(w["bucket"].to_list(), n=req, events=lost) if w.height >= min_buckets else None
    if onset is None or onset.at is None:
        # no change inside the window (e.g. a route that started with it): the whole window
        first = w["bucket"][0]
        onset = ev.OnsetResult(first, first, first, None, None, 0.0, 1.0, "window start")
    cb = reference if reference is not None else (
        float(min(1.0, b["n"].sum() / b["requests"].sum())) if b["requests"].sum() else None)
    if cb is None:
        return None
    after = w.filter(pl.col("bucket") >= floor_hour(onset.at))
    ra, na = float(after["requests"].sum()), float(min(after["n"].sum(), after["requests"].sum()))
    if ra <= 0:
        return None
    ca = na / ra
    nb = max(float(b["requests"].sum()), ra) if reference is None else ra
    diff, p = st.two_proportion(cb * nb, nb, na, ra)
    return {"onset": onset, "before": cb, "after": ca, "drop": cb - ca, "p_value": p, "requests": ra}


class TelemetryLoss(Hypothesis):
    """Logged rows against ingress requests per hour. Score: the capture drop after the change
    point of the lost share (1 point -> 0, 5 points -> 1) when significant. When the ingress counts
    routes and the loss is confined to one, the route and the version serving it are named; when it
    counts only the total, the culprit is inferred from each version's logged share against its
    rollout share (deployments' traffic_pct), with an interval."""

    cause = "telemetry_loss"
    chart = "capture_by_route"

    def __init__(self, thresholds: TelemetryThresholds = TELEMETRY_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def _lossiest_version(self, ctx, cap: pl.DataFrame, route: str):
        """Of the versions serving ``route`` in the window, the one with the lowest capture over
        the hours it served the route alone, and its first such hour."""
        served = (ctx.window.where(pl.col("route") == route).collapse(("bucket", "model_version")).table
                  .filter(pl.col("n") > 0))
        alone = served.group_by("bucket").agg(pl.len().alias("k"), pl.col("model_version").first(),
                                              pl.col("n").sum())
        alone = alone.filter(pl.col("k") == 1).drop("n").join(
            cap.filter(pl.col("route") == route).select("bucket", "requests", "n"), on="bucket", how="inner")
        per = (alone.group_by("model_version").agg(pl.col("requests").sum(), pl.col("n").sum(),
                                                    pl.col("bucket").min().alias("first"))
               .filter(pl.col("requests") >= self.thresholds.version_min_requests).with_columns((pl.col("n") / pl.col("requests")).alias("capture"))
               .sort("capture"))
        if per.is_empty():
            return None, None
        return per["model_version"][0], per["first"][0]

    def _kept(self, cap: pl.DataFrame, route: str, at, b_end, reference: float, drop: float) -> bool:
        th = self.thresholds
        c = cap.filter(pl.col("route") == route)
        before = c.filter(pl.col("bucket") < b_end)
        after = c.filter(pl.col("bucket") >= at)
        ra = float(after["requests"].sum())
        if ra < th.kept_min_requests:
            return False
        rb = float(before["requests"].sum())
        cb = min(1.0, before["n"].sum() / rb) if rb else reference
        ca = min(1.0, float(after["n"].sum()) / ra)
        se = np.sqrt(max(ca * (1 - ca), 1e-4) / ra)  # variance floored: a perfect capture still has an error
        return (cb - ca) + th.kept_z * se <= max(th.kept_floor, drop / th.kept_fraction)

    def _by_rollout_share(self, ctx, cap: pl.DataFrame, at: dt.datetime, whole: dict):
        """Without per-route ingress counts: the (route, version) whose logged share fell below its
        rollout share (deployments' traffic_pct), hour by hour from ``at``; None when no slice
        logs significantly and materially less than the rest, or the rest lost logs too."""
        logged = (ctx.window.where(pl.col("bucket") >= at).collapse(("bucket", "model_version", "route")).table
                  .filter(pl.col("n") > 0))
        if logged.is_empty():
            return None
        totals = logged.group_by("bucket").agg(pl.col("n").sum().alias("total")).join(
            cap.select("bucket", "requests"), on="bucket", how="left").sort("bucket")
        steps = ctx.lake.lineage.deployments["deployed_at"].to_list()
        rows = []
        for bucket, total, requests in totals.iter_rows():
            if any(bucket <= t < bucket + dt.timedelta(hours=1) for t in steps):
                continue  # a rollout step inside the hour: its share is not one number
            state = ctx.lake.lineage.rollout_state(bucket + dt.timedelta(minutes=30))
            shares = {(r, v): p / 100.0 for r, v, p in state.select("route", "model_version", "traffic_pct").iter_rows()
                      if r not in ("primary", "shadow")}
            primary = state.filter(pl.col("route") == "primary")["model_version"].to_list()
            if primary:
                shares[("primary", primary[0])] = 1.0 - sum(shares.values())
            for (route, version), share in shares.items():
                if 0.0 < share < 1.0:
                    rows.append((route, version, bucket, share, total, requests or 0.0))
        if not rows:
            return None
        frame = pl.DataFrame(rows, schema=["route", "model_version", "bucket", "share", "total", "requests"],
                             orient="row")
        frame = frame.join(logged.select("bucket", "model_version", "route", "n"),
                           on=["bucket", "model_version", "route"], how="left").with_columns(pl.col("n").fill_null(0.0))
        best = None
        for (route, version), g in frame.group_by(["route", "model_version"], maintain_order=True):
            if g.height < 2:
                continue
            rc = ev.relative_capture(f"{version} on {route}", g["n"].to_numpy(), g["total"].to_numpy(),
                                     g["share"].to_numpy(), g["requests"].to_numpy())
            th = self.thresholds
            if rc.p_value < th.alpha and rc.ratio_interval[1] < th.ratio_max and (best is None
                                                                                 or rc.ratio < best[2].ratio):
                best = (route, version, rc)
        if best is None:
            return None
        rc = best[2]
        # the rest kept its capture: the loss is the slice's alone
        th = self.thresholds
        if rc.capture_rest is None or rc.capture_rest < whole["before"] - max(th.kept_floor,
                                                                              whole["drop"] / th.kept_fraction):
            return None
        return best

    def evaluate(self, ctx) -> list[Finding]:
        """One finding when the window logged significantly fewer rows than the ingress saw, else none."""
        cap = ctx.capture
        if cap is None:
            return []
        th = self.thresholds
        w_start, b_end = floor_hour(ctx.start), floor_hour(ctx.baseline_end)
        total = cap.group_by("bucket").agg(pl.col("requests").sum(), pl.col("n").sum())
        whole = _loss(total, w_start, b_end, min_buckets=th.min_buckets)
        if whole is None:
            return []
        per_route = self._per_route(cap, w_start, b_end, whole)
        confined = self._confined(cap, per_route, w_start, b_end, whole)
        share = None
        if not per_route and whole["p_value"] < th.alpha:
            share = self._by_rollout_share(ctx, cap, floor_hour(whole["onset"].at), whole)
        best = per_route[confined] if confined else whole
        score = self._score(whole, best, confined)
        if score <= 0:
            return []
        confined, version, rc, lineage, onset = self._culprit(ctx, cap, share, confined, best["onset"].at)
        o = best["onset"]
        where = f" on route {confined}" + (f" ({version})" if version else "") if confined else ""
        return [Finding(
            cause=self.cause, score=round(score, 4), subject=subject(model_version=version, route=confined),
            onset=onset, onset_interval=(o.low, o.high) if o.low else None,
            evidence=_evidence(best, whole, rc, where, version, confined),
            lineage=lineage or (LineageEvent("traffic", o.at, "metrics:traffic", confined, "ingress counts"),),
            summary=f"{best['drop']:.0%} of requests{where} were served but not logged",
            next_steps=_next_steps(where, version, best), hypothesis=self.name)]

    def _per_route(self, cap: pl.DataFrame, w_start: dt.datetime, b_end: dt.datetime, whole: dict) -> dict:
        """Each route's loss (see :func:`_loss`); a route without baseline requests is measured
        against the whole's capture before."""
        per_route = {}
        if "route" in cap.columns:
            for route in cap["route"].unique().drop_nulls().to_list():
                res = _loss(cap.filter(pl.col("route") == route), w_start, b_end,
                            reference=None if cap.filter((pl.col("route") == route)
                                                         & (pl.col("bucket") < b_end))["requests"].sum()
                            else whole["before"], min_buckets=self.thresholds.min_buckets)
                if res is not None:
                    per_route[route] = res
        return per_route

    def _confined(self, cap: pl.DataFrame, per_route: dict, w_start: dt.datetime, b_end: dt.datetime,
                  whole: dict) -> str | None:
        """The one lossy route, when it is the only one and every other route demonstrably kept its
        capture rate over the same hours (enough requests to have seen a loss, and at most a third of
        it); else None."""
        th = self.thresholds
        lossy = {k: v for k, v in per_route.items() if v["p_value"] < th.alpha and v["drop"] >= th.route_drop}
        if len(lossy) == 1 and len(per_route) > 1:
            k = next(iter(lossy))
            if all(self._kept(cap, r, w_start, b_end, whole["before"], lossy[k]["drop"]) for r in per_route if r != k):
                return k
        return None

    def _score(self, whole: dict, best: dict, confined: str | None) -> float:
        """The loss's score: 0 unless the whole's drop (or the confined route's) is significant, else
        the larger of the whole's and the confined route's drop mapped to strength."""
        th = self.thresholds
        significant = whole["p_value"] < th.alpha or (confined and best["p_value"] < th.alpha)
        if not significant:
            return 0.0
        strength = max(ramp(whole["drop"], th.drop_lo, th.drop_hi),
                       ramp(best["drop"], th.route_drop_lo, th.route_drop_hi) if confined else 0.0)
        return th.max_score * strength

    def _culprit(self, ctx, cap: pl.DataFrame, share, confined: str | None, onset):
        """The route, version and relative capture to blame, with the lineage and onset that go with
        them: the rollout-share slice when the ingress counts no routes, else the version logging
        least on the confined route (its rollout, or its first hour alone on it, is the onset)."""
        version, lineage, rc = None, (), None
        if share is not None:
            confined, version, rc = share
            rel = next((r for r in ctx.releases if r.version == version), None)
            if rel is not None and rel.first_deployed is not None:
                lineage, onset = rollout_events(rel.lineage), rel.first_deployed
        elif confined:
            version, first = self._lossiest_version(ctx, cap, confined)
            rel = next((r for r in ctx.releases if r.version == version), None)
            if rel is not None and rel.first_deployed is not None:
                # the version that logs least on the lossy route arrived with this window: its
                # rollout is when the route's rows started going missing
                lineage = rollout_events(rel.lineage)
                onset = rel.first_deployed
            elif first is not None:
                onset = first
        return confined, version, rc, lineage, onset


def _evidence(best: dict, whole: dict, rc, where: str, version: str | None,
              confined: str | None) -> tuple[Evidence, ...]:
    """The capture rate before/after the onset, plus the slice's relative capture (ingress without
    routes) or the capture of all routes (a loss confined to one)."""
    o = best["onset"]
    items = [Evidence("capture_rate", best["after"], baseline=best["before"], p_value=best["p_value"],
                      detail=f"logged/ingress {best['before']:.1%} -> {best['after']:.1%}{where} after "
                             f"{o.at:%Y-%m-%d %H:%M}Z ({best['requests']:,.0f} requests)")]
    if rc is not None:
        lo, hi = rc.ratio_interval
        items.append(Evidence(
            "relative_capture", rc.ratio, baseline=1.0, p_value=rc.p_value, interval=(lo, hi),
            detail=(f"the ingress does not count routes: {version} on {confined} is {rc.logged_share:.1%} of the "
                    f"logged rows but {rc.expected_share:.1%} of the traffic by its rollout steps, over "
                    f"{rc.hours} hours: it logs {rc.ratio:.2f}x as often as the rest (95% interval "
                    f"{lo:.2f}-{hi:.2f})" + (f"; its capture is about {rc.capture:.0%}, the rest's "
                                              f"{rc.capture_rest:.0%}" if rc.capture is not None else ""))))
    elif confined:
        items.append(Evidence("capture_rate_all", whole["after"], baseline=whole["before"],
                              p_value=whole["p_value"],
                              detail=f"all routes {whole['before']:.1%} -> {whole['after']:.1%}; other routes "
                                     "kept their capture rate"))
    return tuple(items)


def _next_steps(where: str, version: str | None, best: dict) -> tuple[str, ...]:
    """What to check and fix, the culprit version's logging path first when there is one."""
    steps = [f"check the log shipper / collector{where or ''} since the onset (dropped batches, "
             "back-pressure, sampling settings)",
             "backfill the missing predictions from the gateway or ingress logs if they are kept",
             "alert on the capture rate (logged rows / ingress requests) per route"]
    if version:
        steps.insert(0, f"check {version}'s logging path: it logs {best['after']:.0%} of what it serves")
    return tuple(steps)
