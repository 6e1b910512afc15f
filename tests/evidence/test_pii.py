"""PII scan: validated patterns, quiet on healthy text with look-alikes, leaks found from onset."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

import workbench as wb
from workbench.evidence import scan_pii
from workbench.evidence.pii import iban_valid, luhn_valid
from workbench.synthetic import generate_lake

T = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def test_validators():
    assert luhn_valid("4539 1488 0343 6467") and luhn_valid("4111-1111-1111-1111")
    assert not luhn_valid("4539 1488 0343 6468") and not luhn_valid("1234")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and iban_valid("DE89370400440532013000")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")


@pytest.mark.parametrize(("text", "kind", "hit"), [
    ("contact alice.smith@example.co.uk now", "email", True),
    ("campaign @spring_sale", "email", False),
    ("call +44 7911 123456", "phone", True),
    ("(415) 555-0134", "phone", True),
    ("order 4539 1488 0343 6468 status", "card", False),   # fails Luhn
    ("card 4539148803436467", "card", True),
    ("iban DE89 3704 0044 0532 0130 00", "iban", True),
    ("client 10.0.12.7 connected", "ipv4", True),
    ("Chrome/120.0.6099.109 Safari", "ipv4", False),
    ("firmware 5.12.3 download", "ipv4", False),
    ("from 2001:db8:85a3::8a2e:370:7334", "ipv6", True),
    ("at 12:30:45", "ipv6", False),
    ("ssn 123-45-6789", "national_id", True),
    ("NINO AB 12 34 56 C", "national_id", True),
    ("Mozilla/5.0 (X11) Chrome/120.0.0.0 Safari/537.36", "ipv4", False),
    ("trace 3fa45391488034364670b2c1", "card", False),
])
def test_patterns(text, kind, hit):
    frame = pl.LazyFrame({"timestamp": [T], "free": [text]})
    res = scan_pii(frame, min_hits=1, min_share=0)
    got = {c["kind"] for c in res.columns if c["hits"]}
    assert (kind in got) == hit, (text, got)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_healthy_lakes_have_no_personal_data_outside_sensitive_columns(tmp_path, seed):
    generate_lake(tmp_path / "l", seed=seed, rows=30_000)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    res = scan_pii(lake.predictions(), sensitive=lake.sensitive)
    assert res.flagged == [], res.flagged
    assert set(lake.other_columns) - {"date"} <= set(res.scanned)
    assert not set(lake.sensitive) & set(res.scanned)


@pytest.mark.parametrize(("variant", "seed"), [(0, 5), (1, 6), (1, 7), (2, 8)])
def test_leaks_are_found_from_their_onset(tmp_path, variant, seed):
    truth = generate_lake(tmp_path / "l", cause="pii_leak", variant=variant, seed=seed, rows=30_000)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    res = scan_pii(lake.predictions(), sensitive=lake.sensitive)
    flagged = res.flagged
    assert flagged and flagged[0]["column"] == truth.subject["column"]
    assert {c["column"] for c in flagged} == {truth.subject["column"]}
    first = min(c["first_seen"] for c in flagged)
    assert truth.onset - dt.timedelta(hours=1) <= first <= truth.onset + dt.timedelta(hours=1)
    # counts only: no matched value in the result
    raw = lake.predictions([truth.subject["column"]]).collect()[truth.subject["column"]]
    text = json.dumps(res.to_dict()) + repr(res) + res._repr_html_()
    leaked = [v for v in raw.drop_nulls().unique().to_list() if len(v) > 8 and v in text]
    assert leaked == []


@pytest.mark.parametrize(("cause", "variant", "seed"), [("pii_leak", 0, 5), ("pii_leak", 1, 6), ("pii_leak", 2, 8),
                                                        ("none", 0, 3)])
def test_matching_by_value_gives_the_same_counts_as_by_row(tmp_path, cause, variant, seed):
    generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=20_000)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    by_row = scan_pii(lake.predictions(), sensitive=lake.sensitive)
    assert scan_pii(lake.predictions(), sensitive=lake.sensitive, by_value=True).to_dict() == by_row.to_dict()
    assert cause == "none" or by_row.flagged


def test_matching_by_value_counts_repeated_values_and_nulls():
    texts = ["card 4539148803436467", None, "card 4539148803436467", "ssn 123-45-6789", "card 4539 1488 0343 6468",
             "x@example.com and card 4111-1111-1111-1111", None, "plain"] * 3
    frame = pl.LazyFrame({"timestamp": [T + dt.timedelta(minutes=25 * i) for i in range(len(texts))], "free": texts,
                          "other": [None] * len(texts)}, schema_overrides={"other": pl.String})
    by_row = scan_pii(frame, min_hits=1, min_share=0)
    assert scan_pii(frame, min_hits=1, min_share=0, by_value=True).to_dict() == by_row.to_dict()
    assert {(c["kind"], c["hits"]) for c in by_row.columns if c["hits"]} == {("card", 9), ("national_id", 3),
                                                                             ("email", 3)}
