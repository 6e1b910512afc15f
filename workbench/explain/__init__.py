"""Replays and explanations over model artifacts.

Artifacts are loaded safely (:func:`load_artifact`: skops preferred, pickle only when trusted).
The alibi-backed explanations (permutation importance, ALE, anchors) need the ``explain`` extra
(the ``explain`` extra of ml-incident-workbench: alibi 0.9.4) and import it only when called.
"""

from workbench.explain.artifacts import TRUSTED_PREFIXES, load_artifact, resolve_artifact
from workbench.explain.explanations import (
    AleCurves, Anchors, ImportanceShift, TabularView, ale_curves, anchors_for_errors, importance_shift,
)
from workbench.explain.replay import ReplayResult, replay, score_rows

__all__ = ["AleCurves", "Anchors", "ImportanceShift", "ReplayResult", "TRUSTED_PREFIXES", "TabularView",
           "ale_curves", "anchors_for_errors", "importance_shift", "load_artifact", "replay", "resolve_artifact",
           "score_rows"]
