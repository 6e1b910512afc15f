"""Paths from the browser: relative to the server's root, resolved, and confined to it.

Every path a client sends goes through :meth:`Root.resolve`: absolute paths, ``..``, hidden
components (``.git``, ``.ssh``) and symbolic links leading out of the root are refused with a
404, so a request can never name a file the Jupyter server would not show.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
from pathlib import Path
from typing import Literal

from workbench.jupyter.errors import ApiError

__all__ = ["Root", "safe_name", "stamp", "unique_dir"]


class Root:
    """The server's root directory (``ServerApp.root_dir``), resolved once."""

    def __init__(self, root_dir: str | os.PathLike) -> None:
        self.path = Path(os.path.realpath(root_dir))

    def resolve(self, rel, *, field: str, kind: Literal["dir", "file", "any"] = "any",
                must_exist: bool = True) -> Path:
        """The real path of ``rel`` (POSIX, relative to the root), or a 404 naming ``field``.

        ``""`` is the root itself. With ``must_exist=False`` a path that does not exist yet
        (an output folder) is allowed; its existing part is still resolved through symlinks.
        """
        if not isinstance(rel, str):
            raise ApiError(400, f"`{field}` must be a path relative to the server root (text), "
                                f"got {type(rel).__name__}", field=field)
        if rel.startswith(("/", "\\")) or os.path.isabs(rel) or re.match(r"^[A-Za-z]:", rel):
            raise ApiError(404, f"`{field}`: absolute paths are refused; give a path relative to the "
                                f"server root, e.g. 'lakes/demo'", field=field)
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise ApiError(404, f"`{field}`: {rel!r} leaves the server root ('..' is refused)", field=field)
        if any(p.startswith(".") for p in parts):
            raise ApiError(404, f"`{field}`: {rel!r} names a hidden file or folder, which the server "
                                f"does not serve", field=field)
        full = Path(os.path.realpath(self.path.joinpath(*parts)))
        if full != self.path and self.path not in full.parents:
            raise ApiError(404, f"`{field}`: {rel!r} leads outside the server root (a symbolic link?)",
                           field=field)
        if any(p.startswith(".") for p in full.relative_to(self.path).parts):
            raise ApiError(404, f"`{field}`: {rel!r} leads to a hidden file or folder", field=field)
        if must_exist and not full.exists():
            raise ApiError(404, f"`{field}`: no file or folder {rel!r} under the server root", field=field)
        if full.exists() and kind == "dir" and not full.is_dir():
            raise ApiError(400, f"`{field}`: {rel!r} is a file; a folder is expected", field=field)
        if full.exists() and kind == "file" and not full.is_file():
            raise ApiError(400, f"`{field}`: {rel!r} is a folder; a file is expected", field=field)
        return full

    def relative(self, path: str | os.PathLike) -> str:
        """``path`` (inside the root) as the contract spells it: POSIX, relative, ``""`` for the root."""
        rel = Path(os.path.realpath(path)).relative_to(self.path)
        return "" if rel == Path(".") else rel.as_posix()

    @staticmethod
    def join(*parts: str) -> str:
        """Join contract paths (``join("a", "b.ipynb") == "a/b.ipynb"``, ``join("", "b") == "b"``)."""
        return posixpath.join(*[p for p in parts if p]) if any(parts) else ""


def safe_name(text: str, default: str = "lake") -> str:
    """``text`` usable as one path component: letters, digits, ``.``, ``_`` and ``-`` only."""
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip(".-")
    return out or default


def stamp() -> str:
    """A UTC time stamp for folder names: ``20260312T101500Z``."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def unique_dir(parent: Path, name: str) -> Path:
    """``parent/name``, or ``name-1``, ``name-2``, ...: the first that does not exist."""
    path, n = parent / name, 0
    while path.exists():
        n += 1
        path = parent / f"{name}-{n}"
    return path
