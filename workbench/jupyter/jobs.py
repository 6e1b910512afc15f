"""Report jobs: each run of a template is a child process, its state kept on disk.

Layout of the jobs directory (``$WORKBENCH_JOBS_DIR`` or ``<jupyter data dir>/workbench/jobs``)::

    <job id>/
      request.json   what the child runs: template, templates_dir, lake, params, out (absolute)
      job.json       the server's record: the contract's job fields plus pid, max_concurrent
      status.json    written by the child (atomically) after every cell, then its final status
      log.txt        the child's stdout and stderr

The child is ``python -m workbench.jupyter.job_runner <job dir>``, started from an argument list in
a new session (its own process group, so a cancel stops it and everything it started). At start
the manager reconciles what it finds: a job recorded running whose process is gone is failed
("interrupted") unless the child's final status says otherwise, so a status never claims more
than happened. Everything here runs on the server's event loop (no locks).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

__all__ = ["FINAL", "JobManager", "default_jobs_dir", "read_json", "write_json"]

#: Statuses a job never leaves.
FINAL = ("succeeded", "failed", "cancelled")
#: Seconds a cancelled or stopped child gets after SIGTERM before SIGKILL.
GRACE_S = 5.0
INTERRUPTED = "interrupted: the server stopped before the report finished"


def default_jobs_dir() -> Path:
    """``$WORKBENCH_JOBS_DIR``, else ``workbench/jobs`` under Jupyter's data directory."""
    env = os.environ.get("WORKBENCH_JOBS_DIR")
    if env:
        return Path(env)
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "workbench" / "jobs"


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(t: str | None) -> dt.datetime | None:
    return dt.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc) if t else None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object, or None when the file is missing or half-written (never raises)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write atomically: readers see the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _alive(pid: int | None, job_dir: Path) -> bool:
    """Is ``pid`` running and (where /proc tells) the runner of ``job_dir``? Guards against pid reuse."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.parent.is_dir():
        try:
            return str(job_dir).encode() in cmdline.read_bytes()
        except OSError:
            return False
    return True


def _killpg(pid: int | None, sig: int) -> None:
    if not pid:
        return
    try:
        os.killpg(pid, sig)  # the child leads its own process group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


class JobManager:
    """Start, watch, cancel and remember report jobs.

    Parameters
    ----------
    jobs_dir : path
        Where job records live (created).
    relative : callable
        Absolute output path -> the path clients see (relative to the server root).
    max_concurrent : int
        Jobs running at once unless a request says otherwise; more wait, ``queued``.
    python : str
        Interpreter of the children (this one by default).

    Call :meth:`poll` periodically (the server does, every half second): it reaps finished
    children and starts queued jobs.
    """

    def __init__(self, jobs_dir: str | os.PathLike, *, relative: Callable[[str], str] = str,
                 max_concurrent: int = 2, python: str = sys.executable) -> None:
        self.dir = Path(jobs_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.relative = relative
        self.max_concurrent = max_concurrent
        self.python = python
        self._procs: dict[str, subprocess.Popen | None] = {}  # running: our child, or None if adopted
        self._stopping: dict[str, float] = {}  # job id -> when SIGTERM was sent
        self._jobs: dict[str, dict[str, Any]] = {}
        self._reconcile()

    # -- records --------------------------------------------------------------------------
    def _save(self, job: dict[str, Any]) -> None:
        write_json(self.dir / job["id"] / "job.json", job)

    def _reconcile(self) -> None:
        for d in sorted(p for p in self.dir.iterdir() if p.is_dir()):
            job = read_json(d / "job.json")
            if job is None or job.get("id") != d.name:
                continue
            self._jobs[job["id"]] = job
            if job["status"] != "running":
                continue
            if _alive(job.get("pid"), d):
                self._procs[job["id"]] = None  # adopted: a child that outlived a killed server
            else:
                self._finish(job, returncode=None)

    def submit(self, *, template: str, lake: str, params: dict[str, Any], run: dict[str, Any],
               out_dir: str, max_concurrent: int | None = None) -> dict[str, Any]:
        """Record a job (``queued``) and start it if a slot is free.

        ``template``, ``lake``, ``params``, ``out_dir`` are what clients see; ``run`` is what the
        child gets (absolute paths, validated values): see ``job_runner``.
        """
        job_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        d = self.dir / job_id
        d.mkdir()
        write_json(d / "request.json", run)
        job = {"id": job_id, "template": template, "lake": lake, "params": params, "status": "queued",
               "cells_done": 0, "cells_total": None, "current_cell": None, "created": now(), "started": None,
               "finished": None, "duration_s": None, "out_dir": out_dir,
               "outputs": {"html": None, "notebook": None, "findings": None}, "message": None,
               "failed_cell": None, "pid": None,
               "max_concurrent": max_concurrent if max_concurrent else self.max_concurrent}
        self._save(job)
        self._jobs[job_id] = job
        self.poll()
        return self.get(job_id)

    # -- the loop ---------------------------------------------------------------------------
    def poll(self, *, start: bool = True) -> None:
        """Reap children that ended, escalate stuck cancels, and (``start``) start queued jobs while
        slots are free. Readers pass ``start=False``: a GET settles what happened, changes nothing."""
        for job_id in list(self._procs):
            job = self._jobs[job_id]
            proc = self._procs[job_id]
            if proc is not None:
                ended, code = proc.poll() is not None, proc.returncode
            else:  # adopted: not our child, no exit status to read
                ended, code = not _alive(job["pid"], self.dir / job_id), None
            if not ended:
                started = self._stopping.get(job_id)
                if started is not None and time.monotonic() - started > GRACE_S:
                    _killpg(job["pid"], signal.SIGKILL)
                continue
            del self._procs[job_id]
            self._stopping.pop(job_id, None)
            self._finish(job, returncode=code)
        if not start:
            return
        queued = sorted((j for j in self._jobs.values() if j["status"] == "queued"), key=lambda j: j["created"])
        for job in queued:
            if len(self._procs) >= job["max_concurrent"]:
                break
            self._start(job)

    def _start(self, job: dict[str, Any]) -> None:
        d = self.dir / job["id"]
        with open(d / "log.txt", "ab") as log:
            proc = subprocess.Popen([self.python, "-m", "workbench.jupyter.job_runner", str(d)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=str(d), start_new_session=True)
        self._procs[job["id"]] = proc
        job.update(status="running", started=now(), pid=proc.pid)
        self._save(job)

    def _finish(self, job: dict[str, Any], *, returncode: int | None) -> None:
        """Settle a job whose process is gone, from the child's final status when it wrote one."""
        st = read_json(self.dir / job["id"] / "status.json") or {}
        final = st.get("status") if st.get("status") in ("succeeded", "failed") else None
        self._merge(job, st)
        if final == "succeeded" or (final and job["status"] != "cancelled"):
            job["status"] = final
            job["message"] = st.get("message")
            job["failed_cell"] = st.get("failed_cell")
        elif job["status"] == "cancelled":
            pass  # cancelled by the user, before the report was complete
        else:
            job["status"] = "failed"
            job["message"] = INTERRUPTED if returncode is None else \
                f"the report process ended (exit status {returncode}) before it finished; see log.txt in the job record"
        job["finished"] = st.get("finished") if final else (job.get("finished") or now())
        started, finished = _parse(job.get("started")), _parse(job.get("finished"))
        job["duration_s"] = round((finished - started).total_seconds(), 3) if started and finished else None
        job["current_cell"] = None
        self._save(job)

    def _merge(self, job: dict[str, Any], st: dict[str, Any]) -> None:
        for k in ("cells_done", "cells_total", "current_cell"):
            if k in st:
                job[k] = st[k]
        outputs = st.get("outputs") or {}
        job["outputs"] = {k: (self.relative(v) if v else None) for k, v in
                          {"html": outputs.get("html"), "notebook": outputs.get("notebook"),
                           "findings": outputs.get("findings")}.items()}

    # -- queries and actions -------------------------------------------------------------------
    def get(self, job_id: str) -> dict[str, Any] | None:
        """The contract's view of a job (live progress while it runs), or None."""
        job = self._jobs.get(job_id)
        if job is None:
            return None
        view = dict(job)
        if view["status"] == "running":
            st = read_json(self.dir / job_id / "status.json") or {}
            self._merge(view, st)
            view["phase"] = st.get("phase")
            started = _parse(view["started"])
            view["duration_s"] = round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 3)
        for k in ("pid", "max_concurrent"):
            view.pop(k, None)
        return view

    def list(self) -> list[dict[str, Any]]:
        """Every job, newest first."""
        return [self.get(i) for i in sorted(self._jobs, key=lambda i: self._jobs[i]["created"], reverse=True)]

    @property
    def running(self) -> int:
        return len(self._procs)

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """Stop a queued or running job (SIGTERM to its process group); a finished one is left as is."""
        self.poll()
        job = self._jobs.get(job_id)
        if job is None:
            return None
        if job["status"] in ("queued", "running"):
            if job["status"] == "running":
                _killpg(job["pid"], signal.SIGTERM)
                self._stopping[job_id] = time.monotonic()
            job.update(status="cancelled", message="cancelled by the user", finished=now())
            self._save(job)
            if job_id not in self._procs:  # queued: nothing to reap
                self._finish(job, returncode=None)
        return self.get(job_id)

    def delete(self, job_id: str) -> bool | None:
        """Forget a finished job (its record, not the report it wrote). None: unknown; False: not finished."""
        job = self._jobs.get(job_id)
        if job is None:
            return None
        if job["status"] not in FINAL or job_id in self._procs:
            return False
        shutil.rmtree(self.dir / job_id, ignore_errors=True)
        del self._jobs[job_id]
        return True

    def shutdown(self, timeout: float = GRACE_S) -> None:
        """Stop every child (SIGTERM, then SIGKILL after ``timeout``); their jobs become failed
        ("interrupted") unless they finished meanwhile. Queued jobs stay queued for the next start."""
        if not self._procs:
            return
        for job_id in self._procs:
            _killpg(self._jobs[job_id]["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._procs and time.monotonic() < deadline:
            for job_id, proc in list(self._procs.items()):
                gone = proc.poll() is not None if proc is not None else not _alive(self._jobs[job_id]["pid"],
                                                                                    self.dir / job_id)
                if gone:
                    del self._procs[job_id]
                    self._finish(self._jobs[job_id], returncode=None)
            time.sleep(0.05)
        for job_id, proc in list(self._procs.items()):
            _killpg(self._jobs[job_id]["pid"], signal.SIGKILL)
            if proc is not None:
                proc.wait(timeout=5)
            del self._procs[job_id]
            self._finish(self._jobs[job_id], returncode=None)
