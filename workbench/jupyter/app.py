"""The server extension as a Jupyter ``ExtensionApp``: settings, handlers, a polling loop for
report jobs, and a shutdown hook that stops their processes with the server."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
import os

from traitlets import Integer, List, Unicode, default

from workbench.jupyter.handlers import routes
from workbench.jupyter.jobs import JobManager, default_jobs_dir
from workbench.jupyter.paths import Root
from workbench.jupyter.triage import TriageRuns

__all__ = ["WorkbenchApp"]


class WorkbenchApp(ExtensionApp):
    """Serves ``{base_url}workbench/api/``: lakes, triage, templates, notebooks and report jobs."""

    name = "workbench"
    load_other_extensions = True

    jobs_dir = Unicode(help="Where report jobs are recorded (default: $WORKBENCH_JOBS_DIR, else "
                            "workbench/jobs under Jupyter's data directory).").tag(config=True)
    max_concurrent = Integer(2, help="Report jobs running at once when a request does not say.").tag(config=True)
    poll_ms = Integer(500, help="How often (ms) report jobs are checked for progress and completion.").tag(config=True)

    open_lakes = List(Unicode(), help="Lakes (folders relative to the server root) the panel opens at start "
                                      "(default: $WORKBENCH_OPEN_LAKES, separated by the path separator; "
                                      "`make lab` opens the demo lake).").tag(config=True)

    @default("open_lakes")
    def _default_open_lakes(self) -> list[str]:
        return [p for p in os.environ.get("WORKBENCH_OPEN_LAKES", "").split(os.pathsep) if p]

    @default("jobs_dir")
    def _default_jobs_dir(self) -> str:
        return str(default_jobs_dir())

    def initialize_settings(self) -> None:
        root = Root(self.serverapp.root_dir)
        self.jobs = JobManager(self.jobs_dir, relative=root.relative, max_concurrent=self.max_concurrent)
        self.triage_runs = TriageRuns(relative=root.relative)
        self._poller: PeriodicCallback | None = None
        self.settings["workbench_api"] = {"root": root, "jobs": self.jobs, "triage": self.triage_runs,
                                          "open_lakes": list(self.open_lakes)}

    def initialize_handlers(self) -> None:
        self.handlers.extend(routes())

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        self._poller = PeriodicCallback(self.jobs.poll, self.poll_ms)
        self._poller.start()

    def current_activity(self):
        """Running report jobs count as activity (an idle-culled server would kill them)."""
        return self.jobs.running > 0 or None

    async def stop_extension(self) -> None:
        """Stop the report processes (their jobs become failed, "interrupted") and the triage queue."""
        if self._poller is not None:
            self._poller.stop()
        self.jobs.shutdown()
        self.triage_runs.shutdown()
