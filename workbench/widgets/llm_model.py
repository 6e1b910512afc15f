"""What the Explorer shows for a generation lake (``task: generation``), computed from one hourly
summary of the LLM calls cached at first load (no UI code here).

Every control change (window, proxy, split, release, route) is answered from that summary; only
sampling calls reads the lake again (a bounded, hash-chosen sample, text shown as redacted
excerpts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

import polars as pl

from workbench.evidence.llm_compare import PROXIES
from workbench.lake import Lake
from workbench.lake.windows import default_windows
from workbench.evidence import llm_frames as llm_data
from workbench.summaries.generation import LLMSummary
from workbench.widgets.model import Kept

__all__ = ["LLMExplorerModel", "LLMSelection"]

ALL = "(all)"
NO_SPLIT = "(no split)"
#: the proxy shown first, the first of these the lake has
PREFERRED = ("thumbs_down_rate", "escalation_rate", "grounded_share", "refusal_rate", "cost_per_call", "latency_ms")
#: the split shown first
PREFERRED_SPLIT = ("prompt", "response_model", "index_version", "model_version")


@dataclass(frozen=True)
class LLMSelection:
    """The controls' state: the time range drawn, the proxy, what to split it by, and filters."""

    start: dt.datetime
    end: dt.datetime
    proxy: str
    split: str = NO_SPLIT
    release: str = ALL
    route: str = ALL


def _scope(sel: LLMSelection) -> tuple:
    """What every view of a selection reads: the range and the filters."""
    return sel.start, sel.end, sel.release, sel.route


class LLMExplorerModel:
    """Cached summary of a generation lake's calls and the frames each Explorer view draws.

    The constructor only stores the lake; the one pass over the calls
    (:func:`workbench.evidence.summarize_llm`, hourly) happens on first use and is cached.
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._kept = Kept()  # each view's frame per the part of the selection it reads

    @cached_property
    def summary(self) -> LLMSummary:
        """One hourly pass over every call (with feedback and text signals)."""
        from workbench.evidence import summarize_llm

        return summarize_llm(self.lake, bucket="1h")

    @property
    def lo(self) -> dt.datetime:
        return self.summary.start

    @property
    def hi(self) -> dt.datetime:
        return self.summary.end

    def __repr__(self) -> str:
        state = "summarised" if "summary" in self.__dict__ else "not read yet"
        return f"LLMExplorerModel(lake={self.lake.name!r}, {state})"

    # -- options ------------------------------------------------------------------------
    @cached_property
    def proxies(self) -> list[str]:
        return llm_data.available_proxies(self.summary)

    @cached_property
    def splits(self) -> list[str]:
        return llm_data.split_keys(self.summary)

    def _values(self, key: str) -> list[str]:
        return sorted(v for v in self.summary.frame[key].unique().to_list() if v is not None)

    @cached_property
    def releases(self) -> list[str]:
        return self._values("model_version")

    @cached_property
    def routes(self) -> list[str]:
        return self._values("route")

    @cached_property
    def hours(self) -> list[dt.datetime]:
        return sorted(self.summary.frame["bucket"].unique().to_list())

    def default_selection(self) -> LLMSelection:
        """The baseline and window of :func:`workbench.lake.windows.default_windows`, drawn as one
        range (a change shows as a step inside it), the first preferred proxy and split the lake has."""
        last = self.hours[-1] if self.hours else self.hi
        w = default_windows(self.lo, last, until=last + dt.timedelta(hours=1), hourly=True)
        proxy = next((p for p in PREFERRED if p in self.proxies), self.proxies[0] if self.proxies else "")
        split = next((k for k in PREFERRED_SPLIT if k in self.splits), NO_SPLIT)
        return LLMSelection(start=w.baseline_start, end=w.end, proxy=proxy, split=split)

    # -- views --------------------------------------------------------------------------
    def scoped(self, sel: LLMSelection) -> LLMSummary:
        pred = (pl.col("bucket") >= sel.start) & (pl.col("bucket") < sel.end)
        if sel.release != ALL:
            pred = pred & (pl.col("model_version") == sel.release)
        if sel.route != ALL:
            pred = pred & (pl.col("route") == sel.route)
        return self.summary.where(pred)

    def _key(self, sel: LLMSelection) -> str | None:
        return sel.split if sel.split in self.splits else None

    def proxy_over_time(self, sel: LLMSelection) -> pl.DataFrame:
        """The chosen proxy per hour (per 6 h when it is measured on a sample of calls) by the split."""
        if sel.proxy not in self.proxies:
            return pl.DataFrame()
        return self._kept("proxy", (*_scope(sel), sel.proxy, self._key(sel)),
                          lambda: llm_data.proxy_frame_auto(self.scoped(sel), sel.proxy, self._key(sel)))

    def finish_mix(self, sel: LLMSelection) -> pl.DataFrame:
        return self._kept("finish", _scope(sel), lambda: llm_data.finish_mix_frame(self.scoped(sel)))

    def usage(self, sel: LLMSelection) -> pl.DataFrame:
        return self._kept("usage", (*_scope(sel), self._key(sel)),
                          lambda: llm_data.usage_frame(self.scoped(sel), self._key(sel)))

    def markers(self, sel: LLMSelection) -> pl.DataFrame:
        """Releases, prompt versions, index builds and provider model changes in the range."""
        return self._kept("markers", (sel.start, sel.end), lambda: llm_data.llm_events(self.lake, sel.start, sel.end))

    def sample(self, sel: LLMSelection, n: int = 25) -> pl.DataFrame:
        """Calls of the range chosen by a hash of their request id, with redacted excerpts and lineage."""
        where = {k: v for k, v in (("model_version", sel.release), ("route", sel.route)) if v != ALL}
        return llm_data.sampled_calls(self.lake, sel.start, sel.end, n=n, where=where)

    def lineage(self, call: Mapping[str, Any]) -> pl.DataFrame:
        return llm_data.call_lineage(self.lake, call)

    def describe(self, sel: LLMSelection) -> dict[str, Any]:
        calls = self._kept("calls", _scope(sel), lambda: self.scoped(sel).calls)
        return {"calls": calls, "proxy": next((p.label for p in PROXIES if p.name == sel.proxy), sel.proxy)}
