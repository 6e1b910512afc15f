"""The template registry: the user's directories (``--templates-dir``, ``$WORKBENCH_TEMPLATES``),
template packs installed with pip (the ``workbench.templates`` entry points), the built-in
templates (package data, ``workbench/templates/``), and their parameters.

Every template has an **origin**: ``user``, ``pack:<distribution>`` or ``builtin``. On equal names
the first source wins, in that order: a user's directory, then packs (by distribution name),
then the built-ins. A pack template that hides a built-in, or another pack's template, is
reported with a :class:`~workbench.exceptions.WorkbenchWarning` naming both; a user's own
template hiding one is deliberate and only recorded (``Template.shadows``).

A pack is a distribution with an entry point in the ``workbench.templates`` group whose value
names a package (``my_team_templates``, no ``:attr``); the ``*.ipynb`` files in that package's
directory are its templates.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from workbench.exceptions import UsageError, WorkbenchWarning
from workbench.results import Result

__all__ = ["BUILTIN_DIR", "ENTRY_POINT_GROUP", "builtin_dir", "Template", "TemplateSource", "find_template",
           "list_templates", "template_dirs", "template_sources"]


def builtin_dir() -> Path:
    """The built-in templates: package data of ``workbench`` (``workbench/templates/*.ipynb``), found
    through :mod:`importlib.resources` so a wheel install lists them as a source checkout does."""
    return Path(str(resources.files("workbench").joinpath("templates")))


#: The built-in templates' directory (kept for callers of the old constant).
BUILTIN_DIR = builtin_dir()
#: Extra template directories, ``os.pathsep``-separated.
ENV_VAR = "WORKBENCH_TEMPLATES"
#: Entry-point group of template packs: each entry point names a package holding ``*.ipynb``.
ENTRY_POINT_GROUP = "workbench.templates"


@dataclass(frozen=True, repr=False)
class Template(Result):
    """A notebook template: name, path, one-line description, its parameters and where it comes from
    (``origin``: ``builtin``, ``user`` or ``pack:<distribution>``; ``shadows``: the origins of the
    templates of the same name it hides)."""

    name: str
    path: str
    description: str
    parameters: dict[str, dict[str, Any]]  # name -> {type, default, help}
    sha256: str
    origin: str = "user"
    shadows: tuple[str, ...] = ()

    def _summary(self) -> str:
        return f"{self.name!r} ({self.origin}), parameters={list(self.parameters)}"


@dataclass(frozen=True)
class TemplateSource:
    """A directory of templates and its origin (``user``, ``pack:<distribution>``, ``builtin``)."""

    origin: str
    path: Path


def _pack_dir(ep) -> Path:
    """The directory of the package an entry point of ``workbench.templates`` names."""
    if ep.attr:
        raise UsageError(f"template pack entry point {ep.name!r} names {ep.value!r}, not a package",
                         expected=f"a package holding *.ipynb, e.g. {ep.name} = \"{ep.module}\"",
                         found=ep.value, hint="drop the ':attr' part of the entry point")
    path = Path(str(resources.files(ep.module)))
    if not path.is_dir():
        raise UsageError(f"template pack entry point {ep.name!r}: {ep.module!r} is not a package directory",
                         found=str(path), hint="name a package (a folder with __init__.py) holding the *.ipynb")
    return path


def pack_sources() -> list[TemplateSource]:
    """Installed template packs, by distribution name then entry-point name. A pack that cannot be
    loaded is skipped with a warning (listing templates must not fail because of one pack)."""
    out = []
    eps = sorted(entry_points(group=ENTRY_POINT_GROUP),
                 key=lambda e: ((e.dist.name if e.dist else "").lower(), e.name))
    for ep in eps:
        dist = ep.dist.name if ep.dist else ep.module
        try:
            out.append(TemplateSource(f"pack:{dist}", _pack_dir(ep)))
        except Exception as exc:  # an import error in someone else's package
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            warnings.warn(f"template pack {dist!r} (entry point {ep.name} = {ep.value}) skipped: {first}",
                          WorkbenchWarning, stacklevel=2)
    return out


def template_sources(extra: str | Path | list | None = None) -> list[TemplateSource]:
    """Where templates are looked up, first winning: ``extra`` (e.g. ``--templates-dir``),
    ``$WORKBENCH_TEMPLATES``, installed packs, then the built-ins."""
    dirs: list[Path] = []
    if extra:
        dirs += [Path(p) for p in ([extra] if isinstance(extra, (str, Path)) else extra)]
    env = os.environ.get(ENV_VAR)
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    return [TemplateSource("user", d) for d in dirs] + pack_sources() + [TemplateSource("builtin", builtin_dir())]


def template_dirs(extra: str | Path | list | None = None) -> list[Path]:
    """The directories of :func:`template_sources`, in order."""
    return [s.path for s in template_sources(extra)]


def _load(path: Path, origin: str = "user", shadows: tuple[str, ...] = ()) -> Template:
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
                    sha256=hashlib.sha256(path.read_bytes()).hexdigest(), origin=origin, shadows=shadows)


def _candidates(extra) -> dict[str, list[tuple[str, Path]]]:
    """Every template file by name: [(origin, path), ...] in precedence order."""
    found: dict[str, list[tuple[str, Path]]] = {}
    for src in template_sources(extra):
        if not src.path.is_dir():
            continue
        for p in sorted(src.path.glob("*.ipynb")):
            if not p.stem.startswith("_"):
                found.setdefault(p.stem, []).append((src.origin, p))
    return found


def _winner(name: str, cands: list[tuple[str, Path]]) -> Template:
    (origin, path), hidden = cands[0], cands[1:]
    shadows = tuple(o for o, _ in hidden)
    if origin.startswith("pack:") and shadows:
        warnings.warn(f"template {name!r} is in {' and '.join([origin, *shadows])}: the one from {origin} is used "
                      f"({path}); rename one, or put the one you want in --templates-dir (searched first)",
                      WorkbenchWarning, stacklevel=3)
    return _load(path, origin, shadows)


def list_templates(templates_dir: str | Path | list | None = None) -> list[Template]:
    """Every template found, sorted by name; on equal names the first source of
    :func:`template_sources` wins (a user's directory, then packs, then the built-ins)."""
    return [_winner(n, c) for n, c in sorted(_candidates(templates_dir).items())]


def find_template(name: str | Path, templates_dir: str | Path | list | None = None) -> Template:
    """A template by name (or a path to a notebook, whose origin is ``user``)."""
    p = Path(name)
    if p.suffix == ".ipynb" and p.is_file():
        return _load(p)
    found = _candidates(templates_dir)
    if str(name) in found:
        return _winner(str(name), found[str(name)])
    raise UsageError(f"unknown template {str(name)!r}", expected=" | ".join(sorted(found)) or "(no templates found)",
                     hint="`workbench templates` lists them; add your own with --templates-dir or "
                          "$WORKBENCH_TEMPLATES, or install a template pack")
