"""Every built-in template runs top to bottom with its default parameters ("Run all" in JupyterLab):
an empty ``lake`` means the demo lake, generated once into the cache directory."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from workbench.report import demo_lake, lake_or_demo, list_templates
from workbench.report.demo import CACHE_ENV, DEMO_LAKE, DEMO_LLM_LAKE, cache_dir


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private cache directory, seen by the kernels papermill starts (they inherit the environment)."""
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(path)
    lake = demo_lake()  # once for the module: the kernels then find it
    yield path, lake
    if old is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = old


def test_demo_lake_is_generated_once_into_the_cache_and_reused(cache):
    path, lake = cache
    assert cache_dir() == path and lake.parent == path and (lake / "workbench.yaml").is_file()
    stamp = (lake / "workbench.yaml").stat().st_mtime_ns
    assert demo_lake() == lake and (lake / "workbench.yaml").stat().st_mtime_ns == stamp
    assert not [p for p in path.iterdir() if p.name.endswith(".partial")]
    assert lake_or_demo("") == lake and lake_or_demo("  ") == lake
    assert lake_or_demo("some/lake") == "some/lake"


def test_llm_demo_lake_is_a_generation_lake_cached_beside_the_demo_lake(cache):
    import workbench as wb

    path, lake = cache
    llm = demo_lake(generation=True)
    assert llm.parent == path and llm != lake and lake_or_demo("", generation=True) == llm
    assert wb.open_lake(llm).task == "generation"
    assert demo_lake(generation=True) == llm  # reused


def test_every_template_defaults_to_the_demo_lake():
    for t in list_templates():
        assert t.parameters["lake"]["default"] in ('""', "''"), (t.name, t.parameters["lake"])
        assert "demo lake" in t.parameters["lake"]["help"], t.name


@pytest.mark.parametrize("name", sorted(t.name for t in list_templates()))
def test_template_runs_with_no_parameters_from_any_directory(cache, tmp_path, name):
    t = {t.name: t for t in list_templates()}[name]
    out = tmp_path / f"{name}.ipynb"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    pm.execute_notebook(t.path, str(out), kernel_name="python3", progress_bar=False, cwd=str(cwd))
    nb = nbformat.read(out, as_version=4)
    shown = "".join(str(o.get("data", {}).get("text/markdown", "")) + str(o.get("data", {}).get("image/svg+xml", ""))
                    for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert shown.strip(), name
    if name in ("incident-triage", "postmortem"):  # their default window holds the demo incident
        assert DEMO_LAKE["cause"] in shown, name
    if name == "llm-incident":  # the LLM templates default to the LLM demo lake, whose incident is in the window
        assert DEMO_LLM_LAKE["cause"] in shown, name
    assert list(cwd.iterdir()) == []  # nothing written where the notebook was run (no output_dir given)


def test_demo_lake_is_the_makefiles_demo_incident():
    """One demo incident: the cached demo lake is the Makefile's, with fewer rows."""
    import re

    make = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    args = dict(re.findall(r"--(\w+) (\S+)", re.search(r"^DEMO_ARGS := (.*)$", make, re.M).group(1)))
    assert {k: str(v) for k, v in DEMO_LAKE.items() if k != "rows"} == {k: v for k, v in args.items() if k != "rows"}
    assert DEMO_LAKE["rows"] <= int(args["rows"])
