"""The demo lake templates fall back on when their ``lake`` parameter is empty.

Opening a built-in template in JupyterLab and choosing "Run all" must work with the defaults,
wherever the package is installed: an empty ``lake`` means the demo incident (the Makefile's
``datasets/demo-lake``: a schema mismatch from 2026-03-12 ~13:00 UTC, seed 7, 21 days), generated
deterministically with fewer rows into a cache directory on first use (about 3 s) and reused after.
The LLM templates (``llm-incident``, ``rag-health``) fall back on the LLM demo lake instead (the
Makefile's ``datasets/demo-llm-lake``: a prompt regression of a support assistant with retrieval).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from workbench._version import __version__

__all__ = ["DEMO_LAKE", "DEMO_LLM_LAKE", "CACHE_ENV", "cache_dir", "demo_lake", "demo_llm_lake", "lake_or_demo"]

#: The demo incident's generator arguments (``workbench synth``): the Makefile's demo lake, 20k rows.
DEMO_LAKE = {"cause": "schema_mismatch", "variant": 0, "rows": 20_000, "days": 21, "seed": 7}
#: The LLM demo incident (:func:`workbench.synthetic.llm.generate_llm_lake`): a new prompt version
#: makes a support assistant's answers less grounded; ``make demo`` writes it with 100k calls.
DEMO_LLM_LAKE = {"cause": "prompt_regression", "variant": 0, "rows": 20_000, "days": 14, "seed": 7}
#: Overrides the cache directory (default ``$XDG_CACHE_HOME/workbench``, else ``~/.cache/workbench``).
CACHE_ENV = "WORKBENCH_CACHE_DIR"


def cache_dir() -> Path:
    """Where generated data (the demo lake) is kept: ``$WORKBENCH_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/workbench``, else ``~/.cache/workbench``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "workbench"


def demo_lake(directory: str | Path | None = None, *, generation: bool = False) -> Path:
    """The demo lake's directory, generated on first use (the same files every time); with
    ``generation``, the LLM demo lake (:data:`DEMO_LLM_LAKE`).

    Its name carries the workbench version and a hash of its generator arguments, so a newer
    generator never reuses an older lake. Generated beside its final place and renamed into it, so
    two kernels starting at once never see half a lake.
    """
    spec = DEMO_LLM_LAKE if generation else DEMO_LAKE
    args = json.dumps(spec, sort_keys=True)
    root = Path(directory) if directory else cache_dir()
    name = "demo-llm-lake" if generation else "demo-lake"
    lake = root / f"{name}-{__version__}-{hashlib.sha256(args.encode()).hexdigest()[:10]}"
    if (lake / "workbench.yaml").is_file():
        return lake
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{lake.name}.{os.getpid()}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    _generate(tmp, spec, generation=generation)
    try:
        tmp.rename(lake)
    except OSError:  # another process finished first: keep its copy
        shutil.rmtree(tmp, ignore_errors=True)
        if not (lake / "workbench.yaml").is_file():
            raise
    return lake


def _generate(out: Path, spec: dict, *, generation: bool) -> None:
    if generation:
        from workbench.synthetic.llm import generate_llm_lake

        generate_llm_lake(out, **spec)
    else:
        from workbench.synthetic import generate_lake

        generate_lake(out, **spec)


def demo_llm_lake(out: str | Path, *, rows: int = 100_000) -> Path:
    """Write the LLM demo lake at ``out`` when it is missing (what ``make demo`` runs): the
    :data:`DEMO_LLM_LAKE` incident with ``rows`` calls. An existing lake is left as it is."""
    out = Path(out)
    if not (out / "workbench.yaml").is_file():
        _generate(out, {**DEMO_LLM_LAKE, "rows": rows}, generation=True)
    return out


def lake_or_demo(lake: str | Path | None, *, generation: bool = False) -> str | Path:
    """``lake`` itself, or :func:`demo_lake` when it is empty (a template's default); ``generation``:
    the LLM demo lake."""
    return lake if lake and str(lake).strip() else demo_lake(generation=generation)
