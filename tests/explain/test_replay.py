"""Replay tells model, data and serving causes apart on generated lakes with artifacts.

The serving check compares the new artifact's recomputed output with what was logged, row by row:
a release whose artifact reproduces its logs is never a serving bug, whatever its quality; a
serving path that mangles a few percent of rows is found. Rows are chosen by a hash of the request
id, so the verdict does not change from call to call or from process to process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
import yaml

import workbench as wb
from workbench.exceptions import ArtifactError
from workbench.explain import replay
from workbench.synthetic import generate_lake


def _versions(truth):
    v = truth.versions
    return (v["incident"], v["benign"]) if v.get("incident") else (v["benign"], v["baseline"])


def _start(truth):
    return truth.onset or truth.start + (truth.end - truth.start) * 0.75


@pytest.mark.parametrize(("cause", "variant", "task", "seed", "expected"), [
    ("retrain_regression", 0, "binary_classification", 601, "model"),
    ("retrain_regression", 1, "regression", 602, "model"),
    ("serving_bug", 0, "binary_classification", 603, "serving"),
    ("serving_bug", 0, "multiclass", 604, "serving"),
    ("serving_bug", 1, "binary_classification", 608, "serving"),
    ("schema_mismatch", 0, "regression", 605, "data"),
    ("none", 0, "binary_classification", 606, "none"),
])
def test_replay_verdicts(tmp_path, cause, variant, task, seed, expected):
    truth = generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=30_000, task=task,
                          artifacts=True)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    new, old = _versions(truth)
    res = replay(lake, new, old, start=_start(truth))
    assert res.verdict == expected, res.detail
    d = res.to_dict()
    assert type(res).from_dict(d).to_dict() == d
    lo, hi = res.new_vs_old[1:]
    assert lo <= res.new_vs_old[0] <= hi
    share, lo, hi = res.disagreement
    assert lo <= share <= hi and res.served_rows > 1000 and res.tolerance
    if expected == "serving":
        assert lo > 0.3  # an inverted or swapped serving path garbles most rows
    else:
        assert share == 0.0  # the generator's releases are exactly what their artifacts compute
    again = replay(lake, new, old, start=_start(truth))
    assert again.to_dict() == d  # same rows, same answer


@pytest.mark.parametrize(("cause", "variant", "task", "seed"), [
    ("none", 0, "multiclass", 631),
    ("retrain_regression", 1, "binary_classification", 632),
    ("bias_regression", 0, "binary_classification", 633),
    ("bias_regression", 1, "multiclass", 634),
    ("latency_regression", 0, "regression", 635),
])
def test_a_release_that_reproduces_its_logs_is_never_a_serving_bug(tmp_path, cause, variant, task, seed):
    truth = generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=20_000, task=task,
                          artifacts=True)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    new, old = _versions(truth)
    res = replay(lake, new, old, start=_start(truth))
    assert res.verdict != "serving", res.detail
    assert res.disagreement[0] == 0.0 and res.disagreement[2] < 0.01


@pytest.mark.parametrize(("share", "task", "seed"), [
    (0.05, "binary_classification", 641),
    (0.05, "regression", 642),
    (0.08, "binary_classification", 643),
])
def test_a_serving_bug_that_mangles_a_few_percent_of_rows_is_found(tmp_path, share, task, seed):
    root = tmp_path / "l"
    truth = generate_lake(root, cause="none", seed=seed, rows=30_000, task=task, artifacts=True)
    new, old = _versions(truth)
    assert _mangle(root, new, share, task, salt=seed) > 100
    lake = wb.open_lake(root, mask_key="k")
    res = replay(lake, new, old, start=_start(truth))
    assert res.verdict == "serving", res.detail
    est, lo, hi = res.disagreement
    assert lo > 0.01 and abs(est - share) < 0.02  # ~6 binomial sd on 4,000 rows


def _mangle(root, version: str, share: float, task: str, *, salt: int) -> int:
    """Rewrite the lake's prediction files so ``share`` of ``version``'s rows (by a hash of the request
    id) log a wrong output, as an intermittently broken serving path would; returns how many.
    Column names are the lake's own (its manifest may map roles to other names)."""
    cols = yaml.safe_load((root / "workbench.yaml").read_text()).get("columns", {})
    rid, score = cols.get("request_id", "request_id"), cols.get("score", "score")
    mv, pred = cols.get("model_version", "model_version"), cols.get("prediction", "prediction")
    hit = 0
    for f in sorted((root / "predictions").rglob("*.parquet")):
        df = pl.read_parquet(f)
        picked = (pl.col(mv) == version) & ((pl.col(rid).hash(salt) % 10_000) < int(share * 10_000))
        if task == "binary_classification":
            df = df.with_columns(pl.when(picked).then(1.0 - pl.col(score)).otherwise(pl.col(score)).alias(score))
        else:
            df = df.with_columns(pl.when(picked).then(pl.col(pred) * 1.5).otherwise(pl.col(pred)).alias(pred))
        hit += int(df.select(picked.sum()).item())
        df.write_parquet(f)
    return hit


_SCRIPT = """
import json, sys
import workbench as wb
from workbench.explain import replay
lake = wb.open_lake(sys.argv[1], mask_key="k")
print(json.dumps(replay(lake, sys.argv[2], sys.argv[3], start=sys.argv[4]).to_dict(), sort_keys=True))
"""


def test_replay_is_the_same_in_two_processes(tmp_path):
    truth = generate_lake(tmp_path / "l", cause="retrain_regression", variant=1, seed=651, rows=30_000,
                          artifacts=True)
    new, old = _versions(truth)
    args = [sys.executable, "-c", _SCRIPT, str(tmp_path / "l"), new, old, _start(truth).isoformat()]
    runs = [subprocess.run(args, capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1]
    assert json.loads(runs[0])["verdict"] == "model"


def test_replay_without_artifacts_is_a_named_error(tmp_path):
    truth = generate_lake(tmp_path / "l", seed=607, rows=20_000)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    with pytest.raises(ArtifactError, match="names no artifact_uri"):
        replay(lake, truth.versions["benign"], truth.versions["baseline"])


def test_without_the_artifacts_inputs_the_serving_check_is_not_made(tmp_path):
    # CSV lakes carry no embedding column: the artifact cannot reproduce what was logged, so no
    # serving verdict may rest on the comparison
    truth = generate_lake(tmp_path / "l", cause="retrain_regression", seed=608, rows=20_000, fmt="csv",
                          artifacts=True)
    lake = wb.open_lake(tmp_path / "l", mask_key="k")
    new, old = _versions(truth)
    res = replay(lake, new, old, start=_start(truth))
    assert res.disagreement is None and res.verdict != "serving"
    assert "embedding" in res.meta["serving_check"]
    assert np.isfinite(res.new)


@pytest.mark.parametrize(("spelling", "seed"), [(("pos", "neg"), 661), (("Y", "N"), 662)])
def test_replay_reads_labels_as_the_summaries_do(tmp_path, spelling, seed):
    """Labels spelled pos/neg or Y/N are positives and negatives for replay as for the summaries
    (one definition, workbench.lake.labels): the verdict and numbers match the 0/1 lake's."""
    root = tmp_path / "l"
    truth = generate_lake(root, cause="retrain_regression", seed=seed, rows=20_000, artifacts=True)
    new, old = _versions(truth)
    before = replay(wb.open_lake(root, mask_key="k"), new, old, start=_start(truth)).to_dict()
    label = yaml.safe_load((root / "workbench.yaml").read_text()).get("columns", {}).get("label", "label")
    for f in sorted((root / "labels").rglob("*.parquet")):
        df = pl.read_parquet(f)
        yes = pl.col(label).cast(pl.Float64) > 0.5
        df.with_columns(pl.when(yes).then(pl.lit(spelling[0])).otherwise(pl.lit(spelling[1])).alias(label)) \
            .write_parquet(f)
    after = replay(wb.open_lake(root, mask_key="k"), new, old, start=_start(truth)).to_dict()
    assert before["verdict"] == "model"
    assert after == before
