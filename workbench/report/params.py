"""Parameter validation: papermill only warns about unknown parameters; the workbench refuses them."""

from __future__ import annotations

from typing import Any

import yaml

from workbench.exceptions import UsageError

__all__ = ["parse_cli_params", "validate_params", "RUNNER_PARAMS"]

#: Parameters the runner fills itself (a template declares them; users do not pass them).
RUNNER_PARAMS = ("output_dir",)

_TYPES = {"str": (str,), "int": (int,), "float": (float, int), "bool": (bool,), "list": (list, tuple),
          "dict": (dict,)}


def parse_cli_params(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` strings; values are YAML scalars (``3`` is an int, ``true`` a bool, ``a`` text)."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"parameter {pair!r} is not key=value", hint="e.g. --param since=2026-03-12T00:00Z")
        k, v = pair.split("=", 1)
        try:
            out[k.strip()] = yaml.safe_load(v) if v.strip() else ""
        except yaml.YAMLError:
            out[k.strip()] = v
    return out


def validate_params(template, params: dict[str, Any]) -> dict[str, Any]:
    """Check names and types against the template's ``parameters`` cell; return the full set."""
    declared = {k: v for k, v in template.parameters.items() if k not in RUNNER_PARAMS}
    valid = ", ".join(f"{k} ({v['type']}): {v['help'] or ''}".rstrip(": ") for k, v in declared.items())
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise UsageError(f"template {template.name!r} has no parameter {', '.join(map(repr, unknown))}",
                         expected=valid, hint="`workbench templates` lists every template's parameters")
    out = {}
    for k, v in params.items():
        kind = declared[k]["type"]
        if kind in ("str",) and isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)  # e.g. a version "2.0" read as a number
        if kind in ("str",) and hasattr(v, "isoformat"):
            v = v.isoformat()  # YAML reads an unquoted date as a date
        ok = _TYPES.get(kind)
        if ok is not None and not (isinstance(v, ok) and not (kind in ("int", "float") and isinstance(v, bool))):
            raise UsageError(f"parameter {k!r} of template {template.name!r} must be {kind}",
                             found=f"{type(v).__name__} {v!r}", expected=valid)
        out[k] = v
    return out
