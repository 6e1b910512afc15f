"""Provenance: the lake fingerprinted by content, the environment and the lock recorded, differences named."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path

import numpy
import pytest

from workbench.report.provenance import (
    KEY_PACKAGES, LOCK_FILE, compare_environments, compare_lakes, environment, lake_fingerprint, lock_info,
)
from workbench.report.rerun import diff_findings

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def lake(tmp_path):
    root = tmp_path / "lake"
    (root / "predictions" / "date=2026-03-01").mkdir(parents=True)
    (root / "lineage").mkdir()
    (root / "workbench.yaml").write_text("name: tiny\n")
    (root / "predictions" / "date=2026-03-01" / "part-0.csv").write_text("request_id,score\nr1,0.25\nr2,0.5\n")
    (root / "lineage" / "deployments.csv").write_text("model_version,deployed_at\n1.0,2026-03-01T00:00Z\n")
    return root


def test_fingerprint_is_by_content_not_by_path_or_mtime(lake, tmp_path):
    a = lake_fingerprint(lake)
    assert a["files"] == 3 and a["bytes"] == sum(p.stat().st_size for p in lake.rglob("*") if p.is_file())
    assert [e["path"] for e in a["entries"]] == sorted(e["path"] for e in a["entries"])
    copy = tmp_path / "elsewhere" / "lake-copy"
    shutil.copytree(lake, copy)
    f = copy / "lineage" / "deployments.csv"
    os.utime(f, (1_000_000, 1_000_000))  # touched: same bytes, another time
    b = lake_fingerprint(copy)
    assert b == a
    assert compare_lakes(a, b) == {"same": True, "comparable": True, "added": [], "removed": [], "changed": []}
    assert "entries" not in lake_fingerprint(lake, entries=False)


def test_compare_lakes_names_files_added_removed_and_changed(lake):
    old = lake_fingerprint(lake)
    part = lake / "predictions" / "date=2026-03-01" / "part-0.csv"
    part.write_text(part.read_text().replace("0.25", "0.26"))  # same size, one byte differs
    (lake / "lineage" / "deployments.csv").unlink()
    (lake / "predictions" / "date=2026-03-02").mkdir()
    (lake / "predictions" / "date=2026-03-02" / "part-0.csv").write_text("request_id,score\nr3,0.1\n")
    new = lake_fingerprint(lake)
    assert new["sha256"] != old["sha256"]
    cmp = compare_lakes(old, new)
    assert cmp["same"] is False and cmp["comparable"] is True
    assert cmp["changed"] == ["predictions/date=2026-03-01/part-0.csv"]
    assert cmp["removed"] == ["lineage/deployments.csv"]
    assert cmp["added"] == ["predictions/date=2026-03-02/part-0.csv"]


def test_old_fingerprint_without_a_file_list_is_not_comparable(lake):
    new = lake_fingerprint(lake)
    old = {"files": 3, "bytes": 99, "sha256": "0" * 64}  # what reports recorded before (path, size, mtime)
    cmp = compare_lakes(old, new)
    assert cmp["same"] is False and cmp["comparable"] is False and cmp["changed"] == []


def test_environment_records_python_key_packages_and_the_lock():
    env = environment()
    assert env["python"] == platform.python_version()
    assert env["platform"].startswith(sys.platform)
    assert set(env["packages"]) == set(KEY_PACKAGES)
    assert env["packages"]["numpy"] == numpy.__version__
    assert env["packages"]["scikit-learn"] == metadata.version("scikit-learn")
    assert env["distribution"]["name"] == "ml-incident-workbench"
    lock = env["lock"]
    assert lock["sha256"] == hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()
    assert environment() == env  # no clock, nothing random: same environment, same record


def test_lock_info_lists_versions_that_differ_and_says_why_when_missing(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text(f"# a comment\nnumpy=={numpy.__version__}\nPyYAML==0.0.1\nno-such-package-xyz==1.0\n")
    info = lock_info(lock)
    assert info["sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest() and info["matches"] is False
    assert info["differs"] == [{"package": "PyYAML", "locked": "0.0.1", "installed": metadata.version("pyyaml")},
                               {"package": "no-such-package-xyz", "locked": "1.0", "installed": None}]
    gone = lock_info(tmp_path / "absent.txt")
    assert gone["sha256"] is None and "installed without the lock" in gone["reason"]


def test_compare_environments_names_what_moved():
    old = {"python": "3.11.7", "workbench": "0.1.0", "packages": {"polars": "1.20.0", "alibi": None},
           "lock": {"sha256": "a" * 64}}
    new = {"python": "3.11.9", "workbench": "0.1.0", "packages": {"polars": "2.1.0", "alibi": "0.9.4"},
           "lock": {"sha256": "b" * 64}}
    lines = compare_environments(old, new)
    assert "Python 3.11.7 then, 3.11.9 now" in lines
    assert "polars 1.20.0 then, 2.1.0 now" in lines and "alibi not installed then, 0.9.4 now" in lines
    assert any(x.startswith("lock sha256 aaaaaaaaaaaa then, bbbbbbbbbbbb now") for x in lines)
    assert compare_environments(new, new) == []
    assert "records no environment" in compare_environments(None, new)[0]


def test_diff_findings_names_the_paths_that_differ():
    old = {"verdict": {"cause": "schema_mismatch", "score": 0.91},
           "symptoms": [{"sli": "auc", "current": 0.7}, {"sli": "capture", "current": 0.99}], "n": [1, 2]}
    assert diff_findings(old, old) == []
    new = {"verdict": {"cause": "none", "score": 0.91},
           "symptoms": [{"sli": "auc", "current": 0.7}, {"sli": "capture", "current": 0.92}], "n": [1, 2, 3],
           "extra": True}
    d = diff_findings(old, new)
    assert 'verdict.cause: "schema_mismatch" -> "none"' in d
    assert "symptoms[sli=capture].current: 0.99 -> 0.92" in d
    assert "n: [1, 2] -> [1, 2, 3]" in d and "extra: added (true)" in d
    many = diff_findings({"x": list(range(30))}, {"x": list(range(1, 31))}, limit=5)
    assert len(many) == 6 and many[-1] == "... and 25 more differences"


def test_the_lock_is_shipped_installed_by_make_and_keeps_alibi_094():
    pins = [x for x in LOCK_FILE.read_text().splitlines() if x and not x.startswith("#")]
    assert all("==" in x for x in pins)
    names = {x.split("==")[0].lower() for x in pins}
    assert {"polars", "numpy", "scipy", "scikit-learn", "altair", "papermill", "nbconvert", "skops"} <= names
    assert "alibi==0.9.4" in pins  # the last Apache-2.0 release: never newer
    assert not any(x.lower().startswith(("workbench==", "ml-incident-workbench==", "pip==")) for x in pins)
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["workbench"]  # lock.txt inside it
    assert LOCK_FILE == ROOT / "workbench" / "lock.txt"
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK   ?= workbench/lock.txt" in makefile
    assert "$(STAMP): pyproject.toml $(LOCK)" in makefile and "-c $(LOCK)" in makefile
    assert "\nlock:" in makefile and "--exclude-editable" in makefile


def test_report_header_states_the_environment_and_a_lock_that_does_not_match():
    from workbench.report.runner import _header

    class T:
        name, sha256 = "incident-triage", "c" * 64

    env = environment()
    fp = {"sha256": "d" * 64, "files": 12, "bytes": 34_567}
    head = _header(T, {"since": "2026-03-12T00:00Z"}, fp, env)
    assert f"Python {env['python']}" in head and f"numpy {numpy.__version__}" in head and "34,567 bytes" in head
    env["lock"] = {"sha256": "e" * 64, "matches": False, "differs": [{"package": "numpy"}, {"package": "scipy"}]}
    assert "lock `eeeeeeeeeeeeeeee` (2 installed versions differ from it)" in _header(T, {}, fp, env)
    env["lock"] = {"sha256": None, "reason": "not shipped"}
    assert "no lock file" in _header(T, {}, fp, env)
