"""Opening and validating a telemetry lake: manifest, tables, lineage.

This layer imports nothing else of the workbench's (see DESIGN.md).
"""

from workbench.lake.chain import LineageChain
from workbench.lake.lake import Lake, LakeProfile, open_lake
from workbench.lake.lineage import Lineage
from workbench.lake.manifest import Manifest, read_manifest

__all__ = ["Lake", "LakeProfile", "Lineage", "LineageChain", "Manifest", "open_lake", "read_manifest"]
