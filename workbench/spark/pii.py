"""The PII scan's hit counts on Spark: one aggregation over the text columns, only counts come back.

:func:`scan_pii_spark` gives the :class:`~workbench.evidence.pii.PIIResult` that
:func:`workbench.evidence.scan_pii` gives for the same rows (per column and kind: rows, hits,
share, first and last hour seen; per hour: rows and hits), for the baseline and the window in
one pass. No value leaves the executors: a row's text is matched there (``rlike``), card and
IBAN candidates are extracted and checksum-validated there (Luhn, ISO 13616 mod 97, as SQL
higher-order functions), and the driver receives one row of counts per (side, hour).

The patterns are :data:`workbench.evidence.pii.PII_PATTERNS`, run by ``java.util.regex``
instead of Rust's ``regex`` crate. They mean the same there (checked pattern by pattern,
tests/spark/test_spark_pii.py runs both on tricky values): only classes, bounded repetition,
alternation, ``^``/``$`` outside multiline mode and ``\\b``. ``\\b`` is the one difference:
Rust's is Unicode-aware, Java's (before JDK 19) mixes definitions, so every pattern runs with
``(?U)`` (UNICODE_CHARACTER_CLASS), Java's Unicode word boundary. Java's ``$`` also matches before
a final line break, where Rust's does not; in the one pattern with ``$`` (ipv4) the alternative
``[^0-9.]`` matches that line break anyway, so a row matches in one exactly when in the other.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.evidence.pii import _VALIDATED, PII_PATTERNS, PIIResult, PIIThresholds
from workbench.evidence.stats import overridden

__all__ = ["JAVA_PII_PATTERNS", "pii_counts_spark", "scan_pii_spark"]

_HOUR_US = 3_600_000_000
#: the patterns as run by Spark (java.util.regex): Unicode word boundaries, as Rust's regex
JAVA_PII_PATTERNS: dict[str, str] = {k: "(?U)" + p for k, p in PII_PATTERNS.items()}
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _luhn_sql(t: str) -> str:
    """SQL of :func:`workbench.evidence.pii.luhn_valid` for a token variable ``t``."""
    d = f"reverse(regexp_replace({t}, '[^0-9]', ''))"
    digit = f"cast(substring({d}, i + 1, 1) as int)"
    term = f"if(i % 2 = 1, if({digit} * 2 > 9, {digit} * 2 - 9, {digit} * 2), {digit})"
    return (f"(length({d}) between 13 and 19 and "
            f"aggregate(sequence(0, length({d}) - 1), 0, (acc, i) -> acc + {term}) % 10 = 0)")


def _iban_sql(t: str) -> str:
    """SQL of :func:`workbench.evidence.pii.iban_valid` for a token variable ``t`` (the pattern's
    tokens hold only A-Z, 0-9 and spaces): letters as 10..35, the first four moved to the end, the
    number's remainder mod 97 taken digit group by digit group."""
    s = f"replace({t}, ' ', '')"
    moved = f"concat(substring({s}, 5), substring({s}, 1, 4))"
    v = f"(instr('{_B36}', substring({moved}, i, 1)) - 1)"
    return (f"(length({s}) between 15 and 34 and substring({s}, 1, 2) rlike '^[A-Z]{{2}}$' "
            f"and substring({s}, 3, 2) rlike '^[0-9]{{2}}$' and "
            f"aggregate(sequence(1, length({moved})), cast(0 as bigint), "
            f"(acc, i) -> (acc * if({v} < 10, 10, 100) + {v}) % 97) = 1)")


_CHECKS = {"card": _luhn_sql, "iban": _iban_sql}


def _pairs(columns: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(simple, validated) (column, kind) pairs, in :func:`scan_pii`'s order."""
    simple = [(c, k) for c in columns for k in PII_PATTERNS if k not in _VALIDATED]
    validated = [(c, k) for c in columns for k in _VALIDATED]
    return simple, validated


def pii_counts_spark(df, columns: list[str], sides: dict[str, tuple], *, collect) -> pl.DataFrame:
    """Rows and hits per (side, hour, column, kind) of a Spark frame with ``timestamp`` and the
    text ``columns``: ``side, bucket, n, column, kind, hits, candidates`` (``candidates``: rows with
    a token matching a validated kind's pattern, valid or not). ``sides`` maps a side's name to
    its ``[start, end)`` in epoch microseconds; a row in two sides counts in both."""
    from pyspark.sql import functions as F

    us = F.unix_micros(F.col("timestamp"))
    names = list(sides)
    side = F.explode(F.array(*[F.when((us >= F.lit(a)) & (us < F.lit(b)), F.lit(i))
                              for i, (a, b) in enumerate(sides.values())]))
    rows = (df.select(side.alias("__side"), (us - F.pmod(us, F.lit(_HOUR_US))).alias("__bucket"),
                      *[F.col(f"`{c}`").cast("string").alias(f"__c{j}") for j, c in enumerate(columns)])
            .where(F.col("__side").isNotNull()))
    simple, validated = _pairs(columns)
    idx = {c: j for j, c in enumerate(columns)}
    aggs = [F.count(F.lit(1)).alias("n")]
    for c, k in simple:
        aggs.append(F.count(F.when(F.col(f"__c{idx[c]}").rlike(JAVA_PII_PATTERNS[k]), 1)).alias(f"h:{c}\x1f{k}"))
    for c, k in validated:
        tokens = f"regexp_extract_all(`__c{idx[c]}`, '{_sql_str(JAVA_PII_PATTERNS[k])}', 0)"
        valid = F.expr(f"exists({tokens}, __tok -> {_CHECKS[k]('__tok')})")
        tokens = F.expr(tokens)
        aggs.append(F.count(F.when(F.size(tokens) > 0, 1)).alias(f"c:{c}\x1f{k}"))
        aggs.append(F.count(F.when(valid, 1)).alias(f"h:{c}\x1f{k}"))
    g = rows.groupBy("__side", "__bucket").agg(*aggs)
    types = {"__side": pl.Int32, "__bucket": pl.Int64, "n": pl.Int64}
    wide = collect(g, types | {a: pl.Int64 for a in g.columns if a not in types})
    out = []
    for c, k in simple + validated:
        key = f"{c}\x1f{k}"
        cand = pl.col(f"c:{key}") if f"c:{key}" in wide.columns else pl.lit(None, dtype=pl.Int64)
        out.append(wide.select(pl.col("__side").alias("side"), pl.col("__bucket").alias("bucket"), "n",
                               pl.lit(c).alias("column"), pl.lit(k).alias("kind"),
                               pl.col(f"h:{key}").alias("hits"), cand.alias("candidates")))
    long = pl.concat(out) if out else pl.DataFrame(schema={"side": pl.Int32, "bucket": pl.Int64, "n": pl.Int64,
                                                         "column": pl.String, "kind": pl.String,
                                                         "hits": pl.Int64, "candidates": pl.Int64})
    return long.with_columns(pl.col("side").replace_strict(list(range(len(names))), names, return_dtype=pl.String),
                             pl.col("bucket").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))


def _sql_str(s: str) -> str:
    """A SQL string literal's body: backslashes and quotes escaped."""
    return s.replace("\\", "\\\\").replace("'", "\\'")


def result_from_counts(long: pl.DataFrame, columns: list[str], *, thresholds: PIIThresholds | None = None,
                       min_hits: int | None = None, min_share: float | None = None) -> PIIResult:
    """The :class:`PIIResult` of one side's counts (``bucket, n, column, kind, hits, candidates``),
    assembled as :func:`workbench.evidence.scan_pii` assembles it: a validated kind appears only
    when its pattern found a candidate token in the column; per (column, kind) the rows scanned,
    hits, share, first and last hour with a hit, and whether it is flagged."""
    th = overridden(thresholds or PIIThresholds(), min_hits=min_hits, min_share=min_share)
    simple, validated = _pairs(columns)
    keep = set(simple) | {(c, k) for c, k in validated
                          if long.filter((pl.col("column") == c) & (pl.col("kind") == k))["candidates"].sum()}
    buckets = long.select("bucket", "n").unique("bucket")
    total_rows = int(buckets["n"].sum()) if buckets.height else 0
    per, hourly = [], []
    for c, k in simple + validated:
        if (c, k) not in keep:
            continue
        g = long.filter((pl.col("column") == c) & (pl.col("kind") == k))
        hits = int(g["hits"].sum()) if g.height else 0
        seen = g.filter(pl.col("hits") > 0)["bucket"]
        share = hits / total_rows if total_rows else 0.0
        per.append({"column": c, "kind": k, "rows": total_rows, "hits": hits, "share": share,
                    "first_seen": seen.min(), "last_seen": seen.max(),
                    "flagged": hits >= th.min_hits and share >= th.min_share})
        hourly.append(g.filter(pl.col("hits") > 0).select("bucket", "n", "column", "kind", "hits"))
    rows = (pl.concat(hourly).sort(["bucket", "column", "kind"]).to_dicts() if hourly else [])
    return PIIResult(columns=per, hourly=rows, scanned=tuple(columns),
                     thresholds={"min_hits": th.min_hits, "min_share": th.min_share})


def scan_pii_spark(lake, columns: list[str], windows: list[tuple[dt.datetime, dt.datetime]], *,
                   thresholds: PIIThresholds | None = None) -> list[PIIResult]:
    """:func:`workbench.evidence.scan_pii` of the lake's rows in each of ``windows`` (every row,
    not a sample), on Spark in one pass; sensitive columns are never scanned (they are masked)."""
    from workbench.spark.frames import _micros

    sl = lake.spark_lake
    columns = [c for c in columns if c not in set(lake.sensitive)]
    sides = {str(i): (_micros(a), _micros(b)) for i, (a, b) in enumerate(windows)}
    df = sl.predictions(["timestamp", *columns])
    long = pii_counts_spark(df, columns, sides, collect=sl.to_polars)
    return [result_from_counts(long.filter(pl.col("side") == s).drop("side"), columns, thresholds=thresholds)
            for s in sides]
