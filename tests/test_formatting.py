"""Numbers as text: one formatter for every layer."""

from __future__ import annotations

import math

import pytest

from workbench.formatting import MISSING, fmt_duration_hours, fmt_ms, fmt_number, fmt_pct, fmt_value


@pytest.mark.parametrize(("value", "text"), [
    (None, MISSING), (0.123456, "0.1235"), (12345.678, "1.235e+04"), (3, "3"), (10**12, "1000000000000"),
    (True, "True"), ("v2", "v2"), (-0.000123456, "-0.0001235"), (float("nan"), "nan"), (2.0, "2"),
])
def test_fmt_number(value, text):
    assert fmt_number(value) == text


def test_fmt_number_digits_and_missing():
    assert fmt_number(math.pi, 2) == "3.1" and fmt_number(math.pi, 6) == "3.14159"
    assert fmt_number(None, missing="") == ""


def test_fmt_value_joins_lists_and_leaves_missing_empty():
    assert fmt_value(["latency_p95", "fallback_rate"]) == "latency_p95, fallback_rate"
    assert fmt_value((1, 2)) == "1, 2" and fmt_value(None) == "" and fmt_value(0.98765) == "0.9877"


def test_pct_ms_hours():
    assert fmt_pct(0.1234) == "12.3%" and fmt_pct(1) == "100.0%" and fmt_pct(None) == MISSING
    assert fmt_pct(float("nan")) == MISSING and fmt_pct(0.5, 0) == "50%"
    assert fmt_ms(1234.56) == "1,234.6 ms" and fmt_ms(None) == MISSING and fmt_ms(7.0, 0) == "7 ms"
    assert fmt_duration_hours(5400) == "1.5 h" and fmt_duration_hours(0) == "0.0 h"
    assert fmt_duration_hours(None) == MISSING
