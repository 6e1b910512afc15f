"""Which part of the traffic lost its logs, when the ingress counts only the total.

A version (or route) that receives a share ``s`` of the requests by its rollout step and logs a
fraction ``r`` as often as the rest shows up in the logs with share ``r s / (r s + 1 - s)``. Given
the logged rows per hour and the rollout share in force each hour, :func:`relative_capture`
estimates ``r`` (1 = it logs like the rest) with a 95 % interval; with the ingress total it also
gives each side's own capture rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.evidence.stats import Z95
from workbench.exceptions import InsufficientDataError
from workbench.results import Result

__all__ = ["RelativeCapture", "relative_capture"]


@dataclass(frozen=True, repr=False)
class RelativeCapture(Result):
    """Capture of one slice of traffic relative to the rest, from logged shares against rollout shares.

    ``ratio`` is the slice's capture divided by the rest's (1 = same), with a 95 % score interval
    ``ratio_interval``; ``expected_share`` and ``logged_share`` are the slice's share of rows by
    the rollout steps and in the logs; ``capture``/``capture_rest`` are capture rates against the
    ingress total (None without it), with a 95 % ``capture_interval`` reflecting the random routing
    of requests (binomial by the rollout share) and the logging of each (binomial by the capture).
    """

    name: str
    hours: int
    logged: int
    logged_total: int
    expected_share: float
    logged_share: float
    ratio: float
    ratio_interval: tuple[float, float]
    p_value: float
    capture: float | None = None
    capture_interval: tuple[float, float] | None = None
    capture_rest: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        lo, hi = self.ratio_interval
        return (f"{self.name}: logged share {self.logged_share:.1%} vs {self.expected_share:.1%} by rollout -> "
                f"relative capture {self.ratio:.2f} [{lo:.2f}, {hi:.2f}]")


def _logged_rows(r: float, n: np.ndarray, s: np.ndarray) -> float:
    """Expected rows of the slice among ``n`` logged rows an hour when it captures ``r`` times as often."""
    return float(np.sum(n * r * s / (r * s + 1.0 - s)))


def _solve(target: float, n: np.ndarray, s: np.ndarray) -> float:
    """The ratio whose expected logged rows equal ``target`` (monotone in r: bisection on log r)."""
    total = float(n.sum())
    if target <= 0:
        return 0.0
    if target >= total:
        return math.inf
    lo, hi = -20.0, 20.0
    for _ in range(60):  # 40/2^60: far below any count's precision
        mid = 0.5 * (lo + hi)
        if _logged_rows(math.exp(mid), n, s) < target:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


def relative_capture(name: str, logged: np.ndarray, logged_total: np.ndarray, share: np.ndarray,
                     requests: np.ndarray | None = None) -> RelativeCapture:
    """Capture of a slice relative to the rest of the traffic, hour by hour.

    Parameters
    ----------
    name : str
        What the slice is (e.g. ``"3.2.0 on canary"``), for the result's text.
    logged, logged_total : array
        Rows the slice logged, and rows logged in all, per hour.
    share : array
        The slice's share of requests by the rollout step in force that hour, in (0, 1).
    requests : array, optional
        Ingress requests per hour (all routes): adds the two sides' own capture rates.

    Returns
    -------
    RelativeCapture
        The ratio (maximum likelihood under binomial logging shares), a 95 % score interval and
        the two-sided p-value of "same capture as the rest" (a z test on the logged rows).

    Examples
    --------
    >>> relative_capture("canary", np.array([20, 18]), np.array([1000, 1000]), np.array([0.1, 0.1]))
    ... # doctest: +SKIP
    """
    n = np.asarray(logged_total, dtype=float)
    k = np.asarray(logged, dtype=float)
    s = np.clip(np.asarray(share, dtype=float), 1e-9, 1 - 1e-9)
    keep = n > 0
    n, k, s = n[keep], k[keep], s[keep]
    if n.size == 0:
        raise InsufficientDataError("relative_capture: no logged rows in the hours given")
    observed, total = float(k.sum()), float(n.sum())
    expected = float(np.sum(n * s))
    var0 = float(np.sum(n * s * (1 - s)))
    z = (observed - expected) / math.sqrt(var0) if var0 > 0 else 0.0
    p = float(math.erfc(abs(z) / math.sqrt(2)))
    ratio = _solve(observed, n, s)

    def bound(sign: float) -> float:
        # score interval: the ratios whose expected rows lie within Z95 standard errors of the count
        r = _solve(observed, n, s)
        for _ in range(30):  # fixed point: the variance at the bound, not at the estimate
            q = r * s / (r * s + 1 - s) if math.isfinite(r) else np.ones_like(s)
            sd = math.sqrt(float(np.sum(n * q * (1 - q))) + 0.25)
            r_new = _solve(observed + sign * Z95 * sd, n, s)
            if not math.isfinite(r_new) or abs(r_new - r) < 1e-9 * max(r, 1e-9):
                return r_new
            r = r_new
        return r

    lo, hi = bound(-1.0), bound(+1.0)
    cap = cap_rest = cap_int = None
    if requests is not None:
        req = np.asarray(requests, dtype=float)[keep]
        served = float(np.sum(req * s))
        rest = float(np.sum(req * (1 - s)))
        if served > 0 and rest > 0:
            cap, cap_rest = observed / served, (total - observed) / rest
            # requests reach the slice by a binomial draw at its share (the served count is not
            # known), and each served request is logged or not: both spread the estimate
            c = min(cap, 1.0)
            var = served * c * (1 - c) + c * c * float(np.sum(req * s * (1 - s)))
            sd = math.sqrt(var) / served
            cap_int = (max(0.0, cap - Z95 * sd), cap + Z95 * sd)
    return RelativeCapture(name=name, hours=int(n.size), logged=int(observed), logged_total=int(total),
                           expected_share=expected / total, logged_share=observed / total, ratio=ratio,
                           ratio_interval=(lo, hi), p_value=p, capture=cap, capture_interval=cap_int,
                           capture_rest=cap_rest, meta={"interval": "95% score interval, binomial logging shares",
                                                        "test": "z on logged rows"})
