"""The template registry: built-in templates (package data, ``workbench/templates/``), user
directories (``--templates-dir``, ``$WORKBENCH_TEMPLATES``), and their parameters."""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.exceptions import UsageError
from workbench.results import Result

__all__ = ["BUILTIN_DIR", "builtin_dir", "Template", "find_template", "list_templates", "template_dirs"]



def builtin_dir() -> Path:
    """The built-in templates: package data of ``workbench`` (``workbench/templates/*.ipynb``), found
    through :mod:`importlib.resources` so a wheel install lists them as a source checkout does."""
    return Path(str(resources.files("workbench").joinpath("templates")))


#: The built-in templates' directory (kept for callers of the old constant).
BUILTIN_DIR = builtin_dir()
#: Extra template directories, ``os.pathsep``-separated.
ENV_VAR = "WORKBENCH_TEMPLATES"


@dataclass(frozen=True, repr=False)
class Template(Result):
    """A notebook template: name, path, one-line description and its parameters."""

    name: str
    path: str
    description: str
    parameters: dict[str, dict[str, Any]]  # name -> {type, default, help}
    sha256: str

    def _summary(self) -> str:
        return f"{self.name!r}, parameters={list(self.parameters)}"


def template_dirs(extra: str | Path | list | None = None) -> list[Path]:
    """Directories searched, in order: ``extra`` (e.g. ``--templates-dir``), ``$WORKBENCH_TEMPLATES``,
    then the built-in ones (a user's template of the same name wins)."""
    dirs: list[Path] = []
    if extra:
        dirs += [Path(p) for p in ([extra] if isinstance(extra, (str, Path)) else extra)]
    env = os.environ.get(ENV_VAR)
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs.append(builtin_dir())
    return dirs


def _load(path: Path) -> Template:
    import nbformat
    import papermill as pm

    nb = nbformat.read(path, as_version=4)
    first_md = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    lines = [x.strip("# ").strip() for x in first_md.splitlines() if x.strip()]
    description = lines[1] if len(lines) > 1 else (lines[0] if lines else "")
    params = {}
    for name, p in pm.inspect_notebook(str(path)).items():
        params[name] = {"type": p["inferred_type_name"], "default": p["default"], "help": p["help"]}
    return Template(name=path.stem, path=str(path), description=description, parameters=params,
                    sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def list_templates(templates_dir: str | Path | list | None = None) -> list[Template]:
    """Every template found, first directory winning on equal names."""
    seen: dict[str, Template] = {}
    for d in template_dirs(templates_dir):
        if not d.is_dir():
            continue
        for p in sorted(d.glob("*.ipynb")):
            if p.stem not in seen and not p.stem.startswith("_"):
                seen[p.stem] = _load(p)
    return sorted(seen.values(), key=lambda t: t.name)


def find_template(name: str | Path, templates_dir: str | Path | list | None = None) -> Template:
    """A template by name (or a path to a notebook)."""
    p = Path(name)
    if p.suffix == ".ipynb" and p.is_file():
        return _load(p)
    for d in template_dirs(templates_dir):
        cand = d / f"{name}.ipynb"
        if cand.is_file():
            return _load(cand)
    names = [t.name for t in list_templates(templates_dir)]
    raise UsageError(f"unknown template {str(name)!r}", expected=" | ".join(names) or "(no templates found)",
                     hint="`workbench templates` lists them; add your own with --templates-dir or $WORKBENCH_TEMPLATES")
