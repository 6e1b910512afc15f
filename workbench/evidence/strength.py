"""Effect size -> strength in [0, 1]: the one mapping every score of triage is built from."""

from __future__ import annotations

import math

__all__ = ["ramp"]


def ramp(x: float | None, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between (None, NaN and inf give 0).

    ``lo`` is the effect size below which a change is noise for the purpose at hand, ``hi`` the
    one above which it is unmistakable; both are named in the caller's thresholds.

    Examples
    --------
    >>> ramp(0.06, 0.03, 0.08)
    0.6
    """
    if x is None or not math.isfinite(x):
        return 0.0
    return float(min(1.0, max(0.0, (x - lo) / (hi - lo))))
