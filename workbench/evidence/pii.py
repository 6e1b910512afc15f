"""PII scan: personal data in text columns that are not declared sensitive.

Every text column of the predictions that the manifest does not mark ``sensitive`` is matched
against patterns for e-mail addresses, phone numbers (international ``+`` form or the North
American ``(415) 555-0134`` form), payment card numbers (13-19 digits passing the Luhn check),
IBANs (passing the ISO 13616 mod-97 check), IPv4 / IPv6 addresses and national-id-like numbers
(US SSN, UK NINO). Card and IBAN candidates are validated, so order numbers and other digit runs
do not count. The result holds counts and shares only: never a matched value. No network calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.evidence.stats import overridden
from workbench.results import Result

__all__ = ["PII_PATTERNS", "PIIResult", "PIIThresholds", "scan_pii", "luhn_valid", "iban_valid"]

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_H = r"[0-9A-Fa-f]{1,4}"
PII_PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": r"(?:\+[1-9][0-9]{0,2}[ .-]?(?:\(?[0-9]{1,4}\)?[ .-]?){1,4}[0-9]{2,4}\b|\([0-9]{3}\) ?[0-9]{3}-[0-9]{4}\b)",
    # \b on both sides: a digit run inside a hex id or a longer token is not a card number
    "card": r"\b(?:[0-9][ -]?){12,18}[0-9]\b",
    "iban": r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b",
    # not after a product token or version ("Chrome/120.0.0.0"), not inside a longer dotted number
    "ipv4": rf"(?:^|[^0-9A-Za-z./_-]){_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}(?:$|[^0-9.])",
    "ipv6": rf"(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,6}}:(?:{_H}(?::{_H}){{0,5}})?",
    "national_id": r"(?:\b(?:00[1-9]|0[1-9][0-9]|[1-578][0-9]{2}|6[0-57-9][0-9]|66[0-57-9])-[0-9]{2}-[0-9]{4}\b"
                   r"|\b[A-CEGHJ-PR-TW-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b)",
}
_VALIDATED = {"card", "iban"}
_ID_ROLES = ("timestamp",)


def luhn_valid(token: str) -> bool:
    """Whether a digit string (spaces and dashes ignored) of 13-19 digits passes the Luhn check."""
    digits = [int(c) for c in token if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(token: str) -> bool:
    """Whether a string is an IBAN with a valid ISO 13616 mod-97 check."""
    s = token.replace(" ", "")
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    moved = s[4:] + s[:4]
    try:
        num = int("".join(str(int(c, 36)) for c in moved))
    except ValueError:
        return False
    return num % 97 == 1


_VALIDATORS = {"card": luhn_valid, "iban": iban_valid}


@dataclass(frozen=True, repr=False)
class PIIResult(Result):
    """Rows with personal-data matches per column and kind (counts only).

    Attributes
    ----------
    columns : list of dict
        Per (column, kind): rows scanned, rows with a match, share, first and last hour seen,
        and whether it is flagged.
    hourly : list of dict
        Per (bucket, column, kind): rows and rows with a match.
    """

    columns: list[dict[str, Any]]
    hourly: list[dict[str, Any]]
    scanned: tuple[str, ...]
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def flagged(self) -> list[dict[str, Any]]:
        return sorted((c for c in self.columns if c["flagged"]), key=lambda c: -c["share"])

    def _summary(self) -> str:
        return f"scanned={list(self.scanned)}, flagged={[(c['column'], c['kind']) for c in self.flagged]}"

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        rows = [{"column": c["column"], "kind": c["kind"], "hits": c["hits"], "share": c["share"],
                 "first_seen": c.get("first_seen")} for c in self.flagged]
        return block("PII scan", f"of {len(self.scanned)} text columns: "
                     + (f"{len(rows)} column/kind pairs with personal data" if rows else "no personal data found"),
                     *([table(rows)] if rows else []), css="workbench-pii")


@dataclass(frozen=True)
class PIIThresholds:
    """When matches of a kind of personal data in a column are reported."""

    #: at least this many matching rows: one or two can be a test account or a false match
    min_hits: int = 3
    #: and at least this share of the rows scanned (one in a thousand)
    min_share: float = 0.001


def _by_row(frame: pl.LazyFrame, columns: list[str], simple: list[tuple[str, str]], bucket: str
            ) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Rows and matching rows per bucket (``bucket, n, <column>\x1f<kind>...``), and per
    (column, validated kind) the candidate tokens with their row (``__row, bucket, tok, key``)."""
    base = frame.select(pl.col("timestamp").dt.truncate(bucket).alias("bucket"),
                        *[pl.col(c) for c in columns]).with_row_index("__row")
    aggs = [pl.len().alias("n")] + [pl.col(c).str.contains(PII_PATTERNS[k]).fill_null(False).sum()
                                    .alias(f"{c}\x1f{k}") for c, k in simple]
    queries = [base.group_by("bucket").agg(aggs)]
    for c in columns:
        for k in _VALIDATED:
            queries.append(base.select("__row", "bucket", pl.col(c).str.extract_all(PII_PATTERNS[k]).alias("tok"))
                           .explode("tok").drop_nulls("tok").with_columns(pl.lit(f"{c}\x1f{k}").alias("key")))
    res = pl.collect_all(queries, engine="streaming")
    return res[0], res[1:]


def _by_value(frame: pl.LazyFrame, columns: list[str], simple: list[tuple[str, str]], bucket: str
              ) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """What :func:`_by_row` gives, matching each distinct value of a column once: rows per
    (bucket, value) first, the patterns over the distinct values, the counts added back up.
    A candidate token's ``__row`` is then its value's index and ``k`` the rows holding it."""
    ts = pl.col("timestamp").dt.truncate(bucket).alias("bucket")
    queries = [frame.group_by(ts).agg(pl.len().alias("n"))]
    queries += [frame.group_by(ts, pl.col(c).alias("__v")).agg(pl.len().alias("k")) for c in columns]
    res = pl.collect_all(queries, engine="streaming")
    counts, cands = res[0], []
    for c, per in zip(columns, res[1:]):
        values = per.select(pl.col("__v").unique()).with_row_index("__row")
        kinds = [k for cc, k in simple if cc == c]
        flags = values.with_columns(pl.col("__v").str.contains(PII_PATTERNS[k]).fill_null(False).alias(k)
                                    for k in kinds)
        per = per.join(flags, on="__v", how="left", nulls_equal=True)
        hits = per.group_by("bucket").agg((pl.col("k") * pl.col(k)).sum().alias(f"{c}\x1f{k}") for k in kinds)
        counts = counts.join(hits, on="bucket", how="left")
        for k in _VALIDATED:
            tok = (values.select("__row", pl.col("__v").str.extract_all(PII_PATTERNS[k]).alias("tok"))
                   .explode("tok").drop_nulls("tok"))
            cands.append(per.select("bucket", "__v", "__row", "k").join(tok, on="__row", how="inner")
                         .select("__row", "bucket", "tok", "k").with_columns(pl.lit(f"{c}\x1f{k}").alias("key")))
    return counts, cands


def scan_pii(frame: pl.LazyFrame, *, sensitive: tuple[str, ...] = (), columns: list[str] | None = None,
             bucket: str = "1h", min_hits: int | None = None, min_share: float | None = None,
             thresholds: PIIThresholds | None = None, by_value: bool = False) -> PIIResult:
    """Scan the text columns of a predictions frame for personal data, per time bucket.

    Parameters
    ----------
    frame : LazyFrame
        Predictions (``lake.predictions()``, possibly windowed) with a ``timestamp`` column.
    sensitive : tuple of str
        Declared sensitive columns: skipped (they are masked already).
    columns : list of str, optional
        Columns to scan; by default every text column not declared sensitive.
    min_hits, min_share : int, float
        A (column, kind) is flagged when at least ``min_hits`` rows and ``min_share`` of the
        rows scanned match; they override the fields of ``thresholds`` (:class:`PIIThresholds`).
    by_value : bool, default False
        Match each distinct value of a column once (per time bucket, the rows holding it are
        counted) instead of every row: the same counts, several times faster on columns that
        repeat values (user agents, codes), but it holds the distinct values in memory, so use
        it on bounded samples, not on a whole big lake.
    """
    th = overridden(thresholds or PIIThresholds(), min_hits=min_hits, min_share=min_share)
    min_hits, min_share = th.min_hits, th.min_share
    schema = frame.collect_schema()
    if columns is None:
        columns = [c for c, t in schema.items() if t == pl.String and c not in sensitive]
    columns = [c for c in columns if c not in sensitive]
    simple = [(c, k) for c in columns for k in PII_PATTERNS if k not in _VALIDATED]
    if by_value:
        counts, cands = _by_value(frame, columns, simple, bucket)
    else:
        counts, cands = _by_row(frame, columns, simple, bucket)
    long = [counts.unpivot(index=["bucket", "n"], on=[f"{c}\x1f{k}" for c, k in simple],
                           variable_name="key", value_name="hits")] if simple else []
    for cand in cands:
        if cand.is_empty():
            continue
        key = cand["key"][0]
        kind = key.split("\x1f")[1]
        valid = [t for t in cand["tok"].unique().to_list() if _VALIDATORS[kind](t)]
        # rows (or, by value, the rows of each distinct value: ``k``) with a valid token
        hits = (cand.filter(pl.col("tok").is_in(valid)).group_by("bucket").agg(
            pl.col("__row").n_unique().alias("hits") if "k" not in cand.columns
            else pl.col("k").filter(pl.col("__row").is_first_distinct()).sum().alias("hits")))
        long.append(counts.select("bucket", "n").join(hits, on="bucket", how="left")
                    .with_columns(pl.col("hits").fill_null(0), pl.lit(key).alias("key"))
                    .select("bucket", "n", "key", "hits"))
    if long:
        hourly = pl.concat([x.with_columns(pl.col("hits").cast(pl.Int64), pl.col("n").cast(pl.Int64))
                            for x in long], how="diagonal_relaxed")
        hourly = hourly.with_columns(pl.col("key").str.split_exact("\x1f", 1)
                                     .struct.rename_fields(["column", "kind"])).unnest("key")
    else:
        hourly = pl.DataFrame(schema={"bucket": pl.Datetime("us", "UTC"), "n": pl.Int64, "column": pl.String,
                                      "kind": pl.String, "hits": pl.Int64})
    total_rows = int(counts["n"].sum()) if counts.height else 0
    per = []
    for (col, kind), g in hourly.group_by(["column", "kind"], maintain_order=True):
        hits = int(g["hits"].sum())
        seen = g.filter(pl.col("hits") > 0)["bucket"]
        share = hits / total_rows if total_rows else 0.0
        per.append({"column": col, "kind": kind, "rows": total_rows, "hits": hits, "share": share,
                    "first_seen": seen.min(), "last_seen": seen.max(),
                    "flagged": hits >= min_hits and share >= min_share})
    hourly_rows = hourly.filter(pl.col("hits") > 0).sort(["bucket", "column", "kind"]).to_dicts()
    return PIIResult(columns=per, hourly=hourly_rows, scanned=tuple(columns),
                     thresholds={"min_hits": min_hits, "min_share": min_share})
