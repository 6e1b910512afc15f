"""Which version is the canary and which the primary, and the hours both served.

Pure functions over one :class:`~workbench.summaries.Summary` of the review window; the
comparison itself is :func:`workbench.evidence.versions.compare_versions` on the shared hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from workbench.evidence.overlap import shared_hours
from workbench.results import Result
from workbench.summaries import Summary

__all__ = ["CanaryPair", "PRIMARY_ROUTE", "canary_verdict", "choose_canary", "shared_buckets"]

#: The route name the primary (incumbent) version serves on; any other route is a canary's.
PRIMARY_ROUTE = "primary"


@dataclass(frozen=True, repr=False)
class CanaryPair(Result):
    """The two versions a canary review compares, chosen from the window's traffic (or given).

    ``is_pair`` is False when the window holds one version only, or when the caller named the
    same version twice: a version compared with itself says nothing, so there is no verdict.
    """

    canary: str
    primary: str
    versions: tuple[str, ...]  # every version that served in the window, sorted
    routes: tuple[str, ...]  # every route seen in the window, sorted
    shared: tuple[dt.datetime, ...]  # buckets in which both versions served, sorted

    @property
    def is_pair(self) -> bool:
        return self.canary != self.primary

    def _summary(self) -> str:
        if not self.is_pair:
            return f"no pair: {self.primary} only" if len(self.versions) <= 1 else f"no pair: both {self.primary}"
        return f"canary {self.canary} vs primary {self.primary}, {len(self.shared)} shared buckets"


def shared_buckets(summary: Summary, a: str, b: str) -> tuple[dt.datetime, ...]:
    """The summary's buckets (e.g. hours) in which both version ``a`` and version ``b`` served
    (:func:`workbench.evidence.overlap.shared_hours`, as a tuple)."""
    return tuple(shared_hours(summary, a, b))


def choose_canary(summary: Summary, *, canary: str = "", primary: str = "") -> CanaryPair:
    """The canary (default: the busiest version other than a named ``primary`` on a route other
    than :data:`PRIMARY_ROUTE`, else the least busy such version) and the primary (default: the
    busiest other version on the primary route, else the busiest version)."""
    by_route = summary.collapse(("route", "model_version")).table.sort(["n", "route", "model_version"],
                                                                        descending=[True, False, False])
    if not canary:
        c = by_route.filter((pl.col("route") != PRIMARY_ROUTE) & (pl.col("model_version") != primary))
        rest = by_route.filter(pl.col("model_version") != primary)
        canary = c["model_version"][0] if c.height else (rest if rest.height else by_route)["model_version"][-1]
    if not primary:
        p = by_route.filter((pl.col("route") == PRIMARY_ROUTE) & (pl.col("model_version") != canary))
        primary = p["model_version"][0] if p.height else by_route["model_version"][0]
    versions = tuple(sorted({v for v in by_route["model_version"].to_list() if v is not None}))
    routes = tuple(sorted(set(by_route["route"].drop_nulls().to_list())))
    shared = shared_buckets(summary, primary, canary) if canary != primary else ()
    return CanaryPair(canary=canary, primary=primary, versions=versions, routes=routes, shared=shared)


def canary_verdict(comparison, mismapping) -> str:
    """``"no-go"`` when the canary is significantly worse on any check or its outputs look
    mis-mapped, else ``"go"``."""
    return "no-go" if comparison.worse or mismapping.mismapped else "go"
