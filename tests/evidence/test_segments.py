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


def _healthy_slices(seed: int, rows: int, values: tuple[int, ...], bad: dict | None = None) -> pl.DataFrame:
    """Labelled rows whose errors do not depend on any column (accuracy ~0.85 everywhere), except
    optionally in the slice ``bad`` ({column: value}), where it drops to 0.65."""
    import numpy as np

    rng = np.random.default_rng(seed)
    cols = {f"c{i}": rng.integers(0, k, rows).astype(str) for i, k in enumerate(values)}
    y = rng.integers(0, 2, rows)
    err = rng.random(rows) < 0.15
    if bad:
        hit = np.all([cols[c] == v for c, v in bad.items()], axis=0)
        err = np.where(hit, rng.random(rows) < 0.35, err)
    return pl.DataFrame({**cols, "label": y, "prediction": np.where(err, 1 - y, y)})


@pytest.mark.parametrize(("seed", "rows", "values"), [(71, 60_000, (8, 8, 6)), (72, 80_000, (10, 7, 5)),
                                                      (73, 50_000, (6, 6, 6, 4)), (74, 70_000, (12, 9))])
def test_healthy_slices_are_quiet_after_the_multiple_testing_correction(seed, rows, values):
    """Hundreds of slices of healthy data: without a correction, ~alpha/2 of them fall below the
    whole by chance; with Holm's, none is reported (at most alpha chance of any)."""
    df = _healthy_slices(seed, rows, values)
    res = worst_slices(df.lazy(), list(df.columns[:len(values)]), max_order=2, alpha=0.01)
    assert res.overall["tested"] > 100
    assert res.slices == [], res.slices[:3]


@pytest.mark.parametrize(("seed", "bad"), [(75, {"c0": "3"}), (76, {"c1": "2", "c2": "0"})])
def test_a_truly_worse_slice_is_still_reported(seed, bad):
    df = _healthy_slices(seed, 60_000, (8, 8, 6), bad=bad)
    res = worst_slices(df.lazy(), ["c0", "c1", "c2"], max_order=2, alpha=0.01)
    assert res.slices and res.slices[0]["slice"] == bad, res.slices[:3]
    top = res.slices[0]
    assert top["p_adjusted"] < 0.01 and top["p_adjusted"] >= top["p_value"]
    assert res.to_dict()["meta"]["adjustment"].startswith("Holm")


@pytest.mark.parametrize(("spelling", "seed"), [(("pos", "neg"), 77), (("Y", "N"), 78)])
def test_worst_slices_reads_binary_labels_as_the_summaries_do(spelling, seed):
    """Predictions logged as 0/1 and labels as pos/neg (or Y/N): the same slices, the same numbers."""
    df = _healthy_slices(seed, 40_000, (8, 6), bad={"c0": "5"})
    spelled = df.with_columns(pl.when(pl.col("label") == 1).then(pl.lit(spelling[0])).otherwise(pl.lit(spelling[1]))
                              .alias("label"))
    res = worst_slices(df.lazy(), ["c0", "c1"], task="binary_classification")
    again = worst_slices(spelled.lazy(), ["c0", "c1"], task="binary_classification")
    assert res.slices and res.slices[0]["slice"] == {"c0": "5"}
    assert again.to_dict() == res.to_dict()
    assert 0.8 < again.overall["accuracy"] < 0.9
