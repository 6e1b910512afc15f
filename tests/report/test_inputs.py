"""Bad report inputs are refused with a named error before any work: no kernel starts, nothing is written."""

from __future__ import annotations

import papermill
import pytest

from handmade_lake import write_lake
from workbench.cli import main
from workbench.exceptions import LakeNotFoundError, UsageError
from workbench.report import run_report


class KernelStarted(Exception):
    pass


@pytest.fixture()
def no_kernel(monkeypatch):
    """Fail the test if a check lets the run reach Papermill."""
    def boom(*args, **kwargs):
        raise KernelStarted(kwargs.get("parameters"))

    monkeypatch.setattr(papermill, "execute_notebook", boom)


@pytest.fixture()
def lake(tmp_path):
    return write_lake(tmp_path / "the-lake")


SINCE = {"since": "2026-03-02T00:00Z"}


def _refused(**kw):
    # "up front" is asserted by the no_kernel fixture (triage runs inside the kernel, so a refusal that
    # came after it would raise KernelStarted); how long a refusal takes is measured in benchmarks/
    with pytest.raises(UsageError) as e:
        run_report("incident-triage", **kw)
    return str(e.value)


def test_out_naming_an_existing_file(no_kernel, lake, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("mine")
    msg = _refused(lake=lake, params=SINCE, out=f)
    assert "names an existing file" in msg and str(f) in msg
    assert f.read_text() == "mine"


def test_out_inside_the_lake_is_refused(no_kernel, lake):
    for out in (lake / "reports" / "r1", lake):
        msg = _refused(lake=lake, params=SINCE, out=out)
        assert "inside the lake" in msg and "read-only" in msg
    assert not (lake / "reports").exists()


def test_non_empty_out_without_a_report_is_refused_even_with_overwrite(no_kernel, lake, tmp_path):
    out = tmp_path / "work"
    out.mkdir()
    (out / "analysis.py").write_text("x = 1\n")
    for overwrite in (False, True):
        msg = _refused(lake=lake, params=SINCE, out=out, overwrite=overwrite)
        assert "not empty and holds no report" in msg and "analysis.py" in msg
    assert sorted(p.name for p in out.iterdir()) == ["analysis.py"]


def test_previous_report_needs_overwrite_which_keeps_other_files(no_kernel, lake, tmp_path):
    out = tmp_path / "incident-7"
    out.mkdir()
    for name in ("report.ipynb", "findings.json", "verdicts.json"):
        (out / name).write_text("{}")
    msg = _refused(lake=lake, params=SINCE, out=out)
    assert "already holds a report" in msg and "report.ipynb, findings.json" in msg and "--overwrite" in msg
    assert (out / "findings.json").read_text() == "{}"
    with pytest.raises(KernelStarted):  # with overwrite: past every check, the old outputs cleared
        run_report("incident-triage", lake=lake, params=SINCE, out=out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["verdicts.json"]


@pytest.mark.parametrize("value", ["42", "not a time", "2026-13-40", "yesterday"])
def test_time_parameters_are_parsed_before_the_kernel_starts(no_kernel, lake, tmp_path, value):
    msg = _refused(lake=lake, params={"since": value}, out=tmp_path / "o")
    assert "parameter 'since'" in msg and "is not a time" in msg and "ISO-8601" in msg
    assert not (tmp_path / "o").exists()
    with pytest.raises(UsageError, match="parameter 'baseline_until'"):
        run_report("incident-triage", lake=lake, params={**SINCE, "baseline_until": value}, out=tmp_path / "o")


def test_good_values_pass_and_files_become_absolute(no_kernel, lake, tmp_path, monkeypatch):
    with pytest.raises(KernelStarted) as e:
        run_report("incident-triage", lake=lake, params={"since": "2026-03-02", "until": ""}, out=tmp_path / "a")
    assert e.value.args[0]["since"] == "2026-03-02" and e.value.args[0]["lake"] == str(lake.resolve())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "verdicts.yaml").write_text("owner: me\n")
    with pytest.raises(KernelStarted) as e:
        run_report("postmortem", lake=lake, params={**SINCE, "verdicts_file": "verdicts.yaml"}, out="b")
    assert e.value.args[0]["verdicts_file"] == str(tmp_path / "verdicts.yaml")
    with pytest.raises(UsageError, match="'verdicts_file' of template 'postmortem' names no file"):
        run_report("postmortem", lake=lake, params={**SINCE, "verdicts_file": "missing.yaml"}, out="c")


def test_a_path_that_is_not_a_lake_is_named(no_kernel, tmp_path):
    with pytest.raises(LakeNotFoundError, match="no telemetry lake"):
        run_report("incident-triage", lake=tmp_path / "nowhere", params=SINCE, out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_cli_exit_status_2_with_the_reason(no_kernel, lake, tmp_path, capsys):
    f = tmp_path / "report.html"
    f.write_text("old")
    assert main(["report", "incident-triage", "--lake", str(lake), "-p", "since=42", "--out", str(tmp_path / "x")]) == 2
    assert "is not a time" in capsys.readouterr().err
    assert main(["report", "incident-triage", "--lake", str(lake), "--out", str(f)]) == 2
    assert "names an existing file" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "y")]) == 2
    assert "report needs TEMPLATE and --lake" in capsys.readouterr().err
    assert main(["report", "incident-triage", "--rerun", str(f), "--out", str(tmp_path / "z")]) == 2
    assert "--rerun takes the template and the parameters" in capsys.readouterr().err
    assert main(["report", "--rerun", str(f), "--out", str(tmp_path / "z")]) == 2
    assert "cannot read the report notebook" in capsys.readouterr().err
    assert main(["report", "--rerun", str(tmp_path / "none.ipynb"), "--out", str(tmp_path / "z")]) == 2
    assert "no report notebook at this path" in capsys.readouterr().err
