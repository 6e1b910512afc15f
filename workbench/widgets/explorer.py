"""``Explorer``: controls over a lake and linked views drawn from cached summaries."""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import replace
from typing import Any

import ipywidgets as w
import polars as pl

import workbench.charts as charts
from workbench.charts.charts import inline_rows, slis_datasets
from workbench.lake import Lake, open_lake
from workbench.widgets.model import ALL, ExplorerModel, Selection
from workbench.widgets.specs import KeptSpecs, ViewCharts

__all__ = ["Explorer"]


@functools.cache
def _offline_chart_class() -> type:
    """A subclass of ``alt.JupyterChart`` that loads the Vega bundle vl-convert ships (offline: no
    CDN). ``alt.JupyterChart.enable_offline()`` switches every JupyterChart of the process; this
    borrows the bundle it builds and gives it to our subclass only, leaving ``alt.JupyterChart`` as
    the user set it. Built once per process (the bundle takes ~1 s)."""
    import altair as alt

    base = alt.JupyterChart
    saved = {k: base.__dict__[k] for k in ("_esm", "_is_offline") if k in base.__dict__}
    try:
        base.enable_offline()
        esm = base._esm
    finally:
        for k, v in saved.items():
            setattr(base, k, v)
    return type("OfflineJupyterChart", (base,), {"_esm": esm, "_is_offline": True, "__module__": __name__})


def _jupyter_chart(chart):
    """A JupyterChart (anywidget) drawing in the browser with the offline Vega bundle; a control
    change sends a new spec, not a rendered image."""
    return _offline_chart_class()(chart, embed_options={"renderer": "svg", "actions": False})


def _with_datasets(chart, datasets: dict):
    """A shallow copy of a top-level Altair chart with other ``datasets`` (its panels shared: Altair
    charts are not changed in place, their methods return copies). Not validated: the rows are
    results, in the shape the chart was built with."""
    import copy

    out = copy.copy(chart)
    object.__setattr__(out, "_kwds", {**chart._kwds, "datasets": datasets})
    return out


class Explorer:
    """Explore an incident without writing polars: pick windows, version, route, segment, feature.

    On a ``task: generation`` lake it becomes a :class:`~workbench.widgets.LLMExplorer` when it
    loads (proxies over time by prompt version, model, index build, release or router decision;
    finish reasons; tokens, cost and latency; sampled calls with redacted excerpts).

    Parameters
    ----------
    lake : Lake or path
    since, until, baseline_since, baseline_until : optional
        Initial windows (default: the last quarter of the data, and the 7 days before it).

    The constructor only stores its arguments, as scikit-learn's estimators do: the lake is opened
    and summarised, and the views drawn, on first use — displaying the Explorer or reading
    :attr:`widget`, :attr:`charts`, :attr:`selection`, :attr:`model` or a control. Nothing changes
    process-wide state: the charts are a private subclass of ``alt.JupyterChart`` that loads the
    Vega bundle vl-convert ships (``alt.JupyterChart`` itself is left as it was).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole view (displayed when the Explorer is the last expression of a cell).
    charts : Mapping
        The current Altair chart of each view (``slis``, ``distribution``, ``heatmap``, ``quality``),
        made when read (a control change sends the browser a spec: :mod:`workbench.widgets.specs`).
    timings : dict
        Seconds the last update of each view took.

    Examples
    --------
    >>> ex = wb.Explorer("datasets/demo-lake")   # doctest: +SKIP
    >>> ex                                        # doctest: +SKIP
    """

    def __init__(self, lake: Lake | str, *, since=None, until=None, baseline_since=None, baseline_until=None):
        self.lake_or_path = lake
        self.since, self.until = since, until
        self.baseline_since, self.baseline_until = baseline_since, baseline_until

    # Everything below is made on first use (displaying the Explorer, or reading ``widget``,
    # ``charts``, ``selection``, ``model`` or a control): the constructor only stores its arguments.
    _LAZY = frozenset({"lake", "model", "load_seconds", "charts", "shown_chain", "sampled", "timings", "widget",
                       "window", "baseline", "version", "route", "segment", "segment_value", "feature", "status",
                       "views", "rows", "sample_button", "chain", "table", "sort_by", "sort_descending",
                       "sampled_table", "_jcharts", "_selection", "_described", "_shown", "_shapes", "_specs",
                       # a generation lake's controls (LLMExplorer)
                       "proxy", "split", "release"})

    def __getattr__(self, name: str):
        # called only for attributes not made yet
        if name not in Explorer._LAZY or self.__dict__.get("_loading"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self._load()
        if name not in self.__dict__:  # a control of the other kind of lake
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.__dict__[name]

    def _load(self) -> None:
        """Open the lake, make the model (its one pass over the lake), the controls and the views;
        a failed load leaves nothing half made (the next use retries). The LLM Explorer shares this
        and makes its own model and selection (:meth:`_make_model`, :meth:`_first_selection`)."""
        lake = self.lake_or_path
        if not isinstance(lake, Lake):
            self.lake_or_path = lake = open_lake(lake)
        if lake.task == "generation" and type(self) is Explorer:
            # an LLM application's lake: the Explorer adapts (proxies, finish reasons, sampled calls)
            from workbench.widgets.llm_explorer import LLMExplorer

            self.__class__ = LLMExplorer
        self._loading = True
        try:
            self.lake = lake
            t0 = time.perf_counter()
            self.model = self._make_model()
            self.load_seconds = time.perf_counter() - t0
            sel = self._first_selection()
            self.charts = ViewCharts()
            self._specs = KeptSpecs()
            self.shown_chain = None  # the lineage of the chosen row
            self.sampled = None  # the last sampled rows
            self.sampled_table = None  # the same as a workbench.tables.Table, as sorted on screen
            self.timings: dict[str, float] = {}
            self._build(sel)
            self._selection = self._read()
            self.refresh()
        except BaseException:
            for k in Explorer._LAZY:  # a failed load leaves nothing half made: the next use retries
                self.__dict__.pop(k, None)
            raise
        finally:
            self._loading = False

    def _make_model(self) -> ExplorerModel:
        model = ExplorerModel(self.lake)
        _ = model.hourly  # the one pass over the lake every view reads
        return model

    def _first_selection(self) -> Selection:
        from workbench.lake.timestamps import parse_time

        sel = self.model.default_selection()
        if self.since is not None:
            sel = replace(sel, start=parse_time(self.since), baseline_end=parse_time(self.since))
        if self.until is not None:
            sel = replace(sel, end=parse_time(self.until))
        if self.baseline_since is not None:
            sel = replace(sel, baseline_start=parse_time(self.baseline_since))
        if self.baseline_until is not None:
            sel = replace(sel, baseline_end=parse_time(self.baseline_until))
        return sel

    # -- controls -----------------------------------------------------------------------
    def _build(self, sel: Selection) -> None:
        m = self.model
        hours = m.hours + [m.hours[-1] + dt.timedelta(hours=1)] if m.hours else [m.lo, m.hi]
        opts = [(h.strftime("%m-%d %H:%M"), h) for h in hours]

        def nearest(t):
            return min(range(len(hours)), key=lambda i: abs((hours[i] - t).total_seconds()))

        self.window = w.SelectionRangeSlider(options=opts, index=(nearest(sel.start), nearest(sel.end)),
                                             description="window", layout=w.Layout(width="95%"),
                                             continuous_update=False)
        self.baseline = w.SelectionRangeSlider(options=opts, index=(nearest(sel.baseline_start),
                                                                    nearest(sel.baseline_end)),
                                               description="baseline", layout=w.Layout(width="95%"),
                                               continuous_update=False)
        self.version = w.Dropdown(options=[ALL, *m.versions], value=ALL, description="version")
        self.route = w.Dropdown(options=[ALL, *m.routes], value=ALL, description="route")
        self.segment = w.Dropdown(options=[ALL, *self.lake.segments], value=ALL, description="segment")
        self.segment_value = w.Dropdown(options=[ALL], value=ALL, description="value")
        feats = list(self.lake.features)
        self.feature = w.Dropdown(options=feats, value=sel.feature if sel.feature in feats else (feats[0] if feats
                                                                                                 else None),
                                  description="feature")
        self.status = w.HTML()
        self.views = {k: w.Output(layout=w.Layout(min_height="120px")) for k in ("slis", "distribution", "heatmap",
                                                                                 "quality")}
        self._jcharts: dict[str, Any] = {}
        self.rows = w.Select(options=[], rows=8, description="rows", layout=w.Layout(width="60%"))
        self.sample_button = w.Button(description="sample rows", tooltip="read a few predictions of the window")
        self.chain = w.Output()
        # the sampled rows as a table (sensitive columns masked by the lake), drawn by workbench.tables;
        # widget HTML runs no script, so sorting is a control that re-renders it
        self.table = w.HTML()
        self.sort_by = w.Dropdown(options=[("time", "timestamp")], value="timestamp", description="sort by")
        self.sort_descending = w.Checkbox(value=False, description="descending", indent=False)
        for name, widget in (("window", self.window), ("baseline", self.baseline), ("version", self.version),
                             ("route", self.route), ("segment", self.segment), ("segment-value", self.segment_value),
                             ("feature", self.feature), ("rows", self.rows), ("sample", self.sample_button),
                             ("table", self.table), ("chain", self.chain), ("sort-by", self.sort_by),
                             ("sort-descending", self.sort_descending)):
            widget.add_class(f"wb-explorer-{name}")
        for k, out in self.views.items():
            out.add_class(f"wb-explorer-view-{k}")
        self.segment.observe(self._on_segment, names="value")
        for c in (self.window, self.baseline, self.version, self.route, self.segment_value):
            c.observe(lambda change: self.refresh(), names="value")
        self.feature.observe(lambda change: self.refresh(only=("distribution",)), names="value")
        self.rows.observe(self._on_row, names="value")
        self.sample_button.on_click(lambda b: self.sample())
        self.sort_by.observe(lambda change: self._show_table(), names="value")
        self.sort_descending.observe(lambda change: self._show_table(), names="value")
        controls = w.VBox([self.window, self.baseline,
                           w.HBox([self.version, self.route]), w.HBox([self.segment, self.segment_value]),
                           self.status])
        self.widget = w.VBox([
            controls,
            w.HTML("<b>Service levels</b>"), self.views["slis"],
            w.HTML("<b>Feature distribution</b>"), self.feature, self.views["distribution"],
            w.HTML("<b>Drift</b>"), self.views["heatmap"],
            w.HTML("<b>Quality</b>"), self.views["quality"],
            w.HTML("<b>Predictions</b> (sensitive columns masked)"),
            w.HBox([self.sample_button, self.sort_by, self.sort_descending]), self.table,
            w.HTML("choose a row to see its lineage:"), self.rows,
            self.chain])
        self.widget.add_class("wb-explorer")

    def _on_segment(self, change) -> None:
        col = change["new"]
        values = [ALL] + (self.model.segment_values(col) if col != ALL else [])
        self.segment_value.options = values
        self.segment_value.value = ALL

    def _read(self) -> Selection:
        (s, e), (bs, be) = self.window.value, self.baseline.value
        return Selection(start=s, end=e, baseline_start=bs, baseline_end=be, version=self.version.value,
                         route=self.route.value, segment=self.segment.value, segment_value=self.segment_value.value,
                         feature=self.feature.value)

    @property
    def selection(self) -> Selection:
        """The current state of the controls."""
        return self._read()

    # -- views --------------------------------------------------------------------------
    def refresh(self, only: tuple[str, ...] | None = None) -> None:
        """Redraw the views (all, or ``only`` some) from the cached summaries; a view whose part of
        the selection (:data:`~workbench.widgets.model.DEPENDS`) did not change is left as it is."""
        sel = self._read()
        m = self.model
        todo = only or ("slis", "distribution", "heatmap", "quality")
        shown = self.__dict__.setdefault("_shown", {})
        for k in todo:
            t0 = time.perf_counter()
            key = m.view_key(k, sel)
            if shown.get(k) == key:
                self.timings[k] = time.perf_counter() - t0
                continue
            if k == "slis":
                chart, spec = self._slis(sel)
                self.charts.set(k, chart)
            else:
                if k == "distribution":
                    frame = m.distribution(sel)
                    build = functools.partial(charts.distribution_chart, frame, feature=sel.feature or "")
                    shape = sel.feature
                elif k == "heatmap":
                    frame = m.drift_heatmap(sel)
                    build, shape = functools.partial(charts.heatmap_chart, frame), None
                else:
                    frame = m.quality_over_time(sel)
                    build, shape = functools.partial(charts.quality_chart, frame), None
                # the chart carries the frame's rows inline; its spec is kept per shape (widgets.specs)
                spec = self._specs.spec((k, shape), inline_rows(frame.to_dicts()), build) if frame.height else None
                self.charts.put(k, build if frame.height else None)
            self._show(k, spec)
            shown[k] = key
            self.timings[k] = time.perf_counter() - t0
        d = self._described = m.describe(sel)
        self.status.value = (f"window <b>{d['window_rows']:,}</b> rows, baseline <b>{d['baseline_rows']:,}</b> rows"
                             f" · updated in {sum(self.timings[k] for k in todo) * 1000:.0f} ms")
        self._selection = sel

    def _slis(self, sel: Selection):
        """The SLI chart and its spec. Its panels depend only on the frame's columns and on which
        datasets there are; the rows travel as named datasets. So the chart is built (and its spec
        made) once per such shape, and a change swaps the datasets of both (building the four
        layered panels and making their spec cost more than everything else in an update)."""
        m = self.model
        frame, markers = m.slis_over_time(sel), m.markers(sel)
        if frame.is_empty():
            chart = charts.slis_chart(frame)
            return chart, chart.to_dict(validate=False)
        data = slis_datasets(frame, markers, window_start=sel.start)
        shapes = self.__dict__.setdefault("_shapes", {})
        shape = (tuple(frame.columns), tuple(data))
        if shape not in shapes:
            chart = charts.slis_chart(frame, markers, window_start=sel.start, brush=True)
            shapes[shape] = (chart, chart.to_dict(validate=False))
            return shapes[shape]
        chart, spec = shapes[shape]
        return _with_datasets(chart, data), {**spec, "datasets": data}

    def _show(self, key: str, spec: dict | None) -> None:
        """Put the view's chart in its view: its JupyterChart gets the new ``spec`` (drawn in the
        browser); a view with no data (``None``) says so."""
        out = self.views[key]
        if spec is None:
            self._jcharts.pop(key, None)
            out.clear_output()
            with out:
                print("no data for this selection")
            return
        jc = self._jcharts.get(key)
        if jc is None:
            jc = _jupyter_chart(self.charts[key])
            jc.add_class(f"wb-explorer-chart-{key}")
            self._jcharts[key] = jc
            if key == "slis" and "brush" in jc.selections.trait_names():
                jc.selections.observe(lambda change: self.brush(change["new"].value), names=["brush"])
            out.clear_output()
            with out:
                from IPython.display import display

                display(jc)
        else:
            # the front end redraws from the new spec; Altair's schema validation is skipped (it
            # costs more than everything else in an update, and the charts are built from results)
            jc.spec = spec

    def brush(self, value: dict | None) -> None:
        """Set the window from a brushed time range (``{"bucket": [start_ms, end_ms]}``, as the SLI
        chart's interval selection reports it); an empty brush leaves the window as it is."""
        rng = (value or {}).get("bucket")
        if not rng or len(rng) != 2:
            return
        lo, hi = (dt.datetime.fromtimestamp(float(v) / 1000, tz=dt.timezone.utc) for v in rng)
        opts = [o[1] for o in self.window.options]

        def nearest(t):
            return min(range(len(opts)), key=lambda i: abs((opts[i] - t).total_seconds()))
        i, j = nearest(min(lo, hi)), nearest(max(lo, hi))
        if j > i:
            self.window.index = (i, j)

    def sample(self, n: int = 25) -> pl.DataFrame:
        """Read a few predictions of the window into the rows list (choosing one shows its lineage)."""
        from workbench.tables import table

        df = self.model.sample(self._read(), n)
        self.sampled = df
        keep = self.sort_by.value  # new options reset the choice: keep the reader's (time at first)
        self.sampled_table = table(df, max_rows=max(n, 1))
        self.sort_by.options = [(self.sampled_table.titles[c], c) for c in self.sampled_table.columns]
        self.sort_by.value = keep if keep in self.sampled_table.columns else "timestamp"
        self._show_table()
        self.rows.options = [(f"{r['request_id']}  {r['timestamp']:%m-%d %H:%M}  {r['model_version']}  {r['route']}",
                              r["request_id"]) for r in df.iter_rows(named=True)]
        return df

    def sort(self, by: str, *, descending: bool = False) -> None:
        """Sort the sampled rows shown by column ``by`` (what the "sort by" control does)."""
        self.sort_descending.value = descending
        self.sort_by.value = by  # re-renders through the observer (or below, when unchanged)
        self._show_table()

    def _show_table(self) -> None:
        base = self.__dict__.get("sampled_table")
        if base is None:
            return
        by = self.sort_by.value if self.sort_by.value in base.columns else base.columns[0]
        self.sampled_table = base.sort(by, descending=self.sort_descending.value)
        self.table.value = self.sampled_table.to_html()

    def _on_row(self, change) -> None:
        rid = change["new"]
        if rid is None:
            return
        self.shown_chain = self.lake.lineage_of(rid)
        self.chain.clear_output()
        with self.chain:
            from IPython.display import display

            display(self.shown_chain)

    # -- display ------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        # never computes: before the first use it shows the arguments, after it the last refresh
        if "_described" not in self.__dict__:
            lake = self.lake_or_path.name if isinstance(self.lake_or_path, Lake) else str(self.lake_or_path)
            return f"Explorer(lake={lake!r}, not loaded yet: display it, or read .widget or .charts)"
        s, d = self._selection, self._described
        return (f"Explorer(lake={self.lake.name!r}, window={s.start:%Y-%m-%d %H:%M}..{s.end:%Y-%m-%d %H:%M} "
                f"({d['window_rows']} rows), baseline={s.baseline_start:%Y-%m-%d %H:%M}..{s.baseline_end:%Y-%m-%d %H:%M}"
                f", version={s.version}, route={s.route}, segment={s.segment}={s.segment_value}, feature={s.feature})")
