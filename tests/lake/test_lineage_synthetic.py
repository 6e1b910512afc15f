"""``lineage_of`` on generated lakes, checked against a plain re-reading of the lineage files."""

from __future__ import annotations

import csv
import datetime as dt
import json

import polars as pl
import pytest

import workbench as wb
from workbench.synthetic import generate_lake


def _t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _expected_chain(root, request):
    """What the chain must be, from the raw files with the csv and json modules only."""
    t, version, route = request["timestamp"], request["model_version"], request["route"]
    steps = [r for r in _rows(root / "lineage" / "deployments.csv")
             if r["model_version"] == version and r["route"] == route and _t(r["deployed_at"]) <= t]
    step = max(steps, key=lambda r: _t(r["deployed_at"]))
    first = min((r for r in _rows(root / "lineage" / "deployments.csv") if r["model_version"] == version),
                key=lambda r: _t(r["deployed_at"]))
    feats = {}
    for r in _rows(root / "lineage" / "features.csv"):
        if _t(r["valid_from"]) <= t and (r["feature"] not in feats
                                         or _t(r["valid_from"]) >= _t(feats[r["feature"]]["valid_from"])):
            feats[r["feature"]] = r
    runs = {}
    for line in (root / "lineage" / "openlineage.ndjson").read_text().splitlines():
        ev = json.loads(line)
        if _t(ev["eventTime"]) > t:
            continue
        for ds in ev.get("outputs", []):
            key = f"{ds['namespace']}/{ds['name']}"
            fields = ds.get("facets", {}).get("schema", {}).get("fields")
            if fields and (key not in runs or _t(ev["eventTime"]) >= runs[key][0]):
                runs[key] = (_t(ev["eventTime"]), ev["run"]["runId"], {f["name"]: f["type"] for f in fields})
    deps = {}
    for r in _rows(root / "lineage" / "dependencies.csv"):
        if _t(r["changed_at"]) <= t and (r["dependency"] not in deps
                                         or _t(r["changed_at"]) >= _t(deps[r["dependency"]]["changed_at"])):
            deps[r["dependency"]] = r
    return step, first, feats, runs, deps


@pytest.mark.parametrize(("cause", "variant", "seed"), [("schema_mismatch", 1, 3), ("serving_bug", 0, 8),
                                                         ("third_party_change", 0, 21)])
def test_lineage_of_matches_the_files(tmp_path, cause, variant, seed):
    root = tmp_path / "lake"
    truth = generate_lake(root, cause=cause, variant=variant, rows=20_000, days=14, seed=seed)
    lake = wb.open_lake(root)
    preds = lake.predictions(["request_id", "timestamp", "model_version", "route"]).collect()
    # one request per version and route, plus the first one after the onset
    picks = preds.group_by("model_version", "route").agg(pl.all().sort_by("timestamp").last()).to_dicts()
    after = preds.filter(pl.col("timestamp") >= truth.onset).sort("timestamp").head(1).to_dicts()
    for request in picks + after:
        chain = lake.lineage_of(request["request_id"])
        step, first, feats, runs, deps = _expected_chain(root, request)
        assert chain.model_version == request["model_version"] and chain.route == request["route"]
        assert chain.rollout["deployed_at"] == _t(step["deployed_at"])
        assert chain.rollout["traffic_pct"] == float(step["traffic_pct"])
        assert chain.model["training_dataset"] == first["training_dataset"]
        assert chain.model["artifact_digest"] == first["artifact_digest"]
        assert chain.model["serving_commit"] == first["serving_commit"]
        got = {f["feature"]: f for f in chain.features}
        assert set(got) == set(lake.features)
        for name, f in got.items():
            ref = feats[name]
            assert (f["version"], f["source_dataset"], f["source_field"]) == (
                ref["version"], ref["source_dataset"], ref["source_field"])
            run = runs.get(ref["source_dataset"])
            if run is None:
                assert f["upstream_run"] is None or not f["upstream_run"]["schema"]
                continue
            assert f["upstream_run"]["schema_run_id"] == run[1]
            assert f["field_type"] == run[2].get(ref["source_field"])
            assert f["field_in_schema"] == (ref["source_field"] in run[2])
        assert {d["dependency"]: d["version"] for d in chain.dependencies} == {
            k: v["version"] for k, v in deps.items()}
    if cause == "schema_mismatch":  # a rename: after the onset the source field is gone
        chain = lake.lineage_of(after[0]["request_id"])
        culprit = next(f for f in chain.features if f["feature"] == truth.subject["feature"])
        assert culprit["source_dataset"] == truth.subject["dataset"]
        assert culprit["field_in_schema"] is False
        assert any(truth.subject["feature"] in n for n in chain.notes)
