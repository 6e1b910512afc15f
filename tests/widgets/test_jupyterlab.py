"""End to end: a real JupyterLab server, a notebook with the Explorer run in headless Chromium, a
control changed, a chart redrawn, no JavaScript error; server and kernels stopped by PID."""

from __future__ import annotations

import time

import nbformat
import pytest
from labserver import CHROMIUM, chromium_page, start_lab

from workbench.synthetic import generate_lake

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")]


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    generate_lake(root / "lake", cause="latency_regression", variant=0, seed=551, rows=20_000)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import workbench as wb\nex = wb.Explorer('lake')\nex")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, root / "explore.ipynb")
    with start_lab(root, tmp_path, env={"WORKBENCH_MASK_KEY": "e2e"}) as server:
        yield server


def test_explorer_in_jupyterlab(lab, tmp_path):
    url = lab.url
    with chromium_page((1400, 1800)) as (page, errors, requests):
        page.goto(lab.page_url("lab/tree/explore.ipynb"))
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
        lab.note_children()
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
    assert after != before, "the SLI chart did not change after choosing a version"
    assert not errors, errors
    outside = [r for r in requests if not r.startswith((url, "blob:", "data:"))]
    assert not outside, outside  # offline: nothing fetched beyond the local server
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
    assert window_after != window_before, "brushing the volume panel did not move the window"
