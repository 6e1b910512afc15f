"""``report.html`` -> ``report.pdf`` with headless Chromium's print-to-PDF (Debian's ``chromium``;
nothing is downloaded). The page prints after its scripts drew the charts; with the network off."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.exceptions import ChromiumNotFoundError, ReportError

__all__ = ["CHROMIUM_ENV", "find_chromium", "html_to_pdf"]

#: Names the browser to print with when it is not on PATH as ``chromium`` / ``chromium-browser``.
CHROMIUM_ENV = "WORKBENCH_CHROMIUM"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    """The Chromium executable, or :class:`ChromiumNotFoundError` saying how to install it."""
    given = os.environ.get(CHROMIUM_ENV)
    if given:
        path = shutil.which(given)
        if path is None:
            raise ChromiumNotFoundError(f"{CHROMIUM_ENV} names no executable", found=given,
                                        hint="point it at a Chromium or Chrome binary, or unset it")
        return path
    for name in _NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise ChromiumNotFoundError("no Chromium to print the PDF with", expected=f"one of {', '.join(_NAMES)} on PATH",
                                hint="install Debian's browser: `apt-get install -y chromium` (or set "
                                     f"{CHROMIUM_ENV} to a Chromium binary); the HTML report is written either way")


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 120.0) -> Path:
    """Print ``html_path`` to ``pdf_path`` (A4-ish, backgrounds on, no header or footer)."""
    exe = find_chromium()
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="workbench-pdf-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",
               "--proxy-bypass-list=<-loopback>", "--no-pdf-header-footer", "--print-background",
               "--virtual-time-budget=15000", "--run-all-compositor-stages-before-draw",
               f"--print-to-pdf={pdf_path}", html_path.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"chromium did not print the PDF within {timeout:.0f} s", file=str(html_path),
                              hint="open report.html in a browser and print it from there") from None
    if proc.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise ReportError("chromium failed to print the PDF", file=str(html_path), found="; ".join(tail) or None,
                          hint="open report.html in a browser and print it from there")
    return pdf_path
