"""Synthetic LLM telemetry lakes (``task: generation``) with injected incidents.

:func:`generate_llm_lake` writes one; :data:`LLM_CAUSES` maps each cause to its number of variants.
"""

from workbench.synthetic.llm.generator import APPS, generate_llm_lake
from workbench.synthetic.llm.scenario import LLM_CAUSES

__all__ = ["APPS", "LLM_CAUSES", "generate_llm_lake"]
