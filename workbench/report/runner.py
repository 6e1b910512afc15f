"""Run a template with Papermill into ``report.ipynb``, an offline ``report.html`` and ``findings.json``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench._version import __version__
from workbench.exceptions import ReportError, UsageError
from workbench.rca.headline import headline_html
from workbench.report.html import to_offline_html
from workbench.report.pdf import find_chromium, html_to_pdf
from workbench.report.params import validate_params
from workbench.report.provenance import environment, lake_fingerprint
from workbench.report.templates import find_template
from workbench.results import Result

__all__ = ["OUTPUTS", "ReportError", "ReportResult", "check_lake", "lake_fingerprint", "run_report", "to_offline_html"]


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
    pdf: str | None = None

    def _summary(self) -> str:
        return f"{self.template!r} -> {self.html}"


#: What a run writes into ``out``; a directory holding any of them holds a previous report.
OUTPUTS = ("report.ipynb", "report.html", "findings.json", "report.pdf")


def _header(template, params: dict[str, Any], fingerprint: dict[str, Any], env: dict[str, Any]) -> str:
    rows = "\n".join(f"| `{k}` | `{v!r}` |" for k, v in params.items() if k != "output_dir")
    lock = env["lock"]
    if not lock.get("sha256"):
        lock_txt = "no lock file"
    elif lock.get("matches"):
        lock_txt = f"lock `{lock['sha256'][:16]}`"
    else:
        lock_txt = f"lock `{lock['sha256'][:16]}` ({len(lock['differs'])} installed versions differ from it)"
    pkgs = " · ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    return (f'<details class="wb-provenance"><summary>Provenance: how this report was made</summary>\n\n'
            f"**workbench report** `{template.name}` · workbench {__version__} · template sha256 "
            f"`{template.sha256[:16]}` · lake fingerprint `{fingerprint['sha256'][:16]}` "
            f"({fingerprint['files']} files, {fingerprint['bytes']:,} bytes)\n\n"
            f"Python {env['python']} ({env['platform']}) · {lock_txt} · {pkgs}\n\n"
            f"| parameter | value |\n|---|---|\n{rows}\n\n</details>")


def check_lake(lake: str | Path) -> Path:
    """The lake's directory, resolved; its manifest read here so a wrong path fails before the kernel starts."""
    from workbench.lake.manifest import read_manifest

    root = Path(lake).expanduser().resolve()
    read_manifest(root)  # LakeNotFoundError / ManifestError, naming the file
    return root


def _check_out(out: str | Path, lake: Path, *, overwrite: bool) -> Path:
    """Refuse an output that is a file, inside the (read-only) lake, or a directory holding other work.

    A new or empty directory is used as is. A directory holding a previous report (any of
    ``OUTPUTS``) is refused unless ``overwrite``, which replaces those files and keeps the rest
    (e.g. a ``verdicts.json`` beside them). A non-empty directory holding no report is refused.
    """
    path = Path(out).expanduser()
    resolved = path.resolve()
    if path.exists() and not path.is_dir():
        raise UsageError("the output directory names an existing file", file=str(path),
                         expected="a new or empty directory (it is created)", found="a file",
                         hint="choose a directory for report.ipynb, report.html and findings.json")
    if resolved == lake or lake in resolved.parents:
        raise UsageError("the output directory is inside the lake", file=str(path),
                         expected=f"a directory outside {lake}",
                         hint="the workbench never writes into a lake (it is read-only): write the report elsewhere")
    if path.is_dir():
        entries = sorted(p.name for p in path.iterdir())
        previous = [n for n in OUTPUTS if n in entries]
        if previous and not overwrite:
            what = _describe_previous(path)
            raise UsageError(f"the output directory already holds a report{what}", file=str(path),
                             found=", ".join(previous),
                             hint="pass --overwrite (Python: overwrite=True) to replace it, or choose a new directory")
        if entries and not previous:
            shown = ", ".join(entries[:5]) + (f", ... ({len(entries)} entries)" if len(entries) > 5 else "")
            raise UsageError("the output directory is not empty and holds no report", file=str(path),
                             expected="a new or empty directory, or one holding a previous report (with --overwrite)",
                             found=shown, hint="choose a new directory for the report")
    return path


def _describe_previous(path: Path) -> str:
    try:
        import nbformat

        meta = nbformat.read(path / "report.ipynb", as_version=4).metadata.get("workbench", {})
        return f" of template {meta['template']!r}" if meta.get("template") else ""
    except Exception:  # a partial or foreign notebook: the file names say enough
        return ""


def _kernel_options() -> dict[str, Any]:
    """Start the kernel without an unencrypted TCP listener (ipykernel warns about one on every run).

    POSIX: the IPC transport (Unix sockets in Jupyter's runtime directory, readable by this user
    only), unless that directory's path is too long for a socket name. Elsewhere, or then:
    CurveZMQ keys provisioned by the kernel manager when jupyter_client and libzmq support them.
    Otherwise the default, and the kernel's warning stands: it is true.
    """
    from jupyter_client import KernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets.config import Config

    # kernel-<uuid>-ipc-<n> under the runtime directory must fit a socket path (107 bytes)
    if os.name == "posix" and len(jupyter_runtime_dir()) <= 50:
        return {"config": Config({"KernelManager": {"transport": "ipc"}})}
    import zmq

    if zmq.has("curve") and "transport_encryption" in KernelManager.class_trait_names():
        return {"config": Config({"KernelManager": {"transport_encryption": "auto"}})}
    return {}


def run_report(template: str | Path, *, lake: str | Path, params: dict[str, Any] | None = None,
               out: str | Path, templates_dir: str | Path | None = None, kernel_name: str = "python3",
               progress: bool = False, overwrite: bool = False, pdf: bool = False) -> ReportResult:
    """Execute ``template`` on ``lake`` with ``params`` into ``out``.

    Writes ``out/report.ipynb`` (executed, with a provenance header), ``out/report.html`` (code
    hidden, charts as inline SVG: renders with the network off) and ``out/findings.json`` (written
    by the template from its result objects). Everything a user can get wrong (template, lake,
    parameters and their values, ``out``) is checked before the kernel starts.

    Parameters
    ----------
    pdf : bool
        Also print ``out/report.pdf`` from the HTML with headless Chromium (checked before the
        kernel starts: :class:`~workbench.exceptions.ChromiumNotFoundError` says how to install it).
    overwrite : bool
        Replace a previous report in ``out`` (its three files; other files there are kept).
        Without it, an ``out`` holding a report is refused, and a non-empty ``out`` holding no
        report always is.

    Raises
    ------
    UsageError
        Unknown template, unknown or ill-typed parameters (the message lists the valid ones), a
        time parameter that does not parse, ``out`` a file, inside the lake, or not empty.
    LakeNotFoundError, ManifestError
        ``lake`` is not a lake.
    ReportError
        A cell failed: ``out/report.ipynb`` holds the partial run and the message names the cell.

    Examples
    --------
    >>> res = run_report("incident-triage", lake="datasets/demo-lake",
    ...                  params={"since": "2026-03-12T00:00Z"}, out="out/demo-report")  # doctest: +SKIP
    >>> res.provenance["environment"]["lock"]["sha256"][:12]  # doctest: +SKIP
    '4388e9181d14'
    """
    import nbformat
    import papermill as pm

    t = find_template(template, templates_dir)
    if pdf:
        find_chromium()  # a missing browser fails now, not after the run
    if "lake" not in t.parameters:
        raise UsageError(f"template {t.name!r} declares no `lake` parameter", file=t.path)
    lake_dir = check_lake(lake)
    given = dict(params or {})
    given["lake"] = str(lake_dir)  # the notebook runs in the template's directory
    values = validate_params(t, given)
    out = _check_out(out, lake_dir, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        (out / name).unlink(missing_ok=True)
    findings = out / "findings.json"
    if "output_dir" in t.parameters:
        values["output_dir"] = str(out.resolve())
    nb_path = out / "report.ipynb"
    fingerprint = lake_fingerprint(lake_dir)
    env = environment()
    try:
        pm.execute_notebook(t.path, str(nb_path), parameters=values, kernel_name=kernel_name,
                            progress_bar=progress, cwd=str(Path(t.path).parent), **_kernel_options())
    except pm.PapermillExecutionError as exc:
        raise ReportError(f"template {t.name!r} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}",
                          file=str(nb_path), hint="open the partial notebook to see the failing cell") from None
    summary = {k: v for k, v in fingerprint.items() if k != "entries"}
    provenance = {"template": t.name, "template_sha256": t.sha256, "workbench": __version__,
                  "parameters": {k: v for k, v in values.items() if k != "output_dir"}, "lake": summary,
                  "environment": env}
    doc = json.loads(findings.read_text(encoding="utf-8")) if findings.exists() else None
    nb = nbformat.read(nb_path, as_version=4)
    # the headline card under the title, the provenance folded at the end (kept in full)
    if doc is not None:
        at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" and nb.cells[0].source.lstrip().startswith("# ") else 0
        nb.cells.insert(at, nbformat.v4.new_markdown_cell(headline_html(doc), metadata={"workbench": "headline"}))
    nb.cells.append(nbformat.v4.new_markdown_cell(_header(t, values, fingerprint, env),
                                                  metadata={"workbench": "provenance"}))
    # the notebook alone is enough to rerun and compare: the per-file lake list and the findings
    nb.metadata["workbench"] = {**provenance, "lake": fingerprint, "findings": doc}
    nbformat.write(nb, nb_path)
    html = out / "report.html"
    to_offline_html(nb_path, html)
    pdf_path = None
    if pdf:
        pdf_path = out / "report.pdf"
        html_to_pdf(html, pdf_path)
    if doc is not None:
        findings.write_text(json.dumps({**doc, "report": provenance}, indent=2, sort_keys=False), encoding="utf-8")
    return ReportResult(template=t.name, out_dir=str(out), notebook=str(nb_path), html=str(html),
                        findings=str(findings) if doc is not None else None, parameters=values,
                        provenance=provenance, pdf=str(pdf_path) if pdf_path else None)
