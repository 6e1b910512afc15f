"""Workbench: debug machine-learning models in production.

>>> import workbench as wb
>>> lake = wb.open_lake("datasets/demo-lake")   # doctest: +SKIP
"""

from workbench._version import __version__
from workbench.exceptions import WorkbenchError, WorkbenchWarning
from workbench.lake import Lake, LakeProfile, Lineage, LineageChain, Manifest, open_lake, read_manifest

__all__ = [
    "__version__",
    "Explorer",
    "Findings",
    "HypothesisBoard",
    "Lake",
    "LakeProfile",
    "Lineage",
    "LineageChain",
    "Manifest",
    "WorkbenchError",
    "WorkbenchWarning",
    "open_lake",
    "read_manifest",
    "rerun_report",
    "run_report",
    "triage",
]

_LAZY = {"triage": "workbench.rca", "Findings": "workbench.rca", "run_report": "workbench.report",
         "rerun_report": "workbench.report",
         "Explorer": "workbench.widgets", "HypothesisBoard": "workbench.widgets"}
_SUBPACKAGES = ("charts", "evidence", "explain", "rca", "report", "summaries", "synthetic", "widgets")


def __getattr__(name: str):
    # triage pulls in the statistics stack (scipy); load it on first use, not on import
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:  # wb.charts, wb.report, ... without importing them up front
        return importlib.import_module(f"workbench.{name}")
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension inside the package (for ``jupyter labextension develop``)."""
    return [{"src": "labextension", "dest": "ml-incident-workbench"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The server extension behind it (``jupyter server extension enable workbench``)."""
    return [{"module": "workbench.jupyter"}]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
