"""The built-in templates are package data: a wheel carries every one and an install from it lists them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from workbench.report.templates import builtin_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the source tree (the build writes build/ and *.egg-info beside it)."""
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools (the `test` extra)")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "workbench", src / "workbench",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    (whl,) = (tmp / "dist").glob("*.whl")
    return whl


def test_source_tree_has_the_templates_inside_the_package():
    assert builtin_dir() == ROOT / "workbench" / "templates"
    assert len(list(builtin_dir().glob("*.ipynb"))) >= 7
    assert not (ROOT / "templates").exists()  # one home: no copy or symlink at the top


def test_wheel_contains_every_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"workbench/templates/{p.name}" for p in builtin_dir().glob("*.ipynb")}
    assert expected and expected <= names, sorted(expected - names)


def test_an_install_from_the_wheel_lists_every_template(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import json, workbench; from workbench.report.templates import list_templates; "
            "print(json.dumps({'file': workbench.__file__, 'names': [t.name for t in list_templates()], "
            "'paths': [t.path for t in list_templates()]}))")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WORKBENCH_TEMPLATES": ""}
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).resolve().is_relative_to(site.resolve())  # the unpacked copy, not the source tree
    assert sorted(out["names"]) == sorted(p.stem for p in builtin_dir().glob("*.ipynb"))
    assert all(Path(p).resolve().is_relative_to(site.resolve()) for p in out["paths"])
