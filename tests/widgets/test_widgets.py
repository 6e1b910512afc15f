"""Explorer and HypothesisBoard driven from Python: controls change state and chart specs."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

import workbench as wb
from workbench.rca import Findings
from workbench.synthetic import generate_lake
from workbench.widgets import Explorer, HypothesisBoard
from workbench.widgets.model import ALL


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("w") / "lake"
    truth = generate_lake(root, cause="latency_regression", variant=0, seed=541, rows=30_000)
    lake = wb.open_lake(root, mask_key="k")
    return lake, truth


def _spec(chart):
    return json.dumps(chart.to_dict(), sort_keys=True, default=str)


def test_explorer_controls_change_state_and_charts(setup, capsys):
    lake, truth = setup
    ex = Explorer(lake, since=truth.onset - dt.timedelta(hours=12))
    assert set(ex.charts) == {"slis", "distribution", "heatmap", "quality"}
    assert all(c is not None for c in ex.charts.values())
    assert ex.selection.start <= truth.onset - dt.timedelta(hours=11)
    before = {k: _spec(c) for k, c in ex.charts.items()}
    ex.version.value = truth.subject["model_version"]
    assert ex.selection.version == truth.subject["model_version"]
    after = {k: _spec(c) for k, c in ex.charts.items()}
    assert after["slis"] != before["slis"]
    # the slow release: its p95 in the SLI view exceeds the whole lake's baseline p95
    spec = ex.charts["slis"].to_dict()
    panel = next(layer for row in spec["vconcat"] for layer in row["layer"]
                 if {"fold": ["p50", "p95", "p99"], "as": ["quantile", "ms"]} in layer.get("transform", []))
    assert panel["data"]["name"] == "slis" and panel["encoding"]["y"]["field"] == "ms"
    drawn = pl.DataFrame(spec["datasets"]["slis"]).with_columns(pl.col("bucket").str.to_datetime(time_zone="UTC"))
    assert (drawn["p50"] <= drawn["p95"]).all() and (drawn["p95"] <= drawn["p99"]).all()
    sel = ex.selection
    base_p95 = (lake.predictions(["timestamp", "latency_ms"])
                .filter((pl.col("timestamp") >= sel.baseline_start) & (pl.col("timestamp") < sel.baseline_end))
                .select(pl.col("latency_ms").quantile(0.95)).collect().item())
    after_onset = drawn.filter(pl.col("bucket") >= truth.onset + dt.timedelta(hours=1))
    assert after_onset.height >= 5 and after_onset["p95"].median() > base_p95
    old = after["distribution"]
    ex.feature.value = [f for f in ex.feature.options if f != ex.feature.value][0]
    assert _spec(ex.charts["distribution"]) != old
    assert ex.timings["distribution"] < 5
    text = repr(ex)
    assert text.startswith("Explorer(") and truth.subject["model_version"] in text
    assert "wb-explorer" in ex.widget._dom_classes
    capsys.readouterr()


def test_explorer_segment_scope_and_lineage(setup, capsys):
    lake, truth = setup
    ex = Explorer(lake)
    seg = lake.segments[0]
    ex.segment.value = seg
    assert ALL in ex.segment_value.options and len(ex.segment_value.options) > 2
    ex.segment_value.value = ex.segment_value.options[1]
    d = ex.model.describe(ex.selection)
    whole = ex.model.describe(ex.selection.__class__(**{**ex.selection.__dict__, "segment": ALL,
                                                        "segment_value": ALL}))
    assert 0 < d["window_rows"] < whole["window_rows"]
    df = ex.sample(5)
    assert df.height == 5 and len(ex.rows.options) == 5
    # the sampled rows drawn by the one table renderer, sorted by a control (widget HTML runs no script)
    assert '<table class="wb-table">' in ex.table.value and "shape:" not in ex.table.value
    assert ex.sort_by.value == "timestamp" and ex.sampled_table.rows == df.to_dicts()  # time order at first
    col = "latency_ms" if "latency_ms" in df.columns else "score"
    ex.sort(col, descending=True)
    shown = [r[ex.sampled_table.columns.index(col)] for r in ex.sampled_table.cells()]
    expect = df.sort(col, descending=True, nulls_last=True)[col].to_list()
    assert [float(x.replace(",", "")) for x in shown if x != "—"] == pytest.approx(
        [x for x in expect if x is not None], rel=0.01, abs=0.01)
    assert ex.sort_by.value == col and ex.table.value == ex.sampled_table.to_html()
    ex.rows.value = ex.rows.options[0][1]
    assert ex.shown_chain is not None and ex.shown_chain.request_id == ex.rows.value  # its lineage chain
    capsys.readouterr()


def test_explorer_never_rescans_for_a_control_change(setup, monkeypatch, capsys):
    lake, truth = setup
    ex = Explorer(lake)
    ex.segment.value = lake.segments[0]
    ex.segment_value.value = ex.segment_value.options[1]  # builds the segment pass once
    calls = []
    orig = lake.predictions
    monkeypatch.setattr(lake, "predictions", lambda *a, **k: calls.append(1) or orig(*a, **k))
    ex.version.value = ex.version.options[1]
    ex.segment_value.value = ex.segment_value.options[2]
    ex.feature.value = ex.feature.options[1]
    assert calls == []
    capsys.readouterr()


def test_hypothesis_board_saves_and_reloads_verdicts(setup, tmp_path):
    lake, truth = setup
    f = wb.triage(lake, since=truth.onset - dt.timedelta(hours=12))
    doc = tmp_path / "findings.json"
    doc.write_text(json.dumps(f.to_dict()))
    board = HypothesisBoard(Findings.from_dict(json.loads(doc.read_text())), findings_path=doc)
    board.set(1, "confirmed", "p95 doubled on the canary; rolled back")
    path = board.save()
    assert path == tmp_path / "verdicts.json"
    saved = json.loads(path.read_text())
    assert saved["verdicts"][0]["verdict"] == "confirmed" and saved["verdicts"][0]["cause"] == "latency_regression"
    again = HypothesisBoard(f, findings_path=doc)
    assert again.verdicts[0]["verdict"] == "confirmed" and "rolled back" in again.verdicts[0]["note"]
    assert "latency_regression=confirmed" in repr(again)
    with pytest.raises(ValueError, match="verdict must be one of"):
        board.set(1, "maybe")
    assert "wb-board" in board.widget._dom_classes


def test_brushing_the_volume_panel_sets_the_window(setup, capsys):
    lake, truth = setup
    ex = Explorer(lake)
    spec = ex.charts["slis"].to_dict()
    params = spec.get("params", []) + [pr for panel in spec["vconcat"] for layer in panel["layer"]
                                       for pr in layer.get("params", [])]
    assert [p["name"] for p in params] == ["brush"] and params[0]["select"]["type"] == "interval"
    lo = truth.onset - dt.timedelta(hours=30)
    hi = truth.onset + dt.timedelta(hours=6)
    ex.brush({"bucket": [lo.timestamp() * 1000, hi.timestamp() * 1000]})
    s = ex.selection
    assert abs((s.start - lo).total_seconds()) <= 3600 and abs((s.end - hi).total_seconds()) <= 3600
    before = ex.selection
    ex.brush({})  # a cleared brush keeps the window
    assert ex.selection == before
    capsys.readouterr()


def test_explorer_redraws_what_a_fresh_build_would_and_only_what_changed(setup, capsys):
    """Kept frames and swapped datasets give the very charts a fresh model and fresh chart builds
    give, after every change; a change leaves the views it does not concern as they were."""
    import workbench.charts as charts
    from workbench.widgets.model import ExplorerModel

    lake, truth = setup
    ex = Explorer(lake)
    m = ex.model

    def fresh_specs():
        f = ExplorerModel(lake)  # nothing kept: every frame computed again
        f.__dict__.update(binning=m.binning, hourly=m.hourly, _time_range=m._time_range)
        if "segments" in m.__dict__:
            f.__dict__["segments"] = m.segments
        sel = ex.selection
        frames = {"distribution": f.distribution(sel), "heatmap": f.drift_heatmap(sel),
                  "quality": f.quality_over_time(sel)}
        built = {"slis": charts.slis_chart(f.slis_over_time(sel), f.markers(sel), window_start=sel.start, brush=True),
                 "distribution": charts.distribution_chart(frames["distribution"], feature=sel.feature),
                 "heatmap": charts.heatmap_chart(frames["heatmap"]),
                 "quality": charts.quality_chart(frames["quality"])}
        return {k: c.to_dict() if k not in frames or frames[k].height else None for k, c in built.items()}

    def check():
        want = fresh_specs()
        for k in want:
            if want[k] is None:  # "no data for this selection"
                assert ex.charts[k] is None and k not in ex._jcharts, k
                continue
            assert ex.charts[k].to_dict() == want[k], k
            assert ex._jcharts[k].spec == ex.charts[k].to_dict(validate=False), k  # what the browser gets
        assert ex.model.describe(ex.selection) == ExplorerModel.describe(ex.model, ex.selection)

    check()
    # the specs of every view are kept per shape (a change swaps rows; a silent fallback would rebuild)
    assert {k[0] for k in ex._specs._kept} == {"distribution", "heatmap", "quality"} and ex._shapes
    versions, routes = ex.version.options, ex.route.options
    for change in (lambda: setattr(ex.version, "value", versions[-1]), lambda: setattr(ex.route, "value", routes[1]),
                   lambda: setattr(ex.version, "value", versions[0]),
                   lambda: setattr(ex.window, "index", (ex.window.index[0] + 5, ex.window.index[1])),
                   lambda: setattr(ex.route, "value", routes[0]),
                   lambda: setattr(ex.segment, "value", lake.segments[0]),
                   lambda: setattr(ex.segment_value, "value", ex.segment_value.options[1]),
                   lambda: setattr(ex.version, "value", versions[-1]),
                   lambda: setattr(ex.segment_value, "value", ex.segment_value.options[0]),
                   lambda: setattr(ex.version, "value", versions[0])):  # back where it started
        change()
        check()
    # moving the window's start redraws the SLIs (the red start rule) and the distribution only
    before = {k: ex.charts[k] for k in ex.charts}
    ex.window.index = (ex.window.index[0] + 3, ex.window.index[1])
    assert [k for k in before if ex.charts[k] is not before[k]] == ["slis", "distribution"]
    check()
    ex.feature.value = ex.feature.options[-1]
    assert [k for k in before if ex.charts[k] is not before[k]] == ["slis", "distribution"]
    check()
    capsys.readouterr()
