"""What a report was made from: the lake's files (by content), the environment and the lock.

A report is re-read and re-run months later; its provenance says which bytes it read, which Python
and package versions computed it, and which tested dependency set (``workbench/lock.txt``) they
came from, so a rerun can say what changed. Nothing here holds wall-clock times: two runs on the
same lake in the same environment give the same provenance.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench._version import __version__

__all__ = ["DISTRIBUTION", "KEY_PACKAGES", "LOCK_FILE", "compare_environments", "compare_lakes", "environment",
           "lake_fingerprint", "lock_info"]

#: The name the package is installed under (the import package is ``workbench``).
DISTRIBUTION = "ml-incident-workbench"
#: Packages whose versions change numbers in a report; each is recorded (``None``: not installed).
KEY_PACKAGES = ("polars", "numpy", "scipy", "scikit-learn", "altair", "papermill", "nbconvert", "skops", "alibi")
#: The tested dependency set, shipped inside the package (pip constraints; refreshed by ``make lock``).
LOCK_FILE = Path(__file__).resolve().parents[1] / "lock.txt"

_CHUNK = 1 << 20


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def lake_fingerprint(lake_path: str | Path, *, entries: bool = True) -> dict[str, Any]:
    """Every file of the lake by content: one digest over (path, size, sha256) of each file.

    Content, not modification times: a lake copied to another machine (or a file touched without
    a change) keeps its fingerprint; one changed byte changes it. ``entries`` keeps the per-file
    list, which a rerun uses to name the files added, removed or changed.

    Examples
    --------
    >>> fp = lake_fingerprint("datasets/demo-lake")  # doctest: +SKIP
    >>> fp["files"], fp["sha256"][:12]
    (31, '5d0c8e1f2a9b')
    """
    root = Path(lake_path)
    files = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            files.append({"path": p.relative_to(root).as_posix(), "size": p.stat().st_size,
                          "sha256": _sha256_file(p)})
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    out: dict[str, Any] = {"files": len(files), "bytes": sum(f["size"] for f in files), "sha256": digest,
                           "method": "sha256 of each file's content"}
    if entries:
        out["entries"] = files
    return out


def compare_lakes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Files ``added``, ``removed`` and ``changed`` (content) between two fingerprints.

    ``comparable`` is False when the old fingerprint has no per-file list made the same way (an
    older report fingerprinted modification times): then only ``same`` is known.
    """
    if "entries" not in old or old.get("method") != new.get("method"):
        return {"same": old.get("sha256") == new.get("sha256"), "comparable": False, "added": [], "removed": [],
                "changed": []}
    a = {e["path"]: e for e in old["entries"]}
    b = {e["path"]: e for e in new["entries"]}
    changed = sorted(p for p in a.keys() & b.keys() if (a[p]["sha256"], a[p]["size"]) != (b[p]["sha256"], b[p]["size"]))
    out = {"added": sorted(b.keys() - a.keys()), "removed": sorted(a.keys() - b.keys()), "changed": changed}
    return {"same": not any(out.values()), "comparable": True, **out}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_info(path: str | Path | None = None) -> dict[str, Any]:
    """The lock's sha256, and the installed packages whose versions differ from its pins.

    ``sha256`` is ``None`` with a ``reason`` when the lock file is not beside the package (a copy of
    the package installed without it). ``differs`` lists ``{"package", "locked", "installed"}`` for
    each pinned package installed at another version or missing: an environment made with
    ``make LOCK=`` or upgraded by hand says so here.
    """
    path = Path(path) if path is not None else LOCK_FILE
    if not path.is_file():
        return {"file": path.name, "sha256": None,
                "reason": f"{path.name} not found beside the package: installed without the lock, so the "
                          "dependency set is only what the package versions below say"}
    text = path.read_bytes()
    installed_versions = {_canonical(d.metadata["Name"] or ""): d.version for d in metadata.distributions()}
    differs = []
    for raw in text.decode("utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" not in line or line.startswith("-"):
            continue
        name, pinned = (s.strip() for s in line.split("==", 1))
        pinned = pinned.split(";", 1)[0].strip()
        installed = installed_versions.get(_canonical(name))
        if installed != pinned:
            differs.append({"package": name, "locked": pinned, "installed": installed})
    return {"file": path.name, "sha256": hashlib.sha256(text).hexdigest(), "matches": not differs,
            "differs": differs}


def environment() -> dict[str, Any]:
    """Python, platform, the key packages' versions and the lock: what computed the numbers.

    Examples
    --------
    >>> env = environment()
    >>> sorted(env)
    ['distribution', 'lock', 'packages', 'platform', 'python', 'workbench']
    """
    return {
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "workbench": __version__,
        "distribution": {"name": DISTRIBUTION, "version": _version(DISTRIBUTION)},
        "packages": {name: _version(name) for name in KEY_PACKAGES},
        "lock": lock_info(),
    }


def compare_environments(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """One line per difference that may change numbers: Python, workbench, key packages, the lock."""
    if not old:
        return ["the old report records no environment (made before environments were recorded)"]
    lines = []
    for key, label in (("python", "Python"), ("workbench", "workbench")):
        if old.get(key) != new.get(key):
            lines.append(f"{label} {old.get(key)} then, {new.get(key)} now")
    op, np_ = old.get("packages", {}), new.get("packages", {})
    for name in sorted(op.keys() | np_.keys()):
        if op.get(name) != np_.get(name):
            lines.append(f"{name} {op.get(name) or 'not installed'} then, {np_.get(name) or 'not installed'} now")
    ol, nl = old.get("lock") or {}, new.get("lock") or {}
    if ol.get("sha256") != nl.get("sha256"):
        lines.append(f"lock sha256 {str(ol.get('sha256'))[:12]} then, {str(nl.get('sha256'))[:12]} now")
    return lines
