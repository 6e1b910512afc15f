"""GET config: the lakes the panel opens at start (``WORKBENCH_OPEN_LAKES`` / ``WorkbenchApp.open_lakes``),
only those inside the root; others are left out (and logged), never served."""

from __future__ import annotations

import json
import os

import pytest


@pytest.fixture
def jp_server_config(lake_in_root, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    lakes = [lake_in_root, "../elsewhere", str(outside), "no/such/lake", ".hidden"]
    return {"ServerApp": {"jpserver_extensions": {"workbench.jupyter": True, "jupyter_server_terminals": False}},
            "WorkbenchApp": {"open_lakes": lakes}}


async def test_config_lists_only_the_lakes_inside_the_root(jp_fetch, lake_in_root):
    r = await jp_fetch("workbench", "api", "config")
    assert json.loads(r.body) == {"open_lakes": [lake_in_root]}


def test_open_lakes_default_from_the_environment(monkeypatch):
    from workbench.jupyter.app import WorkbenchApp

    monkeypatch.setenv("WORKBENCH_OPEN_LAKES", os.pathsep.join(["datasets/demo-lake", "lakes/b"]))
    assert WorkbenchApp().open_lakes == ["datasets/demo-lake", "lakes/b"]
    monkeypatch.delenv("WORKBENCH_OPEN_LAKES")
    assert WorkbenchApp().open_lakes == []
