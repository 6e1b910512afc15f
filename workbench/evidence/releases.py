"""Releases: model versions first deployed shortly before or inside a window, with what changed.

A release is read from the deployment lineage (first rollout, predecessor, artifact digest,
training data, serving commit) and, when a version has no deployment record, from the first
bucket it shows up in the logs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from workbench.lake.lineage import Lineage
from workbench.summaries import Summary

__all__ = ["RELEASE_LOOKBACK", "Release", "detect_releases"]

#: how long before the window a version may have been first deployed and still count as this
#: window's release: a rollout late the evening before a morning incident is a suspect, one a
#: day old has served a full daily cycle already and shows in the baseline
RELEASE_LOOKBACK = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Release:
    """A model version first deployed shortly before or inside the window, against its predecessor."""

    version: str
    previous: str | None
    first_deployed: dt.datetime | None
    info: dict[str, Any] | None
    previous_info: dict[str, Any] | None
    routes: tuple[str, ...]  # routes it served with traffic in the window
    rows: int
    same_artifact: bool | None
    same_training: bool | None
    new_commit: bool | None
    lineage: list[dict[str, Any]]  # its rollout steps


def _same(info: dict[str, Any] | None, pinfo: dict[str, Any] | None, key: str) -> bool | None:
    if not info or not pinfo or info.get(key) is None or pinfo.get(key) is None:
        return None
    return info[key] == pinfo[key]


def detect_releases(baseline: Summary, window: Summary, lineage: Lineage, *, history: Summary | None = None,
                    lookback: dt.timedelta = RELEASE_LOOKBACK) -> list[Release]:
    """Versions that served rows in ``window`` and were first deployed from ``lookback`` before it on.

    A version without a deployment record counts when the baseline never served it; its first
    deployment is then the first bucket of ``history`` (default: the window) it logged rows in.
    Its predecessor is the lineage's previous version, else the baseline's busiest other version.

    Parameters
    ----------
    baseline, window : Summary
        Keyed by ``model_version`` and ``route``; ``window.start`` is the window's start.
    lineage : Lineage
    history : Summary, optional
        Baseline + window, to date versions the deployments do not list.
    lookback : timedelta

    Returns
    -------
    list of Release
        Sorted by version.

    Examples
    --------
    >>> detect_releases(ctx.baseline, ctx.window, lake.lineage, history=ctx.full)   # doctest: +SKIP
    """
    served = window.collapse(("model_version", "route")).table
    if served.is_empty():
        return []
    start = window.start
    hist = history if history is not None else window
    rows_by_v = served.group_by("model_version").agg(pl.col("n").sum())
    base_versions = baseline.collapse(("model_version",)).table.sort("n", descending=True)["model_version"].to_list()
    out = []
    for v, n in rows_by_v.sort("model_version").iter_rows():
        if v is None:
            continue
        info = lineage.version_info(v)
        first = info["first_deployed_at"] if info else None
        if first is None and v in base_versions:
            continue
        if first is not None and start is not None and first < start - lookback:
            continue
        prev = lineage.previous_version(v) if info else None
        if prev is None:
            others = [x for x in base_versions if x != v]
            prev = others[0] if others else None
        pinfo = lineage.version_info(prev) if prev else None
        if first is None:
            # no deployment record: the first bucket the version shows up in the logs
            seen = hist.table.filter((pl.col("model_version") == v) & (pl.col("n") > 0))["bucket"]
            first = seen.min() if seen.len() else None
        routes = tuple(sorted(served.filter(pl.col("model_version") == v)["route"].drop_nulls().to_list()))
        steps = lineage.deployments.filter(pl.col("model_version") == v).sort("deployed_at").to_dicts()
        commit = _same(info, pinfo, "serving_commit")
        out.append(Release(v, prev, first, info, pinfo, routes, int(n), _same(info, pinfo, "artifact_digest"),
                           _same(info, pinfo, "training_dataset"), None if commit is None else not commit, steps))
    return out
