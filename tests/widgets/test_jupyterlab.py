"""End to end: a real JupyterLab server, a notebook with the Explorer run in headless Chromium, a
control changed, a chart redrawn, no JavaScript error; server and kernels stopped by PID."""

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

import nbformat
import pytest

from workbench.synthetic import generate_lake

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    generate_lake(root / "lake", cause="latency_regression", variant=0, seed=551, rows=20_000)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import workbench as wb\nex = wb.Explorer('lake')\nex")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, root / "explore.ipynb")
    dirs = {k: tmp_path / k.lower() for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                                               "JUPYTERLAB_WORKSPACES_DIR")}
    for d in dirs.values():
        d.mkdir()
    tracker = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), "wbtest"
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, "WORKBENCH_MASK_KEY": "e2e"}
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
                             f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                             "--allow-root", f"--ServerApp.root_dir={root}"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
            break
        except OSError:
            time.sleep(0.25)
    else:
        proc.kill()
        pytest.fail("jupyter lab did not start: " + (tmp_path / "lab.log").read_text()[-2000:])
    kernels: set[int] = set()
    try:
        yield url, token, kernels, proc
    finally:
        kernels.update(_children(proc.pid))
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        for pid in kernels:  # kernels left behind are ended by PID
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


def test_explorer_in_jupyterlab(lab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    url, token, kernels, proc = lab
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])  # fresh profile
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{url}/lab/tree/explore.ipynb?token={token}")
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
            page.get_by_role("menuitem", name="Run").click()
            page.get_by_text("Run All Cells", exact=True).click()
            # each view is an alt.JupyterChart drawn by the offline Vega bundle as <svg class="marks">
            view = page.locator(".wb-explorer-view-slis svg.marks").first
            try:
                view.wait_for(timeout=60_000)
            except Exception:
                page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
                raise AssertionError("no Explorer chart appeared; page text:\n"
                                     + page.locator(".jp-Notebook").inner_text()[-3000:]) from None
            kernels.update(_children(proc.pid))
            page.locator(".wb-explorer-view-heatmap svg.marks").first.wait_for(timeout=30_000)
            before = view.inner_html()
            assert len(before) > 5_000
            page.locator(".wb-explorer-version select").select_option(index=2)
            deadline = time.time() + 60
            after = before
            while time.time() < deadline and after == before:
                time.sleep(0.5)
                after = page.locator(".wb-explorer-view-slis svg.marks").first.inner_html()
            # brushing across the volume panel sets the window
            readout = page.locator(".wb-explorer-window .widget-readout").first
            window_before = readout.inner_text()
            box = page.locator(".wb-explorer-view-slis svg.marks").first.bounding_box()
            y = box["y"] + 70
            page.mouse.move(box["x"] + 120, y)
            page.mouse.down()
            page.mouse.move(box["x"] + 260, y, steps=8)
            page.mouse.up()
            deadline = time.time() + 30
            window_after = window_before
            while time.time() < deadline and window_after == window_before:
                time.sleep(0.5)
                window_after = readout.inner_text()
            # sampled rows, then one row's lineage chain
            page.locator(".wb-explorer-sample").click()
            page.locator(".wb-explorer-table table").first.wait_for(timeout=30_000)
            page.locator(".wb-explorer-rows select").select_option(index=0)
            page.locator(".wb-explorer-chain").get_by_text("training").first.wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
        finally:
            browser.close()
    assert after != before, "the SLI chart did not change after choosing a version"
    assert not errors, errors
    outside = [r for r in requests if not r.startswith((url, "blob:", "data:"))]
    assert not outside, outside  # offline: nothing fetched beyond the local server
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
    assert window_after != window_before, "brushing the volume panel did not move the window"
