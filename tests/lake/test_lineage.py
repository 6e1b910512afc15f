"""The lineage model: rollouts, provenance, OpenLineage runs and schema changes, dependencies."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

import workbench as wb
from workbench.lake.files import DataFiles
from workbench.lake.lineage import TIMELINE_KINDS, parse_openlineage, schema_changes

UTC = dt.timezone.utc


@pytest.fixture
def lake(lake_dir):
    return wb.open_lake(lake_dir)


def test_rollout_state_over_time_canary_included(lake):
    ro = lake.lineage
    before = ro.rollout_state("2026-03-01T10:00Z")
    assert before.select("route", "model_version", "traffic_pct").rows() == [("primary", "1.0.0", 100.0)]
    canary = ro.rollout_state("2026-03-01T21:00Z")
    assert canary.select("route", "model_version", "traffic_pct").rows() == [
        ("canary", "1.1.0", 10.0), ("primary", "1.0.0", 100.0)]
    after = ro.rollout_state(dt.datetime(2026, 3, 2, 3, tzinfo=UTC))
    # the canary route was set to 0 % at promotion: only primary remains
    assert after.select("route", "model_version").rows() == [("primary", "1.1.0")]
    assert ro.rollout_state("2020-01-01").is_empty()


def test_rollout_intervals_and_version_info(lake):
    iv = lake.lineage.rollout_intervals()
    prim = iv.filter(pl.col("route") == "primary")
    assert prim["model_version"].to_list() == ["1.0.0", "1.1.0"]
    assert prim["end"][0] == prim["start"][1] and prim["end"][1] is None
    info = lake.lineage.version_info("1.1.0")
    assert info["training_dataset"] == "train@2026-02-28" and info["artifact_digest"] == "bbbb2222"
    assert info["first_deployed_at"] == dt.datetime(2026, 3, 1, 20, tzinfo=UTC) and info["steps"] == 3
    assert lake.lineage.version_info("9.9") is None
    assert lake.lineage.previous_version("1.1.0") == "1.0.0"


def test_feature_provenance_versions(lake):
    fv = lake.lineage.feature_versions_at("2026-03-01T13:00Z")
    age = fv.filter(pl.col("feature") == "account_age_days").row(0, named=True)
    assert age["version"] == "2" and age["source_dataset"] == "warehouse/accounts"
    fv0 = lake.lineage.feature_versions_at("2026-03-01T11:00Z")
    assert fv0.filter(pl.col("feature") == "account_age_days")["version"][0] == "1"


def test_openlineage_runs_and_schema_changes(lake):
    lg = lake.lineage
    assert lg.runs.height == 12 and lg.runs["run_id"].n_unique() == 6
    assert set(lg.runs["event_type"]) == {"START", "COMPLETE"}
    sc = lg.schema_changes.sort("dataset", "change")
    got = {(r["dataset"], r["change"], r["field"], r["old_field"], r["old_type"], r["new_type"])
           for r in sc.iter_rows(named=True)}
    assert got == {
        ("warehouse/accounts", "added", "tier", None, None, "STRING"),
        ("warehouse/accounts", "type_changed", "age_days", "age_days", "BIGINT", "INTEGER"),
        ("warehouse/payments", "renamed", "amount_cents", "amount_usd", "DOUBLE", "DOUBLE"),
    }
    assert (sc["at"] == dt.datetime(2026, 3, 2, 3, 20, tzinfo=UTC)).all()
    assert sc["run_id"].str.starts_with("00000002").all() and sc["previous_run_id"].str.starts_with("00000001").all()
    # other facets are kept
    assert lg.datasets.filter(pl.col("io") == "output")["facets"].str.contains("dataQualityMetrics").all()


def _ol(tmp_path, events):
    p = tmp_path / "ol.ndjson"
    p.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return DataFiles(what="lineage.openlineage", spec="ol.ndjson", format="ndjson", paths=(p,), root=tmp_path)


def _ev(t, run, fields, ns="db", name="t1", io="outputs"):
    return {"eventType": "COMPLETE", "eventTime": t, "run": {"runId": run}, "job": {"namespace": "j", "name": "job"},
            "inputs": [], "outputs": [], io: [{"namespace": ns, "name": name,
                                               "facets": {"schema": {"fields": fields}}}]}


def test_schema_change_kinds_removed_ambiguous_rename_description_nested(tmp_path):
    f1 = [{"name": "a", "type": "INT"}, {"name": "b", "type": "INT"}, {"name": "c", "type": "STRING",
                                                                      "description": "ISO-3166 alpha-2"},
          {"name": "s", "type": "STRUCT", "fields": [{"name": "x", "type": "INT"}]}]
    f2 = [{"name": "c", "type": "STRING", "description": "ISO-3166 alpha-3"}, {"name": "d", "type": "INT"},
          {"name": "e", "type": "INT"}, {"name": "s", "type": "STRUCT", "fields": [{"name": "x", "type": "BIGINT"}]}]
    runs, ds = parse_openlineage(_ol(tmp_path, [_ev("2026-01-01T00:00:00Z", "r1", f1),
                                                 _ev("2026-01-02T00:00:00Z", "r2", f2),
                                                 _ev("2026-01-03T00:00:00Z", "r3", f2)]))
    sc = schema_changes(ds)
    kinds = sorted((r["change"], r["field"]) for r in sc.iter_rows(named=True))
    # two INT fields removed and two added: a rename would be a guess, so none is claimed
    assert kinds == [("added", "d"), ("added", "e"), ("description_changed", "c"), ("removed", "a"),
                     ("removed", "b"), ("type_changed", "s.x")]
    assert sc["dataset"].unique().to_list() == ["db/t1"] and (sc["run_id"] == "r2").all()


def test_input_only_datasets_use_input_facets(tmp_path):
    evs = [_ev("2026-01-01T00:00:00Z", "r1", [{"name": "a", "type": "INT"}], io="inputs"),
           _ev("2026-01-02T00:00:00Z", "r2", [{"name": "a", "type": "STRING"}], io="inputs")]
    _, ds = parse_openlineage(_ol(tmp_path, evs))
    assert schema_changes(ds)["change"].to_list() == ["type_changed"]


def test_last_run_before_gives_the_schema_then(lake):
    run = lake.lineage.last_run_before("warehouse/payments", "2026-03-02T12:00Z")
    assert run["run_id"].startswith("00000002") and run["event_type"] == "COMPLETE"
    assert [f["name"] for f in run["schema"]] == ["amount_cents", "merchant"]
    earlier = lake.lineage.last_run_before("warehouse/payments", "2026-03-01T12:00Z")
    assert [f["name"] for f in earlier["schema"]] == ["amount_usd", "merchant"]
    assert lake.lineage.last_run_before("warehouse/payments", "2000-01-01") is None


def test_dependency_timeline(lake):
    dep = lake.lineage.dependencies
    emb = dep.filter(pl.col("dependency") == "embedding-api")
    assert emb["previous_version"].to_list() == [None, "2.4.0"]
    assert dep.filter(pl.col("dependency") == "geo-api")["consumers"].to_list() == [["country", "region"]]
    at = lake.lineage.dependency_versions_at("2026-03-01T16:00Z")
    assert dict(at.select("dependency", "version").rows()) == {"embedding-api": "2.4.1", "geo-api": "1.0.0"}


def test_traffic(lake):
    tr = lake.lineage.traffic
    assert tr.height == 48 and tr["requests"].sum() == 288 and tr["timestamp"].dtype == pl.Datetime("us", "UTC")


def test_timeline_merges_every_event_in_order(lake):
    tl = lake.timeline()
    assert tl.columns == ["at", "kind", "subject", "detail", "ref"]
    assert tl["at"].is_sorted()
    # a classifier's lake has every kind but those of generation lakes (prompt versions, index builds)
    assert set(tl["kind"]) == set(TIMELINE_KINDS) - {"prompt_version", "index_build"}
    lg = lake.lineage
    assert tl.height == (lg.deployments.height + lg.features.height + lg.runs.height
                         + lg.schema_changes.height + lg.dependencies.height)
    window = lake.timeline("2026-03-01T12:00Z", "2026-03-02T12:00Z")
    assert window["at"].min() >= dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert "rollout" in window["kind"].to_list() and "openlineage_schema_change" in window["kind"].to_list()
    promote = window.filter((pl.col("kind") == "rollout") & (pl.col("detail").str.starts_with("primary")))
    assert promote["subject"].to_list() == ["1.1.0"] and promote["ref"].to_list() == ["deployments:4"]


def test_lineage_of_one_prediction(lake):
    c = lake.lineage_of("req-00150")  # 2026-03-02T01:00Z, on the canary
    assert (c.model_version, c.route) == ("1.1.0", "canary")
    assert c.rollout["traffic_pct"] == 10.0 and c.rollout["ref"] == "deployments:3"
    assert c.model["serving_commit"] == "c0ffee02" and c.model["training_dataset"] == "train@2026-02-28"
    f = {x["feature"]: x for x in c.features}
    assert f["account_age_days"]["version"] == "2"
    assert f["amount"]["source_dataset"] == "warehouse/payments"
    assert f["amount"]["upstream_run"]["run_id"].startswith("00000001")
    assert f["amount"]["field_type"] == "DOUBLE" and f["amount"]["field_in_schema"] is True
    assert {d["dependency"]: d["version"] for d in c.dependencies} == {"embedding-api": "2.4.1", "geo-api": "1.0.0"}
    later = lake.lineage_of("req-00200")  # after the payments rename: the source field is gone
    fl = {x["feature"]: x for x in later.features}
    assert fl["amount"]["field_in_schema"] is False
    assert any("had no field amount_usd" in n for n in later.notes)
    d = later.to_dict()
    assert json.loads(json.dumps(d)) == d and d["timestamp"].endswith("Z")


def test_lineage_modules_split_and_old_imports_still_work():
    """The query model, the table validators and the OpenLineage reader live apart; the names
    ``workbench.lake.lineage`` exported before the split still import from it."""
    import workbench.lake.lineage as model
    from workbench.lake import lineage_tables, openlineage

    assert model.parse_openlineage is openlineage.parse_openlineage
    assert model.schema_changes is openlineage.schema_changes
    assert model.ROUTES is lineage_tables.ROUTES
    assert set(model.__all__) >= {"Lineage", "ROUTES", "TIMELINE_KINDS", "load_lineage", "parse_openlineage",
                                  "schema_changes"}
    # each module holds one idea: the model neither parses JSON nor validates rows itself
    assert not hasattr(model, "json") and not hasattr(model, "_read_strings")
    assert model.Lineage().deployments.schema == pl.Schema(lineage_tables.DEPLOYMENTS_SCHEMA)
    assert model.Lineage().runs.schema == pl.Schema(openlineage.RUNS_SCHEMA)
