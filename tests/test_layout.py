"""Guards on the shape of the project: layering, licences, set-up files."""

from __future__ import annotations

import ast
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


def test_lake_layer_imports_nothing_above_it():
    allowed = ("workbench.lake", "workbench.exceptions", "workbench.results", "workbench._version")
    for p in (PKG / "lake").rglob("*.py"):
        ours = {m for m in _imports(p) if m == "workbench" or m.startswith("workbench.")}
        assert all(m.startswith(allowed) for m in ours), (p, ours)


def test_summaries_layer_imports_only_the_lake_below_it():
    allowed = ("workbench.summaries", "workbench.lake", "workbench.exceptions", "workbench.results")
    for p in (PKG / "summaries").rglob("*.py"):
        ours = {m for m in _imports(p) if m == "workbench" or m.startswith("workbench.")}
        assert all(m.startswith(allowed) for m in ours), (p, ours)


def test_rca_and_evidence_layers_point_down():
    # evidence reads summaries and the lake; rca reads evidence, summaries, the lake and (lazily) explain
    rules = {"evidence": ("workbench.evidence", "workbench.summaries", "workbench.lake", "workbench.exceptions",
                          "workbench.results"),
             "rca": ("workbench.rca", "workbench.evidence", "workbench.summaries", "workbench.lake",
                     "workbench.explain", "workbench.exceptions", "workbench.results", "workbench._version")}
    for layer, allowed in rules.items():
        for p in (PKG / layer).rglob("*.py"):
            # `from workbench import evidence` names the top-level package: not allowed in either layer
            ours = {m for m in _imports(p) if m == "workbench" or m.startswith("workbench.")}
            assert all(m in allowed or m.startswith(tuple(a + "." for a in allowed)) for m in ours), (p, ours)


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
        "ml-incident-workbench[explain,test]"]
    assert "workbench-ml" not in (ROOT / "pyproject.toml").read_text()  # no URL to a repository that does not exist


def test_installed_metadata_names_the_distribution():
    from importlib import metadata

    import workbench

    import pytest

    dists = metadata.packages_distributions().get("workbench", [])
    if "ml-incident-workbench" not in dists:
        pytest.skip(f"the workbench package is installed as {dists or 'nothing'} (an install from before the "
                    "rename, or none): `make install` reinstalls it as ml-incident-workbench")
    assert metadata.version("ml-incident-workbench") == workbench.__version__
    assert metadata.distribution("ml-incident-workbench").entry_points.select(group="console_scripts").names >= {
        "workbench", "ml-incident-workbench"}


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
    for d in ("workbench", "templates", "notebooks", "datasets", "tests", "benchmarks", "docs"):
        assert (ROOT / d).is_dir(), d


def test_public_api_is_curated():
    import workbench

    assert set(workbench.__all__) <= set(dir(workbench))
    assert "open_lake" in workbench.__all__
