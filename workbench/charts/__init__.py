"""Result -> Altair chart, pure functions: charts draw results and never compute them.

Every function takes a result object (or a small frame a result gave) and returns an
``alt.Chart``; tests assert on ``chart.to_dict()``. For offline reports, render as SVG
(:func:`workbench.report.setup` enables Altair's ``svg`` renderer, drawn by vl-convert).
"""

from workbench.charts.charts import (
    distribution_chart, drift_chart, heatmap_chart, hypotheses_chart, latency_chart, quality_chart, segment_chart,
    series_chart, slis_chart, timeline_chart,
)

__all__ = ["distribution_chart", "drift_chart", "heatmap_chart", "hypotheses_chart", "latency_chart", "quality_chart",
           "segment_chart", "series_chart", "slis_chart", "timeline_chart"]
