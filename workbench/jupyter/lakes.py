"""What the "Model debugging" panel shows about a lake: ``workbench lake-info``, its validation
errors by name, the recent lineage timeline and the default analysis windows."""

from __future__ import annotations

import warnings
from typing import Any

from workbench.exceptions import WorkbenchError
from workbench.jupyter.errors import error_entry
from workbench.jupyter.forms import check_lake
from workbench.jupyter.paths import Root
from workbench.results import iso

__all__ = ["TIMELINE_EVENTS", "lake_payload"]

#: How many of the latest lineage events the panel gets.
TIMELINE_EVENTS = 20
#: Routine events left out of the panel's timeline: pipeline runs happen daily and would push the
#: changes (rollouts, schema changes, feature versions, dependency bumps) out of the last 20.
ROUTINE_KINDS = ("openlineage_run",)


def lake_payload(root: Root, rel) -> dict[str, Any]:
    """The contract's ``GET lake`` answer for the lake at ``rel``.

    A folder that is no lake (no or invalid ``workbench.yaml``) is a 400; a lake that opens but
    breaks the contract is a 200 with ``ok: false`` and its errors, each with its class name and hint.
    """
    from workbench.lake import open_lake
    from workbench.lake.info import lake_info
    from workbench.lake.windows import default_windows

    path = check_lake(root, rel, field="path")
    out: dict[str, Any] = {"path": root.relative(path), "info": None, "ok": False, "errors": [],
                           "warnings": [], "timeline": [], "defaults": None}
    try:
        lake = open_lake(path)
        info = lake_info(lake)
    except WorkbenchError as exc:
        out["errors"].append(error_entry(exc))
        return out
    out["info"] = {**info.to_dict(), "path": out["path"]}  # relative to the root, as every path of the API
    out["warnings"] = list(info.warnings)
    out["errors"] = _value_errors(lake, info)
    try:
        out["defaults"] = _defaults(default_windows(*lake.time_range(), hourly=True))
        out["timeline"] = _timeline(lake)
    except WorkbenchError as exc:
        out["errors"].append(error_entry(exc))
    out["ok"] = not out["errors"]
    return out


def _value_errors(lake, info) -> list[dict[str, Any]]:
    """The errors ``lake_info`` lists as text (invalid values), with the class and hint the strict
    check raises them with (the profile is cached: this reads no data again)."""
    if not info.profile.errors:
        return []
    named = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lake.validate(strict=True)
        except WorkbenchError as exc:
            named = error_entry(exc)
    kind = named["type"] if named else "InvalidValueError"
    hint = named["hint"] if named else None
    return [{"type": kind, "message": text, "hint": hint} for text in info.profile.errors]


def _defaults(w) -> dict[str, str]:
    return {"since": iso(w.start), "until": iso(w.end), "baseline_since": iso(w.baseline_start),
            "baseline_until": iso(w.baseline_end)}


def _timeline(lake) -> list[dict[str, Any]]:
    import polars as pl

    tl = lake.timeline().filter(~pl.col("kind").is_in(ROUTINE_KINDS)).tail(TIMELINE_EVENTS)
    return [{"time": iso(r["at"]), "kind": r["kind"], "subject": r["subject"],
             "detail": f"{r['subject']}: {r['detail']}" if r["subject"] else r["detail"], "ref": r["ref"]}
            for r in tl.iter_rows(named=True)]
