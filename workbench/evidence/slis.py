"""Service-level indicators from summaries: latency percentiles, fallback rate, capture rate,
SLO breaches and multi-window burn rates.

Burn rate is the share of bad events over the share the SLO allows (its error budget):
for latency the bad events are requests slower than the p95 objective (budget 5 %), for
fallbacks the fallback answers (budget: the fallback-rate objective), for capture the requests
the ingress saw but the logs lack (budget: 1 - capture objective). As in the SRE workbook, a
1 h burn of 14.4x or more pages (2 % of a 30-day budget in an hour) and a 6 h burn of 6x or
more opens a ticket (5 % of the budget in six hours).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence._scipy import stats
from workbench.evidence.stats import ALPHA, overridden
from workbench.results import Result
from workbench.summaries import Summary
from workbench.summaries.binning import latency_bin_bounds

__all__ = ["SLIResult", "SLIThresholds", "compute_slis", "duplicate_rows", "PAGE_BURN", "TICKET_BURN"]


@dataclass(frozen=True)
class SLIThresholds:
    """When an SLO counts as breached and when a burn rate alerts (the SRE workbook's defaults)."""

    #: a breach needs the bad-event rate to exceed the objective's at this one-sided level
    alpha: float = ALPHA
    #: the share of requests a p95 latency objective allows above it (by definition of p95)
    latency_budget: float = 0.05
    #: a 1 h burn rate at or above this pages (2 % of a 30-day budget spent in an hour)
    page_burn: float = 14.4
    #: a 6 h burn rate at or above this opens a ticket (5 % of the budget in six hours)
    ticket_burn: float = 6.0
    #: the bad events of an alerting hour (or six) must exceed this share of the alerting burn
    #: at level ``burn_alpha`` (one-sided binomial test), so a handful of requests cannot page
    burn_noise_share: float = 0.5
    burn_alpha: float = ALPHA


PAGE_BURN = SLIThresholds.page_burn
TICKET_BURN = SLIThresholds.ticket_burn


@dataclass(frozen=True, repr=False)
class SLIResult(Result):
    """SLIs per group, and burn-rate alerts over time.

    Attributes
    ----------
    groups : list of dict
        Per group (e.g. version × route): rows, p50/p95/p99 latency (ms), fallback rate,
        capture rate (per route, when traffic is known), and which SLOs are breached.
    burn : list of dict
        Per hour bucket and SLI: bad share, 1 h and 6 h burn rates and the alert level.
    alerts : list of dict
        The first page or ticket per SLI (and group), with its time.
    """

    groups: list[dict[str, Any]]
    burn: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    slo: dict[str, float]
    by: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        return f"groups={len(self.groups)}, alerts={[(a['sli'], a['level']) for a in self.alerts]}"

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.groups)

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        cols = [c for c in (*self.by, "n", "p50", "p95", "p99", "fallback_rate", "capture_rate", "breached")
                if any(c in g for g in self.groups)]
        groups = table([{c: g.get(c) for c in cols} for g in self.groups], columns=cols,
                       highlight=lambda r: bool(r.get("breached")), caption="SLIs per group")
        alerts = table([{"level": a["level"], "sli": a["sli"], "burn_1h": a["burn_1h"], "burn_6h": a["burn_6h"],
                         "at": a["at"]} for a in self.alerts],
                       columns={"level": "level", "sli": "SLI", "burn_1h": "burn rate 1 h (×)",
                                "burn_6h": "burn rate 6 h (×)", "at": "first at"},
                       caption="Burn-rate alerts") if self.alerts else "<p>No burn-rate alert.</p>"
        objectives = ", ".join(f"{k} {v:g}" for k, v in self.slo.items() if v is not None)
        return block("SLIs", f"objectives: {objectives}" if objectives else "", groups, alerts, css="workbench-slis")


def _slow_share(latency: pl.DataFrame, by: list[str], threshold_ms: float) -> pl.DataFrame:
    """Rows slower than ``threshold_ms`` per group (bins straddling it counted by overlap); rows
    without a valid latency (null, NaN, ±inf: the null bin) are left out of both counts."""
    latency = latency.filter(pl.col("bin").is_not_null())
    if latency.is_empty():
        return pl.DataFrame()
    bins = latency["bin"].to_numpy()
    lo, hi = latency_bin_bounds(np.where(bins < 0, 0, bins))
    frac = np.clip((hi - threshold_ms) / np.maximum(hi - lo, 1e-12), 0.0, 1.0)
    lat = latency.with_columns(pl.Series("__slow", frac) * pl.col("n"))
    return lat.group_by(by).agg(pl.col("n").sum().alias("lat_n"), pl.col("__slow").sum().alias("slow"))


def compute_slis(summary: Summary, *, slo, traffic: pl.DataFrame | None = None,
                 by: tuple[str, ...] = ("model_version", "route"), alpha: float | None = None,
                 duplicates: pl.DataFrame | None = None, thresholds: SLIThresholds | None = None) -> SLIResult:
    """SLIs per group of ``by`` and burn-rate alerts per hour.

    Parameters
    ----------
    summary : Summary
        Hourly (or finer) summary of the window.
    slo : SLO
        The lake's objectives (``lake.manifest.slo``).
    traffic : DataFrame, optional
        Ingress counts (``lake.lineage.traffic``) for the capture rate.
    by : tuple of str
        Keys of the summary to group by.
    duplicates : DataFrame, optional
        ``bucket, route, dup``: logged rows that repeat a request id already logged
        (:func:`duplicate_rows`). They are left out of the capture rate, which counts requests:
        one request logged twice is not more than captured.
    thresholds : SLIThresholds, optional
        Breach and burn-rate thresholds; ``alpha`` overrides its ``alpha``.
    """
    th = overridden(thresholds or SLIThresholds(), alpha=alpha)
    alpha = th.alpha
    by = list(by)
    slo_d = {"latency_p95_ms": slo.latency_p95_ms, "fallback_rate": slo.fallback_rate,
             "capture_rate": slo.capture_rate}
    q = summary.latency_quantiles((0.5, 0.95, 0.99), by=tuple(by)) if summary.latency.height else None
    grouped = summary.collapse(tuple(by)).table
    slow_df = _slow_share(summary.latency, by, slo.latency_p95_ms) if summary.latency.height else pl.DataFrame()
    slow_by = {tuple(r[k] for k in by): (r["slow"], r["lat_n"]) for r in slow_df.iter_rows(named=True)} \
        if slow_df.height else {}
    groups = []
    capture_route = _capture(summary, traffic, by=["route"], duplicates=duplicates) \
        if traffic is not None and traffic.height else {}
    for r in grouped.sort(by).iter_rows(named=True):
        g = {k: r[k] for k in by} | {"n": int(r["n"])}
        if q is not None and q.height:
            match = q.filter(pl.all_horizontal([pl.col(k) == r[k] for k in by]))
            if match.height:
                g |= {k: match[k][0] for k in ("p50", "p95", "p99")}
        if r.get("latency_ms|invalid"):
            g["latency_invalid"] = int(r["latency_ms|invalid"])  # left out of the latency SLIs
        if "fallback" in r:
            g["fallback_rate"] = r["fallback"] / r["n"] if r["n"] else None
        if "route" in by and capture_route:
            g["capture_rate"] = capture_route.get(r["route"])
        # A breach must be more than noise: a one-sided binomial test that the bad-event rate
        # exceeds what the objective allows (p < alpha), not just an estimate over the line.
        breached = []
        slow = slow_by.get(tuple(r[k] for k in by))
        if g.get("p95") is not None and slow is not None:
            g["slow_share"] = slow[0] / slow[1] if slow[1] else None
            g["latency_breach_p"] = _binom_p(slow[0], slow[1], th.latency_budget)
            if g["p95"] > slo.latency_p95_ms and g["latency_breach_p"] < alpha:
                breached.append("latency_p95_ms")
        if g.get("fallback_rate") is not None:
            g["fallback_breach_p"] = _binom_p(r["fallback"], r["n"], slo.fallback_rate)
            if g["fallback_rate"] > slo.fallback_rate and g["fallback_breach_p"] < alpha:
                breached.append("fallback_rate")
        if g.get("capture_rate") is not None and g["capture_rate"] < slo.capture_rate:
            breached.append("capture_rate")
        g["breached"] = breached
        groups.append(g)
    burn, alerts = _burn(summary, slo, traffic, by, duplicates, th)
    return SLIResult(groups=groups, burn=burn, alerts=alerts, slo=slo_d, by=tuple(by),
                     meta={"bucket": summary.bucket, "rows": summary.rows, "thresholds": dataclasses.asdict(th),
                           "latency_invalid": summary.invalid_counts().get("latency_ms", 0)})


def ingress_by_hour(summary: Summary, traffic: pl.DataFrame) -> pl.DataFrame:
    """Ingress intervals inside the summary's window, requests prorated by overlap.

    A window that starts or ends inside an interval (or inside an hour) must not count the
    whole interval's requests against part of its logged rows.
    """
    t = summary.table
    start = summary.start or t["bucket"].min()
    end = summary.end
    if end is None:
        step = t["bucket"].sort().diff().drop_nulls().min()
        end = t["bucket"].max() + (step if step is not None else dt.timedelta(hours=1))
    iv_end = pl.col("timestamp") + pl.duration(microseconds=(pl.col("interval_s") * 1e6).cast(pl.Int64))
    lo = pl.max_horizontal(pl.col("timestamp"), pl.lit(start))
    hi = pl.min_horizontal(iv_end, pl.lit(end))
    overlap = ((hi - lo).dt.total_microseconds() / (pl.col("interval_s") * 1e6)).clip(0, 1)
    return (traffic.filter((iv_end > start) & (pl.col("timestamp") < end))
            .with_columns((pl.col("requests") * overlap).alias("requests"),
                          lo.dt.truncate("1h").alias("bucket")))


def duplicate_rows(ids: pl.LazyFrame) -> pl.DataFrame:
    """Rows repeating a request id, per hour and route: ``bucket, route, dup``.

    ``ids`` holds ``request_id``, ``timestamp`` and ``route`` of the rows to count (a window of
    the lake). Each repeated id's extra rows are charged to the hour and route of its first row;
    ids are compared by 64-bit hash (a false repeat among 10^8 ids has probability ~3e-4).

    Memory: the ids' hashes are read once into an array (8 bytes a row) and the repeated ones
    found by sorting a sixteenth of the hash range at a time (:func:`_repeated_hashes`); only the
    rows of repeated ids are then grouped. A hash set of every id (polars' ``n_unique`` or
    ``group_by``) took ~40 bytes a row: 3 GB for the 66M ids of a 100M-row lake's window.
    """
    h = pl.col("request_id").hash()
    repeated = _repeated_hashes(ids.select(h.alias("__h")))
    if len(repeated) <= _MAX_REPEATED:  # (else a hash set of them would cost as much as one of all ids)
        ids = ids.filter(h.is_in(pl.Series(repeated).implode()))
    dup = (ids.group_by(h.alias("__h"))
           .agg(pl.len().alias("k"), pl.col("timestamp").min().dt.truncate("1h").alias("bucket"),
                pl.col("route").sort_by("timestamp").first().alias("route"))
           .filter(pl.col("k") > 1)
           .group_by("bucket", "route").agg((pl.col("k") - 1).sum().cast(pl.Float64).alias("dup"))
           .sort("bucket", "route"))
    if not len(repeated):  # most logs repeat no id
        return pl.DataFrame(schema=dup.collect_schema())
    return dup.collect(engine="streaming")


#: more repeated ids than this are grouped among all rows rather than picked out first
_MAX_REPEATED = 5_000_000
#: the hashes are sorted in 2**_HASH_BITS slices of the hash range (their top bits)
_HASH_BITS = 4


def _repeated_hashes(hashes: pl.LazyFrame) -> np.ndarray:
    """The values of ``__h`` (uint64) that occur more than once, sorted.

    Each batch is split by the top bits of its hashes as it arrives, so a slice of the hash range
    is sorted on its own (scratch memory: one slice) and its repeats are adjacent equal values."""
    from workbench.summaries.tally import map_batches, stream_batches

    slices = 1 << _HASH_BITS
    shift = np.uint64(64 - _HASH_BITS)
    parts: list[list[np.ndarray]] = [[] for _ in range(slices)]
    for batch in stream_batches(hashes):
        h = batch.get_column("__h").to_numpy()
        top = (h >> shift).astype(np.uint8)
        order = np.argsort(top, kind="stable")  # a counting sort of 8-bit keys
        bounds = np.cumsum(np.bincount(top, minlength=slices))
        for s, part in enumerate(np.split(h[order], bounds[:-1])):
            if len(part):
                parts[s].append(part)
        del h, top, order

    def repeats(s: int) -> np.ndarray:
        x = np.concatenate(parts[s]) if parts[s] else np.empty(0, np.uint64)
        parts[s] = []  # the slice's batches are freed as it is sorted
        x.sort()
        same = x[1:] == x[:-1]
        return np.unique(x[1:][same])

    found = map_batches(repeats, range(slices))  # numpy sorts release the GIL
    return np.concatenate(found) if found else np.empty(0, np.uint64)


def _dedupe(t: pl.DataFrame, duplicates: pl.DataFrame | None, keys: list[str]) -> pl.DataFrame:
    """``t`` (with ``n`` per ``keys``) with repeated request ids taken out of ``n``."""
    if duplicates is None or duplicates.is_empty() or any(k not in duplicates.columns for k in keys):
        return t
    d = duplicates.group_by(keys).agg(pl.col("dup").sum())
    return (t.join(d, on=keys, how="left")
            .with_columns((pl.col("n") - pl.col("dup").fill_null(0)).clip(0).alias("n")).drop("dup"))


def _capture(summary: Summary, traffic: pl.DataFrame, *, by: list[str],
             duplicates: pl.DataFrame | None = None) -> dict:
    """Logged / ingress per route over the summary's window."""
    t = summary.table
    if t.is_empty():
        return {}
    if duplicates is not None and "bucket" in t.columns:
        lo, hi = t["bucket"].min(), t["bucket"].max()
        d = duplicates.filter(pl.col("bucket").is_between(lo, hi))
        t = _dedupe(t.group_by("bucket", "route").agg(pl.col("n").sum()).with_columns(pl.col("n").cast(pl.Float64)),
                    d, ["bucket", "route"])
    tr = ingress_by_hour(summary, traffic)
    if tr.is_empty():
        return {}
    logged = t.group_by("route").agg(pl.col("n").sum()) if "route" in t.columns else None
    if "route" in tr.columns and tr["route"].null_count() < tr.height and logged is not None:
        ingress = tr.group_by("route").agg(pl.col("requests").sum())
        j = logged.join(ingress, on="route", how="inner")
        out = {r["route"]: r["n"] / r["requests"] for r in j.iter_rows(named=True) if r["requests"]}
    else:
        out = {}
    total_in = tr["requests"].sum()
    if total_in:
        out["(all)"] = float(t["n"].sum() / total_in)
    return out


def _burn(summary: Summary, slo, traffic, by, duplicates, th: SLIThresholds) -> tuple[list[dict], list[dict]]:
    """Hourly bad shares and 1 h / 6 h burn rates per SLI over the whole window."""
    t = summary.collapse(("bucket",)).table.sort("bucket")
    if t.is_empty():
        return [], []
    hourly = t.with_columns(pl.col("bucket").dt.truncate("1h")).group_by("bucket").agg(
        [pl.col("n").sum()] + ([pl.col("fallback").sum()] if "fallback" in t.columns else [])).sort("bucket")
    series: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
    if "fallback" in hourly.columns and slo.fallback_rate > 0:
        series["fallback_rate"] = (hourly["fallback"].to_numpy().astype(float), hourly["n"].to_numpy().astype(float),
                                   slo.fallback_rate)
    if summary.latency.height:
        lat = summary.latency.with_columns(pl.col("bucket").dt.truncate("1h"))
        slow = _slow_share(lat, ["bucket"], slo.latency_p95_ms)
    if summary.latency.height and slow.height:  # none when no row has a valid latency
        j = hourly.select("bucket").join(slow, on="bucket", how="left").fill_null(0).sort("bucket")
        series["latency_p95_ms"] = (j["slow"].to_numpy().astype(float), j["lat_n"].to_numpy().astype(float),
                                     th.latency_budget)
    if traffic is not None and traffic.height and slo.capture_rate < 1:
        ingress = ingress_by_hour(summary, traffic).group_by("bucket").agg(pl.col("requests").sum())
        j = _dedupe(hourly.with_columns(pl.col("n").cast(pl.Float64)), duplicates, ["bucket"])
        j = j.join(ingress, on="bucket", how="left").sort("bucket")
        req = j["requests"].fill_null(0).to_numpy().astype(float)
        lost = np.clip(req - j["n"].to_numpy(), 0, None)
        series["capture_rate"] = (lost, req, 1 - slo.capture_rate)
    buckets = hourly["bucket"].to_list()
    burn, alerts = [], []
    for sli, (bad, total, budget) in series.items():
        b1 = _rolling_ratio(bad, total, 1) / budget
        b6 = _rolling_ratio(bad, total, 6) / budget
        # the binomial tests of every hour at once (the same values as one call per hour)
        page_ps = _binom_ps(bad, total, budget * th.page_burn * th.burn_noise_share)
        bad6, total6 = _rolling_sum(bad, 6), _rolling_sum(total, 6)
        ticket_ps = _binom_ps(bad6, total6, budget * th.ticket_burn * th.burn_noise_share)
        first: dict[str, dict] = {}
        for i, at in enumerate(buckets):
            # Alert only on whole hours inside the window (an edge hour holds part of its
            # traffic), on a full 6 h for tickets, and when the bad events are more than noise
            # at that burn (one-sided binomial test).
            whole = (summary.start is None or at >= summary.start) and (
                summary.end is None or at + dt.timedelta(hours=1) <= summary.end)
            w6 = slice(i - 5, i + 1) if i >= 5 else None
            level = None
            if whole and b1[i] >= th.page_burn and page_ps[i] < th.burn_alpha:
                level = "page"
            elif whole and w6 is not None and b6[i] >= th.ticket_burn and ticket_ps[i] < th.burn_alpha:
                level = "ticket"
            row = {"bucket": at, "sli": sli, "bad_share": bad[i] / total[i] if total[i] else None,
                   "burn_1h": float(b1[i]), "burn_6h": float(b6[i]), "level": level}
            burn.append(row)
            if level and level not in first:
                first[level] = row
        for level in ("page", "ticket"):
            if level in first:
                r = first[level]
                alerts.append({"sli": sli, "level": level, "at": r["bucket"], "burn_1h": r["burn_1h"],
                               "burn_6h": r["burn_6h"]})
    return burn, alerts


def _binom_p(bad: float, n: float, rate: float) -> float:
    """One-sided p-value of seeing ``bad`` or more bad events in ``n`` if the true rate were ``rate``."""
    if not n:
        return 1.0
    k = int(round(bad))
    return float(stats.binom.sf(k - 1, int(n), rate))


def _binom_ps(bad: np.ndarray, n: np.ndarray, rate: float) -> np.ndarray:
    """:func:`_binom_p` of every element (1 where ``n`` is 0)."""
    k = np.round(bad).astype(np.int64)
    m = n.astype(np.int64)
    out = np.ones(len(bad))
    some = n != 0
    if some.any():
        out[some] = stats.binom.sf(k[some] - 1, m[some], rate)
    return out


def _rolling_sum(x: np.ndarray, hours: int) -> np.ndarray:
    """The sum of the last ``hours`` elements up to each one (0 before a full window): the
    same additions, in the same order, as ``x[i - hours + 1:i + 1].sum()``."""
    out = np.zeros(len(x))
    for i in range(hours - 1, len(x)):
        out[i] = x[i - hours + 1:i + 1].sum()
    return out


def _rolling_ratio(bad: np.ndarray, total: np.ndarray, hours: int) -> np.ndarray:
    cb, ct = np.cumsum(bad), np.cumsum(total)
    lb = np.concatenate([np.zeros(hours), cb[:-hours]]) if hours < cb.size else np.zeros_like(cb)
    lt = np.concatenate([np.zeros(hours), ct[:-hours]]) if hours < ct.size else np.zeros_like(ct)
    wb_, wt = cb - lb, ct - lt
    return np.divide(wb_, wt, out=np.zeros_like(wb_), where=wt > 0)
