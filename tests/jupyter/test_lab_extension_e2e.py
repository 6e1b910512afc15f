"""End to end: the installed JupyterLab extension in a real JupyterLab, driven by headless Debian
chromium. Launcher category and cards → template form (server validation beside the field) → a
notebook with papermill's injected parameters that runs; folder context menu → the panel shows the
lake → triage → the findings view names the generated cause; report jobs → notifications, the
report opens in a tab, a failing template names its cell. No request leaves the local server.
Screenshots are saved with the test's output (``--basetemp``)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import nbformat
import pytest
from labserver import CHROMIUM, chromium_page, start_lab

from workbench.lake import open_lake
from workbench.report.templates import builtin_dir
from workbench.synthetic import generate_lake

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")]

SETTINGS = "ml-incident-workbench/plugin"
BROKEN_CELL = "ratio = 1 / int(len(lake) == 0)  # the failing cell"


def _broken_template(path: Path) -> None:
    """A user template whose third cell fails (a division by zero)."""
    params = nbformat.v4.new_code_cell('lake = ""\nsince = ""')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# broken-check\n\nA user template that fails on purpose."),
        params, nbformat.v4.new_code_cell("print('opening', lake)"), nbformat.v4.new_code_cell(BROKEN_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab-e2e")
    root = base / "work"
    root.mkdir()
    truth = generate_lake(root / "checkout-lake", cause="schema_mismatch", variant=1, seed=8123, rows=12_000, days=10)
    since = (truth.onset - dt.timedelta(hours=10)).strftime("%Y-%m-%dT%H:%MZ")
    show = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"import workbench as wb\nwb.triage('checkout-lake', since={since!r})")])
    show.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(show, root / "show-findings.ipynb")
    (root / "my-templates").mkdir()
    _broken_template(root / "my-templates" / "broken-check.ipynb")
    settings = {SETTINGS: {"templatesDir": "my-templates", "reportsDir": "reports"},
                "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}
    with start_lab(root, base / "state", settings=settings,
                   env={"WORKBENCH_MASK_KEY": "e2e", "WORKBENCH_JOBS_DIR": str(base / "jobs")}) as server:
        server.root, server.truth, server.shots = root, truth, base
        yield server


def _wait(predicate, timeout: float, what: str, page=None, shot: Path | None = None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    if page is not None and shot is not None:
        page.screenshot(path=str(shot))
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _open_lab(page, lab, *, reset: bool = True) -> None:
    page.goto(lab.page_url("lab") + ("&reset" if reset else ""))
    page.wait_for_selector(".jp-Launcher", timeout=90_000)
    page.wait_for_selector(".jp-LauncherCard", timeout=30_000)


def _launcher_card(page, name: str):
    return page.locator(".jp-Launcher:visible .jp-LauncherCard", has_text=name).first


def _local_only(lab, requests: list[str]) -> None:
    outside = [r for r in requests if not r.startswith((lab.url, "blob:", "data:"))]
    assert not outside, outside  # offline: nothing fetched beyond the local server


def test_launcher_form_creates_a_parameterized_notebook_that_runs(lab):
    with chromium_page((1440, 900)) as (page, errors, requests):
        _open_lab(page, lab)
        section = page.locator(".jp-Launcher-section", has_text="Model debugging")
        section.wait_for(timeout=30_000)
        # the template cards come from the server after the section is drawn: wait for them
        section.locator(".jp-LauncherCard", has_text="incident-triage").first.wait_for(timeout=30_000)
        cards = section.locator(".jp-LauncherCard").all_inner_texts()
        names = [c.replace("\n", " ").strip() for c in cards]
        expected = {p.stem for p in builtin_dir().glob("*.ipynb")} | {"broken-check"}
        assert expected <= set(names), names
        assert any(n.startswith("Open a telemetry lake") for n in names), names
        page.screenshot(path=str(lab.shots / "launcher.png"))

        _launcher_card(page, "incident-triage").click()
        form = page.locator(".wb-template-form:visible")
        form.locator(".wb-field[data-name=lake]").wait_for(timeout=30_000)
        # the help comment of the template's parameter is shown under its field
        assert "telemetry lake" in form.locator(".wb-field[data-name=lake] .wb-field-help").inner_text()
        # a folder that is not a lake: the server's message beside the field, nothing created
        form.locator(".wb-field[data-name=lake] input").fill("my-templates")
        form.locator(".wb-create-notebook").click()
        err = form.locator(".wb-field[data-name=lake] .wb-field-error")
        _wait(lambda: err.is_visible() and err.inner_text().strip(), 20, "the lake field's error")
        assert "my-templates" in err.inner_text()
        page.screenshot(path=str(lab.shots / "form-error.png"))
        assert not list(lab.root.glob("incident-triage-*.ipynb"))

        since = (lab.truth.onset - dt.timedelta(hours=10)).replace(minute=0, second=0, microsecond=0)
        form.locator(".wb-field[data-name=lake] input").fill("checkout-lake")
        assert not err.is_visible() and not form.locator(".wb-form-message").is_visible()  # corrected: notes go
        form.locator(".wb-field[data-name=since] input").fill(since.strftime("%Y-%m-%dT%H:%M"))
        form.locator(".wb-run-after").check()
        page.screenshot(path=str(lab.shots / "form.png"))
        form.locator(".wb-create-notebook").click()
        created = _wait(lambda: list(lab.root.glob("incident-triage-*.ipynb")), 30, "the new notebook")
        nb = nbformat.read(created[0], as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1, "papermill's injected-parameters cell is missing"
        src = injected[0].source
        assert 'lake = "checkout-lake"' in src and f'since = "{since.strftime("%Y-%m-%dT%H:%M")}' in src, src
        assert nb.metadata["workbench"]["template"] == "incident-triage"

        page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook", timeout=30_000)
        lab.note_children()

        def ran():
            prompts = page.locator(".jp-NotebookPanel:visible .jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
            return prompts and all(p.strip() not in ("[ ]:", "[*]:", "") for p in prompts)
        _wait(ran, 240, "every cell of the new notebook to run", page, lab.shots / "notebook-failed.png")
        errors_out = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output[data-mime-type="
                                  "'application/vnd.jupyter.stderr'] .jp-RenderedText pre", has_text="Traceback")
        assert errors_out.count() == 0
        page.screenshot(path=str(lab.shots / "notebook.png"))

        # `wb.triage(...)` in a notebook is drawn by the extension's findings view (its MIME type)
        page.goto(lab.page_url("lab/tree/show-findings.ipynb") + "&reset")  # only this notebook open
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
        page.get_by_role("menuitem", name="Run").click()
        page.get_by_text("Run All Cells", exact=True).click()
        lab.note_children()
        verdict = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output .wb-findings .wb-verdict").first
        try:
            verdict.wait_for(timeout=120_000)
        except Exception:
            page.screenshot(path=str(lab.shots / "findings-in-notebook-failed.png"))
            raise AssertionError("no findings view in the notebook's output; page text:\n"
                                 + page.locator(".jp-NotebookPanel:visible").inner_text()[-2000:]) from None
        assert verdict.get_attribute("data-cause") == lab.truth.cause
        page.screenshot(path=str(lab.shots / "findings-in-notebook.png"))
    assert not errors, errors
    _local_only(lab, requests)


def test_context_menu_opens_the_lake_and_triage_shows_the_cause(lab):
    with chromium_page((1440, 900)) as (page, errors, requests):
        _open_lab(page, lab)
        page.locator(".jp-DirListing-item[data-isdir='true']", has_text="checkout-lake").click(button="right")
        page.locator(".lm-Menu-itemLabel", has_text="Open as telemetry lake").click()
        card = page.locator(".wb-lake[data-path='checkout-lake']")
        card.locator(".wb-facts").wait_for(timeout=60_000)
        assert card.locator(".wb-validation").get_attribute("data-ok") == "true"
        assert lab.truth.name in card.locator(".wb-lake-name").inner_text()
        rows = open_lake(lab.root / "checkout-lake").profile().rows
        assert f"{rows:,}" in card.locator("[data-fact=rows]").inner_text().replace("\u202f", ",")
        assert card.locator(".wb-timeline li[data-kind]").count() > 0
        page.screenshot(path=str(lab.shots / "panel.png"))

        since = (lab.truth.onset - dt.timedelta(hours=10)).replace(minute=0, second=0, microsecond=0)
        page.locator(".wb-triage[data-lake='checkout-lake'] input[name=since]").fill(since.strftime("%Y-%m-%dT%H:%M"))
        page.locator(".wb-triage[data-lake='checkout-lake'] .wb-triage-button").click()
        view = page.locator(".jp-MimeDocument .wb-findings")
        view.wait_for(timeout=180_000)
        verdict = view.locator(".wb-verdict")
        assert verdict.get_attribute("data-cause") == lab.truth.cause
        feature = lab.truth.subject["feature"]
        assert feature in verdict.inner_text()
        assert view.locator(".wb-hypothesis").count() >= 1
        for button in (".wb-new-from-findings", ".wb-run-findings-report", ".wb-record-verdicts"):
            assert view.locator(button).is_visible(), button
        page.screenshot(path=str(lab.shots / "findings.png"))
        written = list((lab.root / "reports").glob("triage-*/findings.json"))
        assert written and json.loads(written[0].read_text())["verdict"]["cause"] == lab.truth.cause

        # a findings.json double-clicked in the file browser opens in the same view
        page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
        page.locator(".jp-MimeDocument .wb-findings").wait_for(state="detached", timeout=30_000)
        page.locator(".jp-SideBar [data-id='filebrowser']").click()
        page.locator(".jp-DirListing-item", has_text="reports").dblclick()
        page.locator(".jp-DirListing-item", has_text=written[0].parent.name).dblclick()
        page.locator(".jp-DirListing-item", has_text="findings.json").dblclick()
        reopened = page.locator(".jp-MimeDocument .wb-findings .wb-verdict")
        reopened.wait_for(timeout=30_000)
        assert reopened.get_attribute("data-cause") == lab.truth.cause

        # the panel comes back after a reload (the lake list is kept in JupyterLab's state)
        page.reload()
        page.wait_for_selector(".jp-Launcher, .jp-MimeDocument", timeout=90_000)
        if not page.locator(".wb-panel:visible").count():
            page.locator(".jp-SideBar [data-id='workbench-panel']").click()
        page.locator(".wb-lake[data-path='checkout-lake'] .wb-facts").wait_for(timeout=60_000)
    assert not errors, errors
    _local_only(lab, requests)


def test_report_jobs_notify_open_the_report_and_name_the_failing_cell(lab):
    with chromium_page((1440, 900)) as (page, errors, requests):
        _open_lab(page, lab)
        if not page.locator(".wb-panel:visible").count():
            page.locator(".jp-SideBar [data-id='workbench-panel']").click()
        since = (lab.truth.onset - dt.timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M")
        for name in ("model-health", "broken-check"):
            _launcher_card(page, name).click()
            form = page.locator(f".wb-template-form[data-template='{name}']:visible")
            form.locator(".wb-field[data-name=lake] input").wait_for(timeout=30_000)
            form.locator(".wb-field[data-name=lake] input").fill("checkout-lake")
            form.locator(".wb-field[data-name=since] input").fill(since)
            form.locator(".wb-run-report").click()
            page.locator(f".wb-job:has-text('{name}')").first.wait_for(timeout=30_000)
            page.locator(".lm-TabBar-addButton:not(.lm-mod-hidden)").first.click()  # a new launcher
        lab.note_children()
        page.screenshot(path=str(lab.shots / "jobs-running.png"))

        def status(name):
            job = page.locator(f".wb-job:has-text('{name}')").first
            s = job.get_attribute("data-status")
            return s if s not in ("queued", "running") else None
        assert _wait(lambda: status("broken-check"), 240, "the failing job", page, lab.shots / "jobs.png") == "failed"
        assert _wait(lambda: status("model-health"), 300, "the report job", page, lab.shots / "jobs.png") == "succeeded"
        failed = page.locator(".wb-job[data-status=failed]:has-text('broken-check')").first
        assert "1 / int(len(lake) == 0)" in failed.locator(".wb-failed-cell").inner_text()
        toasts = " ".join(page.locator(".Toastify__toast").all_inner_texts())
        assert 'Report "model-health" done' in toasts and 'Report "broken-check" failed' in toasts, toasts
        page.screenshot(path=str(lab.shots / "jobs-done.png"))

        done = page.locator(".wb-job[data-status=succeeded]:has-text('model-health')").first
        assert done.locator(".wb-open-report").is_visible()
        # the notification's own action opens the report
        page.locator(".Toastify__toast", has_text='Report "model-health" done').get_by_role(
            "button", name="Open report").click()
        tab = page.locator(".lm-TabBar-tab", has_text="report.html")
        tab.first.wait_for(timeout=30_000)
        frame = page.frame_locator(".jp-HTMLViewer iframe").first
        frame.locator("h1").first.wait_for(timeout=30_000)  # the report is drawn in the tab
        assert "health" in frame.locator("h1").first.inner_text().lower()
        assert frame.locator("table").count() > 0
        page.screenshot(path=str(lab.shots / "report.png"))
    jobs = list((lab.root / "reports").glob("model-health-*/report.html"))
    assert jobs and jobs[0].stat().st_size > 10_000
    assert not errors, errors
    _local_only(lab, requests)

