"""Hypothesis-driven root-cause analysis: one module per cause, ranking, and :func:`triage`."""

from workbench.rca.context import Context, FeatureChange, Release
from workbench.rca.engine import (
    BUILTIN_HYPOTHESES, ENTRY_POINT_GROUP, HypothesisWarning, load_hypotheses, rank_hypotheses, triage,
)
from workbench.rca.finding import (
    CAUSES, DECISION_THRESHOLD, SUBJECT_KEYS, Evidence, Finding, Findings, LineageEvent, subject,
)
from workbench.rca.hypothesis import Hypothesis

__all__ = ["BUILTIN_HYPOTHESES", "CAUSES", "Context", "DECISION_THRESHOLD", "ENTRY_POINT_GROUP", "Evidence",
           "FeatureChange", "Finding", "Findings", "Hypothesis", "HypothesisWarning", "LineageEvent", "Release",
           "SUBJECT_KEYS", "load_hypotheses", "rank_hypotheses", "subject", "triage"]
