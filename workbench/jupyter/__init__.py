"""The JupyterLab server extension: an HTTP API over lakes, triage, templates and report jobs.

Enabled with ``{"ServerApp": {"jpserver_extensions": {"workbench.jupyter": true}}}``; routes live
under ``{base_url}workbench/api/`` (see :mod:`workbench.jupyter.handlers`). Importing this package
imports nothing heavy: Jupyter and the handlers load when the server loads the extension.
"""

from __future__ import annotations

__all__: list[str] = []


def _jupyter_server_extension_points() -> list[dict]:
    """The extension point Jupyter Server loads: :class:`~workbench.jupyter.app.WorkbenchApp`."""
    from workbench.jupyter.app import WorkbenchApp

    return [{"module": "workbench.jupyter", "app": WorkbenchApp}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Load the extension into ``serverapp`` (for loaders that call the module's hook)."""
    from workbench.jupyter.app import WorkbenchApp

    WorkbenchApp._load_jupyter_server_extension(serverapp)
