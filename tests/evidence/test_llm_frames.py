"""The frames behind the LLM charts, the Explorer and the LLM templates."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import workbench as wb
from workbench.evidence import summarize_llm
from workbench.evidence import llm_frames as llm_data
from workbench.synthetic.llm import generate_llm_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("llm-data") / "lake"
    generate_llm_lake(root, cause="pii_leak", variant=0, seed=3, rows=20_000)
    return wb.open_lake(root)


def test_rates_and_means_with_intervals_from_the_tallies(lake):
    s = summarize_llm(lake)
    t = s.totals(("prompt",))
    for proxy in ("thumbs_down_rate", "output_tokens"):
        f = llm_data.proxy_frame(s, proxy, "prompt", min_calls=1, every="1000d")  # one bucket per prompt
        for r in f.iter_rows(named=True):
            row = t.filter(pl.col("prompt") == r["group"]).row(0, named=True)
            spec = llm_data._PROXY[proxy]
            n = row[f"{spec.tally}:n"]
            want = row[f"{spec.tally}:k" if spec.kind == "rate" else f"{spec.tally}:sum"] / n
            assert r["estimate"] == pytest.approx(want) and r["n"] == n and r["low"] < want < r["high"]


def test_culprit_keys():
    assert llm_data.culprit_key({"prompt": "answer@3"}) == ("prompt", "answer@3")
    assert llm_data.culprit_key({"index": "kb@v7"}) == ("index_version", "v7")
    assert llm_data.culprit_key({"dependency": "openai:gpt-4o-mini", "model_version": None}) == ("response_model", None)
    assert llm_data.culprit_key({"route": "small", "model_version": "v2"}) == ("router_decision", "small")
    assert llm_data.culprit_key({"model_version": "v2", "route": None}) == ("model_version", "v2")
    assert llm_data.culprit_key({}) is None


def test_sampled_calls_are_stable_redacted_excerpts_with_lineage(lake):
    lo, hi = lake.time_range()
    a = llm_data.sampled_calls(lake, lo, hi, n=30)
    b = llm_data.sampled_calls(lake, lo, hi, n=30)
    assert a.equals(b) and a.height == 30
    assert {"prompt", "index_version", "response_model", "prompt_excerpt", "response_excerpt"} <= set(a.columns)
    assert "prompt_text" not in a.columns and "response_text" not in a.columns
    assert a["response_excerpt"].str.len_chars().max() <= 120
    # the pii_leak lake puts personal data in responses: none of it reaches an excerpt
    raw = lake.predictions(["request_id", "response_text"]).collect()
    leaked = raw.filter(pl.col("response_text").str.contains(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[a-z]{2,}"))
    assert leaked.height
    many = llm_data.sampled_calls(lake, lo, hi, n=5000)
    assert not many["response_excerpt"].str.contains(r"@[A-Za-z0-9-]+\.[a-z]{2,}").any()
    assert many["response_excerpt"].str.contains(r"\[email\]").any()
    p = a["prompt"][0]
    only = llm_data.sampled_calls(lake, lo, hi, n=10, where={"prompt": p})
    assert only.height and set(only["prompt"]) == {p}
    lin = llm_data.call_lineage(lake, a.row(0, named=True))
    assert {"prompt version", "index build", "release", "provider model"} <= set(lin["what"])
    assert lin.filter(pl.col("what") == "prompt version")["since"][0] is not None


def test_events_are_the_llm_lineage_kinds(lake):
    lo, hi = lake.time_range()
    ev = llm_data.llm_events(lake, lo - dt.timedelta(days=30), hi)
    assert set(ev["kind"]) <= set(llm_data.EVENT_KINDS) and ev.height
    assert llm_data.index_builds(lake)["built_at"].is_sorted()
