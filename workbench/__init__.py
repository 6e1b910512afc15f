"""Workbench: debug machine-learning models in production.

>>> import workbench as wb
>>> lake = wb.open_lake("datasets/demo-lake")   # doctest: +SKIP
"""

from workbench._version import __version__
from workbench.exceptions import WorkbenchError, WorkbenchWarning
from workbench.lake import Lake, LakeProfile, Lineage, LineageChain, Manifest, open_lake, read_manifest

__all__ = [
    "__version__",
    "Lake",
    "LakeProfile",
    "Lineage",
    "LineageChain",
    "Manifest",
    "WorkbenchError",
    "WorkbenchWarning",
    "open_lake",
    "read_manifest",
]
