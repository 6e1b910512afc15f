"""Report jobs through the API: start, per-cell progress, success with outputs, failure naming the
cell, cancel, the concurrency cap, server stop, and reconciliation of records at start."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from workbench.jupyter.jobs import FINAL, INTERRUPTED, JobManager, read_json, write_json


async def _start(jp_fetch, body) -> dict:
    r = await jp_fetch("workbench", "api", "jobs", method="POST", body=json.dumps(body))
    assert r.code == 202
    return json.loads(r.body)["job"]


async def _get(jp_fetch, job_id) -> dict:
    return json.loads((await jp_fetch("workbench", "api", "jobs", job_id)).body)["job"]


async def _wait(jp_fetch, job_id, until=lambda j: j["status"] in FINAL, timeout=90, seen=None) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = await _get(jp_fetch, job_id)
        if seen is not None:
            seen.append(job)
        if until(job):
            return job
        assert time.monotonic() < deadline, f"job did not get there in {timeout} s: {job}"
        await asyncio.sleep(0.05)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may not reap orphans)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.1)
    return False


def _body(lake, templates_dir, template, **kw):
    return {"template": template, "lake": lake, "templates_dir": templates_dir, "params": {}, **kw}


async def test_a_job_reports_each_cell_and_succeeds(jp_fetch, jp_root_dir, templates_dir, lake_in_root):
    job = await _start(jp_fetch, _body(lake_in_root, templates_dir, "steps", params={"n": 2}))
    assert job["status"] in ("queued", "running") and job["template"] == "steps"
    assert job["params"] == {"n": 2} and job["lake"] == lake_in_root
    assert job["out_dir"].startswith("reports/steps-")
    seen: list[dict] = []
    job = await _wait(jp_fetch, job["id"], seen=seen)
    assert job["status"] == "succeeded", job
    # 6 code cells: the parameters, papermill's injected parameters, four steps of 0.4 s
    assert job["cells_total"] == 6 and job["cells_done"] == 6
    progress = sorted({j["cells_done"] for j in seen if j["status"] == "running"})
    assert len([k for k in progress if 0 < k < 6]) >= 3, progress  # watched cell by cell, not at the end
    assert {j["current_cell"] for j in seen if j["status"] == "running"} >= {"cell 5: import time", "cell 6: import time"}
    assert job["current_cell"] is None and job["message"] is None and job["failed_cell"] is None
    assert job["duration_s"] >= 1.6 and job["started"] and job["finished"]
    out = job["outputs"]
    assert out["html"] == f"{job['out_dir']}/report.html" and out["notebook"] == f"{job['out_dir']}/report.ipynb"
    assert (jp_root_dir / out["html"]).is_file() and (jp_root_dir / out["notebook"]).is_file()

    listed = json.loads((await jp_fetch("workbench", "api", "jobs")).body)["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    r = await jp_fetch("workbench", "api", "jobs", job["id"], method="DELETE")
    assert r.code == 200
    with pytest.raises(HTTPClientError) as err:
        await _get(jp_fetch, job["id"])
    assert err.value.code == 404
    assert (jp_root_dir / out["html"]).is_file()  # forgetting a job keeps its report


async def test_a_job_from_a_template_notebook_writes_findings(jp_fetch, jp_root_dir, templates_dir, lake_in_root):
    r = await jp_fetch("workbench", "api", "notebooks", method="POST", body=json.dumps(
        {"template": "tiny", "lake": lake_in_root, "templates_dir": templates_dir, "params": {"n": 21}}))
    nb_path = json.loads(r.body)["path"]
    job = await _start(jp_fetch, {"notebook": nb_path, "output_dir": "out"})
    assert job["template"] == "tiny" and job["params"] == {"n": 21} and job["out_dir"].startswith("out/tiny-")
    job = await _wait(jp_fetch, job["id"])
    assert job["status"] == "succeeded", job
    doc = json.loads((jp_root_dir / job["outputs"]["findings"]).read_text())
    assert doc["total"] == 42  # the notebook's parameters reached the run

    (jp_root_dir / "plain.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                                          "nbformat_minor": 5}))
    with pytest.raises(HTTPClientError) as err:
        await _start(jp_fetch, {"notebook": "plain.ipynb"})
    assert err.value.code == 400 and "not made from a workbench template" in err.value.response.body.decode()


async def test_a_failing_cell_is_named(jp_fetch, jp_root_dir, templates_dir, lake_in_root):
    job = await _start(jp_fetch, _body(lake_in_root, templates_dir, "broken"))
    job = await _wait(jp_fetch, job["id"])
    assert job["status"] == "failed"
    assert job["failed_cell"] == "cell 4: y = x / 0"
    assert "failed in cell 4" in job["message"] and "ZeroDivisionError" in job["message"]
    assert job["cells_done"] == 3 and job["cells_total"] == 5
    partial = jp_root_dir / job["outputs"]["notebook"]
    assert partial.is_file() and job["outputs"]["html"] is None


async def test_cancel_stops_the_process_and_its_kernel(jp_fetch, jp_root_dir, jobs_dir, templates_dir, lake_in_root):
    job = await _start(jp_fetch, _body(lake_in_root, templates_dir, "slow"))
    job = await _wait(jp_fetch, job["id"], until=lambda j: "time.sleep" in (j["current_cell"] or ""))
    pid = read_json(jobs_dir / job["id"] / "job.json")["pid"]
    kernel = int((jp_root_dir / job["out_dir"] / "kernel.pid").read_text())
    assert _running(pid) and _running(kernel)
    r = await jp_fetch("workbench", "api", "jobs", job["id"], "cancel", method="POST", body="{}")
    assert json.loads(r.body)["job"]["status"] == "cancelled"
    job = await _wait(jp_fetch, job["id"], until=lambda j: not _running(pid), timeout=10)
    assert job["status"] == "cancelled" and job["message"] == "cancelled by the user"
    assert _gone_within(kernel, 10), "the kernel outlived its cancelled job"
    # cancelling again, or a finished job, changes nothing; unknown ids are 404
    r = await jp_fetch("workbench", "api", "jobs", job["id"], "cancel", method="POST", body="{}")
    assert json.loads(r.body)["job"]["status"] == "cancelled"
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("workbench", "api", "jobs", "nope", "cancel", method="POST", body="{}")
    assert err.value.code == 404


async def test_the_cap_queues_jobs(jp_fetch, jobs_dir, templates_dir, lake_in_root):
    slow = await _start(jp_fetch, _body(lake_in_root, templates_dir, "slow", max_concurrent=1))
    second = await _start(jp_fetch, _body(lake_in_root, templates_dir, "tiny", max_concurrent=1))
    third = await _start(jp_fetch, _body(lake_in_root, templates_dir, "tiny", max_concurrent=1))
    assert slow["status"] == "running" and second["status"] == "queued" and third["status"] == "queued"
    with pytest.raises(HTTPClientError) as err:  # a queued job cannot be forgotten
        await jp_fetch("workbench", "api", "jobs", second["id"], method="DELETE")
    assert err.value.code == 409
    r = await jp_fetch("workbench", "api", "jobs", third["id"], "cancel", method="POST", body="{}")
    assert json.loads(r.body)["job"]["status"] == "cancelled"
    await jp_fetch("workbench", "api", "jobs", slow["id"], "cancel", method="POST", body="{}")
    second = await _wait(jp_fetch, second["id"])
    assert second["status"] == "succeeded"
    assert (await _get(jp_fetch, third["id"]))["started"] is None  # never ran
    for bad in (0, "2", True):
        with pytest.raises(HTTPClientError) as err:
            await _start(jp_fetch, _body(lake_in_root, templates_dir, "tiny", max_concurrent=bad))
        assert json.loads(err.value.response.body)["field"] == "max_concurrent"


async def test_output_inside_the_lake_is_refused(jp_fetch, templates_dir, lake_in_root):
    with pytest.raises(HTTPClientError) as err:
        await _start(jp_fetch, _body(lake_in_root, templates_dir, "tiny", output_dir=f"{lake_in_root}/reports"))
    doc = json.loads(err.value.response.body)
    assert err.value.code == 400 and doc["field"] == "output_dir" and "read-only" in doc["message"]


async def test_stopping_the_server_stops_jobs(jp_fetch, jp_serverapp, jobs_dir, templates_dir, lake_in_root):
    job = await _start(jp_fetch, _body(lake_in_root, templates_dir, "slow"))
    await _wait(jp_fetch, job["id"], until=lambda j: "time.sleep" in (j["current_cell"] or ""))
    pid = read_json(jobs_dir / job["id"] / "job.json")["pid"]
    app = jp_serverapp.extension_manager.extension_points["workbench"].app
    await app.stop_extension()
    assert not _running(pid)
    record = read_json(jobs_dir / job["id"] / "job.json")
    assert record["status"] == "failed" and record["message"] == INTERRUPTED
    # the next server start reads the same truth
    assert JobManager(jobs_dir).get(job["id"])["status"] == "failed"


def test_reconciliation_at_start(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    jobs = tmp_path / "jobs"

    def record(job_id, status, **kw):
        (jobs / job_id).mkdir(parents=True)
        job = {"id": job_id, "template": "t", "lake": "l", "params": {}, "status": status, "cells_done": 1,
               "cells_total": 4, "current_cell": "cell 2", "created": f"2026-01-01T00:00:0{len(job_id)}.000000Z",
               "started": "2026-01-01T00:00:00.000000Z", "finished": None, "duration_s": None,
               "out_dir": "reports/x", "outputs": {"html": None, "notebook": None, "findings": None},
               "message": None, "failed_cell": None, "pid": dead.pid, "max_concurrent": 2, **kw}
        write_json(jobs / job_id / "job.json", job)

    record("a", "running")  # its process is gone and it never said it finished
    record("bb", "running")  # gone, but its final status says it succeeded
    write_json(jobs / "bb" / "status.json", {"status": "succeeded", "cells_done": 4, "cells_total": 4,
                                             "finished": "2026-01-01T00:01:00.000000Z",
                                             "outputs": {"html": "/r/report.html", "notebook": "/r/report.ipynb",
                                                         "findings": None}})
    record("ccc", "running")  # gone after writing a failure
    write_json(jobs / "ccc" / "status.json", {"status": "failed", "message": "template 't' failed in cell 3",
                                              "failed_cell": "cell 3: boom()", "finished": "2026-01-01T00:01:00.000000Z"})
    record("dddd", "succeeded", finished="2026-01-01T00:02:00.000000Z")
    (jobs / "junk").mkdir()  # no record: ignored

    manager = JobManager(jobs, relative=lambda p: Path(p).name)
    a = manager.get("a")
    assert a["status"] == "failed" and a["message"] == INTERRUPTED and a["current_cell"] is None
    bb = manager.get("bb")
    assert bb["status"] == "succeeded" and bb["outputs"]["html"] == "report.html" and bb["duration_s"] == 60.0
    ccc = manager.get("ccc")
    assert ccc["status"] == "failed" and ccc["failed_cell"] == "cell 3: boom()"
    assert manager.get("dddd")["status"] == "succeeded"
    assert [j["id"] for j in manager.list()] == ["dddd", "ccc", "bb", "a"]
    assert read_json(jobs / "a" / "job.json")["status"] == "failed"  # settled on disk too
    assert manager.running == 0


def test_a_child_that_outlived_its_server_is_adopted(tmp_path, monkeypatch):
    jobs = tmp_path / "jobs"
    (jobs / "e").mkdir(parents=True)
    # stands in for a job runner whose server was killed: its command line names its job folder;
    # it ignores SIGTERM, so the cancel must escalate to SIGKILL after the grace period
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code, str(jobs / "e")], start_new_session=True)
    monkeypatch.setattr("workbench.jupyter.jobs.GRACE_S", 0.3)
    try:
        cmdline = Path(f"/proc/{child.pid}/cmdline")
        deadline = time.monotonic() + 10
        while cmdline.exists() and str(jobs / "e").encode() not in cmdline.read_bytes():  # until it has exec'd
            assert time.monotonic() < deadline
            time.sleep(0.01)
        write_json(jobs / "e" / "job.json", {
            "id": "e", "template": "t", "lake": "l", "params": {}, "status": "running", "cells_done": 0,
            "cells_total": None, "current_cell": None, "created": "2026-01-01T00:00:00.000000Z",
            "started": "2026-01-01T00:00:00.000000Z", "finished": None, "duration_s": None, "out_dir": "r",
            "outputs": {}, "message": None, "failed_cell": None, "pid": child.pid, "max_concurrent": 2})
        manager = JobManager(jobs)
        assert manager.get("e")["status"] == "running" and manager.running == 1
        time.sleep(0.2)  # let it install its handler
        assert manager.cancel("e")["status"] == "cancelled"
        deadline = time.monotonic() + 10
        while child.poll() is None:  # the poller's SIGKILL, once the grace period is over
            assert time.monotonic() < deadline, "SIGTERM was ignored and nothing escalated"
            manager.poll()
            time.sleep(0.05)
        assert child.returncode == -9
        manager.poll()
        assert manager.running == 0 and manager.get("e")["status"] == "cancelled"
    finally:
        child.kill()
        child.wait()
