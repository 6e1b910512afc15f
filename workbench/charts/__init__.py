"""Result -> Altair chart, pure functions: charts draw results and never compute them.

Every function takes a result object (or a small frame a result gave) and returns an
``alt.Chart``; tests assert on ``chart.to_dict()``. Time axes are UTC and labelled so. Nothing
here changes a process-wide setting: for offline reports a notebook enables Altair's ``svg``
renderer (drawn by vl-convert) in its own set-up cell, as the built-in templates do.
"""

from workbench.charts.charts import (
    burn_chart, distribution_chart, drift_chart, heatmap_chart, hypotheses_chart, latency_chart, quality_chart, segment_chart,
    series_chart, slis_chart, timeline_chart,
)

__all__ = ["burn_chart", "distribution_chart", "drift_chart", "heatmap_chart", "hypotheses_chart", "latency_chart", "quality_chart",
           "segment_chart", "series_chart", "slis_chart", "timeline_chart"]
