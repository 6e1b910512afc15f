"""The panel's data: lake info with named validation errors, timeline and default windows; and
triage in a worker thread with its progress, findings written under the root."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import time

import polars as pl
import pytest
from tornado.httpclient import HTTPClientError

from workbench.lake.manifest import read_manifest


async def _lake(jp_fetch, path) -> dict:
    r = await jp_fetch("workbench", "api", "lake", params={"path": path})
    assert r.code == 200
    return json.loads(r.body)


async def test_lake_info_timeline_and_defaults(jp_fetch, jp_root_dir, lake_in_root):
    doc = await _lake(jp_fetch, lake_in_root)
    assert doc["path"] == lake_in_root and doc["ok"] is True and doc["errors"] == []
    info = doc["info"]
    assert info["path"] == lake_in_root  # no absolute path of the server's machine
    assert info["name"] == read_manifest(jp_root_dir / lake_in_root).name and info["profile"]["rows"] > 2_000
    assert info["task"] and info["slo"]["latency_p95_ms"] > 0 and set(info["lineage"]) >= {"deployments"}
    tl = doc["timeline"]
    assert 0 < len(tl) <= 20 and {"time", "kind", "detail"} <= set(tl[0])
    assert [e["time"] for e in tl] == sorted(e["time"] for e in tl) and tl[0]["time"].endswith("Z")
    assert any(e["kind"] == "rollout" for e in tl) and not any(e["kind"] == "openlineage_run" for e in tl)
    d = doc["defaults"]
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    assert parse(d["baseline_since"]) < parse(d["baseline_until"]) == parse(d["since"]) < parse(d["until"])
    assert parse(d["until"]) > parse(info["profile"]["end"].replace("Z", "") + "+00:00")


async def test_invalid_values_are_named_errors_with_a_hint(jp_fetch, jp_root_dir, small_lake):
    bad = jp_root_dir / "bad"
    shutil.copytree(small_lake, bad)
    part = sorted((bad / "predictions").rglob("*.parquet"))[0]
    df = pl.read_parquet(part)
    df.with_columns(pl.when(pl.int_range(pl.len()) < 5).then(float("nan")).otherwise(pl.col("score"))
                    .alias("score")).write_parquet(part)
    doc = await _lake(jp_fetch, "bad")
    assert doc["ok"] is False and doc["info"] is not None
    [err] = doc["errors"]
    assert err["type"] == "InvalidValueError" and "`score`" in err["message"] and "fix the writer" in err["hint"]


async def test_a_lake_breaking_the_contract_is_shown_not_a_500(jp_fetch, jp_root_dir, small_lake):
    broken = jp_root_dir / "broken"
    shutil.copytree(small_lake, broken)
    manifest = broken / "workbench.yaml"
    manifest.write_text(manifest.read_text().replace("score: score", "score: no_such_column"))
    doc = await _lake(jp_fetch, "broken")
    assert doc["ok"] is False and doc["info"] is None
    [err] = doc["errors"]
    assert err["type"] == "ColumnNotFoundError" and "no_such_column" in err["message"]


async def test_triage_runs_in_the_background_and_writes_findings(jp_fetch, jp_root_dir, incident_lake):
    src, truth = incident_lake
    shutil.copytree(src, jp_root_dir / "incident")
    since = (truth.onset - dt.timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = await jp_fetch("workbench", "api", "triage", method="POST",
                       body=json.dumps({"lake": "incident", "since": since, "until": None, "output_dir": "reports"}))
    assert r.code == 202
    run_id = json.loads(r.body)["id"]
    deadline = time.monotonic() + 120
    while True:
        run = json.loads((await jp_fetch("workbench", "api", "triage", run_id)).body)
        if run["status"] != "running":
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert run["status"] == "done", run["message"]
    assert run["findings"]["verdict"]["cause"] == truth.cause == "schema_mismatch"
    assert run["progress"] and run["progress"][-1].startswith("done in")
    path = run["findings_path"]
    assert path.startswith(f"reports/triage-{truth.name}-") and path.endswith("/findings.json")
    assert json.loads((jp_root_dir / path).read_text()) == run["findings"]
    assert not (jp_root_dir / "incident" / "reports").exists()


async def test_triage_refusals_and_failures(jp_fetch, jp_root_dir, lake_in_root):
    async def refused(body, code=400):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("workbench", "api", "triage", method="POST", body=json.dumps(body))
        assert err.value.code == code
        return json.loads(err.value.response.body)

    doc = await refused({"lake": lake_in_root, "since": "last tuesday", "baseline_until": 5})
    assert set(doc["errors"]) == {"since", "baseline_until"}
    doc = await refused({"lake": lake_in_root, "output_dir": lake_in_root})
    assert doc["field"] == "output_dir"
    doc = await refused({"lake": "../elsewhere"}, code=404)
    assert doc["field"] == "lake"
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("workbench", "api", "triage", "nope")
    assert err.value.code == 404
    # a window after the data: triage's own named error, reported as the run's failure
    r = await jp_fetch("workbench", "api", "triage", method="POST",
                       body=json.dumps({"lake": lake_in_root, "since": "2099-01-01T00:00Z"}))
    run_id = json.loads(r.body)["id"]
    for _ in range(200):
        run = json.loads((await jp_fetch("workbench", "api", "triage", run_id)).body)
        if run["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert run["status"] == "failed" and "no predictions in the window" in run["message"]
    assert run["findings"] is None and run["findings_path"] is None


async def test_an_unexpected_error_is_json_without_a_traceback(jp_fetch, lake_in_root, monkeypatch):
    def boom(root, rel):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("workbench.jupyter.lakes.lake_payload", boom)
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("workbench", "api", "lake", params={"path": lake_in_root})
    assert err.value.code == 500
    doc = json.loads(err.value.response.body)
    assert doc == {"message": "internal error in the workbench server extension; the server log has the details",
                   "field": None, "errors": None}
