"""ipywidgets views for JupyterLab: :class:`Explorer` and :class:`HypothesisBoard`.

Charts are drawn as static SVG in the kernel (vl-convert), so they render offline. Every widget
has a stable CSS class (``wb-explorer-*``, ``wb-board-*``) for tests, and a text repr outside Jupyter.
"""

from workbench.widgets.board import VERDICTS, HypothesisBoard
from workbench.widgets.explorer import Explorer
from workbench.widgets.model import ExplorerModel, Selection

__all__ = ["VERDICTS", "Explorer", "ExplorerModel", "HypothesisBoard", "Selection"]
