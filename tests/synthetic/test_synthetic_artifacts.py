"""Model artifacts of generated lakes: faithful to what each release logged, and written byte for byte
the same for the same seed (in another process too)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.explain import load_artifact, score_rows
from workbench.synthetic import generate_lake
from workbench.synthetic.artifact import SyntheticModel, dump_deterministic
from workbench.synthetic.model import LEARNABLE, hidden_noise, learned_weight, pseudo_normal


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


_GENERATE = """
import sys
from workbench.synthetic import generate_lake
generate_lake(sys.argv[1], cause="bias_regression", variant=0, seed=int(sys.argv[2]), rows=6_000, days=8,
              task=sys.argv[3], artifacts=True)
"""


@pytest.mark.parametrize(("seed", "task"), [(21, "binary_classification"), (22, "multiclass")])
def test_same_seed_gives_identical_bytes_with_artifacts(tmp_path, seed, task):
    # one lake in this process, one in a fresh one: object ids and clocks differ between them
    generate_lake(tmp_path / "a", cause="bias_regression", variant=0, seed=seed, rows=6_000, days=8, task=task,
                  artifacts=True)
    subprocess.run([sys.executable, "-c", _GENERATE, str(tmp_path / "b"), str(seed), task], check=True)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    models = [k for k in a if k.startswith("models/")]
    assert len(models) == 3  # baseline, benign retrain, incident release
    assert a == b


def test_dump_deterministic_renames_ids_and_dates_and_still_loads(tmp_path):
    import skops.io as sio

    model = SyntheticModel(task="binary_classification", numeric=["a", "b"], categorical=[], vocab=[],
                           embedding=None, log=np.array([False, True]), median=np.zeros(2), mean=np.zeros(2),
                           sd=np.ones(2), w_numeric=np.array([[0.5, -0.25]]), w_categorical=[],
                           w_embedding=np.zeros((1, 0)), intercept=np.array([0.1]), shrink=0.9, classes=[],
                           threshold=0.5, target=[1.0, 1.0], noise_sd=1.0, logit_noise=0.3)
    dump_deterministic(model, tmp_path / "m1.skops")
    dump_deterministic(model, tmp_path / "m2.skops")
    assert (tmp_path / "m1.skops").read_bytes() == (tmp_path / "m2.skops").read_bytes()
    with zipfile.ZipFile(tmp_path / "m1.skops") as z:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        # skops names arrays after id(); renumbered, they are small
        assert all(len(n) < 12 for n in z.namelist())
    back = sio.load(tmp_path / "m1.skops", trusted=sio.get_untrusted_types(file=tmp_path / "m1.skops"))
    frame = pl.DataFrame({"a": [0.0, 1.0, -2.0], "b": [1.0, 3.0, 0.5]})
    assert np.array_equal(back.predict_proba(frame), model.predict_proba(frame))


@pytest.mark.parametrize(("cause", "variant", "task", "seed"), [
    ("bias_regression", 0, "binary_classification", 31),
    ("bias_regression", 1, "multiclass", 32),
    ("bias_regression", 1, "regression", 37),
    ("retrain_regression", 1, "regression", 33),
    ("retrain_regression", 0, "multiclass", 34),
    ("schema_mismatch", 0, "binary_classification", 35),
    ("serving_bug", 1, "binary_classification", 36),
])
def test_every_release_logs_what_its_artifact_computes(tmp_path, cause, variant, task, seed):
    """Row by row, on the logged inputs; only the serving-code bugs are not in the artifact."""
    truth = generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=12_000, days=10, task=task,
                          artifacts=True)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    rows = lake.predictions().filter(~pl.col("fallback")).collect()
    deployments = lake.lineage.deployments
    checked = 0
    for version in sorted(rows["model_version"].unique().to_list()):
        served = rows.filter(pl.col("model_version") == version)
        uri = deployments.filter(pl.col("model_version") == version)["artifact_uri"][0]
        out = score_rows(load_artifact(uri, root=lake.root), served, task)
        if task == "binary_classification":
            agree = np.abs(out - served["score"].to_numpy()) <= 1e-3
        elif task == "multiclass":
            agree = out.astype(str) == served["prediction"].cast(pl.String).to_numpy()
        else:
            agree = np.abs(out - served["prediction"].to_numpy()) <= 1e-3 * np.abs(out) + 1e-4
        if cause == "serving_bug" and version == truth.versions["incident"]:
            assert agree.mean() < 0.5  # the swapped inputs are in the serving code, not the artifact
        else:
            assert agree.all(), f"{version}: {int((~agree).sum())} of {agree.size} rows differ"
        checked += served.height
    assert checked > 10_000


def test_pseudo_normal_is_a_standard_normal_independent_of_the_inputs():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((40_000, 5))
    e = pseudo_normal(z, 2, salt=7)
    assert np.array_equal(e, pseudo_normal(z.copy(), 2, salt=7))  # a fixed function of the inputs
    assert abs(e.mean()) < 0.03 and abs(e.std() - 1) < 0.03
    assert np.abs(np.corrcoef(np.column_stack([e, z]).T)[:2, 2:]).max() < 0.03  # no linear trace
    assert abs(np.corrcoef(e[:, 0], e[:, 1])[0, 1]) < 0.03
    assert abs(np.corrcoef(e[:, 0], pseudo_normal(z, 2, salt=8)[:, 0])[0, 1]) < 0.03


def test_hidden_noise_keeps_its_variance_and_hidden_gain_its_meaning():
    rng = np.random.default_rng(4)
    z, chance = rng.standard_normal((50_000, 4)), rng.standard_normal((50_000, 1))
    for sd in (0.7, 1.9):
        h = hidden_noise(sd, z, chance)
        assert abs(h.std() / sd - 1) < 0.02
    for gain in (0.15, 0.3, 0.55):
        w = learned_weight(gain)
        learnable = pseudo_normal(z, 1, 3)
        h = hidden_noise(1.0, z, chance)
        residual = h - w * np.sqrt(LEARNABLE) * learnable
        assert abs(residual.std() - (1 - gain)) < 0.02  # the release's leftover noise is (1 - gain) sd
    assert learned_weight(0.0) == 0.0 and learned_weight(0.99) == 1.0
