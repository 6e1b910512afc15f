"""Leaf helpers for result objects shared by every layer.

Results are frozen dataclasses; :class:`Result` gives them a JSON-safe
``to_dict()`` (times as ISO-8601 UTC strings), a one-line ``__repr__`` and a
short ``_repr_html_`` that never computes anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import types
import typing
from typing import Any

__all__ = ["Result", "jsonable", "iso"]


def iso(t: dt.datetime | dt.date | None) -> str | None:
    """ISO-8601 in UTC with a trailing ``Z`` (``None`` stays ``None``)."""
    if t is None:
        return None
    if isinstance(t, dt.datetime):
        if t.tzinfo is not None:
            t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return t.isoformat(timespec="seconds" if t.microsecond == 0 else "microseconds") + "Z"
    return t.isoformat()


def jsonable(v: Any) -> Any:
    """Convert a value to JSON-safe builtins (recursively)."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: jsonable(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [jsonable(x) for x in v]
    if isinstance(v, (dt.datetime, dt.date)):
        return iso(v)
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, float):
        # 10 significant digits: enough for any report, and it hides the last-bit differences
        # of float sums that parallel aggregation adds in a different order from run to run.
        return None if math.isnan(v) or math.isinf(v) else float(f"{v:.10g}")
    if hasattr(v, "item") and callable(v.item):  # numpy scalars
        return jsonable(v.item())
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)


def _revive(v: Any, hint: Any) -> Any:
    """Turn a JSON value back into the annotated type (dataclasses, tuples, times, optionals)."""
    if v is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        return _revive(v, kinds[0]) if len(kinds) == 1 else v
    if hint is dt.datetime and isinstance(v, str):
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if hint is dt.timedelta:
        return dt.timedelta(seconds=v)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(v, dict):
        return hint.from_dict(v) if issubclass(hint, Result) else hint(**v)
    if origin is tuple and isinstance(v, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_revive(x, args[0]) for x in v)
        return tuple(_revive(x, a) for x, a in zip(v, args)) if args else tuple(v)
    if origin is list and isinstance(v, list):
        return [_revive(x, args[0]) for x in v] if args else v
    if origin is dict and isinstance(v, dict) and args:
        return {k: _revive(x, args[1]) for k, x in v.items()}
    return v


class Result:
    """Mixin for frozen-dataclass results."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return jsonable(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """Rebuild a result from :meth:`to_dict` output (or its JSON): ``from_dict(r.to_dict()) == r``
        up to float rounding (to 10 significant digits). Keys that are not fields are ignored."""
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{k: _revive(v, hints.get(k, Any)) for k, v in d.items() if k in names})

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **({"indent": 2} | kwargs))

    def _summary(self) -> str:  # one line; subclasses refine
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()})"

    def _repr_html_(self) -> str:
        """The fields as a two-column table (lists and mappings of records counted, not shown):
        results with a table of their own override this."""
        from workbench.tables import block, table

        rows = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "meta" or isinstance(v, Result):
                continue
            if isinstance(v, (list, tuple)) and v and isinstance(v[0], (dict, Result)):
                v = f"{len(v)} records"
            elif isinstance(v, dict) and any(isinstance(x, (dict, list)) for x in v.values()):
                v = f"{len(v)} entries"
            rows.append({"field": f.name.replace("_", " "), "value": v})
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(self).__name__).capitalize()
        return block(name, "", table(rows, units={"value": "text"}))
