"""``scipy.stats`` loaded on first use, and fetched ahead in the background by triage.

Importing ``scipy.stats`` takes ~0.7 s on a 2-core machine (every distribution builds its
documentation), about as long as the rest of ``import workbench.rca``. The evidence modules read
it through :data:`stats` so importing them does not pay for it; :func:`prefetch` starts that
import in a background thread while triage opens the lake and runs its summary pass (polars
releases the GIL), so the statistics are loaded by the time the first test needs them.
"""

from __future__ import annotations

import importlib
import sys
import threading

__all__ = ["prefetch", "stats"]

_NAME = "scipy.stats"


class _Lazy:
    """A module imported on the first attribute read (then cached by Python's import system)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


stats = _Lazy(_NAME)


def _load() -> None:
    try:
        importlib.import_module(_NAME)
    except Exception:  # noqa: BLE001 - the first real use raises the error where it is needed
        pass


def prefetch() -> None:
    """Start importing ``scipy.stats`` in a daemon thread (no-op when it is loaded or loading).
    A use before it finishes waits for it (Python's per-module import lock)."""
    if _NAME in sys.modules:
        return
    threading.Thread(target=_load, name="workbench-import-scipy-stats", daemon=True).start()
