"""Paths from clients stay under the server root: traversal, absolute paths, hidden folders and
symbolic links leading out are refused with a 404 and a JSON message."""

from __future__ import annotations

import json
import os

import pytest
from tornado.httpclient import HTTPClientError

from workbench.jupyter.errors import ApiError
from workbench.jupyter.paths import Root


async def _refused(jp_fetch, *parts, code=404, **kw):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(*parts, **kw)
    assert err.value.code == code, err.value.response.body
    doc = json.loads(err.value.response.body)
    assert set(doc) >= {"message", "field", "errors"} and doc["message"]
    return doc


async def test_traversal_and_absolute_paths_are_refused(jp_fetch, jp_root_dir, lake_in_root, small_lake):
    for bad in ("../small", "lakes/../../small", "lakes/small/../../..", str(small_lake), "/etc"):
        doc = await _refused(jp_fetch, "workbench", "api", "lake", params={"path": bad})
        assert doc["field"] == "path"
        assert str(small_lake.parent) not in doc["message"]  # says nothing of the world outside
    ok = await jp_fetch("workbench", "api", "lake", params={"path": lake_in_root})
    assert ok.code == 200


async def test_a_symlink_leading_out_of_the_root_is_refused(jp_fetch, jp_root_dir, small_lake, templates_dir):
    (jp_root_dir / "link").symlink_to(small_lake, target_is_directory=True)
    doc = await _refused(jp_fetch, "workbench", "api", "lake", params={"path": "link"})
    assert "outside the server root" in doc["message"]
    body = json.dumps({"lake": "link", "template": "tiny", "params": {}, "templates_dir": templates_dir})
    doc = await _refused(jp_fetch, "workbench", "api", "jobs", method="POST", body=body)
    assert doc["field"] == "lake" and not (jp_root_dir / "reports").exists()


async def test_a_symlink_inside_the_root_is_followed(jp_fetch, jp_root_dir, lake_in_root):
    (jp_root_dir / "alias").symlink_to(jp_root_dir / "lakes" / "small", target_is_directory=True)
    r = await jp_fetch("workbench", "api", "lake", params={"path": "alias"})
    assert json.loads(r.body)["path"] == "lakes/small"


async def test_hidden_folders_are_refused(jp_fetch, jp_root_dir, small_lake):
    import shutil

    shutil.copytree(small_lake, jp_root_dir / ".secret" / "lake")
    doc = await _refused(jp_fetch, "workbench", "api", "lake", params={"path": ".secret/lake"})
    assert "hidden" in doc["message"]
    (jp_root_dir / "visible").symlink_to(jp_root_dir / ".secret", target_is_directory=True)
    doc = await _refused(jp_fetch, "workbench", "api", "lake", params={"path": "visible/lake"})
    assert "hidden" in doc["message"]


async def test_output_and_template_folders_are_confined(jp_fetch, lake_in_root, templates_dir, tmp_path):
    for field, body in (("output_dir", {"output_dir": "../out"}), ("output_dir", {"output_dir": str(tmp_path)}),
                        ("templates_dir", {"templates_dir": "../templates"})):
        req = {"lake": lake_in_root, "template": "tiny", "params": {}, "templates_dir": templates_dir, **body}
        doc = await _refused(jp_fetch, "workbench", "api", "jobs", method="POST", body=json.dumps(req))
        assert doc["field"] == field
    doc = await _refused(jp_fetch, "workbench", "api", "templates", params={"templates_dir": "/tmp"})
    assert doc["field"] == "templates_dir"


async def test_a_folder_that_is_no_lake_is_a_400(jp_fetch, jp_root_dir):
    (jp_root_dir / "plain").mkdir()
    doc = await _refused(jp_fetch, "workbench", "api", "lake", params={"path": "plain"}, code=400)
    assert doc["type"] == "LakeNotFoundError" and doc["field"] == "path"


def test_root_resolve(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "f.txt").write_text("x")
    root = Root(tmp_path)
    assert root.resolve("a/b", field="p", kind="dir") == (tmp_path / "a" / "b").resolve()
    assert root.resolve("", field="p") == root.path and root.relative(root.path) == ""
    assert root.relative(tmp_path / "a" / "b") == "a/b"
    assert root.resolve("new/folder", field="p", must_exist=False) == root.path / "new" / "folder"
    for bad, code in (("a/f.txt", 400), ("missing", 404), ("a/../../x", 404), (".git", 404), ("/a", 404)):
        with pytest.raises(ApiError) as err:
            root.resolve(bad, field="p", kind="dir")
        assert err.value.status_code == code and err.value.field == "p"
    with pytest.raises(ApiError):
        root.resolve(3, field="p")
    os.symlink("/", tmp_path / "up")
    with pytest.raises(ApiError, match="outside"):
        root.resolve("up/etc", field="p", must_exist=False)
