"""The `workbench` command: --help everywhere, lake-info, synth, exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workbench.cli import _parser, main
from handmade_lake import write_lake


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "WORKBENCH_MASK_KEY": "k", **(env or {})})


def _subcommands():
    parser = _parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_help_on_the_command_and_every_subcommand():
    r = run("--help")
    assert r.returncode == 0 and "lake-info" in r.stdout and "synth" in r.stdout
    for cmd in _subcommands():
        r = run(cmd, "--help")
        assert r.returncode == 0, cmd
        assert "usage: workbench " + cmd in r.stdout
        assert len(r.stdout.splitlines()) > 4


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("workbench ")


def test_lake_info_text_and_json(tmp_path, capsys):
    root = write_lake(tmp_path / "lake")
    assert main(["lake-info", str(root), "--json", str(tmp_path / "info.json")]) == 0
    out = capsys.readouterr().out
    assert "288 rows" in out and "1.0.0 (152), 1.1.0 (136)" in out
    assert "primary (284), canary (4)" in out and "schema changes 3" in out
    assert "2026-03-01T00:00:00Z .. 2026-03-02T23:50:00Z" in out
    data = json.loads((tmp_path / "info.json").read_text())
    assert data["profile"]["rows"] == 288 and data["lineage"]["deployments"] == 4
    assert data["columns"]["sensitive"] == ["email", "phone"]


def test_lake_info_reports_warnings(tmp_path, capsys):
    import polars as pl

    from handmade_lake import predictions_frame

    preds = predictions_frame()
    root = write_lake(tmp_path / "lake", preds=pl.concat([preds, preds.head(5)]))
    assert main(["lake-info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "5 prediction rows repeat a request_id" in out


def test_errors_exit_2_with_one_clear_message(tmp_path):
    r = run("lake-info", str(tmp_path / "missing"))
    assert r.returncode == 2
    assert r.stderr.startswith("error: LakeNotFoundError: no telemetry lake at this path")
    assert "Traceback" not in r.stderr
    root = write_lake(tmp_path / "lake")
    (root / "workbench.yaml").write_text("name: [unclosed\n")
    r = run("lake-info", str(root))
    assert r.returncode == 2 and "ManifestError" in r.stderr and "Traceback" not in r.stderr


def test_synth_rejects_bad_options(tmp_path):
    r = run("synth", str(tmp_path / "x"), "--cause", "gremlins")
    assert r.returncode == 2 and "unknown cause" in r.stderr and "schema_mismatch" in r.stderr
    r = run("synth", str(tmp_path / "x"), "--cause", "schema_mismatch", "--variant", "9")
    assert r.returncode == 2 and "unknown variant" in r.stderr


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_synth_then_lake_info(tmp_path, fmt):
    out = tmp_path / "lake"
    r = run("synth", str(out), "--cause", "telemetry_loss", "--variant", "1", "--rows", "8000", "--days", "10",
            "--seed", "5", "--format", fmt)
    assert r.returncode == 0, r.stderr
    truth = json.loads((out / "truth.json").read_text())
    assert truth["cause"] == "telemetry_loss" and truth["subject"]["route"] == "canary"
    r = run("lake-info", str(out))
    assert r.returncode == 0, r.stderr
    assert "rows in" in r.stdout and "Validation" in r.stdout
    r = run("synth", str(out), "--rows", "8000")  # refuses to overwrite without --overwrite
    assert r.returncode == 2
    r = run("synth", str(out), "--rows", "8000", "--days", "10", "--overwrite")
    assert r.returncode == 0, r.stderr


def test_triage_help_documents_the_incomplete_exit_status():
    r = run("triage", "--help")
    assert r.returncode == 0 and "3 when it ran but some hypothesis failed" in " ".join(r.stdout.split())


@pytest.mark.parametrize("command", [["triage", "--since", "2026-03-02T00:00Z"], ["lake-info"]])
def test_json_output_is_checked_before_any_work(tmp_path, capsys, command):
    root = write_lake(tmp_path / "lake")
    cases = [
        (tmp_path / "no" / "such" / "folder" / "f.json", "folder of --json does not exist"),
        (tmp_path, "--json names a directory"),
        (root / "findings.json", "inside the lake, which is read-only"),
        (root / "predictions" / "x.json", "inside the lake, which is read-only"),
    ]
    for target, needle in cases:
        code = main([command[0], str(root), *command[1:], "--json", str(target)])
        err = capsys.readouterr().err
        assert code == 2, target
        assert needle in err and "Traceback" not in err and "fitting bins" not in err
        assert not (root / "findings.json").exists() and not (root / "predictions" / "x.json").exists()


def test_triage_json_through_the_manifest_path_is_refused_inside_the_lake(tmp_path, capsys):
    root = write_lake(tmp_path / "lake")
    code = main(["triage", str(root / "workbench.yaml"), "--since", "2026-03-02T00:00Z", "--json",
                 str(root / "out.json")])
    assert code == 2 and "read-only" in capsys.readouterr().err


@pytest.mark.parametrize(("fails", "text"), [(False, "bins were widened"), (True, "a late label")])
def test_main_prints_warnings_as_one_line_and_gives_the_callers_hook_back(monkeypatch, capsys, fails, text):
    """main() formats warnings while it runs (also when the command fails) and restores
    warnings.showwarning after: calling it in-process leaves no global state behind."""
    import warnings

    import workbench.cli as cli
    from workbench.exceptions import UsageError, WorkbenchWarning

    def command(args):
        warnings.warn(text, WorkbenchWarning, stacklevel=1)
        if fails:
            raise UsageError("this command fails")
        return 0

    monkeypatch.setattr(cli, "_lake_info", command)
    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code = main(["lake-info", "somewhere"])
        assert warnings.showwarning is before
    assert code == (2 if fails else 0)
    err = capsys.readouterr().err
    assert f"warning: {text}\n" in err and "WorkbenchWarning" not in err.split("error:")[0]
