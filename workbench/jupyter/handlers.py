"""The HTTP API under ``{base_url}workbench/api/``, the one the JupyterLab front end calls.

Thin handlers: each reads JSON, checks paths (:mod:`~workbench.jupyter.paths`) and inputs, and
calls the package. Every verb is ``@tornado.web.authenticated``; no GET changes state; XSRF
checks are Jupyter's. Errors are JSON: ``{"message", "field", "errors"}``.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async
from tornado.ioloop import IOLoop

from workbench.exceptions import WorkbenchError
from workbench.jupyter.errors import ApiError, from_workbench_error
from workbench.jupyter.forms import check_lake, check_params, get_template, template_dirs, template_json, templates
from workbench.jupyter.paths import Root, safe_name, stamp, unique_dir

__all__ = ["API", "routes"]

API = "workbench/api"
TIME_FIELDS = ("since", "until", "baseline_since", "baseline_until")


class WorkbenchHandler(APIHandler):
    """Shared plumbing: the extension's services, JSON in and out, errors as the contract's body."""

    @property
    def root(self) -> Root:
        return self.settings["workbench_api"]["root"]

    @property
    def jobs(self):
        return self.settings["workbench_api"]["jobs"]

    @property
    def triage_runs(self):
        return self.settings["workbench_api"]["triage"]

    def body(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.request.body or b"{}")
        except ValueError:
            raise ApiError(400, "the request body is not JSON") from None
        if not isinstance(doc, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return doc

    def reply(self, payload: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))

    async def blocking(self, fn, *args, **kwargs):
        """Run ``fn`` (reads data, imports papermill) off the event loop."""
        return await IOLoop.current().run_in_executor(None, functools.partial(fn, *args, **kwargs))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, WorkbenchError):  # a user's input the package refused: say which and why
            exc = from_workbench_error(exc)
            self.set_status(exc.status_code)
        if isinstance(exc, ApiError):
            body = exc.body()
        elif isinstance(exc, tornado.web.HTTPError):
            body = {"message": exc.log_message or exc.reason or f"HTTP {status_code}", "field": None, "errors": None}
        else:
            body = {"message": "internal error in the workbench server extension; the server log has the details",
                    "field": None, "errors": None}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, WorkbenchError):
            self.log.warning("workbench: %s %s: %s", self.request.method, self.request.path,
                             str(value).split("\n")[0])
            return
        super().log_exception(typ, value, tb)

    # -- shared checks ----------------------------------------------------------------------
    def times(self, body: dict[str, Any]) -> dict[str, str | None]:
        """The window fields of ``body``: None or ISO-8601 text that parses (else a 400 per field)."""
        from workbench.exceptions import TimestampError
        from workbench.lake.timestamps import parse_time

        out, errors = {}, {}
        for name in TIME_FIELDS:
            value = body.get(name)
            if value in (None, ""):
                out[name] = None
                continue
            try:
                if not isinstance(value, str):
                    raise TimestampError("not text")
                parse_time(value, what=name)
                out[name] = value
            except TimestampError:
                errors[name] = f"`{name}` is not a time: expected ISO-8601 such as 2026-03-12T00:00Z (UTC " \
                               f"unless an offset is given), got {value!r:.60}"
        if errors:
            first = next(iter(errors))
            raise ApiError(400, errors[first], field=first, errors=errors)
        return out

    def output_parent(self, body: dict[str, Any], lake) -> Any:
        """The output folder (default ``reports``), confined to the root and outside the lake."""
        path = self.root.resolve(body.get("output_dir") or "reports", field="output_dir", kind="dir",
                                 must_exist=False)
        if path == lake or lake in path.parents:
            raise ApiError(400, "`output_dir` is inside the lake; the workbench never writes into a lake "
                                "(it is read-only): choose a folder outside it", field="output_dir")
        return path

    def folder(self, body: dict[str, Any], lake) -> str:
        """The folder for a new notebook: ``folder`` from the body, else the lake's parent."""
        if body.get("folder") not in (None, ""):
            return self.root.relative(self.root.resolve(body["folder"], field="folder", kind="dir"))
        rel = self.root.relative(lake)
        return posixpath.dirname(rel)


def lake_name(lake) -> str:
    from workbench.lake.manifest import read_manifest

    return safe_name(read_manifest(lake).name)


class ConfigHandler(WorkbenchHandler):
    @tornado.web.authenticated
    def get(self):
        """What the panel needs at start: the lakes to open (those inside the root that exist)."""
        lakes = []
        for p in self.settings["workbench_api"].get("open_lakes") or ():
            try:
                lakes.append(self.root.relative(self.root.resolve(p, field="open_lakes", kind="dir")))
            except ApiError as exc:
                self.log.warning("workbench: open_lakes: %s", exc.body()["message"])
        self.reply({"open_lakes": lakes})


class LakeHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self):
        from workbench.jupyter.lakes import lake_payload

        path = self.get_query_argument("path", None)
        if path is None:
            raise ApiError(400, "`path` is required: the lake's folder relative to the server root", field="path")
        self.reply(await self.blocking(lake_payload, self.root, path))


class TriageHandler(WorkbenchHandler):
    @tornado.web.authenticated
    def post(self):
        body = self.body()
        lake = check_lake(self.root, body.get("lake"))
        window = self.times(body)
        out_parent = self.output_parent(body, lake)
        run_id = self.triage_runs.submit(lake=lake, lake_name=lake_name(lake), out_parent=out_parent, **window)
        self.reply({"id": run_id}, 202)


class TriageStatusHandler(WorkbenchHandler):
    @tornado.web.authenticated
    def get(self, run_id):
        run = self.triage_runs.get(run_id)
        if run is None:
            raise ApiError(404, f"no triage run {run_id!r} (runs are kept until the server restarts)")
        self.reply(run)


class TemplatesHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def get(self):
        found = await self.blocking(templates, self.root, self.get_query_argument("templates_dir", None))
        self.reply({"templates": [template_json(t) for t in found.values()]})


class ValidateHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self, name):
        body = self.body()
        t = await self.blocking(get_template, self.root, name, body.get("templates_dir"))
        params = body.get("params") or {}
        values = check_params(self.root, t, params)
        # path values as the client gave them (relative), not the absolute paths the runner gets
        shown = {k: params[k] if k == "lake" or k.endswith("_file") else v for k, v in values.items()}
        self.reply({"ok": True, "params": shown})


class NotebooksHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self):
        from workbench.jupyter.notebooks import notebook_name, save_new, template_notebook

        body = self.body()
        t = await self.blocking(get_template, self.root, body.get("template"), body.get("templates_dir"))
        lake = check_lake(self.root, body.get("lake"))
        values = check_params(self.root, t, {k: v for k, v in (body.get("params") or {}).items() if k != "lake"}
                              if isinstance(body.get("params"), dict) else body.get("params"))
        values["lake"] = str(lake)
        folder = self.folder(body, lake)
        nb = template_notebook(t, values, folder=str(self.root.path / folder), lake=self.root.relative(lake))
        tdir = template_dirs(self.root, body.get("templates_dir"))
        nb.metadata["workbench"]["templates_dir"] = self.root.relative(tdir) if tdir else None
        name = notebook_name(body.get("name"), f"{safe_name(t.name)}-{lake_name(lake)}.ipynb")
        path = await save_new(self.contents_manager, nb, folder, name)
        self.reply({"path": path}, 201)


class ExploreHandler(WorkbenchHandler):
    @tornado.web.authenticated
    async def post(self):
        from workbench.jupyter.notebooks import explore_notebook, save_new

        body = self.body()
        lake = check_lake(self.root, body.get("lake"))
        since = self.times({"since": body.get("since")})["since"]
        folder = self.folder(body, lake)
        nb = explore_notebook(os.path.relpath(lake, self.root.path / folder), since, lake=self.root.relative(lake))
        path = await save_new(self.contents_manager, nb, folder, f"explore-{lake_name(lake)}.ipynb")
        self.reply({"path": path}, 201)


class JobsHandler(WorkbenchHandler):
    @tornado.web.authenticated
    def get(self):
        self.jobs.poll(start=False)
        self.reply({"jobs": self.jobs.list()})

    @tornado.web.authenticated
    async def post(self):
        body, base = self.body(), ""
        if body.get("notebook") not in (None, ""):
            spec = await self.from_notebook(body["notebook"])
            base = spec.pop("base")
            body = {**body, **spec}
        t = await self.blocking(get_template, self.root, body.get("template"), body.get("templates_dir"))
        tdir = template_dirs(self.root, body.get("templates_dir"))
        lake = check_lake(self.root, body.get("lake"))
        params = body.get("params") or {}
        values = check_params(self.root, t, params, base=base)
        values.pop("lake", None)
        limit = body.get("max_concurrent")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise ApiError(400, f"`max_concurrent` must be a whole number >= 1, got {limit!r}", field="max_concurrent")
        out = unique_dir(self.output_parent(body, lake), f"{safe_name(t.name)}-{lake_name(lake)}-{stamp()}")
        out.mkdir(parents=True)  # claimed now: two jobs started in the same second get two folders
        run = {"template": t.name, "templates_dir": str(tdir) if tdir else None, "lake": str(lake),
               "params": values, "out": str(out)}
        job = self.jobs.submit(template=t.name, lake=self.root.relative(lake), params=params, run=run,
                               out_dir=self.root.relative(out), max_concurrent=limit)
        self.reply({"job": job}, 202)

    async def from_notebook(self, rel) -> dict[str, Any]:
        """Template, lake and parameters of a notebook made from a template (its metadata)."""
        path = self.root.resolve(rel, field="notebook", kind="file")
        nb_rel = self.root.relative(path)
        try:
            model = await ensure_async(self.contents_manager.get(nb_rel, content=True, type="notebook"))
        except tornado.web.HTTPError as exc:
            raise ApiError(400, f"`notebook`: {nb_rel!r} is not a notebook ({exc.log_message})", field="notebook") \
                from None
        meta = model["content"]["metadata"]
        wb = meta.get("workbench") or {}
        if not wb.get("template") or not wb.get("lake"):
            raise ApiError(400, f"`notebook`: {nb_rel!r} was not made from a workbench template (its metadata "
                                "has no workbench.template and workbench.lake); create it from the launcher",
                           field="notebook")
        params = dict((meta.get("papermill") or {}).get("parameters") or {})
        params.pop("lake", None)  # relative to the notebook; workbench.lake is relative to the root
        return {"template": wb["template"], "lake": wb["lake"], "templates_dir": wb.get("templates_dir"),
                "params": params, "base": posixpath.dirname(nb_rel)}


class JobHandler(WorkbenchHandler):
    def _job(self, job_id):
        self.jobs.poll(start=False)
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no report job {job_id!r}")
        return job

    @tornado.web.authenticated
    def get(self, job_id):
        self.reply({"job": self._job(job_id)})

    @tornado.web.authenticated
    def delete(self, job_id):
        self._job(job_id)
        if not self.jobs.delete(job_id):
            raise ApiError(409, f"report job {job_id!r} is still queued or running; cancel it first")
        self.reply({"id": job_id, "deleted": True})


class JobCancelHandler(WorkbenchHandler):
    @tornado.web.authenticated
    def post(self, job_id):
        job = self.jobs.cancel(job_id)
        if job is None:
            raise ApiError(404, f"no report job {job_id!r}")
        self.reply({"job": job})


ID = r"(?P<{}>[A-Za-z0-9_-]+)"


def routes() -> list[tuple[str, type]]:
    """URL patterns (relative to the server's base URL) and their handlers."""
    return [
        (f"{API}/config", ConfigHandler),
        (f"{API}/lake", LakeHandler),
        (f"{API}/triage", TriageHandler),
        (f"{API}/triage/{ID.format('run_id')}", TriageStatusHandler),
        (f"{API}/templates", TemplatesHandler),
        (f"{API}/templates/(?P<name>[^/]+)/validate", ValidateHandler),
        (f"{API}/notebooks", NotebooksHandler),
        (f"{API}/explore", ExploreHandler),
        (f"{API}/jobs", JobsHandler),
        (f"{API}/jobs/{ID.format('job_id')}", JobHandler),
        (f"{API}/jobs/{ID.format('job_id')}/cancel", JobCancelHandler),
    ]
