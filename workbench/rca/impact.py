"""How much a diagnosis cost: the requests since the onset that went through the culprit.

Measured once, at the end of triage, with one filtered count over the window (pushed down to the
scan), and kept in the findings document as ``impact`` (a field the contract allows: "fields not
listed here may be added"). The headline card and :attr:`Findings.summary_markdown` read it.

What counts as affected depends on what the culprit is:

- a model version or a route: the requests it served since the onset;
- a segment (``{"column", "value"}``): that segment's requests since the onset (served by the
  culprit version when one is named);
- an LLM call's prompt version, index build or provider model (``provider:model``): the calls
  it served since the onset;
- anything upstream of the model (a feature, a dataset, a dependency, a logged column): every
  request since the onset, since each one read the changed input.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from workbench.lake.lineage_tables import ROUTES

__all__ = ["measure_impact"]


def _culprit_filter(subject: dict[str, Any], columns: set[str]) -> tuple[pl.Expr | None, str]:
    """The rows the culprit touched, and how they are described (``"served by model_version=2.1"``)."""
    conds: list[pl.Expr] = []
    parts: list[str] = []
    seg = subject.get("segment")
    if isinstance(seg, dict) and seg.get("column") in columns:
        conds.append(pl.col(seg["column"]).cast(pl.String) == str(seg.get("value")))
        parts.append(f"{seg['column']}={seg.get('value')}")
    for key in ("model_version", "route"):
        v = subject.get(key)
        if key == "route" and v is not None and v not in ROUTES and "router_decision" in columns:
            key = "router_decision"  # a routing regression names the router's decision (e.g. "small")
        if v is not None and key in columns:
            conds.append(pl.col(key).cast(pl.String) == str(v))
            parts.append(f"{key}={v}")
    # LLM calls: the prompt version, the index build, the provider model that served them
    prompt, index, dep = subject.get("prompt"), subject.get("index"), subject.get("dependency")
    if prompt and "@" in prompt and "prompt_version" in columns:
        tpl, ver = prompt.rsplit("@", 1)
        c = pl.col("prompt_version").cast(pl.String) == ver
        if "prompt_template" in columns:
            c = c & (pl.col("prompt_template").cast(pl.String) == tpl)
        conds.append(c)
        parts.append(f"prompt {prompt}")
    if index and "index_version" in columns:
        ver = index.rsplit("@", 1)[-1]
        conds.append(pl.col("index_version").cast(pl.String).is_in([index, ver]))
        parts.append(f"index {index}")
    if dep and ":" in dep and {"provider", "request_model"} <= columns:
        prov, model = dep.split(":", 1)
        conds.append((pl.col("provider").cast(pl.String) == prov) & (pl.col("request_model").cast(pl.String) == model))
        parts.append(f"model {dep}")
    if not conds:
        return None, "every request since the onset read the changed input"
    expr = conds[0]
    for c in conds[1:]:
        expr = expr & c
    return expr, " and ".join(parts)


def measure_impact(lake, finding, *, end: dt.datetime, quality: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Affected requests since ``finding.onset`` up to ``end``, their share of the traffic in that
    span, and the hours between the onset and ``end`` (``None`` without a finding or an onset).

    ``quality`` (a breached quality symptom: ``sli``, ``baseline``, ``current``, ``interval``)
    is carried along so one dict says the whole impact.
    """
    from workbench.summaries.lake import window

    if finding is None or finding.onset is None:
        return None
    onset = finding.onset if finding.onset.tzinfo else finding.onset.replace(tzinfo=dt.timezone.utc)
    stop = end if end.tzinfo else end.replace(tzinfo=dt.timezone.utc)
    if onset > stop:
        return None
    lf = lake.predictions()
    columns = set(lf.collect_schema().names())
    cond, how = _culprit_filter(finding.subject, columns)
    frame = window(lf, onset, None).filter(pl.col("timestamp") <= stop)
    aggs = [pl.len().alias("total")]
    aggs.append((cond.sum() if cond is not None else pl.len()).alias("affected"))
    try:
        row = frame.select(aggs).collect().row(0, named=True)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise lake.read_error(exc) from None
    total, affected = int(row["total"] or 0), int(row["affected"] or 0)
    out: dict[str, Any] = {
        "since": onset, "until": stop, "hours": round((stop - onset).total_seconds() / 3600, 1),
        "requests": affected, "requests_since_onset": total,
        "share": round(affected / total, 4) if total else None, "affected": how,
    }
    if quality:
        out["quality"] = {k: quality.get(k) for k in ("sli", "baseline", "current", "interval") if k in quality}
    return out
