"""A real JupyterLab server for browser tests: per-test config, runtime, settings and workspace
directories, a token, started on 127.0.0.1 and stopped (with its kernels and children) by PID.

Used by the widget and extension end-to-end tests (``from labserver import start_lab``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Flags that work as root on these machines; never a downloaded browser.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Lab:
    url: str
    token: str
    proc: subprocess.Popen
    log: Path
    kernels: set[int] = field(default_factory=set)

    def page_url(self, path: str = "lab") -> str:
        return f"{self.url}/{path}?token={self.token}"

    def note_children(self) -> None:
        """Remember the server's children now (kernels, report jobs) so they are ended on stop."""
        self.kernels.update(children(self.proc.pid))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]


@contextmanager
def start_lab(root: Path, state: Path, *, settings: dict[str, dict] | None = None, env: dict[str, str] | None = None):
    """JupyterLab serving ``root``; its config/runtime/settings/workspace dirs under ``state``.

    ``settings`` maps a settings file (``"@jupyterlab/notebook-extension/tracker"``) to its values;
    notebooks are not windowed, so off-screen cells exist in the page.
    """
    dirs = {k: state / k.lower() for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                                           "JUPYTERLAB_WORKSPACES_DIR")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    wanted = {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}} | (settings or {})
    for name, values in wanted.items():
        f = dirs["JUPYTERLAB_SETTINGS_DIR"] / f"{name}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    port, token = free_port(), "wbtest"
    full_env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, **(env or {})}
    log_path = state / "lab.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
                             f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                             "--allow-root", f"--ServerApp.root_dir={root}"], env=full_env, stdout=log, stderr=log)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, proc=proc, log=log_path)
    try:
        for _ in range(160):
            try:
                urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.25)
        else:
            raise RuntimeError("jupyter lab did not start: " + log_path.read_text()[-2000:])
        if proc.poll() is not None:
            raise RuntimeError("jupyter lab exited: " + log_path.read_text()[-2000:])
        yield lab
    finally:
        lab.note_children()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        for pid in lab.kernels:  # kernels or jobs left behind are ended by PID
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


@contextmanager
def chromium_page(viewport=(1400, 1000)):
    """A fresh headless Debian chromium page; yields (page, page_errors, requested_urls)."""
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            yield page, errors, requests
        finally:
            browser.close()
