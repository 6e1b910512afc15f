"""The value readers the importers share: ids, times, OTLP AnyValue, column names."""

from __future__ import annotations

import base64

import pytest

from workbench.importers.otlp import any_value, key_values
from workbench.importers.records import FieldError, hex_id, sanitize, to_int, to_ns


@pytest.mark.parametrize("value, ns", [
    ("2026-11-18T09:00:00Z", 1_794_992_400_000_000_000),
    ("2026-11-18T09:00:00.4Z", 1_794_992_400_400_000_000),
    ("2026-11-18T10:00:00.123456789+01:00", 1_794_992_400_123_456_789),
    ("2026-11-18 09:00:00.5+0000", 1_794_992_400_500_000_000),
    ("2026-11-18T09:00:00", 1_794_992_400_000_000_000),  # tz-naive: UTC
    ("1794992400000000001", 1_794_992_400_000_000_001),  # OTLP int64 as a string
    (1_794_992_400_000_000_002, 1_794_992_400_000_000_002),
])
def test_times(value, ns):
    assert to_ns(value, "t") == ns


@pytest.mark.parametrize("value", ["yesterday", "0", True, 1.5])
def test_bad_times(value):
    with pytest.raises(FieldError):
        to_ns(value, "t")
    assert to_ns(None, "t", required=False) is None


def test_ids_hex_base64_and_invalid():
    raw = bytes(range(1, 17))
    assert hex_id(raw.hex().upper(), "id", size=16) == raw.hex()
    assert hex_id(base64.b64encode(raw).decode(), "id", size=16) == raw.hex()
    assert hex_id("0x" + raw[:8].hex(), "id", size=8) == raw[:8].hex()
    for bad in ("", "0" * 32, "abc", 12):
        with pytest.raises(FieldError):
            hex_id(bad, "id", size=16)
    assert hex_id("", "parent", size=8, required=False) is None


def test_any_value_and_names():
    kv = [{"key": "s", "value": {"stringValue": "x"}}, {"key": "i", "value": {"intValue": "42"}},
          {"key": "d", "value": {"doubleValue": 0.5}}, {"key": "b", "value": {"boolValue": True}},
          {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "stop"}]}}},
          {"key": "m", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"intValue": 1}}]}}},
          {"key": "snake", "value": {"string_value": "y"}}]
    assert key_values(kv) == {"s": "x", "i": 42, "d": 0.5, "b": True, "a": ["stop"], "m": {"k": 1}, "snake": "y"}
    assert any_value({}) is None
    assert to_int("7", "n") == 7 and to_int(None, "n") is None
    with pytest.raises(FieldError):
        to_int("seven", "n")
    assert sanitize("deployment.env") == "deployment_env" and sanitize("App-Tier (v2)") == "app_tier_v2"
