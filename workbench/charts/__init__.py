"""Result -> Altair chart, pure functions: charts draw results and never compute them.

Every function takes a result object (or a small frame a result gave) and returns an
``alt.Chart``; tests assert on ``chart.to_dict()``. Time axes are UTC and labelled so. Nothing
here changes a process-wide setting: for offline reports a notebook enables Altair's ``svg``
renderer (drawn by vl-convert) in its own set-up cell, as the built-in templates do.
"""

from workbench.charts.charts import (
    burn_chart, distribution_chart, drift_chart, heatmap_chart, hypotheses_chart, latency_chart, quality_chart,
    segment_chart, series_chart, slis_chart, timeline_chart,
)
from workbench.charts.causes import (
    CAUSE_CHARTS, capture_by_route_chart, embedding_drift_chart, feature_shift_chart, latency_by_version_chart,
    note_chart, output_mix_chart, pii_hits_chart, quality_by_version_chart, segment_by_version_chart,
)
from workbench.charts.llm import finish_mix_chart, proxy_over_time_chart, usage_over_time_chart

__all__ = ["finish_mix_chart", "proxy_over_time_chart", "usage_over_time_chart",
           "burn_chart", "distribution_chart", "drift_chart", "heatmap_chart", "hypotheses_chart", "latency_chart",
           "quality_chart", "segment_chart", "series_chart", "slis_chart", "timeline_chart",
           # the evidence chart of each cause (Hypothesis.chart names one)
           "CAUSE_CHARTS", "capture_by_route_chart", "embedding_drift_chart", "feature_shift_chart",
           "latency_by_version_chart", "note_chart", "output_mix_chart", "pii_hits_chart", "quality_by_version_chart",
           "segment_by_version_chart"]
