"""The Explorer on a generation lake: proxies over time by a split, finish reasons, usage, sampled
calls with redacted excerpts and their lineage; the classifier Explorer is untouched."""

from __future__ import annotations

import json

import polars as pl
import pytest

import workbench as wb
from workbench.synthetic.llm import generate_llm_lake
from workbench.widgets import Explorer, LLMExplorer
from workbench.widgets.llm_model import ALL, NO_SPLIT, LLMExplorerModel


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("wl") / "lake"
    truth = generate_llm_lake(root, cause="prompt_regression", variant=0, seed=5, rows=20_000)
    return wb.open_lake(root), truth


def _rows(spec) -> list[dict]:
    """Every data row inlined in a spec (layers carry their own values) or in its datasets."""
    out = []
    if isinstance(spec, dict):
        vals = spec.get("values")
        if isinstance(vals, list):
            out += [v for v in vals if isinstance(v, dict)]
        for k, v in spec.items():
            if k == "datasets":
                out += [r for d in v.values() for r in d]
            elif k != "values":
                out += _rows(v)
    elif isinstance(spec, list):
        for v in spec:
            out += _rows(v)
    return out


def _spec(chart):
    return json.dumps(chart.to_dict(), sort_keys=True, default=str)


def test_what_the_browser_gets_is_a_fresh_build_after_every_change(setup, capsys):
    """The specs sent on a change (kept per shape, rows swapped) are those of charts built afresh."""
    lake, truth = setup
    ex = Explorer(lake)
    lo, hi = ex.window.index

    def check():
        fresh = LLMExplorerModel(lake)  # nothing kept: every frame computed again
        fresh.__dict__["summary"] = ex.model.summary
        sel = ex.selection
        for name in ("proxy_over_time", "finish_mix", "usage", "markers"):
            assert getattr(ex.model, name)(sel).equals(getattr(fresh, name)(sel)), name
        assert ex.model.describe(sel) == fresh.describe(sel)
        for k in ("proxy", "finish", "usage"):
            chart = ex.charts[k]
            if chart is None:
                assert k not in ex._jcharts
            else:
                assert ex._jcharts[k].spec == chart.to_dict(validate=False), k

    check()
    changes = [("proxy", "output_tokens"), ("split", "response_model"), ("release", ex.release.options[-1]),
               ("window", (lo + 30, hi)), ("release", ALL), ("route", ex.route.options[-1]), ("split", NO_SPLIT),
               ("window", (lo, hi)), ("route", ALL), ("split", "index_version"), ("split", "prompt")]
    for control, value in changes:
        if control == "window":
            ex.window.index = value
        else:
            getattr(ex, control).value = value
        check()
    assert {k[0] for k in ex._specs._kept} == {"proxy", "finish", "usage"}  # swapped, not rebuilt every time
    capsys.readouterr()


def test_explorer_adapts_to_a_generation_lake(setup, capsys):
    lake, truth = setup
    ex = Explorer(lake)
    assert repr(ex).startswith("Explorer(") and "not loaded" in repr(ex)  # nothing read yet
    assert isinstance(ex.proxy.value, str)  # a control loads it
    assert isinstance(ex, LLMExplorer) and isinstance(ex, Explorer)
    assert set(ex.charts) == {"proxy", "finish", "usage"} and all(c is not None for c in ex.charts.values())
    assert "thumbs_down_rate" in [v for _, v in ex.proxy.options]
    assert {"prompt", "response_model", "index_version", "model_version"} <= {v for _, v in ex.split.options}
    assert ex.selection.split == "prompt"
    # the culprit prompt version is a line of its own, with the prompt change marked
    spec = _spec(ex.charts["proxy"])
    assert truth.subject["prompt"] in spec and "prompt_version" in spec
    before = spec
    ex.proxy.value = "output_tokens"
    assert _spec(ex.charts["proxy"]) != before and "output tokens per call" in _spec(ex.charts["proxy"])
    ex.split.value = "response_model"
    data = ex.charts["proxy"].to_dict()
    groups = {r["group"] for r in _rows(data) if "group" in r}
    assert groups and groups <= set(lake.predictions(["response_model"]).collect()["response_model"].unique()) | {
        "(other)", "(none)"}
    ex.split.value = NO_SPLIT
    assert "all calls" in _spec(ex.charts["proxy"])
    ex.release.value = ex.release.options[-1]
    assert ex.selection.release != ALL
    assert max(ex.timings.values()) < 5
    assert "wb-explorer" in ex.widget._dom_classes and "task=generation" in repr(ex)
    capsys.readouterr()


def test_sampled_calls_are_redacted_excerpts_with_their_lineage(setup, capsys):
    lake, _ = setup
    ex = Explorer(lake)
    df = ex.sample(8)
    again = Explorer(lake).sample(8)
    assert df.equals(again) and df.height == 8  # the same calls every time (hash of request_id)
    assert "response_text" not in df.columns and "prompt_text" not in df.columns
    assert df["response_excerpt"].str.len_chars().max() <= 120
    raw = lake.predictions(["request_id", "response_text"]).collect().filter(
        pl.col("request_id").is_in(df["request_id"].to_list()))
    assert not any(len(t) > 120 and t in ex.table.value for t in raw["response_text"].to_list())
    assert '<table class="wb-table">' in ex.table.value
    ex.rows.value = ex.rows.options[0][1]
    assert {"prompt version", "index build", "provider model"} <= set(ex.shown_chain["what"])
    capsys.readouterr()


def test_classifier_explorer_unchanged(tmp_path, capsys):
    from workbench.synthetic import generate_lake

    generate_lake(tmp_path / "c", cause="none", seed=3, rows=5_000)
    ex = Explorer(str(tmp_path / "c"))
    assert type(ex) is Explorer and set(ex.charts) == {"slis", "distribution", "heatmap", "quality"}
    with pytest.raises(AttributeError):
        ex.proxy  # a generation lake's control
    capsys.readouterr()
