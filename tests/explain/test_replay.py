"""Replay tells model, data and serving causes apart on generated lakes with artifacts."""

from __future__ import annotations

import pytest

import workbench as wb
from workbench.exceptions import ArtifactError
from workbench.explain import replay
from workbench.synthetic import generate_lake


@pytest.mark.parametrize(("cause", "variant", "task", "seed", "expected"), [
    ("retrain_regression", 0, "binary_classification", 601, "model"),
    ("retrain_regression", 1, "regression", 602, "model"),
    ("serving_bug", 0, "binary_classification", 603, "serving"),
    ("serving_bug", 0, "multiclass", 604, "serving"),
    ("schema_mismatch", 0, "regression", 605, "data"),
    ("none", 0, "binary_classification", 606, "none"),
])
def test_replay_verdicts(tmp_path, cause, variant, task, seed, expected):
    truth = generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=30_000, task=task,
                          artifacts=True)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    v = truth.versions
    if v.get("incident"):
        new, old = v["incident"], v["benign"]
    else:
        new, old = v["benign"], v["baseline"]
    start = truth.onset or truth.start + (truth.end - truth.start) * 0.75
    res = replay(lake, new, old, start=start)
    assert res.verdict == expected, res.detail
    d = res.to_dict()
    assert type(res).from_dict(d).to_dict() == d
    lo, hi = res.new_vs_old[1:]
    assert lo <= res.new_vs_old[0] <= hi


def test_replay_without_artifacts_is_a_named_error(tmp_path):
    truth = generate_lake(tmp_path / "l", seed=607, rows=20_000)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    with pytest.raises(ArtifactError, match="names no artifact_uri"):
        replay(lake, truth.versions["benign"], truth.versions["baseline"])
