"""Rerun an old report: the same template with the same parameters, and say what changed.

The old ``report.ipynb`` carries its provenance (template and its sha256, parameters, the lake's
per-file fingerprint, the environment) and its findings. A rerun checks the lake against that
fingerprint, runs the template again, and compares the new findings with the old ones.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.exceptions import UsageError, WorkbenchWarning
from workbench.report.provenance import compare_environments, compare_lakes, lake_fingerprint
from workbench.report.runner import ReportResult, check_lake, run_report
from workbench.report.templates import find_template
from workbench.results import Result

__all__ = ["RerunResult", "diff_findings", "read_report", "rerun_report"]

_MAX_DIFFS = 20
#: Keys that name an item of a list in the findings (``symptoms[sli=capture]`` reads better than ``[2]``).
_ID_KEYS = ("sli", "cause", "check", "name", "feature", "column")


@dataclass(frozen=True, repr=False)
class RerunResult(Result):
    """A rerun: the new report, and how it compares with the old one.

    ``identical`` is True when the findings (less the ``report`` provenance block) are equal,
    False when they differ (``differences`` says where), None when the old report kept none.
    """

    old_notebook: str
    report: ReportResult
    identical: bool | None
    differences: list[str] = field(default_factory=list)
    old_findings_from: str | None = None
    lake: dict[str, Any] = field(default_factory=dict)  # same, comparable, added, removed, changed
    template_changed: bool = False
    environment_changes: list[str] = field(default_factory=list)

    def _summary(self) -> str:
        word = {True: "identical", False: "differ", None: "not compared"}[self.identical]
        return f"{self.report.template!r}: findings {word}"

    def render(self) -> str:
        """The lines the command prints."""
        lines = []
        lake = self.lake
        if lake.get("same"):
            lines.append("lake: unchanged (every file has the same content)")
        elif not lake.get("comparable"):
            lines.append("lake: CHANGED since the old report (its fingerprint has no per-file list to say which files)")
        else:
            lines.append("lake: CHANGED since the old report: "
                         + "; ".join(f"{k} {', '.join(lake[k])}" for k in ("added", "removed", "changed") if lake[k]))
        if self.template_changed:
            lines.append(f"template: {self.report.template!r} changed since the old report (its sha256 differs)")
        lines += [f"environment: {x}" for x in self.environment_changes]
        if self.identical is None:
            lines.append("findings: not compared (the old report kept no findings)")
        elif self.identical:
            lines.append(f"findings: identical to the old report's ({self.old_findings_from})")
        else:
            lines.append(f"findings: DIFFER from the old report's ({self.old_findings_from}):")
            lines += [f"  {d}" for d in self.differences]
        return "\n".join(lines)


def read_report(notebook: str | Path) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """An old report's provenance, its findings (less the ``report`` block) and where they came from.

    The findings are the ones kept in the notebook's metadata, else ``findings.json`` beside it.
    """
    import nbformat

    path = Path(notebook)
    if not path.is_file():
        raise UsageError("no report notebook at this path", file=str(path),
                         expected="the report.ipynb of an earlier `workbench report` run",
                         found="a directory" if path.is_dir() else "nothing",
                         hint="pass the notebook itself, e.g. out/incident-42/report.ipynb")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a file that is not a notebook
        raise UsageError("cannot read the report notebook", file=str(path), found=type(exc).__name__,
                         expected="a Jupyter notebook written by `workbench report`") from None
    meta = dict(nb.metadata.get("workbench") or {})
    missing = [k for k in ("template", "parameters", "lake") if k not in meta]
    if missing:
        raise UsageError("the notebook is not a workbench report: its metadata holds no provenance",
                         file=str(path), expected="metadata.workbench with template, parameters and lake",
                         found=f"missing {', '.join(missing)}",
                         hint="only notebooks written by `workbench report` can be rerun")
    findings = meta.pop("findings", None)
    source = "kept in the notebook" if findings is not None else None
    beside = path.parent / "findings.json"
    if findings is None and beside.is_file():
        try:
            findings, source = json.loads(beside.read_text(encoding="utf-8")), str(beside)
        except (OSError, json.JSONDecodeError):
            findings = None
    if findings is not None:
        findings = {k: v for k, v in findings.items() if k != "report"}
    return meta, findings, source


def diff_findings(old: Any, new: Any, *, path: str = "", limit: int = _MAX_DIFFS) -> list[str]:
    """Where two findings documents differ: ``a.b[2].c: old -> new`` lines, at most ``limit`` (+ a count)."""
    out: list[str] = []
    _diff(old, new, path, out)
    if len(out) > limit:
        out = out[:limit] + [f"... and {len(out) - limit} more differences"]
    return out


def _short(v: Any) -> str:
    text = json.dumps(v, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{k}" if path else str(k)
            if k not in b:
                out.append(f"{sub}: removed (was {_short(a[k])})")
            elif k not in a:
                out.append(f"{sub}: added ({_short(b[k])})")
            else:
                _diff(a[k], b[k], sub, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            key = next((k for k in _ID_KEYS if isinstance(x, dict) and isinstance(x.get(k), str)), None)
            _diff(x, y, f"{path}[{key}={x[key]}]" if key else f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path or '(document)'}: {_short(a)} -> {_short(b)}")


def rerun_report(notebook: str | Path, *, out: str | Path, lake: str | Path | None = None,
                 templates_dir: str | Path | None = None, kernel_name: str = "python3",
                 overwrite: bool = False, progress: bool = False) -> RerunResult:
    """Run an old report's template again with its parameters, and compare.

    Parameters
    ----------
    notebook : path
        The old ``report.ipynb``.
    out : path
        Where the new report goes (the same rules as :func:`run_report`).
    lake : path, optional
        The lake, when it has moved since the old run (default: the path the old report read).

    Warns
    -----
    WorkbenchWarning
        Before running, when the lake's files differ from the old report's (naming them).

    Returns
    -------
    RerunResult
        ``identical`` and ``differences`` for the findings; ``lake`` names the files added,
        removed or changed since the old run; ``template_changed`` and ``environment_changes``
        say what else may explain a difference.

    Examples
    --------
    >>> r = rerun_report("out/incident-42/report.ipynb", out="out/incident-42-rerun")  # doctest: +SKIP
    >>> print(r.render())  # doctest: +SKIP
    lake: unchanged (every file has the same content)
    findings: identical to the old report's (kept in the notebook)
    """
    meta, old_findings, source = read_report(notebook)
    params = dict(meta["parameters"])
    lake_path = Path(lake) if lake is not None else Path(params.get("lake", ""))
    params.pop("lake", None)
    template = find_template(meta["template"], templates_dir)
    lake_cmp = compare_lakes(meta["lake"], lake_fingerprint(check_lake(lake_path)))
    if not lake_cmp["same"]:  # said before the run, which may take minutes
        named = "; ".join(f"{k}: {', '.join(lake_cmp[k])}" for k in ("added", "removed", "changed") if lake_cmp[k])
        warnings.warn(WorkbenchWarning(f"the lake changed since the old report "
                                       f"({named or 'the old report cannot say which files'})"), stacklevel=2)
    res = run_report(template.path, lake=lake_path, params=params, out=out, templates_dir=templates_dir,
                     kernel_name=kernel_name, overwrite=overwrite, progress=progress)
    identical, differences = None, []
    if old_findings is not None and res.findings:
        new = {k: v for k, v in json.loads(Path(res.findings).read_text(encoding="utf-8")).items() if k != "report"}
        differences = diff_findings(old_findings, new)
        identical = not differences
    return RerunResult(old_notebook=str(notebook), report=res, identical=identical, differences=differences,
                       old_findings_from=source, lake=lake_cmp,
                       template_changed=meta.get("template_sha256") != template.sha256,
                       environment_changes=compare_environments(meta.get("environment"),
                                                                res.provenance["environment"]))
