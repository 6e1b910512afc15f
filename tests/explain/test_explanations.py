"""alibi-backed explanations on a generated lake whose vendor feature changed scale."""

from __future__ import annotations

import polars as pl
import pytest

import workbench as wb
from workbench.explain import ale_curves, anchors_for_errors, importance_shift, load_artifact
from workbench.synthetic import generate_lake

pytest.importorskip("alibi")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("x") / "l"
    truth = generate_lake(root, cause="third_party_change", variant=1, seed=611, rows=30_000, artifacts=True)
    lake = wb.open_lake(root, mask_key="k")
    uri = lake.lineage.deployments.filter(pl.col("model_version") == truth.versions["benign"])["artifact_uri"][0]
    model = load_artifact(uri, root=lake.root)
    df = lake.predictions(with_labels=True).collect()
    return truth, lake, model, df.filter(pl.col("timestamp") < truth.onset), df.filter(pl.col("timestamp") >= truth.onset)


def test_importance_of_the_changed_feature_moves(setup):
    truth, lake, model, base, win = setup
    r = importance_shift(model, base, win, numeric=lake.numeric_features, categorical=lake.categorical_features,
                         task=lake.task)
    feature = truth.subject["feature"]
    assert r.features[0]["feature"] == feature  # the largest change
    assert feature in [f["feature"] for f in r.moved]
    again = importance_shift(model, base, win, numeric=lake.numeric_features,
                             categorical=lake.categorical_features, task=lake.task)
    assert again.to_dict() == r.to_dict()  # seeded


def test_ale_curves_per_version(setup):
    truth, lake, model, base, win = setup
    r = ale_curves({"a": model, "b": model}, base, numeric=lake.numeric_features,
                   categorical=lake.categorical_features, task=lake.task)
    assert {c["version"] for c in r.curves} == {"a", "b"}
    assert len(r.curves) == 2 * len(lake.numeric_features)
    for c in r.curves:
        assert len(c["x"]) == len(c["ale"]) >= 2
    moving = [c for c in r.curves if max(c["ale"]) - min(c["ale"]) > 0.01]
    assert moving, "the model's output depends on some numeric feature"


def test_anchors_for_wrong_predictions(setup):
    truth, lake, model, base, win = setup
    r = anchors_for_errors(model, base, win, numeric=lake.numeric_features, categorical=lake.categorical_features,
                           task=lake.task, n=2)
    assert len(r.anchors) == 2 and r.meta["wrong_rows"] > 0
    for a in r.anchors:
        assert a["prediction"] != a["label"] and a["rule"] and 0 <= a["precision"] <= 1


def test_explanations_do_not_depend_on_row_order_or_global_state(setup):
    """A multi-file scan or a join hands rows over in any order: the same rows give the same answer,
    and the caller's numpy global generator is left as it was."""
    import numpy as np

    truth, lake, model, base, win = setup
    kw = {"numeric": lake.numeric_features, "categorical": lake.categorical_features, "task": lake.task}
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    first = (importance_shift(model, base, win, **kw).to_dict(), ale_curves({"m": model}, win, **kw).to_dict(),
             anchors_for_errors(model, base, win, n=2, **kw).to_dict())
    assert np.random.random() == before  # alibi's draws were confined to the calls
    shuffled = [f.sample(fraction=1.0, shuffle=True, seed=9) for f in (base, win)]
    second = (importance_shift(model, *shuffled, **kw).to_dict(),
              ale_curves({"m": model}, shuffled[1], **kw).to_dict(),
              anchors_for_errors(model, *shuffled, n=2, **kw).to_dict())
    assert first == second
    assert all("request_id" in a for a in first[2]["anchors"])


_SCRIPT = """
import json, sys
import polars as pl
import workbench as wb
from workbench.explain import anchors_for_errors, importance_shift, load_artifact
from workbench.synthetic import Truth
lake = wb.open_lake(sys.argv[1], mask_key="k")
truth = Truth.from_json(sys.argv[1] + "/truth.json")
uri = lake.lineage.deployments.filter(pl.col("model_version") == truth.versions["benign"])["artifact_uri"][0]
model = load_artifact(uri, root=lake.root)
df = lake.predictions(with_labels=True).collect()
base, win = df.filter(pl.col("timestamp") < truth.onset), df.filter(pl.col("timestamp") >= truth.onset)
kw = dict(numeric=lake.numeric_features, categorical=lake.categorical_features, task=lake.task)
print(json.dumps([importance_shift(model, base, win, **kw).to_dict(),
                  anchors_for_errors(model, base, win, n=2, **kw).to_dict()], sort_keys=True))
"""


def test_explanations_are_the_same_in_two_processes(setup):
    import subprocess
    import sys

    truth, lake, *_ = setup
    args = [sys.executable, "-c", _SCRIPT, str(lake.root)]
    runs = [subprocess.run(args, capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].strip()
