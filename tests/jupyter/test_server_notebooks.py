"""New notebooks: papermill's injected-parameters cell with correct literals, the workbench
metadata, written through the contents manager, never over an existing file."""

from __future__ import annotations

import json

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from workbench.lake.manifest import read_manifest

TRICKY = 'it\'s "quoted" \\ and a backslash\\n, not a newline'


async def _create(jp_fetch, body):
    r = await jp_fetch("workbench", "api", "notebooks", method="POST", body=json.dumps(body))
    assert r.code == 201
    return json.loads(r.body)["path"]


def _injected(nb) -> dict:
    cells = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    ns: dict = {}
    exec(cells[0].source, ns)  # the cell is Python literals: running it gives the values back
    return {k: v for k, v in ns.items() if not k.startswith("__")}


async def test_notebook_from_a_template(jp_fetch, jp_root_dir, templates_dir, lake_in_root):
    name = read_manifest(jp_root_dir / lake_in_root).name  # the model's name, from workbench.yaml
    body = {"template": "tiny", "lake": lake_in_root, "templates_dir": templates_dir,
            "params": {"title": TRICKY, "n": 7, "flag": True, "ratio": 0.125, "since": "2026-03-12T00:00Z"}}
    path = await _create(jp_fetch, body)
    assert path == f"lakes/tiny-{name}.ipynb"  # beside the lake by default
    nb = nbformat.read(jp_root_dir / path, as_version=4)
    values = _injected(nb)
    assert values == {"title": TRICKY, "n": 7, "flag": True, "ratio": 0.125, "since": "2026-03-12T00:00Z",
                      "lake": "small"}  # the lake relative to the notebook, where its kernel starts
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags.index(["parameters"]) + 1 == tags.index(["injected-parameters"])
    assert nb.metadata["workbench"] == {"template": "tiny", "lake": lake_in_root, "templates_dir": templates_dir}
    assert nb.metadata["papermill"]["parameters"]["title"] == TRICKY
    nbformat.validate(nb)

    # never overwrites: a second one gets -1, then -2
    assert await _create(jp_fetch, body) == f"lakes/tiny-{name}-1.ipynb"
    assert await _create(jp_fetch, body) == f"lakes/tiny-{name}-2.ipynb"
    assert nbformat.read(jp_root_dir / path, as_version=4) == nb


async def test_notebook_in_a_chosen_folder_with_a_name(jp_fetch, jp_root_dir, templates_dir, lake_in_root):
    (jp_root_dir / "work" / "nbs").mkdir(parents=True)
    body = {"template": "tiny", "lake": lake_in_root, "templates_dir": templates_dir, "params": {},
            "folder": "work/nbs", "name": "mine"}
    assert await _create(jp_fetch, body) == "work/nbs/mine.ipynb"
    nb = nbformat.read(jp_root_dir / "work/nbs/mine.ipynb", as_version=4)
    assert _injected(nb) == {"lake": "../../lakes/small"}
    for bad in ({"name": "../escape"}, {"name": ".hidden"}, {"folder": "../"}, {"folder": "missing"}):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("workbench", "api", "notebooks", method="POST", body=json.dumps({**body, **bad}))
        assert err.value.code in (400, 404)
        assert json.loads(err.value.response.body)["field"] in ("name", "folder")


async def test_a_builtin_template_notebook(jp_fetch, jp_root_dir, lake_in_root):
    path = await _create(jp_fetch, {"template": "incident-triage", "lake": lake_in_root,
                                    "params": {"since": "2026-03-12T00:00Z"}})
    nb = nbformat.read(jp_root_dir / path, as_version=4)
    assert _injected(nb) == {"since": "2026-03-12T00:00Z", "lake": "small"}
    assert nb.metadata["kernelspec"]["name"]


async def test_explore_notebook(jp_fetch, jp_root_dir, lake_in_root):
    r = await jp_fetch("workbench", "api", "explore", method="POST",
                       body=json.dumps({"lake": lake_in_root, "since": "2026-03-12T00:00Z"}))
    path = json.loads(r.body)["path"]
    assert r.code == 201 and path == f"lakes/explore-{read_manifest(jp_root_dir / lake_in_root).name}.ipynb"
    nb = nbformat.read(jp_root_dir / path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import workbench as wb" in code and "lake = wb.open_lake('small')" in code
    assert "wb.Explorer(lake, since='2026-03-12T00:00Z')" in code
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("workbench", "api", "explore", method="POST",
                       body=json.dumps({"lake": lake_in_root, "since": "soon"}))
    assert err.value.code == 400 and json.loads(err.value.response.body)["field"] == "since"
