"""`workbench report --rerun`: the same template and parameters again, the lake checked, findings compared."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import nbformat
import polars as pl
import pytest

from workbench.cli import main
from workbench.exceptions import UsageError, WorkbenchWarning
from workbench.report import rerun_report, run_report
from workbench.report.templates import builtin_dir
from workbench.synthetic import generate_lake

TEMPLATES = builtin_dir()


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """A lake and one incident-triage report on it (the 'old' report)."""
    root = tmp_path_factory.mktemp("rerun")
    truth = generate_lake(root / "lake", cause="schema_mismatch", variant=1, seed=613, rows=20_000)
    since = (truth.onset - dt.timedelta(hours=10)).isoformat()
    res = run_report("incident-triage", lake=root / "lake", params={"since": since}, out=root / "old")
    return root, truth, res


def test_report_records_provenance_and_rerun_is_identical(first, tmp_path, capfd):
    root, _, old = first
    doc = json.loads(Path(old.findings).read_text())
    env = doc["report"]["environment"]
    assert env["python"].count(".") == 2 and env["packages"]["polars"] and env["lock"]["sha256"]
    assert "entries" not in doc["report"]["lake"]  # the per-file list lives in the notebook
    nb = nbformat.read(old.notebook, as_version=4)
    assert len(nb.metadata["workbench"]["lake"]["entries"]) == doc["report"]["lake"]["files"]
    assert nb.metadata["workbench"]["findings"]["verdict"] == doc["verdict"]
    assert f"Python {env['python']}" in nb.cells[-1].source and env["lock"]["sha256"][:16] in nb.cells[-1].source

    capfd.readouterr()
    assert main(["report", "--rerun", old.notebook, "--out", str(tmp_path / "again")]) == 0
    out, err = capfd.readouterr()
    assert "lake: unchanged" in out and "findings: identical to the old report's (kept in the notebook)" in out
    assert "warning" not in err
    assert "without encryption" not in err  # the kernel runs over IPC, not plain TCP
    new = json.loads((tmp_path / "again" / "findings.json").read_text())
    assert new == doc  # same lake, template, parameters and environment: the same document


def test_rerun_after_a_lake_file_changed_names_it_and_what_differs(first, tmp_path, capfd):
    root, truth, old = first
    lake = tmp_path / "moved-lake"
    shutil.copytree(root / "lake", lake)
    day = (truth.onset + dt.timedelta(hours=6)).date().isoformat()
    part = sorted((lake / "predictions").glob(f"date={day}/*.parquet"))[0]
    df = pl.read_parquet(part)
    df.head(df.height // 3).write_parquet(part)  # a third of a day of the window is left
    (lake / "NOTES.md").write_text("copied for the postmortem\n")
    # an old report whose notebook kept no findings (findings.json beside it is used), and a template edited since
    old_dir = tmp_path / "old"
    shutil.copytree(Path(old.out_dir), old_dir)
    nb = nbformat.read(old_dir / "report.ipynb", as_version=4)
    del nb.metadata["workbench"]["findings"]
    nbformat.write(nb, old_dir / "report.ipynb")
    mine = tmp_path / "templates"
    mine.mkdir()
    tpl = nbformat.read(TEMPLATES / "incident-triage.ipynb", as_version=4)
    tpl.cells[0].source += "\n\nEdited by the team."
    nbformat.write(tpl, mine / "incident-triage.ipynb")

    capfd.readouterr()
    code = main(["report", "--rerun", str(old_dir / "report.ipynb"), "--lake", str(lake), "--templates-dir", str(mine),
                 "--out", str(tmp_path / "new")])
    out, err = capfd.readouterr()
    assert code == 0
    rel = part.relative_to(lake).as_posix()
    assert f"warning: the lake changed since the old report (added: NOTES.md; changed: {rel})" in err
    assert "template: 'incident-triage' changed since the old report" in out
    assert f"findings: DIFFER from the old report's ({old_dir / 'findings.json'})" in out
    assert "window.rows:" in out

    with pytest.warns(WorkbenchWarning, match=f"the lake changed since the old report .*changed: {rel}"):
        r = rerun_report(old_dir / "report.ipynb", lake=lake, templates_dir=mine, out=tmp_path / "new",
                         overwrite=True)
    assert r.identical is False and r.template_changed
    assert r.lake["changed"] == [rel] and r.lake["added"] == ["NOTES.md"] and r.lake["removed"] == []
    assert any(d.startswith("window.rows: ") for d in r.differences)


def test_rerun_refuses_a_notebook_that_is_not_a_report(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, tmp_path / "analysis.ipynb")
    with pytest.raises(UsageError, match="not a workbench report"):
        rerun_report(tmp_path / "analysis.ipynb", out=tmp_path / "o")
    assert not (tmp_path / "o").exists()
