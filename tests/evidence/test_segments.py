"""Segment deltas and worst slices: the hurt segment is found, healthy retrains hurt nobody."""

from __future__ import annotations

import polars as pl
import pytest

import workbench as wb
from workbench.evidence import segment_deltas, worst_slices
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


def _setup(tmp_path, cause, variant, seed, rows=100_000):
    truth = generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=rows)
    return truth, wb.open_lake(tmp_path / "l", mask_key="k")


@pytest.mark.parametrize(("variant", "seed"), [(0, 61), (1, 62), (0, 63)])
def test_bias_regression_segment_is_found(tmp_path, variant, seed):
    truth, lake = _setup(tmp_path, "bias_regression", variant, seed)
    seg = truth.subject["segment"]
    new = truth.subject["model_version"]
    b = fit_lake_binning(lake, end=truth.onset)
    s = summarize(lake, b, segment=seg["column"])
    old = truth.versions["benign"]
    res = segment_deltas(s, seg["column"], a=old, b=new)
    assert [r["value"] for r in res.regressed][:1] == [seg["value"]]
    hurt = next(r for r in res.rows if r["value"] == seg["value"])
    assert any(hurt["metrics"][m]["gap_ci"][1] < 0 for m in hurt["regressed_on"])
    frame = lake.predictions(with_labels=True).filter(pl.col("model_version") == new)
    cols = [c for c in (*lake.segments, *lake.categorical_features) if c in lake.schema]
    sl = worst_slices(frame, cols, max_order=2)
    assert any(s["slice"].get(seg["column"]) == seg["value"] for s in sl.slices[:3]), sl.slices[:3]


@pytest.mark.parametrize("seed", [64, 65, 66])
def test_benign_retrain_regresses_no_segment(tmp_path, seed):
    truth, lake = _setup(tmp_path, "none", 0, seed)
    b = fit_lake_binning(lake)
    for seg in lake.segments:
        s = summarize(lake, b, segment=seg)
        res = segment_deltas(s, seg, a=truth.versions["baseline"], b=truth.versions["benign"])
        assert res.regressed == [], (seg, res.regressed)
