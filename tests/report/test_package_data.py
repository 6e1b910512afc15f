"""What the wheel ships: every built-in template, the lock, the prebuilt JupyterLab extension and the
server extension's enable file; an install lists the templates and Jupyter reports both extensions OK."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from workbench.report.templates import builtin_dir

ROOT = Path(__file__).resolve().parents[2]
LABEXT = ROOT / "workbench" / "labextension"
EXT_NAME = "ml-incident-workbench"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built (hatchling, as `pip install` builds it) from a copy of the source tree."""
    pytest.importorskip("hatchling", reason="building the wheel needs hatchling (the `test` extra)")
    assert (LABEXT / "package.json").is_file(), \
        "the JupyterLab extension is not built: run `make install` (or `jlpm install && jlpm build:prod`)"
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "install.json", "package.json"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "jupyter-config", src / "jupyter-config")
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


def test_wheel_contains_every_template_and_the_lock(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"workbench/templates/{p.name}" for p in builtin_dir().glob("*.ipynb")}
    assert expected and expected <= names, sorted(expected - names)
    assert "workbench/lock.txt" in names
    assert not any("__pycache__" in n or ".ipynb_checkpoints" in n for n in names)


def test_wheel_ships_the_prebuilt_extension_and_the_server_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n.split("/")[0] for n in names if n.endswith(".data/") or ".data/" in n)
    share = f"{data}/data/share/jupyter/labextensions/{EXT_NAME}"
    assert f"{share}/package.json" in names and f"{share}/install.json" in names
    assert any(n.startswith(f"{share}/static/remoteEntry.") and n.endswith(".js") for n in names)
    assert any(n.startswith(f"{share}/schemas/") for n in names)  # the settings schema
    conf = f"{data}/data/etc/jupyter/jupyter_server_config.d/workbench.json"
    assert conf in names
    enabled = json.loads(zipfile.ZipFile(wheel).read(conf))
    assert enabled == {"ServerApp": {"jpserver_extensions": {"workbench.jupyter": True}}}
    built = json.loads(zipfile.ZipFile(wheel).read(f"{share}/package.json"))
    assert built["name"] == EXT_NAME and built["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")


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


def _jupyter(*args: str) -> str:
    """Run ``jupyter ARGS`` of this environment; its report (stdout and stderr together)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    r = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return re.sub(r"\x1b\[[0-9;]*m", "", r.stdout + r.stderr)  # without the terminal colours


def test_jupyter_reports_both_extensions_enabled_and_ok():
    """The installed environment (``make install``) has the labextension and the server extension."""
    labs = _jupyter("labextension", "list")
    line = next((x for x in labs.splitlines() if EXT_NAME in x), "")
    assert "enabled" in line and "OK" in line, labs
    server = _jupyter("server", "extension", "list")
    assert "workbench.jupyter enabled" in server, server
    assert any("workbench.jupyter" in x and "OK" in x for x in server.splitlines()), server
