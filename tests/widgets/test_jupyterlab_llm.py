"""End to end: the Explorer on a generation lake (LLM calls) in a real JupyterLab in headless
Chromium: charts drawn, the split changed and the proxy chart redrawn, sampled calls shown as
redacted excerpts with a call's lineage, no JavaScript error, nothing fetched from outside."""

from __future__ import annotations

import re
import time

import nbformat
import pytest
from labserver import CHROMIUM, chromium_page, start_lab

from workbench.evidence.pii import PII_PATTERNS
from workbench.synthetic import generate_llm_lake

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")]


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    generate_llm_lake(root / "lake", cause="prompt_regression", variant=0, seed=552, rows=15_000, days=10)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import workbench as wb\nex = wb.Explorer('lake')\nex")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, root / "explore.ipynb")
    with start_lab(root, tmp_path, env={"WORKBENCH_MASK_KEY": "e2e"}) as server:
        yield server


def test_llm_explorer_in_jupyterlab(lab, tmp_path):
    url = lab.url
    with chromium_page((1400, 2200)) as (page, errors, requests):
        page.goto(lab.page_url("lab/tree/explore.ipynb"))
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
        page.get_by_role("menuitem", name="Run").click()
        page.get_by_text("Run All Cells", exact=True).click()
        view = page.locator(".wb-explorer-llm .wb-explorer-view-proxy svg.marks").first
        try:
            view.wait_for(timeout=90_000)
        except Exception:
            page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
            raise AssertionError("no LLM Explorer chart appeared; page text:\n"
                                 + page.locator(".jp-Notebook").inner_text()[-3000:]) from None
        lab.note_children()
        for k in ("finish", "usage"):
            page.locator(f".wb-explorer-view-{k} svg.marks").first.wait_for(timeout=60_000)
        before = view.inner_html()
        page.locator(".wb-explorer-split select").select_option(index=0)  # from the default split to none
        deadline = time.time() + 60
        after = before
        while time.time() < deadline and after == before:
            time.sleep(0.5)
            after = page.locator(".wb-explorer-view-proxy svg.marks").first.inner_html()
        page.locator(".wb-explorer-sample").click()
        table = page.locator(".wb-explorer-table table").first
        table.wait_for(timeout=60_000)
        shown = table.inner_text()
        cells = page.locator(".wb-explorer-table td").all_inner_texts()
        page.locator(".wb-explorer-rows select").select_option(index=0)
        page.locator(".wb-explorer-chain").get_by_text("prompt").first.wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "llm-explorer.png"), full_page=True)
    assert after != before, "the proxy chart did not change after choosing a split"
    assert not errors, errors
    outside = [r for r in requests if not r.startswith((url, "blob:", "data:"))]
    assert not outside, outside
    assert not re.search(PII_PATTERNS["email"], shown), "a raw e-mail address in the sampled calls"
    # excerpts: at most 120 characters (+ an ellipsis), never a whole prompt or answer
    assert cells and max(len(c.strip()) for c in cells) <= 121, max(cells, key=len)[:200]
    assert (tmp_path / "llm-explorer.png").stat().st_size > 10_000
