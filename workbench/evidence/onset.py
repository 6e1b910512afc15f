"""Onset: when did a per-bucket series change? Change-point detection with an interval.

Two models, both fitted by exhaustive search over split points (a series is a few hundred
buckets):

- ``step``: the level jumps at one bucket. For rates (``events`` out of ``n``) the binomial
  likelihood ratio; for means (``sums``/``sumsq`` over ``n``) the Gaussian one with the pooled
  within-bucket variance.
- ``ramp``: the level starts moving linearly at one bucket and levels off again (gradual
  drift), fitted by weighted least squares on the bucket means; the onset is where the ramp
  starts.

The interval is the profile-likelihood set (every split whose likelihood ratio is within
3.84 of the best: chi-squared, 1 df, 95 %), widened by the bucket before it, since a change
inside a bucket cannot be told from one at its end; for a step, the estimate is placed inside
that bucket in proportion to how far its level moved. The p-value is a Bonferroni bound over the splits
tried, which is conservative; seasonality makes any such test optimistic, so a caller should
weigh the size of the change (``before``/``after``) as much as the p-value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import polars as pl

from workbench.evidence._scipy import stats
from workbench.exceptions import UsageError
from workbench.results import Result, iso
from workbench.summaries import Summary
from workbench.summaries.binning import Binning

__all__ = ["OnsetResult", "OnsetThresholds", "ONSET_THRESHOLDS", "detect_onset", "distribution_onset",
           "histogram_cells", "mean_onset"]


@dataclass(frozen=True, repr=False)
class OnsetResult(Result):
    """The most likely change point of a series."""

    at: dt.datetime | None
    low: dt.datetime | None
    high: dt.datetime | None
    before: float | None
    after: float | None
    statistic: float
    p_value: float
    model: str
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        return (f"at={iso(self.at)}, interval=[{iso(self.low)}, {iso(self.high)}], "
                f"before={self.before}, after={self.after}, p={self.p_value:.2g}")


def detect_onset(times: Sequence[dt.datetime], *, n: Sequence[float], events: Sequence[float] | None = None,
                 sums: Sequence[float] | None = None, sumsq: Sequence[float] | None = None,
                 model: Literal["step", "ramp"] = "step", min_size: int = 2) -> OnsetResult:
    """Find where a per-bucket series changed.

    Parameters
    ----------
    times : sequence of datetime
        Bucket starts, ascending.
    n : sequence of float
        Rows per bucket.
    events : sequence of float, optional
        Events per bucket, for a rate (nulls, fallbacks, errors, lost requests ...).
    sums, sumsq : sequences of float, optional
        Sums and sums of squares per bucket, for a mean.
    model : {"step", "ramp"}
    min_size : int
        Fewest buckets on each side of a split.
    """
    t = list(times)
    nn = np.asarray(n, dtype=float)
    keep = nn > 0
    t = [x for x, k in zip(t, keep) if k]
    nn = nn[keep]
    if events is not None:
        ev = np.asarray(events, dtype=float)[keep]
        y, w = ev / nn, nn
        ll = _binomial_lr(ev, nn, min_size) if model == "step" else None
    elif sums is not None:
        s = np.asarray(sums, dtype=float)[keep]
        y, w = s / nn, nn
        ss = np.asarray(sumsq, dtype=float)[keep] if sumsq is not None else None
        ll = _gaussian_lr(s, ss, nn, min_size) if model == "step" else None
    else:
        raise UsageError("detect_onset needs events (a rate) or sums (a mean)", hint="pass events= and n= or sums= and n=")
    if len(t) < 2 * min_size + 1:
        return OnsetResult(None, None, None, None, None, 0.0, 1.0, model, {"buckets": len(t)})
    if model == "ramp":
        ll = _ramp_lr(y, w, min_size)
    k = int(np.nanargmax(ll))
    best = float(ll[k])
    inside = np.where(ll >= best - stats.chi2.ppf(0.95, 1))[0]
    tries = int(np.isfinite(ll).sum())
    p = float(min(1.0, tries * stats.chi2.sf(max(best, 0.0), 1 if model == "step" else 3)))
    if model == "step":
        before, after = _wmean(y[:k], w[:k]), _wmean(y[k:], w[k:])
    else:
        before, after = _wmean(y[:k], w[:k]), float(y[-min_size:].mean())
    # A change inside bucket k-1 shows there as a level part-way between before and after:
    # place the onset inside that bucket by that fraction, and widen the interval to it.
    at = t[k]
    if model == "step" and k > 0 and before is not None and after is not None and after != before:
        frac = float(np.clip((y[k - 1] - before) / (after - before), 0.0, 1.0))
        at = t[k] - (t[k] - t[k - 1]) * frac
    low = t[max(int(inside.min()) - 1, 0)]
    return OnsetResult(at=at, low=low, high=t[int(inside.max())], before=before, after=after,
                       statistic=best, p_value=p, model=model, meta={"buckets": len(t), "splits": tries})


def _wmean(y, w) -> float | None:
    return float(np.sum(y * w) / np.sum(w)) if np.sum(w) > 0 else None


def _xlogy(x, y):
    return np.where(x > 0, x * np.log(np.where(y > 0, y, 1.0)), 0.0)


def _binomial_lr(ev, nn, m) -> np.ndarray:
    """2 * log-likelihood ratio of a step at each split (split k: buckets [0, k) vs [k, end))."""
    ce, cn = np.cumsum(ev), np.cumsum(nn)
    E, N = ce[-1], cn[-1]

    def ll(e, n):
        p = np.divide(e, n, out=np.zeros_like(e), where=n > 0)
        return _xlogy(e, p) + _xlogy(n - e, 1 - p)

    k = np.arange(1, len(nn))
    e1, n1 = ce[k - 1], cn[k - 1]
    lr = 2 * (ll(e1, n1) + ll(E - e1, N - n1) - ll(np.array([E]), np.array([N]))[0])
    out = np.full(len(nn), -np.inf)
    out[k] = lr
    out[:m] = -np.inf
    out[len(nn) - m + 1:] = -np.inf
    return out


def _gaussian_lr(s, ss, nn, m) -> np.ndarray:
    """Likelihood ratio of a step in the mean, with the pooled within-bucket variance."""
    cs, cn = np.cumsum(s), np.cumsum(nn)
    S, N = cs[-1], cn[-1]
    if ss is not None:
        var = max((ss.sum() - np.sum(s * s / nn)) / max(N - len(nn), 1), 1e-12)
    else:
        mu = s / nn
        var = max(float(np.sum(nn * (mu - S / N) ** 2) / N), 1e-12)
    k = np.arange(1, len(nn))
    s1, n1 = cs[k - 1], cn[k - 1]
    between = s1 ** 2 / n1 + (S - s1) ** 2 / (N - n1) - S ** 2 / N
    out = np.full(len(nn), -np.inf)
    out[k] = between / var
    out[:m] = -np.inf
    out[len(nn) - m + 1:] = -np.inf
    return out


def _ramp_lr(y, w, m) -> np.ndarray:
    """Weighted least squares of a ramp (flat, linear from k for some length L, flat again)
    against a flat line; for each start k the best length is kept."""
    x = np.arange(len(y), dtype=float)
    wn = w / w.mean()
    W = wn.sum()
    ybar = np.sum(wn * y) / W
    flat = np.sum(wn * (y - ybar) ** 2)
    out = np.full(len(y), -np.inf)
    if flat <= 0:  # a constant series (e.g. every hour 100 % missing): no change point to place
        return out
    lengths = np.arange(1, len(y) + 1, dtype=float)[:, None]
    for k in range(m, len(y) - m):
        H = np.clip(x[None, :] - k, 0.0, lengths)  # one row per ramp length
        hbar = (H * wn).sum(axis=1) / W
        sxx = (wn * (H - hbar[:, None]) ** 2).sum(axis=1)
        sxy = (wn * (H - hbar[:, None]) * (y - ybar)).sum(axis=1)
        ok = sxx > 0
        rss = np.where(ok, flat - np.divide(sxy ** 2, sxx, out=np.zeros_like(sxy), where=ok), flat)
        out[k] = len(y) * np.log(flat / max(float(rss.min()), 1e-300))
    return out


@dataclass(frozen=True)
class OnsetThresholds:
    """The choices behind :func:`distribution_onset` and :func:`mean_onset` (see docs/triage.md)."""

    #: fewest hourly buckets in the window to place an onset (a step needs 2 on each side + 1)
    min_buckets: int = 5
    #: a cell "gains" when its window share exceeds ``gain_ratio`` x its baseline share ...
    gain_ratio: float = 1.1
    #: ... plus this absolute floor, so empty baseline cells with a stray row do not count
    gain_floor: float = 1e-4
    #: a numeric feature whose null share rose less than this moved in location/shape: its
    #: onset is read from the mean baseline percentile, not from the gaining cells' rate
    null_jump: float = 0.01
    #: baseline hours needed to estimate the daily cycle (two full days)
    profile_min_hours: int = 48
    #: rows needed in one hour-of-day of the baseline to estimate its mean percentile
    profile_min_rows: int = 30


ONSET_THRESHOLDS = OnsetThresholds()


def histogram_cells(binning: Binning, feature: str, kind: str) -> list[str]:
    """The summary columns holding ``feature``'s distribution: bins (or categories), then null."""
    if kind == "numeric":
        k = binning.n_bins(feature)
        return [f"{feature}|h{i}" for i in range(k)] + [f"{feature}|null"]
    vocab = binning.categorical[feature]
    return [f"{feature}|v{i}" for i in range(len(vocab))] + [f"{feature}|other", f"{feature}|null"]


def _hourly(summary: Summary) -> pl.DataFrame:
    return summary.collapse(("bucket",)).table.sort("bucket")


def distribution_onset(baseline: Summary, window: Summary, feature: str, kind: str, *,
                       thresholds: OnsetThresholds = ONSET_THRESHOLDS) -> OnsetResult | None:
    """When the window's distribution of ``feature`` moved away from the baseline's.

    The rows falling in the cells (bins, categories, null) that gained share are counted per
    bucket and a ramp (a step is a ramp of one bucket) is fitted to that rate. A numeric feature
    that moved without a null jump is followed by the bucket mean of each row's baseline
    percentile instead (it moves about linearly with a location shift, where the gaining cells
    respond late to a gradual one), less the daily cycle the baseline shows.

    Parameters
    ----------
    baseline, window : Summary
        Hourly summaries made with the same binning.
    feature : str
    kind : {"numeric", "categorical"}
    thresholds : OnsetThresholds

    Returns
    -------
    OnsetResult or None
        None when the window is too short, the feature has no rows, or no cell gained share.

    Examples
    --------
    >>> distribution_onset(ctx.baseline, ctx.window, "amount", "numeric")   # doctest: +SKIP
    """
    th = thresholds
    cells = histogram_cells(window.binning, feature, kind)
    base = baseline.collapse().table
    hourly = _hourly(window)
    if base.is_empty() or hourly.height < th.min_buckets or any(c not in hourly.columns for c in cells):
        return None
    b = np.array([base[c][0] or 0 for c in cells], float)
    counts = hourly.select(cells).fill_null(0).to_numpy().astype(float)
    w = counts.sum(axis=0)
    if b.sum() == 0 or w.sum() == 0:
        return None
    gain = (w / w.sum()) > (b / b.sum()) * th.gain_ratio + th.gain_floor
    if not gain.any():
        return None
    times = hourly["bucket"].to_list()
    null_jump = w[-1] / w.sum() - b[-1] / b.sum()
    if kind == "numeric" and null_jump < th.null_jump:
        share = b[:-1] / b[:-1].sum()
        mid = np.cumsum(share) - share / 2
        c = counts[:, :-1]
        n = c.sum(axis=1)
        sums = c @ mid
        # remove the daily cycle the baseline shows (hour-of-day mean percentile), so a
        # gradual shift is not mistaken for, or hidden by, the time of day
        bh = _hourly(baseline)
        if bh.height >= th.profile_min_hours:
            bc = bh.select(cells[:-1]).fill_null(0).to_numpy().astype(float)
            hours_b = np.array([t.hour for t in bh["bucket"].to_list()])
            bn, bs = bc.sum(axis=1), bc @ mid
            prof = np.zeros(24)
            for hr in range(24):
                m = (hours_b == hr) & (bn > 0)
                if bn[m].sum() >= th.profile_min_rows:
                    prof[hr] = bs[m].sum() / bn[m].sum() - 0.5  # 0.5: the baseline's mean percentile
            sums = sums - n * prof[np.array([t.hour for t in times])]
        return detect_onset(times, n=n, sums=sums, sumsq=c @ (mid * mid), model="ramp")
    n = counts.sum(axis=1)
    events = counts[:, gain].sum(axis=1)
    return detect_onset(times, n=n, events=events, model="ramp")


def mean_onset(frame: pl.LazyFrame, value: pl.Expr, *, bucket: str = "1h",
               thresholds: OnsetThresholds = ONSET_THRESHOLDS) -> OnsetResult | None:
    """Change point of the per-bucket mean of ``value`` over the rows of ``frame`` (a step).

    ``frame`` needs a ``timestamp`` column; used for the mean embedding norm, which moves when
    an embedding model or its normalisation changes.
    """
    t = (frame.select(pl.col("timestamp").dt.truncate(bucket).alias("bucket"), value.alias("x"))
         .group_by("bucket").agg(pl.len().alias("n"), pl.col("x").sum().alias("s"),
                                 (pl.col("x") ** 2).sum().alias("ss")).sort("bucket").collect())
    if t.height < thresholds.min_buckets:
        return None
    return detect_onset(t["bucket"].to_list(), n=t["n"].to_numpy(), sums=t["s"].to_numpy(),
                        sumsq=t["ss"].to_numpy())
