"""The conventions a template follows, checked in one place (``workbench templates check``, the
project's own template tests, and templates scaffolded by ``workbench templates new``).

A template is a thin notebook:

- a first markdown cell ``# Title`` then one line saying what it answers;
- a first code cell tagged ``parameters`` of annotated literals (``str``, ``int``, ``float``,
  ``bool``), one per line, each with a ``# help`` comment, including ``lake`` and ``output_dir``;
- a set-up cell, then one call and one display per section: at most two statements per cell,
  no ``def``, ``class``, loops, comprehensions or ``lambda`` (that code belongs in a package);
- findings published with ``report.publish(result, output_dir)``;
- committed without outputs or execution counts.

:func:`check_notebook` returns one :class:`Violation` per offending cell and rule, each saying
what is wrong and how to fix it; an empty list means the template follows the conventions.
"""

from __future__ import annotations

import ast
import io
import logging
import tokenize
from dataclasses import dataclass
from pathlib import Path

from workbench.exceptions import UsageError

__all__ = ["PARAM_TYPES", "REQUIRED_PARAMS", "MAX_STATEMENTS", "Violation", "check_notebook", "notebooks_in",
           "render_violations", "TrialRun", "trial_run"]

#: Types a parameter may be annotated with (what the runner and the launcher's form can check).
PARAM_TYPES = ("str", "int", "float", "bool")
#: Parameters every template declares: the runner passes the lake and fills the output directory.
REQUIRED_PARAMS = ("lake", "output_dir")
#: Statements allowed in a section cell: one call and one display.
MAX_STATEMENTS = 2
#: Python constructs that are logic, not a report: they belong in a tested package.
_BANNED = {ast.FunctionDef: "a function definition (def)", ast.AsyncFunctionDef: "a function definition (def)",
           ast.ClassDef: "a class definition", ast.For: "a for loop", ast.AsyncFor: "a for loop",
           ast.While: "a while loop", ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
           ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression",
           ast.Lambda: "a lambda"}
_NO_LOGIC_FIX = "move it into a function of your own package (where it is tested) and call that in one line"


@dataclass(frozen=True)
class Violation:
    """One broken convention: the cell (index in the notebook, ``None`` for the whole notebook),
    its first line, what is wrong and how to fix it."""

    cell: int | None
    first_line: str
    problem: str
    fix: str

    def where(self) -> str:
        line = f" `{self.first_line}`" if self.first_line else ""
        return ("the notebook" if self.cell is None else f"cell {self.cell}") + line


def render_violations(violations: list[Violation]) -> str:
    """One message per offending cell: where (cell index and first line), then each problem and its fix."""
    blocks: dict[tuple, list[Violation]] = {}
    for v in violations:
        blocks.setdefault((v.cell, v.first_line), []).append(v)
    out = []
    for vs in blocks.values():
        out.append(f"{vs[0].where()}:")
        out += [f"  - {v.problem}\n    fix: {v.fix}" for v in vs]
    return "\n".join(out)


def _first_line(source: str) -> str:
    line = next((x.strip() for x in source.splitlines() if x.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def notebooks_in(path: str | Path) -> list[Path]:
    """The notebook ``path`` names, or the ``*.ipynb`` of a directory (not those starting with ``_``)."""
    p = Path(path)
    if p.is_dir():
        found = sorted(x for x in p.glob("*.ipynb") if not x.name.startswith("_"))
        if not found:
            raise UsageError("no template in this directory", file=str(p), expected="*.ipynb files",
                             hint="give a notebook or a directory of notebooks; "
                                  "`workbench templates new NAME --dir DIR` writes one")
        return found
    if p.suffix != ".ipynb":
        raise UsageError("a template is a notebook", file=str(p), expected="a .ipynb file or a directory of them",
                         found=p.suffix or "no extension", hint="`workbench templates new NAME` writes one")
    if not p.is_file():
        raise UsageError("no such notebook", file=str(p), hint="check the path; `workbench templates` lists templates")
    return [p]


def check_notebook(path: str | Path) -> list[Violation]:
    """Every convention ``path`` breaks, one :class:`Violation` per offending cell and rule."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # not JSON, not a notebook
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [Violation(None, "", f"not a readable notebook ({first})",
                          "save it from Jupyter, or start from `workbench templates new`")]
    out: list[Violation] = []
    cells = list(enumerate(nb.cells))
    code = [(i, c) for i, c in cells if c.cell_type == "code"]
    out += _title(cells)
    out += _parameters(code)
    trees = {}
    for i, c in code:
        first = _first_line(c.source)
        if c.get("outputs") or c.get("execution_count") is not None:
            out.append(Violation(i, first, "has outputs or an execution count",
                                 "clear them before committing: jupyter nbconvert --clear-output --inplace NOTEBOOK"))
        try:
            trees[i] = ast.parse(c.source)
        except SyntaxError as exc:
            out.append(Violation(i, first, f"is not plain Python ({exc.msg}, line {exc.lineno})",
                                 "templates hold plain Python: no magics (%, !) and no syntax errors"))
            continue
        kinds = sorted({_BANNED[type(n)] for n in ast.walk(trees[i]) if type(n) in _BANNED})
        if kinds:
            out.append(Violation(i, first, f"holds logic: {', '.join(kinds)}", _NO_LOGIC_FIX))
    for i, c in code[2:]:  # after the parameters and set-up cells: one call and one display per section
        if i in trees and len(trees[i].body) > MAX_STATEMENTS:
            out.append(Violation(i, _first_line(c.source), f"has {len(trees[i].body)} statements; a section cell has "
                                 f"at most {MAX_STATEMENTS} (one call, one display)",
                                 "split it into cells, or move the work into one function of your package"))
    if not any(_publishes(t) for t in trees.values()):
        out.append(Violation(None, "", "publishes no findings (no `publish(` call)",
                             "add `report.publish(result, output_dir)` after the cell that computes the result, "
                             "so findings.json is written"))
    return sorted(out, key=lambda v: (-1 if v.cell is None else v.cell))


def _title(cells) -> list[Violation]:
    md = next(((i, c) for i, c in cells if c.cell_type == "markdown"), None)
    first_code = next((i for i, c in cells if c.cell_type == "code"), len(cells))
    fix = "start with a markdown cell: `# Title`, a blank line, then one line saying what the report answers"
    if md is None or md[0] > first_code:
        return [Violation(None, "", "has no markdown title cell before the code", fix)]
    lines = [x for x in md[1].source.splitlines() if x.strip()]
    if not lines or not lines[0].startswith("# ") or len(lines) < 2:
        return [Violation(md[0], _first_line(md[1].source),
                          "the title cell needs a `# Title` line and a description line after it", fix)]
    return []


def _parameters(code) -> list[Violation]:
    tagged = [(i, c) for i, c in code if "parameters" in c.metadata.get("tags", [])]
    if not tagged:
        i, c = code[0] if code else (None, None)
        return [Violation(i, _first_line(c.source) if c else "", "no code cell is tagged `parameters`",
                          "make the first code cell the parameters cell and add the tag `parameters` "
                          "(JupyterLab: property inspector > Cell tags)")]
    i, c = tagged[0]
    out = []
    if i != code[0][0]:
        out.append(Violation(i, _first_line(c.source), "the parameters cell is not the first code cell",
                             "move it above every other code cell"))
    for j, c2 in tagged[1:]:
        out.append(Violation(j, _first_line(c2.source), "a second cell is tagged `parameters`",
                             "keep one parameters cell; remove the tag here"))
    return out + _parameter_lines(i, c.source)


def _comments(source: str) -> dict[int, str]:
    out = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def _literal_type(node) -> str | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
        return type(node.value).__name__ if isinstance(node, ast.Constant) and \
            type(node.value) in (int, float) else None
    return type(node.value).__name__ if isinstance(node, ast.Constant) else None


def _parameter_lines(index: int, source: str) -> list[Violation]:
    from papermill.translators import PythonTranslator

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # reported with the other cells
    problems: list[tuple[str, str]] = []
    comments = _comments(source)
    names = []
    quiet = logging.getLogger("papermill")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its "Unable to parse line" is reported below, with a fix
    try:
        seen_by_runner = {p.name: p for p in PythonTranslator.inspect({"source": source})}
    finally:
        quiet.setLevel(level)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            names.append(node.targets[0].id)
            problems.append((f"parameter {node.targets[0].id!r} has no type annotation",
                             f"write `{node.targets[0].id}: str = ...` (or int, float, bool): the runner checks "
                             "values against it"))
            continue
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None):
            text = _first_line(ast.get_source_segment(source, node) or type(node).__name__)
            problems.append((f"`{text}` is not an annotated parameter",
                             "the parameters cell holds only lines like `name: str = \"\"  # help`; "
                             "imports and code go in the set-up cell"))
            continue
        name, kind = node.target.id, ast.unparse(node.annotation)
        names.append(name)
        value = _literal_type(node.value)
        if kind not in PARAM_TYPES:
            problems.append((f"parameter {name!r} is typed `{kind}`",
                             f"annotate it with one of {', '.join(PARAM_TYPES)} (the form and the runner check those)"))
        elif value is None:
            problems.append((f"parameter {name!r} has a default that is not a literal",
                             "give a quoted text, a number, True or False (empty text for 'none')"))
        elif value != kind and not (kind == "float" and value == "int"):
            problems.append((f"parameter {name!r} is annotated {kind} but its default is a {value}",
                             f"make the default of type {kind}, or change the annotation"))
        if node.lineno != node.end_lineno:
            problems.append((f"parameter {name!r} spans several lines", "write it on one line: the runner reads "
                             "one parameter (and its help) per line"))
        elif not comments.get(node.lineno):
            problems.append((f"parameter {name!r} has no help comment",
                             f"end its line with `# what {name} is; what empty means` (shown by `workbench templates` "
                             "and the launcher's form)"))
        elif name not in seen_by_runner or not seen_by_runner[name].help:
            problems.append((f"the runner cannot read parameter {name!r} (more than one `=` on its line?)",
                             "keep `=` out of the default and the help comment"))
    for n in REQUIRED_PARAMS:
        if n not in names:
            why = "the runner passes the lake's path in it" if n == "lake" else "the runner sets it to the output " \
                "directory, where report.publish writes findings.json"
            problems.append((f"no `{n}` parameter", f"add `{n}: str = \"\"  # ...`: {why}"))
    first = _first_line(source)
    return [Violation(index, first, p, f) for p, f in problems]


def _publishes(tree) -> bool:
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            if getattr(f, "id", None) == "publish" or getattr(f, "attr", None) == "publish":
                return True
    return False


@dataclass(frozen=True)
class TrialRun:
    """A template run on a generated lake: whether it finished, or the error, the failing cell (its index
    in the template, as :func:`check_notebook` counts, and its first line) and the partial notebook."""

    path: str
    ok: bool
    seconds: float
    error: str = ""
    notebook: str = ""
    cell: int | None = None
    first_line: str = ""


def _failing_cell(partial: str) -> tuple[int | None, str]:
    """The cell that raised in a partial run, numbered as in the template (less the cells papermill
    adds: its injected parameters and its red error banners)."""
    import nbformat

    try:
        nb = nbformat.read(partial, as_version=4)
    except Exception:
        return None, ""
    added = {"injected-parameters", "papermill-error-cell-tag"}
    own = [c for c in nb.cells if not added & set(c.metadata.get("tags", []))]
    for i, c in enumerate(own):
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            return i, _first_line(c.source)
    return None, ""


def trial_run(notebooks: list[Path], *, cause: str = "schema_mismatch", params: dict | None = None,
              workdir: str | Path, rows: int = 20_000, seed: int = 0) -> list[TrialRun]:
    """Run each notebook with :func:`~workbench.report.run_report` on one lake generated with ``cause``
    in ``workdir`` (``lake/``, then ``out-NAME/`` per notebook). A template with a ``since`` parameter
    gets 12 hours before the injected onset unless ``params`` gives one; other parameters keep their
    defaults unless ``params`` gives them (only those the template declares are passed)."""
    import datetime as dt
    import time

    from workbench.exceptions import ReportError, WorkbenchError
    from workbench.report.runner import run_report
    from workbench.report.templates import find_template
    from workbench.synthetic import CAUSES, generate_lake

    if cause not in CAUSES:
        raise UsageError(f"unknown cause {cause!r}", column="--cause", expected=" | ".join(CAUSES),
                         hint="`workbench synth --list-causes` lists them")
    work = Path(workdir)
    truth = generate_lake(work / "lake", cause=cause, rows=rows, seed=seed)
    out = []
    for nb in notebooks:
        t0 = time.perf_counter()
        try:
            declared = find_template(nb).parameters
            given = {k: v for k, v in (params or {}).items() if k in declared}
            if "since" in declared and "since" not in given and truth.onset is not None:
                given["since"] = (truth.onset - dt.timedelta(hours=12)).isoformat()
            run_report(nb, lake=work / "lake", params=given, out=work / f"out-{nb.stem}")
        except Exception as exc:  # a failed run is the answer, not a crash of the check
            why = exc.message if isinstance(exc, WorkbenchError) else (str(exc).splitlines() or [""])[0]
            partial = exc.file if isinstance(exc, ReportError) else ""
            cell, first = _failing_cell(partial) if partial else (None, "")
            out.append(TrialRun(str(nb), False, time.perf_counter() - t0, f"{type(exc).__name__}: {why}", partial,
                                cell, first))
            continue
        out.append(TrialRun(str(nb), True, time.perf_counter() - t0))
    return out
