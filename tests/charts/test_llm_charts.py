"""The LLM charts and the generation causes' evidence chart, from generated LLM lakes."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import vl_convert

import workbench as wb
from workbench import report
from workbench.charts import CAUSE_CHARTS, finish_mix_chart, proxy_over_time_chart, usage_over_time_chart
from workbench.evidence import summarize_llm
from workbench.evidence import llm_frames as llm_data
from workbench.synthetic.llm import generate_llm_lake


@pytest.fixture(scope="module")
def prompt_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("llm-charts") / "prompt"
    truth = generate_llm_lake(root, cause="prompt_regression", variant=0, seed=1, rows=20_000)
    return wb.open_lake(root), truth


def _marks(spec) -> set[str]:
    out = set()

    def walk(s):
        if isinstance(s, dict):
            m = s.get("mark")
            if m is not None:
                out.add(m if isinstance(m, str) else m["type"])
            for v in s.values():
                walk(v)
        elif isinstance(s, list):
            for v in s:
                walk(v)
    walk(spec)
    return out


def test_llm_proxies_is_a_cause_chart():
    assert CAUSE_CHARTS["llm_proxies"] is proxy_over_time_chart


def test_cause_chart_of_a_prompt_regression_shows_the_proxy_by_prompt_version(prompt_lake):
    lake, truth = prompt_lake
    f = wb.triage(lake, since=(truth.onset - dt.timedelta(hours=12)).isoformat())
    assert f.top.cause == "prompt_regression"
    chart = report.cause_charts(f, lake)
    spec = chart.to_dict()
    assert {"line", "area", "rule"} <= _marks(spec)
    text = str(spec)
    assert truth.subject["prompt"] in text and "onset" in text and "prompt version" in text
    proxy = next(e.check for e in f.top.evidence if e.check in llm_data._PROXY)
    assert llm_data._PROXY[proxy].label in text
    assert vl_convert.vegalite_to_svg(spec).count("<path") > 5


def test_proxy_finish_and_usage_charts_draw(prompt_lake):
    lake, _ = prompt_lake
    s = summarize_llm(lake)
    frame = llm_data.proxy_frame(s, "thumbs_down_rate", "prompt")
    assert frame.height and set(frame["group"]) >= set(s.values("prompt")[:1])
    assert ((frame["low"] <= frame["estimate"]) & (frame["estimate"] <= frame["high"])).all()
    assert frame["n"].min() >= llm_data.MIN_CALLS
    ev = llm_data.llm_events(lake, s.start, s.end)
    assert "prompt_version" in set(ev["kind"])
    spec = proxy_over_time_chart(frame, label="thumbs-down", key="prompt", events=ev).to_dict()
    assert "tooltip" in str(spec) and "%" in str(spec)
    mix = llm_data.finish_mix_frame(s)
    sums = mix.group_by("bucket").agg(pl.col("share").sum())["share"]
    assert ((sums - 1).abs() < 1e-9).all()  # the reasons cover every call with a finish reason
    assert "area" in _marks(finish_mix_chart(mix).to_dict())
    use = llm_data.usage_frame(s, "response_model")
    assert {"input tokens per call", "latency p95 (ms)"} <= set(use["measure"])
    assert len(usage_over_time_chart(use, key="response_model").to_dict()["vconcat"]) == use["measure"].n_unique()


# cause -> (the key the chart splits by, as titled; the value drawn thicker)
KEYS = {"retrieval_regression": ("index build", lambda t: t.subject["index"].split("@")[-1]),
        "provider_model_change": ("response model", lambda t: None),
        "routing_regression": ("router decision", lambda t: t.subject["route"])}


@pytest.mark.parametrize("cause", sorted(KEYS))
def test_cause_chart_splits_by_the_culprits_key(tmp_path, cause):
    truth = generate_llm_lake(tmp_path / cause, cause=cause, variant=0, seed=1, rows=30_000)
    lake = wb.open_lake(tmp_path / cause)
    f = wb.triage(lake, since=(truth.onset - dt.timedelta(hours=12)).isoformat())
    # the best hypothesis is drawn, confirmed or not (the RCA's accuracy is tested in tests/rca)
    assert f.hypotheses and f.hypotheses[0].cause == cause
    spec = report.cause_charts(f, lake).to_dict()
    title, value = KEYS[cause]
    text = str(spec)
    assert f"'title': '{title}'" in text and "onset" in text
    if value(truth):
        assert value(truth) in text
    assert vl_convert.vegalite_to_svg(spec).count("<path") > 5
