"""New notebooks for the analyst: a template with its parameters injected by papermill, or an
explorer notebook; written through the server's contents manager, never over an existing file."""

from __future__ import annotations

import os
import posixpath
from typing import Any

from jupyter_server.utils import ensure_async

from workbench.jupyter.errors import ApiError
from workbench.jupyter.paths import Root

__all__ = ["explore_notebook", "free_path", "notebook_name", "save_new", "template_notebook"]

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def template_notebook(template, values: dict[str, Any], *, folder: str, lake: str):
    """``template`` with papermill's injected-parameters cell holding ``values`` (correct literals).

    Path values (``lake``, ``*_file``; absolute here) are written relative to ``folder`` (absolute),
    where the notebook's kernel starts; the metadata names the template and the lake (relative to
    the server root): ``{"workbench": {"template", "lake"}}``.
    """
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    from workbench.report.params import FILE_PARAM

    injected = {k: (os.path.relpath(v, folder) if (k == "lake" or FILE_PARAM.search(k)) and os.path.isabs(str(v))
                    else v) for k, v in values.items()}
    nb = parameterize_notebook(load_notebook_node(template.path), injected)  # papermill's loader and injection
    nb.metadata["workbench"] = {"template": template.name, "lake": lake}
    return nb


def explore_notebook(lake_from_folder: str, since: str | None, *, lake: str):
    """A notebook opening the lake and an :class:`~workbench.widgets.Explorer` on it."""
    import nbformat

    v4 = nbformat.v4
    explorer = f"wb.Explorer(lake, since={since!r})" if since else "wb.Explorer(lake)"
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell(f"# Explore `{posixpath.basename(lake) or lake}`\n\n"
                             "Run the cells: the explorer shows the lake's health over time, drift and segments."),
        v4.new_code_cell("import workbench as wb"),
        v4.new_code_cell(f"lake = wb.open_lake({lake_from_folder!r})\nlake"),
        v4.new_code_cell(explorer),
    ])
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["workbench"] = {"lake": lake, "explore": {"since": since}}
    return nb


def notebook_name(name, default: str) -> str:
    """A file name for a new notebook: the client's (one component, ``.ipynb`` added) or ``default``."""
    if name in (None, ""):
        return default
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith(".") or name in ("..",):
        raise ApiError(400, f"`name` must be a file name without folders and not hidden, got {name!r}",
                       field="name")
    return name if name.endswith(".ipynb") else f"{name}.ipynb"


async def free_path(cm, folder: str, name: str) -> str:
    """``folder/name``, or ``folder/stem-1.ipynb``, ``-2``, ... : the first that does not exist."""
    stem, ext = posixpath.splitext(name)
    path, n = Root.join(folder, name), 0
    while await ensure_async(cm.exists(path)):
        n += 1
        path = Root.join(folder, f"{stem}-{n}{ext}")
    return path


async def save_new(cm, nb, folder: str, name: str) -> str:
    """Write ``nb`` through the contents manager at a free path; return that path."""
    path = await free_path(cm, folder, name)
    await ensure_async(cm.save({"type": "notebook", "format": "json", "content": nb}, path))
    return path

