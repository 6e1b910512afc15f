"""Numbers as text, one way everywhere (tables, narratives, findings' one-liners, charts' labels).

A leaf module (it imports nothing from the package), so every layer from the lake up may use it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

__all__ = ["MISSING", "fmt_count", "fmt_duration_hours", "fmt_ms", "fmt_number", "fmt_p", "fmt_pct", "fmt_sig", "fmt_time", "fmt_value"]

#: How a missing value reads.
MISSING = "—"
#: Significant digits of a float by default: enough to compare two numbers by eye, short in a table.
DIGITS = 4


def fmt_number(v: Any, digits: int = DIGITS, *, missing: str = MISSING) -> str:
    """A float to ``digits`` significant digits (``0.1235``, ``1.235e+04``), anything else with
    ``str`` (ints stay exact), ``None`` as ``missing``."""
    if v is None:
        return missing
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


def fmt_value(v: Any, digits: int = DIGITS, *, missing: str = "") -> str:
    """Like :func:`fmt_number`, and a list or tuple as its items joined by ``", "`` (a table cell)."""
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    return fmt_number(v, digits, missing=missing)


def fmt_pct(v: float | None, decimals: int = 1, *, missing: str = MISSING) -> str:
    """A share (0.123) as a percentage (``12.3%``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    return f"{v:.{decimals}%}"


def fmt_ms(v: float | None, decimals: int = 1, *, missing: str = MISSING) -> str:
    """A latency in milliseconds (``123.4 ms``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    return f"{v:,.{decimals}f} ms"


def fmt_duration_hours(seconds: float | None, decimals: int = 1, *, missing: str = MISSING) -> str:
    """A duration given in seconds, in hours (``2.5 h``)."""
    if seconds is None:
        return missing
    return f"{seconds / 3600:.{decimals}f} h"


def fmt_sig(v: float | int | None, sig: int = 3, *, missing: str = MISSING) -> str:
    """A number rounded to ``sig`` significant digits without an exponent in the usual range
    (``0.0123``, ``0.781``, ``12.3``, ``1,235``: the integer part is never cut), thousands
    separated; tiny values keep an exponent (``1.2e-06``). NaN and None read as ``missing``."""
    if v is None or isinstance(v, bool):
        return missing if v is None else str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if math.isnan(v):
        return missing
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    if mag < -4:
        return f"{v:.{max(sig - 1, 0)}e}"
    decimals = max(0, sig - 1 - mag)
    return f"{v:,.{decimals}f}"


def fmt_count(v: Any, *, missing: str = MISSING) -> str:
    """A count with thousands separators (``12,345``); floats are rounded to whole rows."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    if isinstance(v, float):
        return f"{round(v):,}" if not math.isinf(v) else "∞"
    return f"{v:,}" if isinstance(v, int) else str(v)


def fmt_p(v: float | None, *, missing: str = MISSING) -> str:
    """A p-value or q-value: ``<0.001`` below a thousandth, else three decimals (``0.046``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def fmt_time(t: Any, *, missing: str = MISSING) -> str:
    """A time as ``2026-03-12 14:05 UTC`` (aware times converted to UTC, naive ones taken as UTC);
    a date as ``2026-03-12``."""
    if t is None:
        return missing
    if isinstance(t, dt.datetime):
        if t.tzinfo is not None:
            t = t.astimezone(dt.timezone.utc)
        return t.strftime("%Y-%m-%d %H:%M UTC")
    return t.isoformat() if isinstance(t, dt.date) else str(t)
