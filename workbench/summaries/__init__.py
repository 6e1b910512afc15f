"""One-pass, mergeable summaries of predictions: the input of every detector.

>>> binning = wb.summaries.fit_binning(...)      # doctest: +SKIP
>>> s = wb.summarize(lake, binning, start=..., end=...)  # doctest: +SKIP
"""

from workbench.summaries.binning import Binning, fit_binning
from workbench.summaries.engine import summarize_frame
from workbench.summaries.lake import fit_lake_binning, summarize, window
from workbench.summaries.summary import Summary, merge_tables

__all__ = ["Binning", "Summary", "fit_binning", "fit_lake_binning", "merge_tables", "summarize",
           "summarize_frame", "window"]
