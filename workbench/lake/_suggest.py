"""``did you mean ...?`` for names that are close to a valid one (manifest keys, tasks, columns)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = ["did_you_mean"]

# difflib's similarity ratio a suggestion needs: 0.6 (difflib's default) catches one or two typos
# in a short name (``lable`` -> ``label``) without suggesting unrelated names.
_CUTOFF = 0.6


def did_you_mean(word: Any, choices: Iterable[str], then: str | None = None) -> str | None:
    """``"did you mean `x`?"`` for the closest of ``choices``, followed by ``then`` when given.

    Returns ``then`` alone when nothing is close (or ``word`` is not text), and None when there is
    neither a suggestion nor ``then``.
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=_CUTOFF) if isinstance(word, str) else []
    text = f"did you mean `{close[0]}`?" if close else None
    if then is None:
        return text
    return f"{text} {then}" if text else then
