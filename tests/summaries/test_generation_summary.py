"""The one-pass summary of LLM calls: tallies per hour and group, costs from the price table,
events and caller-given signals, and the proxies read from it."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from workbench.evidence.llm_compare import compare_proxies, proxy_onset, proxy_value
from workbench.summaries.generation import LLMSummary, call_cost_expr, summarize_calls

T0 = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
UTC = pl.Datetime("us", "UTC")


def _calls() -> pl.LazyFrame:
    return pl.DataFrame({
        "request_id": ["a", "b", "c", "d", "e"],
        "timestamp": [T0, T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=70),
                      T0 + dt.timedelta(minutes=80), T0 + dt.timedelta(minutes=90)],
        "model_version": ["r1", "r1", "r1", "r2", "r2"],
        "route": ["primary"] * 5,
        "provider": ["openai"] * 5,
        "request_model": ["gpt-4o-mini"] * 5,
        "response_model": ["gpt-4o-mini-2024-07-18"] * 5,
        "prompt_template": ["answer"] * 5,
        "prompt_version": ["3", "3", "3", "4", None],
        "input_tokens": [1000, 2000, None, 500, 500],
        "output_tokens": [100, 200, 300, 50, 50],
        "latency_ms": [800.0, 1200.0, 900.0, 5000.0, 4000.0],
        "finish_reason": ["stop", "length", "STOP", "content_filter", None],
        "feedback": [1.0, -1.0, None, -1.0, 0.0],
        "escalated": [False, None, None, True, False],
    }, schema_overrides={"timestamp": UTC}).lazy()


PRICES = pl.DataFrame({"provider": ["openai", "openai"], "model": ["gpt-4o-mini", "gpt-4o-mini"],
                       "valid_from": [T0 - dt.timedelta(days=30), T0 + dt.timedelta(hours=1)],
                       "input_per_1k": [0.001, 0.002], "output_per_1k": [0.01, 0.02], "currency": ["USD", "USD"],
                       "line": [2, 3]}, schema_overrides={"valid_from": UTC})


def test_tallies_per_hour_and_group():
    s = summarize_calls(_calls(), start=T0, end=T0 + dt.timedelta(hours=3), prices=PRICES,
                        signals=[(pl.col("output_tokens") > 150).alias("long_answer"),
                                 (pl.col("latency_ms") / 1000).alias("latency_s")])
    assert isinstance(s, LLMSummary) and s.calls == 5
    assert set(s.events) >= {"finish:length", "finish:content_filter", "feedback:negative", "escalated",
                             "long_answer"}
    assert "latency_s" in s.measures and "cost" in s.measures and s.meta["priced"]
    tot = s.totals().row(0, named=True)
    assert tot["input_tokens:n"] == 4 and tot["input_tokens:sum"] == 4000
    assert tot["output_tokens:sumsq"] == 100 ** 2 + 200 ** 2 + 300 ** 2 + 2 * 50 ** 2
    # finish reasons are read case-insensitively; a missing one is not known
    assert tot["finish:stop:k"] == 2 and tot["finish:length:k"] == 1 and tot["finish:stop:n"] == 4
    assert tot["feedback:negative:k"] == 2 and tot["feedback:negative:n"] == 4
    assert tot["escalated:k"] == 1 and tot["escalated:n"] == 3
    assert tot["long_answer:k"] == 2 and tot["latency_s:sum"] == pytest.approx(11.9)
    # costs: the price in force at the call's time (the second row from T0 + 1 h); no tokens, no cost
    by_hour = s.totals(("bucket",))
    first = by_hour.row(0, named=True)
    assert first["calls"] == 2
    assert first["cost:sum"] == pytest.approx(1.0 * 0.001 + 0.1 * 0.01 + 2.0 * 0.001 + 0.2 * 0.01)
    second = by_hour.row(1, named=True)
    assert second["cost:n"] == 2 and second["cost:sum"] == pytest.approx(2 * (0.5 * 0.002 + 0.05 * 0.02))
    # groups: the prompt as template@version; a call without a version has no prompt
    prompts = s.totals(("prompt",))
    assert dict(zip(prompts["prompt"], prompts["calls"])) == {"answer@3": 3, "answer@4": 1, None: 1}
    lat = s.latency_counts("latency_ms")
    assert lat["rows"].sum() == 5


def test_logged_cost_wins_over_the_price_table():
    calls = _calls().with_columns(pl.lit(0.5).alias("cost"))
    s = summarize_calls(calls, start=T0, end=T0 + dt.timedelta(hours=3), prices=PRICES)
    assert s.totals()["cost:sum"][0] == pytest.approx(2.5)
    assert call_cost_expr(None, ["input_tokens"]) is None


def test_proxies_read_from_the_tallies():
    s = summarize_calls(_calls(), start=T0, end=T0 + dt.timedelta(hours=3), prices=PRICES)
    tot = s.totals().row(0, named=True)
    assert proxy_value(tot, "thumbs_down_rate") == (0.5, 4)
    assert proxy_value(tot, "truncation_rate") == (0.25, 4)
    v, n = proxy_value(tot, "latency_ms")
    assert n == 5 and v == pytest.approx(2380.0)


def _tallies(rng, n, p_neg, tokens_mean):
    neg = rng.random(n) < p_neg
    tok = rng.normal(tokens_mean, 100, n)
    return {"feedback:negative:n": n, "feedback:negative:k": int(neg.sum()), "output_tokens:n": n,
            "output_tokens:sum": float(tok.sum()), "output_tokens:sumsq": float((tok ** 2).sum())}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_process_is_quiet_and_a_real_change_is_not(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50_000, 400_000))
    a, b = _tallies(rng, n, 0.1, 300), _tallies(rng, n, 0.1, 300)
    same = compare_proxies(a, b)
    # big samples: a significant p-value may happen by chance, an effect size never does
    assert all(abs(c.effect) < 0.03 for c in same.values())
    worse = compare_proxies(a, _tallies(rng, n, 0.16, 340))
    assert worse["thumbs_down_rate"].effect > 0.15 and worse["thumbs_down_rate"].p_value < 1e-10
    assert worse["output_tokens"].effect == pytest.approx(0.4, abs=0.05)
    lo, hi = worse["output_tokens"].interval  # a 95 % interval: the true 40 within 3.5 of its standard errors
    se = (hi - lo) / (2 * 1.96)
    assert abs((lo + hi) / 2 - 40) < 3.5 * se and se < 1.0


def test_onset_of_a_proxy_series():
    hours = 72
    rng = np.random.default_rng(5)
    rows = []
    for h in range(hours):
        n = 300
        p = 0.05 if h < 50 else 0.2
        rows.append({"bucket": T0 + dt.timedelta(hours=h), "calls": n, "finish:length:n": n,
                     "finish:length:k": int(rng.binomial(n, p))})
    frame = pl.DataFrame(rows, schema_overrides={"bucket": UTC})
    for k in ("model_version", "route", "provider", "request_model", "response_model", "prompt", "index_version",
              "router_decision"):
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(k))
    s = LLMSummary(frame=frame, latency=pl.DataFrame(), measures=(), events=("finish:length",), start=T0,
                   end=T0 + dt.timedelta(hours=hours))
    o = proxy_onset(s, "truncation_rate")
    assert o is not None and abs((o.at - (T0 + dt.timedelta(hours=50))).total_seconds()) <= 3600
    assert math.isclose(o.before, 0.05, abs_tol=0.02) and math.isclose(o.after, 0.2, abs_tol=0.03)
