"""Templates: thin, committed without outputs, and every one executed by Papermill on a generated lake."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat
import pytest

import workbench as wb

from labserver import CHROMIUM
from report_page import look, raw_reprs

from workbench.cli import main
from workbench.exceptions import UsageError
from workbench.report import ReportError, list_templates, run_report
from workbench.report.conventions import check_notebook, render_violations
from workbench.report.templates import builtin_dir
from workbench.synthetic import generate_lake
from workbench.synthetic.llm import generate_llm_lake

TEMPLATES = builtin_dir()
NAMES = ["bias-audit", "canary-review", "drift-deep-dive", "incident-triage", "latency-regression", "llm-incident",
         "model-health", "postmortem", "rag-health"]


def test_every_template_is_listed_with_help_for_each_parameter():
    ts = {t.name: t for t in list_templates()}
    assert sorted(ts) == NAMES
    for t in ts.values():
        assert t.origin == "builtin" and t.description and "lake" in t.parameters and "output_dir" in t.parameters


@pytest.mark.parametrize("name", NAMES)
def test_template_is_thin_and_has_no_outputs(name):
    # the conventions are defined once, in the package (`workbench templates check` applies the same rules):
    # typed and documented parameters first, no logic, one call and one display per section, no outputs,
    # findings published
    problems = check_notebook(TEMPLATES / f"{name}.ipynb")
    assert not problems, f"{name}:\n{render_violations(problems)}"


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    specs = {"schema": ("schema_mismatch", 0, 501), "drift": ("data_drift", 1, 502),
             "latency": ("latency_regression", 1, 503), "bias": ("bias_regression", 0, 504),
             "retrain": ("retrain_regression", 0, 505)}
    out = {}
    for key, (cause, variant, seed) in specs.items():
        out[key] = (root / key, generate_lake(root / key, cause=cause, variant=variant, seed=seed, rows=30_000))
    # the LLM templates read generation lakes
    for key, (cause, variant, seed) in {"llm-prompt": ("prompt_regression", 0, 506),
                                        "llm-index": ("retrieval_regression", 0, 507)}.items():
        out[key] = (root / key, generate_llm_lake(root / key, cause=cause, variant=variant, seed=seed, rows=25_000))
    return out


def _since(truth, hours=12):
    return (truth.onset - dt.timedelta(hours=hours)).isoformat()


def _cases(lakes):
    return {
        "incident-triage": ("schema", lambda t: {"since": _since(t)}),
        "drift-deep-dive": ("drift", lambda t: {"since": _since(t, 2)}),
        "canary-review": ("latency", lambda t: {"since": _since(t, 1), "canary": t.subject["model_version"]}),
        "bias-audit": ("bias", lambda t: {"version": t.subject["model_version"]}),
        "latency-regression": ("latency", lambda t: {"since": _since(t)}),
        "model-health": ("latency", lambda t: {"since": _since(t)}),
        "postmortem": ("retrain", lambda t: {"since": _since(t)}),
        "llm-incident": ("llm-prompt", lambda t: {"since": _since(t)}),
        "rag-health": ("llm-index", lambda t: {"since": _since(t)}),
    }


@pytest.mark.parametrize("name", NAMES)
def test_template_runs_on_an_incident(lakes, tmp_path, name):
    key, params = _cases(lakes)[name]
    path, truth = lakes[key]
    res = run_report(name, lake=path, params=params(truth), out=tmp_path / "out")
    html = Path(res.html).read_text()
    nb = nbformat.read(res.notebook, as_version=4)
    assert nb.metadata["workbench"]["template"] == name
    assert "template sha256" in nb.cells[-1].source and "lake fingerprint" in nb.cells[-1].source
    assert "cdnjs" not in html and 'src="http' not in html
    charts = sum("wb.charts." in c.source or "chart" in c.source for c in nb.cells if c.cell_type == "code")
    assert html.count("<svg") >= charts - 1  # every chart cell drew an inline SVG (bias may have none)
    doc = json.loads(Path(res.findings).read_text())
    assert doc["report"]["template"] == name and doc["report"]["lake"]["files"] > 10
    expect = {"incident-triage": ("verdict", "schema_mismatch"), "postmortem": ("verdict", "retrain_regression"),
              "llm-incident": ("verdict", "prompt_regression")}
    if name in expect:
        assert doc["verdict"]["cause"] == expect[name][1]
    if name == "canary-review":
        assert doc["data"]["verdict"] == "no-go"  # the canary is the slow version
    if name == "bias-audit":
        seg = truth.subject["segment"]
        assert f"{seg['column']}={seg['value']}" in doc["summary"]
    if name == "drift-deep-dive":
        assert truth.subject["feature"] in doc["summary"]
    if name == "llm-incident":
        assert doc["hypotheses"][0]["subject"]["prompt"] == truth.subject["prompt"]
        assert "personal data redacted" in html and "response excerpt" in html
        raw = wb.open_lake(path).predictions(["response_text"]).collect()["response_text"]
        assert not any(len(t) > 120 and t in html for t in raw.head(2000).to_list())  # never the raw text
    if name == "rag-health":
        assert truth.subject["index"] in doc["summary"]  # the build worse than the one before it
        worse = [b for b in doc["data"]["builds"] if b["worse"]]
        assert [b["index build"] for b in worse] == [truth.subject["index"]]
    _look_at(res, name, tmp_path)


def _look_at(res, name, tmp_path):
    """What a reader sees at 1400 px in headless Chromium (screenshots kept in the test's folder):
    no raw repr, every chart drew marks with scripts off, and live charts with tooltips with them on."""
    if CHROMIUM is None:
        return
    pytest.importorskip("playwright.sync_api")
    seen = look(res.html, tmp_path / "screenshots", name=name)
    on, off = seen["on"], seen["off"]
    assert raw_reprs(off["text"]) == [], (name, raw_reprs(off["text"]))
    assert on["requested"] == off["requested"] == [] and on["errors"] == [] and on["chart_errors"] == []
    assert all(k > 5 for k in off["marks"]), (name, off["marks"])
    assert on["live"] == on["charts"] and all(k > 5 for k in on["marks"]), (name, on["marks"])
    if on["charts"]:
        assert on["tooltip"], f"{name}: no tooltip on hover"


def test_same_inputs_give_the_same_findings(lakes, tmp_path):
    path, truth = lakes["schema"]
    a = run_report("incident-triage", lake=path, params={"since": _since(truth)}, out=tmp_path / "a")
    b = run_report("incident-triage", lake=path, params={"since": _since(truth)}, out=tmp_path / "b")
    assert Path(a.findings).read_text() == Path(b.findings).read_text()


def test_parameters_are_validated(lakes, tmp_path):
    path, _ = lakes["schema"]
    with pytest.raises(UsageError, match="no parameter 'colour'") as e:
        run_report("incident-triage", lake=path, params={"colour": "red"}, out=tmp_path)
    assert "since (str)" in str(e.value)
    with pytest.raises(UsageError, match="must be str"):
        run_report("incident-triage", lake=path, params={"since": ["a"]}, out=tmp_path)
    with pytest.raises(UsageError, match="'since' of template 'incident-triage' is not a time"):
        run_report("incident-triage", lake=path, params={"since": "not a time"}, out=tmp_path / "o")
    with pytest.raises(UsageError, match="unknown template"):
        run_report("no-such-template", lake=path, out=tmp_path)


def test_failing_cell_is_named_and_partial_notebook_kept(lakes, tmp_path):
    path, _ = lakes["schema"]
    own = tmp_path / "mine"
    own.mkdir()
    nb = nbformat.read(TEMPLATES / "model-health.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('wb.open_lake(lake).lineage_of("req-that-never-was")'))
    nbformat.write(nb, own / "lookup.ipynb")
    with pytest.raises(ReportError, match=r"'lookup' failed in cell \d+: RequestNotFoundError") as e:
        run_report("lookup", lake=path, templates_dir=own, out=tmp_path / "o")
    assert Path(e.value.file).is_file()


def test_user_templates_dir_and_cli(lakes, tmp_path, capsys):
    path, truth = lakes["schema"]
    own = tmp_path / "mine"
    own.mkdir()
    nb = nbformat.read(TEMPLATES / "model-health.ipynb", as_version=4)
    nb.cells[0].source = "# Team health\n\nOur own weekly page."
    nbformat.write(nb, own / "team-health.ipynb")
    assert main(["templates", "--templates-dir", str(own)]) == 0
    out = capsys.readouterr().out
    assert "team-health" in out and "incident-triage" in out
    code = main(["report", "team-health", "--templates-dir", str(own), "--lake", str(path),
                 "-p", f"since={_since(truth)}", "--out", str(tmp_path / "r")])
    assert code == 0 and (tmp_path / "r" / "report.html").is_file()
    assert main(["report", "incident-triage", "--lake", str(path), "-p", "nope=1", "--out", str(tmp_path)]) == 2


def test_postmortem_includes_analyst_verdicts_and_times(lakes, tmp_path):
    path, truth = lakes["retrain"]
    verdicts = tmp_path / "verdicts.yaml"
    verdicts.write_text("root_cause: confirmed retrain regression\nowner: ml-platform\n")
    res = run_report("postmortem", lake=path, params={"since": _since(truth), "verdicts_file": str(verdicts)},
                     out=tmp_path / "pm")
    html = Path(res.html).read_text()
    assert "confirmed retrain regression" in html
    assert "Time to mitigate" in html or "No mitigation" in html
    assert "onset" in html and truth.subject["model_version"] in html
