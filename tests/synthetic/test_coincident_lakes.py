"""Coincident changes in generated lakes: two real causes in one hour, a routine change in the onset
hour, and ingress counted without routes."""

from __future__ import annotations

import polars as pl
import pytest

from workbench.synthetic import Truth, generate_lake

ROWS = 12_000


def _lake(tmp_path, name, **kw):
    root = tmp_path / name
    truth = generate_lake(root, rows=ROWS, days=14, **kw)
    return root, truth


@pytest.mark.parametrize("first,second,seed", [
    (("retrain_regression", 0), ("schema_mismatch", 0), 31),
    (("latency_regression", 1), ("third_party_change", 0), 32),
    (("schema_mismatch", 1), ("pii_leak", 2), 33),
    (("serving_bug", 0), ("data_drift", 0), 34),
])
def test_two_causes_land_in_the_same_hour_with_their_own_lineage(tmp_path, first, second, seed):
    root, truth = _lake(tmp_path, "pair", cause=first[0], variant=first[1], also=second, seed=seed)
    assert truth.cause == first[0] and len(truth.also) == 1
    other = truth.also[0]
    assert other["cause"] == second[0] and other["variant"] == second[1]
    gap = abs((truth.onset - other["onset"]).total_seconds())
    assert 60 <= gap <= 40 * 60  # 1-40 minutes apart: the same hour
    # both causes leave their lineage behind
    deployments = pl.read_csv(root / "lineage" / "deployments.csv", infer_schema=False)
    for cause, subject in ((truth.cause, truth.subject), (other["cause"], other["subject"])):
        if subject.get("model_version"):
            assert subject["model_version"] in deployments["model_version"].to_list()
        if cause == "schema_mismatch":
            text = (root / "lineage" / "openlineage.ndjson").read_text()
            assert subject["dataset"].split("/")[-1] in text
    # the answer key round-trips
    again = Truth.from_json(root / "truth.json")
    assert again.also[0]["onset"] == other["onset"] and again.also[0]["subject"] == other["subject"]


def test_the_first_cause_draws_what_it_draws_alone(tmp_path):
    _, alone = _lake(tmp_path, "alone", cause="retrain_regression", variant=0, seed=41)
    _, pair = _lake(tmp_path, "pair", cause="retrain_regression", variant=0, seed=41, also=("pii_leak", 0))
    assert pair.details["logit_noise"] == alone.details["logit_noise"]
    assert pair.subject == alone.subject


@pytest.mark.parametrize("kwargs,match", [
    ({"cause": "retrain_regression", "also": ("latency_regression", 0)}, "at most one"),
    ({"cause": "schema_mismatch", "also": ("schema_mismatch", 1)}, "must differ"),
    ({"cause": "none", "also": ("pii_leak", 0)}, "real cause"),
    ({"cause": "pii_leak", "also": ("bogus", 0)}, "also must be"),
    ({"cause": "retrain_regression", "benign_at_onset": "rollout"}, "rolls out no model"),
    ({"cause": "pii_leak", "benign_at_onset": "lunch"}, "unknown benign_at_onset"),
    ({"cause": "pii_leak", "also": ("data_drift", 0), "benign_at_onset": "rollout"}, "not both"),
])
def test_impossible_combinations_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_lake(tmp_path / "x", rows=ROWS, days=14, seed=1, **kwargs)


@pytest.mark.parametrize("kind,cause", [("rollout", "schema_mismatch"), ("dependency_bump", "latency_regression"),
                                        ("schema_change", "data_drift")])
def test_a_routine_change_lands_in_the_onset_hour(tmp_path, kind, cause):
    root, truth = _lake(tmp_path, kind, cause=cause, variant=0, seed=51, benign_at_onset=kind)
    near = [c for c in truth.confounders if c["kind"] == kind]
    assert len(near) == 1 and near[0]["near"]
    assert 0 < (near[0]["at"] - truth.onset).total_seconds() <= 40 * 60
    if kind == "rollout":
        d = pl.read_csv(root / "lineage" / "deployments.csv", infer_schema=False).filter(pl.col("model_version") == near[0]["ref"])
        assert d["route"].to_list()[0] == "canary"  # canary first, promoted later
    if kind == "dependency_bump":
        deps = pl.read_csv(root / "lineage" / "dependencies.csv", infer_schema=False)
        name, version = near[0]["ref"].split("@")
        assert version.endswith(".0") and name in deps["dependency"].to_list()  # a minor bump
    if kind == "schema_change":
        text = (root / "lineage" / "openlineage.ndjson").read_text()
        assert near[0]["ref"] in text  # the unscheduled run is in the OpenLineage events


def test_ingress_without_routes_counts_the_same_requests(tmp_path):
    root_a, _ = _lake(tmp_path, "a", cause="telemetry_loss", variant=1, seed=61)
    root_b, _ = _lake(tmp_path, "b", cause="telemetry_loss", variant=1, seed=61, ingress_by_route=False)
    a, b = pl.read_csv(root_a / "metrics" / "traffic.csv"), pl.read_csv(root_b / "metrics" / "traffic.csv")
    assert "route" in a.columns and "route" not in b.columns
    assert a["requests"].sum() == b["requests"].sum()
    # everything else is the same lake
    assert (root_a / "lineage" / "deployments.csv").read_bytes() == (root_b / "lineage" / "deployments.csv").read_bytes()
