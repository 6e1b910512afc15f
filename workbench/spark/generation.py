"""The LLM-call summary (``task: generation`` lakes) on Spark: :func:`workbench.summaries.generation.summarize_calls`
with :func:`workbench.evidence.llm_calls.summarize_llm`'s text signals, expression for expression,
in one ``groupBy`` for the tallies and one for the latency histograms. Only the grouped tallies
come back to the driver; the texts stay where the rows are.

The result is the :class:`~workbench.summaries.generation.LLMSummary` the polars engine gives for
the same rows: counts equal, sums equal to rounding. The rows whose ``grounded_share`` is computed
(:data:`workbench.evidence.llm_text.GROUNDED_SAMPLE`) are the same too: both engines pick them by
XXH64 of the request id (Spark's ``xxhash64``, polars-hash's ``xxhash64`` with seed 42).

Regexes are the polars engine's patterns; Spark runs them with Java's regex engine, which reads
these patterns (classes, ``\\b``, non-capturing groups) the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from workbench.evidence.llm_text import (CITATION_PATTERN, GROUNDED_SAMPLE, STOPWORDS, WORD_PATTERN,
                                         refusal_regex)
from workbench.spark.engine import _finite, _latency_bin, bucket_micros
from workbench.spark.frames import _micros
from workbench.summaries.generation import _FINISH, GROUP_KEYS, MEASURES, LLMSummary

__all__ = ["UNICODE", "hourly_matches_spark", "signal_columns_spark", "summarize_calls_spark", "term_rates_spark"]

#: prefixed to a pattern with ``\b`` or ``\s``: Java's Unicode classes, as Rust's regex has them
#: (see :mod:`workbench.spark.pii`)
UNICODE = "(?U)"
# leading and trailing white space as polars' ``strip_chars()`` strips it (Unicode white space)
_STRIP = UNICODE + r"^\s+|\s+$"


def _F():
    from pyspark.sql import functions as F

    return F


def _lit_array(values: Sequence[str]):
    F = _F()
    return F.array(*[F.lit(v) for v in values])


def _words(text):
    """The distinct content words of a text (lower-cased runs of 4+ ASCII letters, stop words
    dropped); null for null text."""
    F = _F()
    words = F.regexp_extract_all(F.lower(text), F.lit(f"({WORD_PATTERN})"), F.lit(1))
    return F.array_except(words, _lit_array(STOPWORDS))


def _cited(text):
    """Distinct cited ids of a response, brackets stripped, markdown links dropped (null text: null)."""
    F = _F()
    found = F.regexp_extract_all(text, F.lit(CITATION_PATTERN), F.lit(0))
    ids = F.transform(F.filter(found, lambda c: ~c.endswith("(")),
                      lambda c: F.regexp_replace(c, r"^[\[\]]+|[\[\]]+$", ""))
    return F.array_distinct(ids)


def _size(arr, of):
    """The length of ``arr``, null when ``of`` (the text it came from) is null."""
    F = _F()
    return F.when(of.isNotNull(), F.size(arr).cast("bigint"))


def signal_columns_spark(columns: Sequence[str], *, grounded_sample: float = GROUNDED_SAMPLE) -> list:
    """:func:`workbench.evidence.llm_text.signal_exprs` as Spark columns (same names, same order,
    same meaning, the same grounded sample)."""
    F = _F()
    cols = set(columns)
    if "request_id" not in cols:
        grounded_sample = 1.0
    resp, ctx, ids = "response_text" in cols, "context_text" in cols, "retrieved_ids" in cols
    r = F.col("response_text")
    out = []
    if resp:
        out.append(F.lower(r).rlike(UNICODE + refusal_regex()).alias("refusal"))
    if resp and ctx:
        keep = F.lit(True)
        if grounded_sample < 1.0:
            # Spark's xxhash64 seeds XXH64 with 42 (llm_text.SAMPLE_HASH_SEED): the polars engine's rows
            h = F.pmod(F.xxhash64(F.col("request_id").cast("string")), F.lit(1_000_000))
            keep = h < F.lit(int(round(grounded_sample * 1_000_000)))
        rs = F.when(keep, r)
        cs = F.when(keep, F.col("context_text"))
        rw = _words(rs)
        n = F.size(rw)
        found = F.size(F.array_intersect(rw, _words(cs)))
        usable = (F.octet_length(rs) > 0) & (F.octet_length(cs) > 0) & (n > 0)
        out.append(F.when(usable, found / n).cast("double").alias("grounded_share"))
    if resp:
        out.append(_size(_cited(r), r).alias("citations"))
    if resp and ids:
        retrieved = F.coalesce(F.col("retrieved_ids"), F.array().cast("array<string>"))
        k = F.size(retrieved)
        positions = F.when(k > 0, F.transform(F.sequence(F.lit(1), k), lambda i: i.cast("string"))).otherwise(
            F.array().cast("array<string>"))
        known = F.concat(retrieved, positions)
        out.append(_size(F.array_except(_cited(r), known), r).alias("unsupported_citations"))
    if ids:
        rid = F.col("retrieved_ids")
        out.append((rid.isNull() | (F.size(rid) == 0)).alias("empty_retrieval"))
    if "retrieval_scores" in cols:
        out.append(F.array_max(F.col("retrieval_scores")).cast("double").alias("top_retrieval_score"))
    if resp:
        out.append(F.length(r).cast("bigint").alias("response_chars"))
    if "prompt_text" in cols:
        out.append(F.length(F.col("prompt_text")).cast("bigint").alias("prompt_chars"))
    if {"input_tokens", "output_tokens"} <= cols:
        ratio = F.try_divide(F.col("output_tokens").cast("double"), F.col("input_tokens").cast("double"))
        out.append(F.when(~F.isnan(ratio), ratio).alias("output_input_ratio"))
    return out


def _cost(prices: pl.DataFrame | None, cols: set[str]):
    """:func:`workbench.summaries.generation.call_cost_expr` in Spark (None when nothing prices a call)."""
    F = _F()
    logged = F.col("cost") if "cost" in cols else None
    priced = None
    if prices is not None and prices.height and {"input_tokens", "output_tokens", "provider"} <= cols:
        rows = prices.sort("valid_from").with_columns(
            pl.col("valid_from").shift(-1).over(["provider", "model"]).alias("until"))
        expr = None
        us = F.unix_micros(F.col("timestamp"))
        for row in rows.iter_rows(named=True):
            model = F.lit(False)
            for m in ("request_model", "response_model"):
                if m in cols:
                    model = model | F.coalesce(F.col(m) == F.lit(row["model"]), F.lit(False))
            cond = (F.col("provider") == F.lit(row["provider"])) & model & (us >= F.lit(_micros(row["valid_from"])))
            if row["until"] is not None:
                cond = cond & (us < F.lit(_micros(row["until"])))
            value = (F.col("input_tokens").cast("double") * F.lit(row["input_per_1k"] / 1000.0)
                     + F.col("output_tokens").cast("double") * F.lit(row["output_per_1k"] / 1000.0))
            expr = F.when(cond, value) if expr is None else expr.when(cond, value)
        priced = expr
    if logged is not None and priced is not None:
        return F.coalesce(logged.cast("double"), priced)
    if logged is not None:
        return logged
    return priced


def _keys(cols: set[str]) -> list:
    """The group keys of :func:`workbench.summaries.generation._keys` (absent roles null)."""
    F = _F()
    out = []
    for k in GROUP_KEYS:
        if k == "prompt":
            if "prompt_version" in cols:
                tpl = F.col("prompt_template").cast("string") if "prompt_template" in cols else F.lit("prompt")
                out.append(F.when(F.col("prompt_version").isNotNull(),
                                  F.concat(F.coalesce(tpl, F.lit("prompt")), F.lit("@"),
                                           F.col("prompt_version").cast("string"))).alias("prompt"))
            else:
                out.append(F.lit(None).cast("string").alias("prompt"))
        elif k in cols:
            out.append(F.col(k).cast("string").alias(k))
        else:
            out.append(F.lit(None).cast("string").alias(k))
    return out


def _events(cols: set[str]) -> dict:
    """:func:`workbench.summaries.generation._event_exprs` in Spark: name -> (hit, known)."""
    F = _F()
    out = {}
    if "finish_reason" in cols:
        fr = F.regexp_replace(F.lower(F.col("finish_reason")), _STRIP, "")
        known = fr.isNotNull() & (fr != F.lit(""))
        for f in _FINISH:
            out[f"finish:{f}"] = (fr == F.lit(f), known)
        out["finish:other"] = (~fr.isin(list(_FINISH)), known)
    if "policy_action" in cols:
        pa = F.regexp_replace(F.lower(F.col("policy_action")), _STRIP, "")
        known = pa.isNotNull() & (pa != F.lit(""))
        out["policy:blocked"] = (pa == F.lit("blocked"), known)
        out["policy:rewritten"] = (pa == F.lit("rewritten"), known)
    if "feedback" in cols:
        fb = F.col("feedback").cast("double")
        known = fb.isNotNull() & _finite(fb)
        out["feedback:negative"] = (fb < 0, known)
        out["feedback:positive"] = (fb > 0, known)
    if "escalated" in cols:
        out["escalated"] = (F.col("escalated"), F.col("escalated").isNotNull())
    return out


def summarize_calls_spark(df, *, start: dt.datetime, end: dt.datetime, collect, bucket: str = "1h",
                          signals: Sequence = (), prices: pl.DataFrame | None = None) -> LLMSummary:
    """Summarise the LLM calls of the Spark frame ``df`` (normalised, feedback joined) in
    ``[start, end)``: the :class:`LLMSummary` of :func:`workbench.summaries.generation.summarize_calls`.

    ``signals`` are Spark columns (:func:`signal_columns_spark`), Boolean ones tallied as events,
    numeric ones as measures; ``collect`` brings a grouped (small) Spark frame to polars
    (:meth:`workbench.spark.frames.SparkLake.to_polars`).
    """
    F = _F()
    width = bucket_micros(bucket)
    cols = set(df.columns)
    us = F.unix_micros(F.col("timestamp"))
    df = df.filter((us >= F.lit(_micros(start))) & (us < F.lit(_micros(end))))
    cost = _cost(prices, cols)
    if cost is not None:
        df = df.withColumn("cost", cost.cast("double"))
    sig_cols = list(signals)
    if sig_cols:
        df = df.select("*", *sig_cols)
    sig_names = [c for c in df.columns if c not in cols and c != "cost"]
    have = cols | ({"cost"} if cost is not None else set())
    keyed = df.select("*", (us - F.pmod(us, F.lit(width))).alias("bucket"),
                      *[k.alias(f"__k{i}") for i, k in enumerate(_keys(have))])
    keyed = keyed.drop(*[k for k in GROUP_KEYS if k in keyed.columns])
    keyed = keyed.withColumnsRenamed({f"__k{i}": k for i, k in enumerate(GROUP_KEYS)})
    types = dict(keyed.dtypes)
    measures = [m for m in MEASURES if m in have] + [s for s in sig_names if types[s] != "boolean"]
    events = _events(have)
    for s in sig_names:
        if types[s] == "boolean":
            events[s] = (F.col(s), F.col(s).isNotNull())
    aggs, names, kinds = [F.count(F.lit(1))], ["calls"], ["count"]
    for m in measures:
        x = F.col(f"`{m}`").cast("double")
        ok = x.isNotNull() & _finite(x)
        aggs += [F.count(F.when(ok, F.lit(1))), F.sum(F.when(ok, x)), F.sum(F.when(ok, x * x))]
        names += [f"{m}:n", f"{m}:sum", f"{m}:sumsq"]
        kinds += ["count", "sum", "sum"]
    for e, (hit, known) in events.items():
        kn = F.coalesce(known, F.lit(False))
        aggs += [F.count(F.when(kn, F.lit(1))), F.count(F.when(kn & F.coalesce(hit, F.lit(False)), F.lit(1)))]
        names += [f"{e}:n", f"{e}:k"]
        kinds += ["count", "count"]
    keys = ["bucket", *GROUP_KEYS]
    key_cols = [F.col(k) for k in keys]
    g = keyed.groupBy(*key_cols).agg(*[a.alias(f"__a{i}") for i, a in enumerate(aggs)])
    key_types = {k: pl.String for k in GROUP_KEYS} | {"bucket": pl.Int64}
    out = collect(g, key_types | {f"__a{i}": (pl.Int64 if kd == "count" else pl.Float64)
                                  for i, kd in enumerate(kinds)})
    main = out.select(_bucket(), *GROUP_KEYS, *[
        (pl.col(f"__a{i}").cast(pl.Int64) if kd == "count" else pl.col(f"__a{i}").cast(pl.Float64).fill_null(0.0))
        .alias(n) for i, (n, kd) in enumerate(zip(names, kinds))]).sort(keys, nulls_last=True)
    lat_types = key_types | {"metric": pl.String, "bin": pl.Int32, "rows": pl.Int64}
    parts = []
    for m in ("latency_ms", "time_to_first_token_ms"):
        if m not in cols:
            continue
        lg = (keyed.select(*key_cols, F.lit(m).alias("metric"), _latency_bin(m).alias("bin"))
              .filter(F.col("bin").isNotNull()).groupBy(*key_cols, "metric", "bin")
              .agg(F.count(F.lit(1)).alias("rows")))
        parts.append(lg)
    if parts:
        lat = parts[0]
        for p in parts[1:]:
            lat = lat.unionByName(p)
        lat_df = collect(lat, lat_types).select(_bucket(), *GROUP_KEYS, "metric", "bin", "rows")
    else:
        lat_df = pl.DataFrame(schema=lat_types).select(_bucket(), *GROUP_KEYS, "metric", "bin", "rows")
    return LLMSummary(frame=main, latency=lat_df.sort([*keys, "metric", "bin"], nulls_last=True),
                      measures=tuple(measures), events=tuple(events), start=start, end=end, bucket=bucket,
                      meta={"signals": sig_names, "priced": cost is not None and "cost" not in cols,
                            "engine": "spark"})


def _bucket() -> pl.Expr:
    return pl.col("bucket").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def hourly_matches_spark(lake, start, end, column: str, pattern: str, *, lower: bool = False,
                         unless: str | None = None) -> pl.DataFrame:
    """Calls per hour of ``[start, end)`` (``n``) and those whose ``column`` matches ``pattern``
    (lower-cased first with ``lower``) while ``unless``, when given, does not (``k``): the polars
    engine's hourly onset pass of the text causes (:mod:`workbench.rca.llm_text_causes`), counted
    by Spark. Columns ``bucket`` (UTC hour), ``n``, ``k``, by hour."""
    F = _F()
    sl = lake.spark_lake
    df = sl.predictions(["timestamp", column, *([unless] if unless else [])], start=start, end=end)
    rx = UNICODE + pattern
    x = F.lower(F.col(column)) if lower else F.col(column)
    hit = x.rlike(rx)
    if unless:
        hit = hit & ~F.coalesce(F.col(unless), F.lit("")).rlike(rx)
    us = F.unix_micros(F.col("timestamp"))
    g = df.groupBy((us - F.pmod(us, F.lit(3_600_000_000))).alias("bucket")).agg(
        F.count(F.lit(1)).alias("n"), F.count(F.when(hit, F.lit(1))).alias("k"))
    out = sl.to_polars(g, {"bucket": pl.Int64, "n": pl.Int64, "k": pl.Int64})
    return out.with_columns(_bucket()).sort("bucket")


def term_rates_spark(lake, start, split, end, column: str, patterns: dict[str, str]) -> pl.DataFrame:
    """For the calls of ``[start, split)`` (``win`` false) and ``[split, end)`` (``win`` true),
    the share of non-null ``column`` values whose lower-cased text matches each pattern (a
    column per name of ``patterns``), by Spark."""
    F = _F()
    sl = lake.spark_lake
    df = sl.predictions(["timestamp", column], start=start, end=end)
    low = F.lower(F.col(column))
    win = F.unix_micros(F.col("timestamp")) >= F.lit(_micros(split))
    g = df.groupBy(win.alias("win")).agg(*[F.avg(low.rlike(UNICODE + p).cast("double")).alias(f"__t{i}")
                                           for i, p in enumerate(patterns.values())])
    out = sl.to_polars(g, {"win": pl.Boolean, **{f"__t{i}": pl.Float64 for i in range(len(patterns))}})
    return out.rename({f"__t{i}": name for i, name in enumerate(patterns)})
