"""Guards on the shape of the project: layering, licences, set-up files."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "workbench"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_core_import_loads_no_heavy_or_optional_library():
    code = ("import sys, workbench, workbench.lake, workbench.summaries, workbench.evidence, workbench.synthetic, "
            "workbench.cli, workbench.rca, workbench.explain; "
            "bad = [m for m in ('alibi', 'altair', 'ipywidgets', 'papermill', 'nbconvert', 'tensorflow', 'torch') "
            "if m in sys.modules]; print(','.join(bad))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def test_nothing_outside_explain_imports_alibi():
    for p in PKG.rglob("*.py"):
        if "explain" in p.relative_to(PKG).parts:
            continue
        assert not any(m == "alibi" or m.startswith("alibi.") for m in _imports(p)), p


#: What each layer may import (../shared/DESIGN.md, "Dependencies point one way"): lake at the bottom,
#: then summaries, evidence, explain (rows + artifacts), rca; charts draw results; widgets, report and
#: cli sit on top. `exceptions`, `results`, `_version`, `formatting` and `tables` (the one table
#: renderer) are shared by every layer.
_SHARED = ("exceptions", "results", "_version", "formatting", "tables")
LAYERS = {
    "lake": (),
    "synthetic": ("lake",),
    "importers": ("lake",),  # real telemetry -> a lake (`workbench import`)
    "summaries": ("lake",),
    # the Spark engine: the lake's rows read by Spark into the same summaries, and the evidence that
    # reads rows (PII counts, samples) counted there into the evidence layer's own results
    "spark": ("evidence", "summaries", "lake"),
    "evidence": ("summaries", "lake"),
    "explain": ("evidence", "summaries", "lake"),
    "rca": ("explain", "evidence", "summaries", "lake", "spark"),
    "charts": ("rca", "evidence", "summaries", "lake"),
    "widgets": ("charts", "rca", "explain", "evidence", "summaries", "lake"),
    "report": ("charts", "rca", "explain", "evidence", "summaries", "lake", "synthetic"),  # synthetic: the demo lake
    "jupyter": ("report", "charts", "rca", "explain", "evidence", "summaries", "lake", "synthetic"),
    "cli": ("report", "rca", "explain", "evidence", "summaries", "lake", "synthetic", "importers", "spark"),
}


#: The engine dispatch points: the only files below `spark` that may import it (lazily, inside the
#: function that hands the work to Spark when a lake is opened with engine="spark").
_ENGINE_HOOKS = {"workbench/lake/lake.py": "spark", "workbench/summaries/lake.py": "spark",
                 "workbench/explain/replay.py": "spark", "workbench/evidence/llm_calls.py": "spark"}


def _workbench_imports(path: Path) -> set[str]:
    """The workbench modules a file imports, anywhere in it (function-level imports included);
    ``from workbench import x`` counts as importing the top-level package."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "workbench"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "workbench":
            out.add(node.module)
    return out


def _layer(path: Path) -> str:
    rel = path.relative_to(PKG).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def test_every_module_belongs_to_a_known_layer():
    shared_or_top = set(_SHARED) | {"__init__", "__main__"}
    unknown = {_layer(p) for p in PKG.rglob("*.py")} - set(LAYERS) - shared_or_top
    assert not unknown, f"modules outside the layering of DESIGN.md: {sorted(unknown)}; add them to LAYERS"


def test_layers_import_only_what_is_below_them():
    bad = []
    for p in sorted(PKG.rglob("*.py")):
        layer = _layer(p)
        if layer in ("__init__", "__main__"):
            continue
        allowed = set(LAYERS.get(layer, ())) | {layer} | set(_SHARED)
        if (hook := _ENGINE_HOOKS.get(str(p.relative_to(ROOT)))) is not None:
            allowed.add(hook)
        if layer in _SHARED:  # the shared modules sit under everything: they import only each other
            allowed = set(_SHARED)
        for m in _workbench_imports(p):
            parts = m.split(".")
            if len(parts) == 1:
                bad.append(f"{p.relative_to(ROOT)} imports the top-level workbench package")
            elif parts[1] not in allowed:
                bad.append(f"{p.relative_to(ROOT)} ({layer}) imports {m}")
    assert not bad, "\n".join(bad)


def test_layout_check_catches_an_upward_import(tmp_path, monkeypatch):
    # the guard above must be able to fail: a fake evidence module importing rca is reported
    fake = tmp_path / "workbench" / "evidence"
    fake.mkdir(parents=True)
    (fake / "x.py").write_text("def f():\n    from workbench.rca import triage\n    from workbench import charts\n")
    monkeypatch.setattr(sys.modules[__name__], "PKG", tmp_path / "workbench")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    import pytest

    with pytest.raises(AssertionError, match="imports workbench.rca"):
        test_layers_import_only_what_is_below_them()
    with pytest.raises(AssertionError, match="top-level workbench package"):
        test_layers_import_only_what_is_below_them()


def test_pyproject_dependencies():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in meta["dependencies"]}
    assert names >= {"polars", "pyyaml", "numpy", "scipy", "scikit-learn", "altair", "vl-convert-python",
                     "ipywidgets", "jupyterlab", "papermill", "nbconvert", "ipykernel"}
    assert "alibi" not in names
    # alibi 0.9.4 is the last Apache-2.0 release: pinned exactly, and only as an extra
    assert meta["optional-dependencies"]["explain"] == ["alibi==0.9.4"]
    assert meta["requires-python"] == ">=3.10"
    assert meta["scripts"]["workbench"] == "workbench.cli:main"
    # `workbench` on the package index is an unrelated project: the distribution has its own name
    assert meta["name"] == "ml-incident-workbench" and meta["optional-dependencies"]["all"] == [
        "ml-incident-workbench[explain,spark,test]"]
    # Apache Spark, the optional engine (imported lazily): one major version
    assert meta["optional-dependencies"]["spark"] == ["pyspark[connect]>=4.0,<5"]  # Connect client for sc://
    assert "workbench-ml" not in (ROOT / "pyproject.toml").read_text()  # no URL to a repository that does not exist


def test_installed_metadata_names_the_distribution():
    from importlib import metadata

    import workbench

    import pytest

    try:
        dist = metadata.distribution("ml-incident-workbench")
    except metadata.PackageNotFoundError:
        pytest.skip("ml-incident-workbench is not installed (an install from before the rename, or none): "
                    "`make install` installs it")
    # an editable install maps the import package by a path entry (hatchling), a wheel by its files
    assert "workbench" not in metadata.packages_distributions().get("workbench", [])  # no stale pre-rename record
    assert dist.version == workbench.__version__
    assert dist.entry_points.select(group="console_scripts").names >= {"workbench", "ml-incident-workbench"}


def test_environment_yml_installs_the_package_with_all_extras():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert any(isinstance(d, str) and d.startswith("python") for d in deps)
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-e .[all]" in pip and "-c workbench/lock.txt" in pip


def test_two_commands_and_ci():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    for d in ("workbench", "workbench/templates", "notebooks", "datasets", "tests", "benchmarks", "docs"):
        assert (ROOT / d).is_dir(), d


def test_public_api_is_curated():
    # every name in __all__ resolves in a fresh process (lazy ones included) to a documented object of ours,
    # and every `wb.<name>` the docs, README, templates and notebooks use is part of the public API
    import json
    import re

    code = ("import json, workbench as wb\n"
            "out = {}\n"
            "for n in wb.__all__:\n"
            "    o = getattr(wb, n)\n"
            "    out[n] = [type(o).__name__ if isinstance(o, str) else getattr(o, '__module__', None) or getattr(o, '__name__', ''),\n"
            "              bool((o.__doc__ or '').strip())]\n"
            "print(json.dumps(out))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    resolved = json.loads(r.stdout)
    assert resolved.pop("__version__")[0] == "str"
    for name, (module, documented) in resolved.items():
        assert str(module).startswith("workbench"), (name, module)
        assert documented, f"wb.{name} has no docstring"
    used = set()
    for p in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *ROOT.rglob("*.ipynb")]:
        if ".venv" in p.parts or ".ipynb_checkpoints" in p.parts or "out" in p.relative_to(ROOT).parts[:1]:
            continue
        used |= set(re.findall(r"\bwb\.([A-Za-z_]\w*)", p.read_text(errors="replace")))
    import workbench

    missing = {n for n in used if n not in workbench.__all__ and n not in workbench._SUBPACKAGES}
    assert not missing, f"docs use wb.{sorted(missing)} which is not in workbench.__all__"


def test_test_files_have_unique_basenames():
    # the tests directories have no __init__.py: two test files with one name break collection
    from collections import Counter

    names = Counter(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert not [n for n, c in names.items() if c > 1]



def test_tests_never_import_conftest():
    # every folder's conftest.py is imported as the module `conftest`: the last one loaded (e.g.
    # tests/jupyter's) shadows tests/conftest.py, so shared helpers live in tests/handmade_lake.py
    bad = [p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("*.py")
           if re.search(r"^\s*(from conftest import|import conftest)", p.read_text(), re.M)]
    assert not bad, f"{bad}: import shared helpers from handmade_lake (or labserver), not conftest"
