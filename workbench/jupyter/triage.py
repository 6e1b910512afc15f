"""Triage from the panel: :func:`workbench.rca.triage` in a worker thread, one run at a time.

Each run keeps the progress messages triage reports; on success the findings document is written
to ``<output_dir>/triage-<lake name>-<UTC stamp>/findings.json``. Runs live in memory: the
findings file is what lasts.
"""

from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from workbench.exceptions import WorkbenchError
from workbench.jupyter.paths import stamp, unique_dir

__all__ = ["TriageRuns"]

log = logging.getLogger(__name__)


class TriageRuns:
    """Triage runs of one server, executed one after another in a worker thread.

    Parameters
    ----------
    relative : callable
        Absolute path -> the path clients see (relative to the server root).
    """

    def __init__(self, *, relative: Callable[[str], str] = str) -> None:
        self.relative = relative
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-triage")
        self._runs: dict[str, dict[str, Any]] = {}

    def submit(self, *, lake: Path, lake_name: str, out_parent: Path, since=None, until=None,
               baseline_since=None, baseline_until=None) -> str:
        """Queue a run; its id. Times are ISO-8601 text or None (the lake's default window)."""
        run_id = uuid.uuid4().hex[:12]
        self._runs[run_id] = {"id": run_id, "status": "running", "progress": [], "message": None,
                              "findings": None, "findings_path": None}
        self._pool.submit(self._run, run_id, lake, lake_name, out_parent,
                          dict(since=since, until=until, baseline_since=baseline_since, baseline_until=baseline_until))
        return run_id

    def get(self, run_id: str) -> dict[str, Any] | None:
        run = self._runs.get(run_id)
        return None if run is None else {**run, "progress": list(run["progress"])}

    def _run(self, run_id: str, lake: Path, lake_name: str, out_parent: Path, window: dict[str, Any]) -> None:
        from workbench.lake import open_lake
        from workbench.lake.windows import default_windows
        from workbench.rca import triage

        run = self._runs[run_id]
        say = run["progress"].append
        try:
            opened = open_lake(lake)
            if not window["since"]:  # triage wants a window start: the panel's default
                window["since"] = default_windows(*opened.time_range(), hourly=True).start
            findings = triage(opened, **window, progress=say)
            doc = findings.to_dict()
            out = unique_dir(out_parent, f"triage-{lake_name}-{stamp()}")
            out.mkdir(parents=True)
            (out / "findings.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
        except WorkbenchError as exc:
            run.update(status="failed", message=str(exc))
            return
        except Exception as exc:  # a bug, not the user's input: said as such, traceback in the server log
            log.exception("workbench triage failed")
            run.update(status="failed", message=f"triage failed unexpectedly: {type(exc).__name__}: {exc}")
            return
        run.update(status="done", findings=doc, findings_path=self.relative(out / "findings.json"),
                   message=f"triage {findings.incomplete}; the verdict covers only the others"
                   if findings.incomplete else None)

    def shutdown(self) -> None:
        """Drop queued runs; a run in progress finishes in its thread (triage cannot be interrupted)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
