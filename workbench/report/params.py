"""Parameter validation: papermill only warns about unknown parameters; the workbench refuses them.

Values are checked too, before a kernel starts: the type annotated in the template's
``parameters`` cell, times (a parameter named ``since``, ``until`` or ending in ``_since`` /
``_until``) parse as ISO-8601, and a file (a name ending in ``_file``) exists; it is passed to
the notebook as an absolute path, since the notebook runs in the template's directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from workbench.exceptions import UsageError

__all__ = ["parse_cli_params", "validate_params", "RUNNER_PARAMS"]

#: Parameters the runner fills itself (a template declares them; users do not pass them).
RUNNER_PARAMS = ("output_dir",)

#: Parameter names holding a time (checked with the lake layer's parser) and a file path.
TIME_PARAM = re.compile(r"^(.*_)?(since|until)$")
FILE_PARAM = re.compile(r"_file$")

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
        out[k] = _check_value(template, k, v)
    return out


def _check_value(template, name: str, value: Any) -> Any:
    if not isinstance(value, str) or not value.strip():
        return value  # empty: the template's default
    if TIME_PARAM.match(name):
        from workbench.exceptions import TimestampError
        from workbench.lake.timestamps import parse_time

        try:
            parse_time(value, what=name)
        except TimestampError:
            raise UsageError(f"parameter {name!r} of template {template.name!r} is not a time",
                             found=repr(value)[:60],
                             expected="ISO-8601 such as 2026-03-12T00:00Z (UTC unless an offset is given), "
                                      "or empty for the template's default",
                             hint=f"e.g. --param {name}=2026-03-12T00:00Z") from None
    if FILE_PARAM.search(name):
        path = Path(value).expanduser()
        if not path.is_file():
            raise UsageError(f"parameter {name!r} of template {template.name!r} names no file",
                             file=value, expected="an existing file (relative to the current directory)",
                             found="a directory" if path.is_dir() else "nothing")
        return str(path.resolve())
    return value
