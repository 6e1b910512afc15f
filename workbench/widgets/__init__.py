"""ipywidgets views for JupyterLab: :class:`Explorer` and :class:`HypothesisBoard`.

Charts are ``alt.JupyterChart`` widgets loading the Vega bundle vl-convert ships, so they render
offline, without changing any process-wide setting. Constructors store their arguments; the work
happens on first use, and ``repr`` never computes. Every widget has a stable CSS class
(``wb-explorer-*``, ``wb-board-*``) for tests, and a text repr outside Jupyter.
"""

from workbench.widgets.board import VERDICTS, HypothesisBoard
from workbench.widgets.explorer import Explorer
from workbench.widgets.llm_explorer import LLMExplorer
from workbench.widgets.llm_model import LLMExplorerModel, LLMSelection
from workbench.widgets.model import ExplorerModel, Selection

__all__ = ["VERDICTS", "Explorer", "ExplorerModel", "HypothesisBoard", "LLMExplorer", "LLMExplorerModel",
           "LLMSelection", "Selection"]
