"""``workbench templates new``: a new template that follows the conventions
(:mod:`workbench.report.conventions`), written from a skeleton or copied from another template.

The skeleton holds a title cell, a ``parameters`` cell (``lake``, ``since``, ``until``,
``output_dir``, each with its help), the built-in templates' set-up cell (copied from
``incident-triage``, so a new template starts with the same rendering settings), then triage
published with ``report.publish`` and one call per section. It runs as written, on the demo lake.
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.exceptions import UsageError

__all__ = ["NAME_RULE", "new_template", "title_of"]

#: A template name: a file-name-safe slug (it is the file's name and the name given to `workbench report`).
NAME_RULE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}[a-z0-9]$|^[a-z0-9]$")
#: The built-in template whose set-up cell and notebook metadata a skeleton copies.
SETUP_FROM = "incident-triage"

_PARAMETERS = '''\
lake: str = ""  # path of the telemetry lake; empty: the demo lake (generated once into a cache directory)
since: str = "2026-03-12T00:00Z"  # start of the window (ISO-8601, UTC); may start before the fault
until: str = ""  # end of the window; empty: the end of the data
output_dir: str = ""  # set by the report runner: where findings.json is written'''

_SECTIONS = [
    ("## Verdict", ["findings = wb.triage(lake, since=since, until=until or None)\n"
                    "report.publish(findings, output_dir)",
                    "report.narrative(findings)"]),
    ("## Ranked hypotheses", ["report.hypotheses_table(findings)"]),
    ("## Next steps", ["report.next_steps(findings)"]),
]


def title_of(name: str) -> str:
    """``team-health`` -> ``Team health``."""
    words = re.sub(r"[-_]+", " ", name).strip()
    return words[:1].upper() + words[1:]


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-_")
    return s[:64] or "my-template"


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_RULE.match(name):
        raise UsageError(f"{name!r} is not a template name", column="NAME",
                         expected="1-64 lower-case letters, digits, '-' or '_', starting and ending with a letter "
                                  "or digit (it becomes NAME.ipynb and `workbench report NAME`)",
                         found=repr(name), hint=f"e.g. {_slug(str(name))!r}")


def _setup_cell(nbformat):
    from workbench.report.templates import builtin_dir

    nb = nbformat.read(builtin_dir() / f"{SETUP_FROM}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    return code[1].source, dict(nb.metadata)


def _skeleton(name: str, nbformat):
    setup, metadata = _setup_cell(nbformat)
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell(f"# {title_of(name)}\n\nWhat this report answers, in one line "
                                  "(shown by `workbench templates`)."),
             v4.new_code_cell(_PARAMETERS, metadata={"tags": ["parameters"]}),
             v4.new_code_cell(setup)]
    for heading, calls in _SECTIONS:
        cells.append(v4.new_markdown_cell(heading))
        cells += [v4.new_code_cell(c) for c in calls]
    return v4.new_notebook(cells=cells, metadata=metadata)


def _copy(name: str, source: str, templates_dir, nbformat):
    from workbench.report.templates import find_template

    t = find_template(source, templates_dir)
    nb = nbformat.read(t.path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    nb.metadata.pop("workbench", None)  # a report's provenance, if a report was given
    nb.metadata.pop("papermill", None)
    md = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if md is not None:
        rest = [x for x in md.source.splitlines() if not x.startswith("# ")]
        md.source = "\n".join([f"# {title_of(name)}", *rest]).rstrip() or f"# {title_of(name)}"
    return nb


def new_template(name: str, *, from_template: str | None = None, directory: str | Path = ".",
                 templates_dir: str | Path | None = None) -> Path:
    """Write ``directory/NAME.ipynb``: the skeleton, or a copy of ``from_template`` (a template name,
    found like ``workbench report`` finds it, or a path to a notebook) with outputs cleared and the
    title renamed. Never overwrites; ``directory`` is created when missing.

    Raises
    ------
    UsageError
        ``name`` is not a file-name-safe slug, ``NAME.ipynb`` exists, ``directory`` is a file, or
        ``from_template`` is unknown.
    """
    import nbformat

    _check_name(name)
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise UsageError("--dir names a file", file=str(d), column="--dir", expected="a directory (created if missing)",
                         hint=f"give the folder to write NAME.ipynb into, e.g. --dir {d.parent}")
    path = d / f"{name}.ipynb"
    if path.exists():
        raise UsageError(f"{path} exists; a new template never overwrites one", file=str(path),
                         hint="pick another NAME or --dir, or edit the existing notebook")
    nb = _copy(name, from_template, templates_dir, nbformat) if from_template else _skeleton(name, nbformat)
    d.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as fh:  # "x": refuse a file created meanwhile
        nbformat.write(nb, fh)
    return path
