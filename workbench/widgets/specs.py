"""Chart specs for the Explorers' views without rebuilding Altair charts on every control change.

Building a layered Altair chart and turning it into a Vega-Lite spec costs more than computing the
frame it draws (tens to hundreds of milliseconds for the SLI and usage panels). A view's spec
depends on its arguments (feature, proxy, split, lineage events ...) and on its rows, and Altair
carries inline rows as the chart's own ``data`` or as one named dataset (``data-`` + a hash of
the rows). So :class:`KeptSpecs`
builds a chart once per *shape* (everything but the rows) and, for new rows of a known shape,
returns the kept spec with that dataset swapped for the new rows (what a fresh build gives).
:class:`ViewCharts` holds each view's Altair chart, built only when someone reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

__all__ = ["KeptSpecs", "ViewCharts"]


def dataset_name(rows: list) -> str:
    """The name Altair gives inline ``rows`` in a spec (a hash of their JSON)."""
    from altair.vegalite.v6.api import _dataset_name

    return _dataset_name(rows)


def _filled(node: Any, fill: Mapping[str, str]) -> Any:
    """``node`` with every placeholder of ``fill`` in its strings replaced (rows left alone)."""
    if isinstance(node, str):
        for k, v in fill.items():
            node = node.replace(k, v)
        return node
    if isinstance(node, dict):
        return {k: (v if k in ("datasets", "values") else _filled(v, fill)) for k, v in node.items()}
    if isinstance(node, list):
        return [_filled(v, fill) for v in node]
    return node


def _renamed(node: Any, old: str, new: str) -> Any:
    """``node`` with every ``{"name": old}`` data reference naming ``new`` (new containers along the
    way; the kept spec is never changed)."""
    if isinstance(node, dict):
        return {k: ({**v, "name": new} if k == "data" and isinstance(v, dict) and v.get("name") == old
                    else _renamed(v, old, new)) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, old, new) for v in node]
    return node


class KeptSpecs:
    """Specs kept per chart shape (a view's arguments other than its rows)."""

    def __init__(self, size: int = 64) -> None:
        self._kept: dict[Hashable, tuple[dict, str | None]] = {}
        self._size = size

    def spec(self, shape: Hashable, rows: list, build: Callable[[], Any],
             fill: Mapping[str, str] | None = None) -> dict:
        """The spec of ``build()``, a chart of ``shape`` carrying ``rows`` (exactly as the chart
        function puts them) as its inline top-level data or as one named dataset. Built once per
        shape; then the kept spec with those rows swapped. When ``rows`` are found in neither
        place, nothing is kept (every call builds): a swap could not be trusted.

        ``fill`` maps placeholders that ``build`` put in the chart's text (titles) to their text
        (e.g. a split's name), so that charts differing only by such text share one shape."""
        out = self._spec(shape, rows, build)
        return _filled(out, fill) if fill else out

    def _spec(self, shape: Hashable, rows: list, build: Callable[[], Any]) -> dict:
        kept = self._kept.get(shape)
        if kept is None:
            spec = build().to_dict(validate=False)
            name = dataset_name(rows)
            if name in spec.get("datasets", {}):
                where = name
            elif isinstance(spec.get("data"), dict) and spec["data"].get("values") == rows:
                where = None  # the chart's own inline data
            else:
                return spec
            if len(self._kept) >= self._size:
                self._kept.pop(next(iter(self._kept)))
            self._kept[shape] = (spec, where)
            return spec
        spec, old = kept
        if old is None:
            return {**spec, "data": {**spec["data"], "values": rows}}
        new = dataset_name(rows)
        if new == old:
            return spec
        out = _renamed({k: v for k, v in spec.items() if k != "datasets"}, old, new)
        out["datasets"] = {**{k: v for k, v in spec["datasets"].items() if k != old}, new: rows}
        return out


class ViewCharts(Mapping):
    """Each view's current Altair chart (``None`` for a view with no data), built when read."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}
        self._build: dict[str, Callable[[], Any]] = {}

    def put(self, view: str, build: Callable[[], Any] | None) -> None:
        """The view's chart is now ``build()`` (made on first read), or ``None``."""
        self._made.pop(view, None)
        self._build[view] = build or (lambda: None)

    def set(self, view: str, chart: Any) -> None:
        """The view's chart is ``chart`` (already made)."""
        self._build[view] = lambda: chart
        self._made[view] = chart

    def __getitem__(self, view: str) -> Any:
        if view not in self._made:
            self._made[view] = self._build[view]()
        return self._made[view]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build)

    def __len__(self) -> int:
        return len(self._build)

    def __repr__(self) -> str:
        return f"ViewCharts({list(self._build)})"
