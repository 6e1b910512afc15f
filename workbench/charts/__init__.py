"""Result -> Altair chart, pure functions: charts draw results and never compute them.

Every function takes a result object (or a small frame a result gave) and returns an
``alt.Chart``; tests assert on ``chart.to_dict()``. For offline reports, render as SVG
(:func:`workbench.report.setup` enables Altair's ``svg`` renderer, drawn by vl-convert).
"""

from workbench.charts.charts import (
    drift_chart, hypotheses_chart, latency_chart, segment_chart, series_chart, timeline_chart,
)

__all__ = ["drift_chart", "hypotheses_chart", "latency_chart", "segment_chart", "series_chart", "timeline_chart"]
