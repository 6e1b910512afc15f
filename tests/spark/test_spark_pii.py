"""The PII scan's counts on Spark equal polars': per pattern on tricky values (Java's regex against
Rust's), and per column, kind and hour on generated lakes that leak personal data; only counts
come back, and triage reports the same leak."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from workbench.evidence.pii import PII_PATTERNS, scan_pii
from workbench.lake import open_lake
from workbench.rca import triage
from workbench.spark.pii import JAVA_PII_PATTERNS, pii_counts_spark, result_from_counts, scan_pii_spark
from workbench.synthetic import generate_lake
from workbench.summaries import window

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
# values where the regex engines could part: word boundaries next to non-ASCII letters, marks,
# Roman numerals and other scripts' digits, a final line break before `$`, version strings,
# dotted numbers, card and IBAN look-alikes failing their checksums, bare and bracketed phones
TRICKY = [
    "mail a.b@x.co now", "a@b", "x@y.z", "first.last+tag@sub.example.org;", "4111 1111 1111 1111",
    "4111-1111-1111-1111", "é4111111111111111", "Ⅻ4111111111111111", "4111111111111111\u0301",
    "x4111111111111111", "4111111111111112", "order 4111-1111-1111-1111x", "3782 822463 10005",
    "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", "GB82WEST12345698765431", "DE89370400440532013000",
    "ip 10.0.0.1", "Chrome/120.0.0.1", "10.0.0.1\n", "10.0.0.1\r\n", "x\n10.0.0.1", "1.2.3.4.5", "256.1.1.1",
    "call +1 415 555 0134", "(415) 555-0134", "+44 (20) 7946 0958", "+1234", "fe80::1", "2001:db8:0:0:0:0:2:1",
    "::", "123-45-6789", "000-12-3456", "666-12-3456", "١٢٣-45-6789", "AB 12 34 56 C", "QQ123456C", "ABC123456C",
    "ÀB 12 34 56 C", "v1.2.3", "tel:+33 1 23 45 67 89", None, "", "   ", "日本語テキスト 10.1.2.3 です",
]


def _collect(df, schema):
    rows, names = df.collect(), df.columns
    return pl.DataFrame({c: pl.Series(c, [r[i] for r in rows], dtype=schema.get(c), strict=False)
                         for i, c in enumerate(names)})


def _us(t):
    return int(t.timestamp() * 1_000_000)


@pytest.mark.parametrize("kind", list(PII_PATTERNS))
def test_each_pattern_matches_the_same_values_in_java(spark, kind):
    polars_hits = pl.Series(TRICKY, dtype=pl.String).str.contains(PII_PATTERNS[kind]).fill_null(False).to_list()
    df = spark.createDataFrame([(v,) for v in TRICKY], "v string")
    from pyspark.sql import functions as F

    java_hits = [bool(r[0]) for r in df.select(F.coalesce(F.col("v").rlike(JAVA_PII_PATTERNS[kind]),
                                                          F.lit(False))).collect()]
    assert java_hits == polars_hits, [v for v, a, b in zip(TRICKY, polars_hits, java_hits) if a != b]
    assert any(polars_hits)  # the list exercises every pattern


def test_unicode_word_boundary_needs_the_u_flag(spark):
    """Without (?U) Java 17's \\b treats a Roman numeral as a non-word character; Rust's does not."""
    df = spark.createDataFrame([("Ⅻ4111111111111111",)], "v string")
    from pyspark.sql import functions as F

    plain = df.select(F.col("v").rlike(PII_PATTERNS["card"])).first()[0]
    flagged = df.select(F.col("v").rlike(JAVA_PII_PATTERNS["card"])).first()[0]
    rust = pl.Series(["Ⅻ4111111111111111"]).str.contains(PII_PATTERNS["card"])[0]
    assert flagged == rust and plain != rust


def test_counts_on_tricky_values_equal_polars(spark):
    frame = pl.DataFrame({"timestamp": [T0 + dt.timedelta(minutes=9 * i) for i in range(len(TRICKY))],
                          "txt": TRICKY, "other": list(reversed(TRICKY))})
    want = scan_pii(frame.lazy(), columns=["txt", "other"], min_hits=1, min_share=0.0)
    sdf = spark.createDataFrame(frame.with_columns(pl.col("timestamp").dt.replace_time_zone(None)).to_pandas())
    long = pii_counts_spark(sdf, ["txt", "other"], {"w": (_us(T0), _us(T0 + dt.timedelta(days=1)))},
                            collect=_collect)
    got = result_from_counts(long.drop("side"), ["txt", "other"], min_hits=1, min_share=0.0)
    assert got.columns == want.columns and got.hourly == want.hourly
    assert {c["kind"] for c in got.columns if c["hits"]} == set(PII_PATTERNS)
    # only counts came back: no column of the collected frame holds text from the rows
    assert set(long.columns) == {"side", "bucket", "n", "column", "kind", "hits", "candidates"}


@pytest.mark.parametrize("variant", range(3))
def test_lake_counts_equal_polars_and_triage_finds_the_leak(tmp_path, spark, variant):
    path = tmp_path / "lake"
    truth = generate_lake(path, cause="pii_leak", variant=variant, seed=17, rows=6_000, days=7,
                          n_numeric=2, n_categorical=1)
    lake_p = open_lake(path, mask_key="k")
    lake_s = open_lake(path, mask_key="k", engine="spark", spark=spark)
    schema = lake_p.schema
    cols = [c for c in lake_p.other_columns if schema[c] == pl.String]
    assert cols
    lo, hi = lake_p.time_range()
    mid = lo + (hi - lo) / 2
    sides = [(lo, mid), (mid, hi + dt.timedelta(seconds=1))]
    got = scan_pii_spark(lake_s, cols, sides)
    for (a, b), res in zip(sides, got):
        want = scan_pii(window(lake_p.predictions(["timestamp", *cols]), a, b), sensitive=lake_p.sensitive,
                        columns=cols)
        assert res.columns == want.columns and res.hourly == want.hourly
    assert got[1].flagged  # the leak is in the second half
    if variant:  # triage (both engines) once: the counts above are what it reads
        return
    since = truth.onset - dt.timedelta(hours=12)
    fp, fs = triage(lake_p, since=since), triage(lake_s, since=since)
    assert fs.verdict["cause"] == fp.verdict["cause"] == "pii_leak"
    assert fs.top.subject == fp.top.subject and abs(fs.top.score - fp.top.score) <= 0.01
    assert fs.top.evidence[0].detail == fp.top.evidence[0].detail


def test_sensitive_columns_are_not_scanned(tmp_path, spark):
    path = tmp_path / "lake"
    generate_lake(path, cause="pii_leak", seed=17, rows=3_000, days=7, n_numeric=2, n_categorical=1)
    lake = open_lake(path, mask_key="k", engine="spark", spark=spark)
    col = [c for c in lake.other_columns if lake.schema[c] == pl.String][0]
    lo, hi = lake.time_range()
    res = scan_pii_spark(lake, [col, *lake.sensitive], [(lo, hi + dt.timedelta(seconds=1))])[0]
    assert res.scanned == (col,)
