"""The report HTML renders with the network off: opened in headless Chromium with every request
outside the file blocked, every chart has drawn marks."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from workbench.report import run_report
from workbench.synthetic import generate_lake

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


def test_report_charts_draw_offline(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    truth = generate_lake(tmp_path / "lake", cause="latency_regression", variant=0, seed=521, rows=30_000)
    since = (truth.onset - dt.timedelta(hours=12)).isoformat()
    res = run_report("incident-triage", lake=tmp_path / "lake", params={"since": since}, out=tmp_path / "out")
    html = Path(res.html)
    requested: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            ctx = browser.new_context(offline=True)
            page = ctx.new_page()

            def block(route):
                if not route.request.url.startswith("file://"):
                    requested.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()
            page.route("**/*", block)
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("svg.marks")
            n = charts.count()
            drawn = [charts.nth(i).evaluate("e => e.querySelectorAll('path, rect, line, text').length")
                     for i in range(n)]
            text = page.inner_text("body")
        finally:
            browser.close()
    assert n >= 2, "the triage report has the hypotheses chart and the lineage timeline"
    assert all(k > 5 for k in drawn), drawn
    assert requested == [], requested  # nothing outside the file was even asked for
    assert "Verdict: latency_regression" in text
