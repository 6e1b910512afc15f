"""Look at a report.html the way a reader does: headless Chromium at 1400 px, network blocked.

``look(html, shots_dir)`` opens the file twice, scripts on and scripts off, takes a full-page
screenshot of each into ``shots_dir`` and returns what a test asserts on: the page text, marks
drawn per chart, live (interactive) charts, whether a tooltip appeared on hover, and any request
that tried to leave the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from labserver import CHROMIUM, CHROMIUM_ARGS

WIDTH = 1400

#: Text that must never reach a report: a raw polars repr (shape line, dtype row), a dataclass
#: or study repr, Markdown that was not rendered.
RAW = [
    (re.compile(r"^shape: \(\d+, \d+\)$", re.M), "a polars 'shape:' line"),
    (re.compile(r"^(?:(?:str|f64|i64|bool|i32|u32|f32|datetime\[[^\]]+\])\s*){2,}$", re.M), "a polars dtype row"),
    (re.compile(r"\b(?:\w*Study|\w*Result|SliceResult|SegmentDeltas)\("), "a Python repr"),
    (re.compile(r"\*\*[^*\n]+\*\*"), "Markdown bold shown as asterisks"),
]


def raw_reprs(text: str) -> list[str]:
    """What in ``text`` is a raw repr or stray Markdown (empty when the page reads clean)."""
    return [f"{what}: {m.group(0)[:80]!r}" for rx, what in RAW for m in rx.finditer(text)]


def _open(browser, html: Path, *, scripts: bool, shot: Path) -> dict:
    ctx = browser.new_context(offline=True, java_script_enabled=scripts, viewport={"width": WIDTH, "height": 900})
    page = ctx.new_page()
    requested: list[str] = []
    errors: list[str] = []

    def block(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()
    page.route("**/*", block)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    charts = page.locator("div.wb-chart")
    n = charts.count()
    if scripts and n:
        page.wait_for_function(f"document.querySelectorAll('div.wb-chart.wb-live, div.wb-chart[data-error]').length "
                               f">= {n}", timeout=30_000)
    visible = "div.wb-chart-live svg.marks" if scripts else "div.wb-chart-static svg.marks"
    marks = [charts.nth(i).locator(visible).first.evaluate(
        "e => e.querySelectorAll('path, rect, line, text, circle').length") if charts.nth(i).locator(visible).count()
        else 0 for i in range(n)]
    static_svgs = page.locator("svg.marks").count()
    tooltip = None
    if scripts and n:
        tooltip = _hover_for_tooltip(page)
    page.screenshot(path=str(shot), full_page=True)
    out = {"text": page.inner_text("body"), "charts": n, "marks": marks, "live": page.locator("div.wb-live").count(),
           "svgs": static_svgs, "tooltip": tooltip, "requested": requested, "errors": errors,
           "chart_errors": [charts.nth(i).get_attribute("data-error") for i in range(n)
                            if charts.nth(i).get_attribute("data-error")]}
    ctx.close()
    return out


def _hover_for_tooltip(page) -> str | None:
    """Hover marks of the live charts until Vega's tooltip shows; its text, or None."""
    live = "div.wb-chart-live svg.marks"
    items = page.locator(", ".join(f"{live} g.{g} {el}" for g, el in (
        ("mark-rect", "path"), ("mark-symbol", "path"), ("mark-rule", "line"), ("mark-line", "path"))))
    for i in range(min(items.count(), 40)):
        el = items.nth(i)
        try:
            el.scroll_into_view_if_needed(timeout=2_000)
            el.hover(timeout=2_000, force=True)
        except Exception:  # a mark with no box (zero width): try the next
            continue
        page.wait_for_timeout(150)
        tip = page.locator("#vg-tooltip-element.visible")
        if tip.count() and tip.first.is_visible():
            return tip.first.inner_text()
    return None


def look(html: str | Path, shots_dir: str | Path, *, name: str = "report") -> dict:
    """Scripts on and off; screenshots ``{name}-scripts-on.png`` / ``-off.png`` in ``shots_dir``."""
    from playwright.sync_api import sync_playwright

    html, shots = Path(html), Path(shots_dir)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            on = _open(browser, html, scripts=True, shot=shots / f"{name}-scripts-on.png")
            off = _open(browser, html, scripts=False, shot=shots / f"{name}-scripts-off.png")
        finally:
            browser.close()
    return {"on": on, "off": off}
