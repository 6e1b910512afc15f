"""``--pdf`` without a browser fails before the kernel starts, saying how to install one."""

from __future__ import annotations

import pytest

from workbench.cli import main
from workbench.exceptions import ChromiumNotFoundError
from workbench.report import run_report
from workbench.report.pdf import find_chromium


def test_no_chromium_is_a_named_error_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKBENCH_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser anywhere
    with pytest.raises(ChromiumNotFoundError) as e:
        find_chromium()
    assert "apt-get install -y chromium" in str(e.value)


def test_a_wrong_override_is_named(monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHROMIUM", "/no/such/chromium")
    with pytest.raises(ChromiumNotFoundError, match="WORKBENCH_CHROMIUM names no executable"):
        find_chromium()


def test_report_checks_for_the_browser_before_running(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WORKBENCH_CHROMIUM", "/no/such/chromium")
    out = tmp_path / "out"
    with pytest.raises(ChromiumNotFoundError):
        run_report("incident-triage", lake=tmp_path / "no-lake", out=out, pdf=True)
    assert not out.exists()  # nothing ran, nothing written
    assert main(["report", "incident-triage", "--lake", str(tmp_path), "--out", str(out), "--pdf"]) == 2
    assert "WORKBENCH_CHROMIUM" in capsys.readouterr().err
