"""Detectors over summaries: drift, quality, SLIs, capture, segments, onset, PII.

Each detector returns a typed result (data + meta, ``to_dict()``, a notebook repr).
"""

from workbench.evidence.drift import DriftResult, DriftThresholds, FeatureDrift, detect_drift
from workbench.evidence.onset import OnsetResult, detect_onset
from workbench.evidence.pii import PIIResult, scan_pii
from workbench.evidence.quality import QualityResult, assess_quality
from workbench.evidence.slis import SLIResult, compute_slis

__all__ = ["DriftResult", "DriftThresholds", "FeatureDrift", "OnsetResult", "PIIResult", "QualityResult",
           "SLIResult", "assess_quality", "compute_slis", "detect_drift", "detect_onset", "scan_pii"]
