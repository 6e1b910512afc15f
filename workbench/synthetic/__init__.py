"""Seeded generator of telemetry lakes with injected incidents, for tests, demos and docs.

``generate_lake(out_dir, cause=..., variant=..., seed=...)`` writes a lake following the
telemetry-lake contract and returns a :class:`Truth` naming the cause, onset and subject.
:data:`CAUSES` maps each cause of the findings taxonomy to its number of variants.
``generate_llm_lake`` and :data:`LLM_CAUSES` do the same for LLM applications (``task: generation``).
"""

from workbench.synthetic.generator import generate_lake
from workbench.synthetic.incidents import CAUSES
from workbench.synthetic.llm import LLM_CAUSES, generate_llm_lake
from workbench.synthetic.truth import Truth

__all__ = ["CAUSES", "LLM_CAUSES", "Truth", "generate_lake", "generate_llm_lake"]
