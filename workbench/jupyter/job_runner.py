"""The child process of a report job: ``python -m workbench.jupyter.job_runner JOB_DIR``.

Reads ``JOB_DIR/request.json``, runs :func:`workbench.report.runner.run_report` (the runner of
``workbench report``) and keeps ``JOB_DIR/status.json`` current: after every cell (cells done,
cells in all, the cell running), then the final status: ``succeeded`` with the outputs, or
``failed`` with the message and the failing cell.

Per-cell progress comes from papermill's engine interface: this process registers
:class:`ProgressEngine` (papermill's nbclient engine, reporting each cell's start and end) as
papermill's default engine. The process runs one report and exits, so nothing else sees it.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from papermill.engines import NBClientEngine, papermill_engines

from workbench.exceptions import ReportError, WorkbenchError
from workbench.jupyter.jobs import now, read_json, write_json
from workbench.report.runner import run_report

__all__ = ["ProgressEngine", "StatusFile", "main"]


class StatusFile:
    """``status.json``, rewritten atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.doc: dict[str, Any] = {"status": "running", "phase": "starting", "cells_done": 0, "cells_total": None,
                                    "current_cell": None, "failed_cell": None, "message": None, "outputs": None,
                                    "updated": now()}

    def update(self, **kw: Any) -> None:
        self.doc.update(kw, updated=now())
        write_json(self.path, self.doc)


def cell_label(cell, index: int) -> str:
    """``cell 4: wb.triage(lake, since=since)``: the index in the executed notebook and its first line."""
    first = next((line.strip() for line in str(cell.source).splitlines() if line.strip()), "")
    return f"cell {index}: {first[:70]}" if first else f"cell {index}"


class ProgressEngine(NBClientEngine):
    """Papermill's nbclient engine, telling :attr:`status` when each code cell starts and ends."""

    status: StatusFile | None = None
    failed_cell: str | None = None

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        status = cls.status
        if status is not None:
            total = sum(c.cell_type == "code" for c in nb_man.nb.cells)
            status.update(phase="running cells", cells_total=total, cells_done=0)
        start, complete, exception = nb_man.cell_start, nb_man.cell_complete, nb_man.cell_exception

        def cell_start(cell, cell_index=None, **kw):
            start(cell, cell_index, **kw)
            if status is not None and cell.cell_type == "code":
                status.update(current_cell=cell_label(cell, cell_index))

        def cell_exception(cell, cell_index=None, **kw):
            cls.failed_cell = cell_label(cell, cell_index)  # papermill calls this before cell_complete
            exception(cell, cell_index, **kw)

        def cell_complete(cell, cell_index=None, **kw):
            complete(cell, cell_index, **kw)
            if status is not None and cell.cell_type == "code" and cls.failed_cell is None:
                status.update(cells_done=status.doc["cells_done"] + 1, current_cell=None)

        nb_man.cell_start, nb_man.cell_complete, nb_man.cell_exception = cell_start, cell_complete, cell_exception
        try:
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
        finally:
            if status is not None:
                status.update(current_cell=None, phase="writing report.html")


def main(argv: list[str] | None = None) -> int:
    """Run the job in ``argv[0]``; the exit status is 0 when the report succeeded."""
    job_dir = Path((argv if argv is not None else sys.argv[1:])[0])
    status = StatusFile(job_dir / "status.json")
    status.update()
    req = read_json(job_dir / "request.json")
    ProgressEngine.status = status
    papermill_engines.register(None, ProgressEngine)  # the engine run_report's papermill call uses
    try:
        res = run_report(req["template"], lake=req["lake"], params=req["params"], out=req["out"],
                         templates_dir=req.get("templates_dir"), kernel_name=req.get("kernel_name", "python3"))
    except ReportError as exc:
        status.update(status="failed", phase=None, message=exc.message,
                      failed_cell=ProgressEngine.failed_cell, outputs={"notebook": exc.file}, finished=now())
        return 1
    except WorkbenchError as exc:
        status.update(status="failed", phase=None, message=str(exc), finished=now())
        return 1
    except Exception as exc:  # reported, not hidden: the traceback goes to log.txt
        traceback.print_exc()
        status.update(status="failed", phase=None, message=f"{type(exc).__name__}: {exc}", finished=now())
        return 1
    status.update(status="succeeded", phase=None, current_cell=None, finished=now(),
                  outputs={"html": res.html, "notebook": res.notebook, "findings": res.findings})
    return 0


if __name__ == "__main__":
    sys.exit(main())
