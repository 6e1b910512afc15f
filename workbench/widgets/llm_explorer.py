"""The Explorer of a generation lake: quality, safety, retrieval, cost and latency proxies over
time split by prompt version, model, index build, release or router decision; the finish-reason
mix; tokens, cost and latency; sampled calls (redacted excerpts) and each call's lineage.

``wb.Explorer(lake)`` becomes an :class:`LLMExplorer` when it loads a ``task: generation`` lake.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from functools import partial
from typing import Any

import ipywidgets as w
import polars as pl

from workbench.charts.charts import _records
from workbench.charts.llm import KEY_TITLES, finish_mix_chart, proxy_over_time_chart, usage_over_time_chart
from workbench.evidence.llm_compare import PROXIES
from workbench.widgets.explorer import Explorer
from workbench.widgets.llm_model import ALL, NO_SPLIT, LLMExplorerModel, LLMSelection

__all__ = ["LLMExplorer"]

_SPEC = {p.name: p for p in PROXIES}
VIEWS = ("proxy", "finish", "usage")
#: stands for the split's name in the kept specs (widgets.specs)
_SPLIT = "\u2063split\u2063"


class LLMExplorer(Explorer):
    """Explore an LLM application's calls (see :class:`~workbench.widgets.Explorer`).

    Attributes
    ----------
    proxy, split, release, route, window : ipywidgets controls
    charts : Mapping
        The current Altair chart of each view, made when read (a control change sends the browser a
        spec, see :mod:`workbench.widgets.specs`) (``proxy``, ``finish``, ``usage``).
    sampled : DataFrame
        The last sampled calls (redacted excerpts, never raw text) with their lineage columns.
    """

    def _make_model(self) -> LLMExplorerModel:
        model = LLMExplorerModel(self.lake)
        _ = model.summary  # the one pass over the calls every view reads
        return model

    def _first_selection(self) -> LLMSelection:
        from workbench.lake.timestamps import parse_time

        sel = self.model.default_selection()
        if self.baseline_since is not None:
            sel = replace(sel, start=parse_time(self.baseline_since))
        elif self.since is not None:
            sel = replace(sel, start=parse_time(self.since))
        if self.until is not None:
            sel = replace(sel, end=parse_time(self.until))
        return sel

    # -- controls -----------------------------------------------------------------------
    def _build(self, sel: LLMSelection) -> None:
        m = self.model
        hours = m.hours + [m.hours[-1] + dt.timedelta(hours=1)] if m.hours else [m.lo, m.hi]
        opts = [(h.strftime("%m-%d %H:%M"), h) for h in hours]

        def nearest(t):
            return min(range(len(hours)), key=lambda i: abs((hours[i] - t).total_seconds()))

        self.window = w.SelectionRangeSlider(options=opts, index=(nearest(sel.start), nearest(sel.end)),
                                             description="time", layout=w.Layout(width="95%"),
                                             continuous_update=False)
        self.proxy = w.Dropdown(options=[(_SPEC[p].label, p) for p in m.proxies], value=sel.proxy or None,
                                description="metric", layout=w.Layout(width="60%"))
        self.split = w.Dropdown(options=[(NO_SPLIT, NO_SPLIT)] + [(KEY_TITLES.get(k, k), k) for k in m.splits],
                                value=sel.split, description="split by")
        self.release = w.Dropdown(options=[ALL, *m.releases], value=ALL, description="release")
        self.route = w.Dropdown(options=[ALL, *m.routes], value=ALL, description="route")
        self.status = w.HTML()
        self.views = {k: w.Output(layout=w.Layout(min_height="120px")) for k in VIEWS}
        self._jcharts: dict[str, Any] = {}
        self.rows = w.Select(options=[], rows=8, description="calls", layout=w.Layout(width="80%"))
        self.sample_button = w.Button(description="sample calls", tooltip="read a few calls of the time range")
        self.chain = w.Output()
        self.table = w.HTML()
        self.sort_by = w.Dropdown(options=[("time", "timestamp")], value="timestamp", description="sort by")
        self.sort_descending = w.Checkbox(value=False, description="descending", indent=False)
        for name, widget in (("window", self.window), ("proxy", self.proxy), ("split", self.split),
                             ("release", self.release), ("route", self.route), ("rows", self.rows),
                             ("sample", self.sample_button), ("table", self.table), ("chain", self.chain),
                             ("sort-by", self.sort_by), ("sort-descending", self.sort_descending)):
            widget.add_class(f"wb-explorer-{name}")
        for k, out in self.views.items():
            out.add_class(f"wb-explorer-view-{k}")
        for c in (self.window, self.release, self.route):
            c.observe(lambda change: self.refresh(), names="value")
        # the finish-reason mix does not depend on the split
        self.split.observe(lambda change: self.refresh(only=("proxy", "usage")), names="value")
        self.proxy.observe(lambda change: self.refresh(only=("proxy",)), names="value")
        self.rows.observe(self._on_row, names="value")
        self.sample_button.on_click(lambda b: self.sample())
        self.sort_by.observe(lambda change: self._show_table(), names="value")
        self.sort_descending.observe(lambda change: self._show_table(), names="value")
        controls = w.VBox([self.window, w.HBox([self.proxy, self.split]), w.HBox([self.release, self.route]),
                           self.status])
        self.widget = w.VBox([
            controls,
            w.HTML("<b>Proxy over time</b> (band: 95% interval; red: onset; dashed: releases, prompt versions, "
                   "index builds, provider model changes)"), self.views["proxy"],
            w.HTML("<b>Finish reasons</b>"), self.views["finish"],
            w.HTML("<b>Tokens, cost and latency</b>"), self.views["usage"],
            w.HTML("<b>Sampled calls</b> (excerpts of at most 120 characters, personal data redacted)"),
            w.HBox([self.sample_button, self.sort_by, self.sort_descending]), self.table,
            w.HTML("choose a call to see its lineage:"), self.rows, self.chain])
        self.widget.add_class("wb-explorer")
        self.widget.add_class("wb-explorer-llm")

    def _read(self) -> LLMSelection:
        s, e = self.window.value
        return LLMSelection(start=s, end=e, proxy=self.proxy.value or "", split=self.split.value,
                            release=self.release.value, route=self.route.value)

    @property
    def selection(self) -> LLMSelection:
        """The current state of the controls."""
        return self._read()

    # -- views --------------------------------------------------------------------------
    def refresh(self, only: tuple[str, ...] | None = None) -> None:
        """Redraw the views (all, or ``only`` some) from the cached summary."""
        sel = self._read()
        m = self.model
        todo = only or VIEWS
        events = m.markers(sel)
        key = sel.split if sel.split != NO_SPLIT else "all calls"
        marks = tuple(events.iter_rows())  # the lineage rules are part of a chart's shape
        for k in todo:
            t0 = time.perf_counter()
            if k == "proxy":
                frame = m.proxy_over_time(sel)
                p = _SPEC.get(sel.proxy)
                if p is None:
                    frame = frame.clear()
                build = partial(proxy_over_time_chart, frame, label=p.label, key=key, kind=p.kind, unit=p.unit,
                                events=events) if p is not None else None
                shape = (p and (p.label, p.kind, p.unit), marks)
            elif k == "finish":
                frame = m.finish_mix(sel)
                build, shape = partial(finish_mix_chart, frame, events=events), marks
            else:
                frame = m.usage(sel)
                build = partial(usage_over_time_chart, frame, key=key, events=events)
                shape = (tuple(dict.fromkeys(frame["measure"].to_list())) if frame.height else (), marks)
            # the chart carries the frame's rows inline; its spec is kept per shape (widgets.specs), the
            # split's name (in titles only) filled in, so a split seen first costs no new chart
            spec = None
            if frame.height:
                template = build if k == "finish" else partial(build.func, *build.args,
                                                               **{**build.keywords, "key": _SPLIT})
                spec = self._specs.spec((k, shape), _records(frame), template, fill={_SPLIT: KEY_TITLES.get(key, key)})
            self.charts.put(k, build if frame.height else None)
            self._show(k, spec)
            self.timings[k] = time.perf_counter() - t0
        d = self._described = m.describe(sel)
        self.status.value = (f"<b>{d['calls']:,}</b> calls in range · {d['proxy']}"
                             f" · updated in {sum(self.timings[k] for k in todo) * 1000:.0f} ms")
        self._selection = sel

    def brush(self, value: dict | None) -> None:  # no brushable chart here
        return None

    def sample(self, n: int = 25) -> pl.DataFrame:
        """Read a few calls of the range (redacted excerpts and lineage) into the table and the list."""
        from workbench.tables import table

        df = self.model.sample(self._read(), n)
        self.sampled = df
        keep = self.sort_by.value
        self.sampled_table = table(df, max_rows=max(n, 1))
        self.sort_by.options = [(self.sampled_table.titles[c], c) for c in self.sampled_table.columns]
        self.sort_by.value = keep if keep in self.sampled_table.columns else "timestamp"
        self._show_table()
        self.rows.options = [(f"{r['request_id']}  {r['timestamp']:%m-%d %H:%M}  {r.get('prompt') or ''}  "
                              f"{r.get('response_model') or ''}", r["request_id"]) for r in df.iter_rows(named=True)]
        return df

    def _on_row(self, change) -> None:
        rid = change["new"]
        if rid is None or self.sampled is None:
            return
        row = self.sampled.filter(pl.col("request_id") == rid)
        if row.is_empty():
            return
        from workbench.tables import table

        self.shown_chain = self.model.lineage(row.row(0, named=True))
        self.chain.clear_output()
        with self.chain:
            from IPython.display import display

            display(table(self.shown_chain, empty="no lineage recorded for this call"))

    def __repr__(self) -> str:
        if "_described" not in self.__dict__:
            return super().__repr__()
        s, d = self._selection, self._described
        return (f"Explorer(lake={self.lake.name!r}, task=generation, time={s.start:%Y-%m-%d %H:%M}.."
                f"{s.end:%Y-%m-%d %H:%M} ({d['calls']} calls), metric={s.proxy}, split={s.split}, "
                f"release={s.release}, route={s.route})")
