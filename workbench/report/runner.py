"""Run a template with Papermill into ``report.ipynb``, an offline ``report.html`` and ``findings.json``."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench._version import __version__
from workbench.exceptions import UsageError, WorkbenchError
from workbench.report.params import validate_params
from workbench.report.templates import find_template
from workbench.results import Result

__all__ = ["ReportError", "ReportResult", "lake_fingerprint", "run_report", "to_offline_html"]


class ReportError(WorkbenchError, RuntimeError):
    """A template cell failed; the partial notebook is kept and the cell is named."""


@dataclass(frozen=True, repr=False)
class ReportResult(Result):
    """Where the report went, and what it was made from."""

    template: str
    out_dir: str
    notebook: str
    html: str
    findings: str | None
    parameters: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        return f"{self.template!r} -> {self.html}"


def lake_fingerprint(lake_path: str | Path) -> dict[str, Any]:
    """Every file of the lake (path, size, mtime) and one digest over them: identifies the data read."""
    root = Path(lake_path)
    files = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            files.append({"path": str(p.relative_to(root)), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return {"files": len(files), "bytes": sum(f["size"] for f in files), "sha256": digest}


def _header(template, params: dict[str, Any], fingerprint: dict[str, Any]) -> str:
    rows = "\n".join(f"| `{k}` | `{v!r}` |" for k, v in params.items() if k != "output_dir")
    return (f"**workbench report** `{template.name}` · workbench {__version__} · template sha256 "
            f"`{template.sha256[:16]}` · lake fingerprint `{fingerprint['sha256'][:16]}` "
            f"({fingerprint['files']} files, {fingerprint['bytes']:,} bytes)\n\n| parameter | value |\n|---|---|\n"
            f"{rows}")


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.I | re.S)
_LINK = re.compile(r"<link[^>]+href=[\"']https?://[^\"']*[\"'][^>]*/?>", re.I)
_SVG_IMG = re.compile(r'<img[^>]*src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"[^>]*/?>')


def _offline(html: str) -> str:
    """Drop every script or stylesheet that would reach the network (MathJax, mermaid, require.js
    from CDNs) and inline SVG charts, so the file renders, and can be checked, with no network."""
    import base64

    def script(m: re.Match) -> str:
        return "" if re.search(r"https?://(?!www\.w3\.org)", m.group(0)) else m.group(0)

    html = _SCRIPT.sub(script, html)
    html = _LINK.sub("", html)
    return _SVG_IMG.sub(lambda m: base64.b64decode(m.group(1)).decode("utf-8"), html)


def to_offline_html(notebook_path: str | Path, html_path: str | Path) -> None:
    """Export without code cells; no script or stylesheet is fetched from the network."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook_path, as_version=4)
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    body = _offline(body)
    Path(html_path).write_text(body, encoding="utf-8")


def run_report(template: str | Path, *, lake: str | Path, params: dict[str, Any] | None = None,
               out: str | Path, templates_dir: str | Path | None = None, kernel_name: str = "python3",
               progress: bool = False) -> ReportResult:
    """Execute ``template`` on ``lake`` with ``params`` into ``out``.

    Writes ``out/report.ipynb`` (executed, with a provenance header), ``out/report.html`` (code
    hidden, charts as inline SVG: renders with the network off) and ``out/findings.json`` (written
    by the template from its result objects).

    Raises
    ------
    UsageError
        Unknown template, unknown or ill-typed parameters (the message lists the valid ones).
    ReportError
        A cell failed: ``out/report.ipynb`` holds the partial run and the message names the cell.
    """
    import nbformat
    import papermill as pm

    t = find_template(template, templates_dir)
    if "lake" not in t.parameters:
        raise UsageError(f"template {t.name!r} declares no `lake` parameter", file=t.path)
    given = dict(params or {})
    given["lake"] = str(Path(lake).resolve())  # the notebook runs in the template's directory
    values = validate_params(t, given)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    findings = out / "findings.json"
    if findings.exists():
        findings.unlink()
    if "output_dir" in t.parameters:
        values["output_dir"] = str(out.resolve())
    nb_path = out / "report.ipynb"
    fingerprint = lake_fingerprint(lake)
    try:
        pm.execute_notebook(t.path, str(nb_path), parameters=values, kernel_name=kernel_name,
                            progress_bar=progress, cwd=str(Path(t.path).parent))
    except pm.PapermillExecutionError as exc:
        raise ReportError(f"template {t.name!r} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}",
                          file=str(nb_path), hint="open the partial notebook to see the failing cell") from None
    nb = nbformat.read(nb_path, as_version=4)
    provenance = {"template": t.name, "template_sha256": t.sha256, "workbench": __version__,
                  "parameters": {k: v for k, v in values.items() if k != "output_dir"}, "lake": fingerprint}
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(_header(t, values, fingerprint)))
    nb.metadata["workbench"] = provenance
    nbformat.write(nb, nb_path)
    html = out / "report.html"
    to_offline_html(nb_path, html)
    if findings.exists():
        doc = json.loads(findings.read_text())
        doc["report"] = provenance
        findings.write_text(json.dumps(doc, indent=2, sort_keys=False))
    return ReportResult(template=t.name, out_dir=str(out), notebook=str(nb_path), html=str(html),
                        findings=str(findings) if findings.exists() else None, parameters=values,
                        provenance=provenance)
