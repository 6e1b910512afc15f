"""Detectors over summaries: drift, quality, SLIs, capture, segments, onset, PII.

Each detector returns a typed result (data + meta, ``to_dict()``, a notebook repr).
"""

from workbench.evidence.capture import RelativeCapture, relative_capture
from workbench.evidence.drift import DriftResult, DriftThresholds, FeatureDrift, detect_drift
from workbench.evidence.embedding import EmbeddingDrift, detect_embedding_drift, sample_embeddings
from workbench.evidence.estimate import PerformanceEstimate, estimate_performance
from workbench.evidence.onset import OnsetResult, detect_onset
from workbench.evidence.pii import PIIResult, scan_pii
from workbench.evidence.quality import QualityResult, assess_quality
from workbench.evidence.segments import SegmentDeltas, SliceResult, segment_deltas, worst_slices
from workbench.evidence.slis import SLIResult, compute_slis
from workbench.evidence.versions import MismappingResult, VersionComparison, compare_versions, detect_output_mismapping

__all__ = ["RelativeCapture", "relative_capture", "DriftResult", "DriftThresholds", "EmbeddingDrift", "FeatureDrift", "MismappingResult", "OnsetResult", "PIIResult", "PerformanceEstimate",
           "QualityResult", "SLIResult", "SegmentDeltas", "SliceResult", "VersionComparison", "assess_quality", "compare_versions", "compute_slis",
           "detect_drift", "detect_embedding_drift", "detect_onset", "detect_output_mismapping", "estimate_performance", "sample_embeddings", "scan_pii", "segment_deltas", "worst_slices"]

# onsets of distributions, releases, segment regressions, the symptom table, hours both versions served
from workbench.evidence.onset import OnsetThresholds, distribution_onset, mean_onset  # noqa: E402
from workbench.evidence.overlap import on_shared_hours, shared_hours  # noqa: E402
from workbench.evidence.releases import Release, detect_releases  # noqa: E402
from workbench.evidence.segment_regression import SegmentRegression, worst_segment_regression  # noqa: E402
from workbench.evidence.symptoms import Symptom, symptom_table  # noqa: E402

__all__ += ["OnsetThresholds", "Release", "SegmentRegression", "Symptom", "detect_releases", "distribution_onset",
            "mean_onset", "on_shared_hours", "shared_hours", "symptom_table", "worst_segment_regression"]

# every detector's thresholds object, the canary choice, incident times and per-day series
from workbench.evidence.canary import CanaryPair, canary_verdict, choose_canary  # noqa: E402
from workbench.evidence.embedding import EmbeddingThresholds  # noqa: E402
from workbench.evidence.incident_times import IncidentTimeRules, IncidentTimes, incident_times  # noqa: E402
from workbench.evidence.over_time import estimate_over_time, psi_over_time  # noqa: E402
from workbench.evidence.pii import PIIThresholds  # noqa: E402
from workbench.evidence.segment_regression import SegmentRegressionThresholds  # noqa: E402
from workbench.evidence.segments import SegmentThresholds, SliceThresholds  # noqa: E402
from workbench.evidence.slis import SLIThresholds  # noqa: E402
from workbench.evidence.stats import ALPHA  # noqa: E402
from workbench.evidence.versions import MismappingThresholds, VersionThresholds  # noqa: E402

__all__ += ["ALPHA", "CanaryPair", "EmbeddingThresholds", "IncidentTimeRules", "IncidentTimes", "MismappingThresholds",
            "PIIThresholds", "SLIThresholds", "SegmentRegressionThresholds", "SegmentThresholds", "SliceThresholds",
            "VersionThresholds", "canary_verdict", "choose_canary", "estimate_over_time", "incident_times",
            "psi_over_time"]

# generation lakes (LLM calls): the summary with text signals, and the quality / cost proxies
from workbench.evidence.llm_calls import summarize_llm  # noqa: E402
from workbench.evidence.llm_compare import PROXIES, ProxyChange, compare_proxies, proxy_series  # noqa: E402

__all__ += ["PROXIES", "ProxyChange", "compare_proxies", "proxy_series", "summarize_llm"]
from workbench.evidence.llm_rows import (  # noqa: E402
    LeakedPII,
    TextRate,
    leaked_pii,
    reask_rate,
    refusal_similarity,
    unsupported_sentence_rate,
)
from workbench.evidence.llm_retrieval import RetrievalOverlap, retrieval_overlap  # noqa: E402
from workbench.evidence.llm_text import SIGNALS, excerpt, signal_exprs  # noqa: E402
from workbench.evidence.llm_topics import NewTopics, new_topics  # noqa: E402

__all__ += ["LeakedPII", "NewTopics", "RetrievalOverlap", "SIGNALS", "TextRate", "excerpt", "leaked_pii", "new_topics",
            "reask_rate", "refusal_similarity", "retrieval_overlap", "signal_exprs", "unsupported_sentence_rate"]
