"""Templates a team writes and shares: `workbench templates new`, `workbench templates check` and template
packs installed with pip (entry points `workbench.templates`)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import nbformat
import pytest

from workbench.cli import main
from workbench.exceptions import UsageError, WorkbenchWarning
from workbench.report import find_template, list_templates, run_report
from workbench.report.conventions import check_notebook, render_violations
from workbench.report.scaffold import new_template
from workbench.report.templates import builtin_dir
from workbench.synthetic import generate_lake


def _code(nb):
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]


# --- new ---------------------------------------------------------------------------------------------------------

def test_scaffold_follows_the_conventions_and_copies_the_builtin_set_up_cell(tmp_path, capsys):
    assert main(["templates", "new", "team-weekly", "--dir", str(tmp_path / "tpl")]) == 0
    path = tmp_path / "tpl" / "team-weekly.ipynb"
    assert f"wrote {path}" in capsys.readouterr().out
    assert check_notebook(path) == []
    nb = nbformat.read(path, as_version=4)
    code = [nb.cells[i] for i in _code(nb)]
    assert nb.cells[0].source.startswith("# Team weekly\n")
    assert code[0].metadata["tags"] == ["parameters"]
    builtin = nbformat.read(builtin_dir() / "incident-triage.ipynb", as_version=4)
    assert code[1].source == [c for c in builtin.cells if c.cell_type == "code"][1].source
    assert any("report.publish(" in c.source for c in code)
    assert main(["templates", "check", str(path)]) == 0
    t = find_template("team-weekly", tmp_path / "tpl")
    assert t.origin == "user" and set(t.parameters) == {"lake", "since", "until", "output_dir"}


def test_new_from_a_template_clears_outputs_and_renames_the_title(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.read(builtin_dir() / "canary-review.ipynb", as_version=4)
    nb.cells[_code(nb)[-1]].outputs = [nbformat.v4.new_output("stream", text="left over")]
    nb.cells[_code(nb)[-1]].execution_count = 7
    nbformat.write(nb, src / "our-canary.ipynb")
    assert check_notebook(src / "our-canary.ipynb") != []
    path = new_template("canary-eu", from_template="our-canary", templates_dir=src, directory=tmp_path / "out")
    copy = nbformat.read(path, as_version=4)
    assert copy.cells[0].source.splitlines()[0] == "# Canary eu"
    assert "Canary against primary" in copy.cells[0].source  # the description line is kept
    assert check_notebook(path) == []
    assert len(copy.cells) == len(nb.cells)


@pytest.mark.parametrize("name", ["Team Weekly", "../escape", "a/b", "_hidden", "-x", "", "x" * 65, "weekly.ipynb"])
def test_new_refuses_a_name_that_is_not_a_file_name_safe_slug(tmp_path, name, capsys):
    with pytest.raises(UsageError, match="is not a template name") as e:
        new_template(name, directory=tmp_path)
    assert e.value.hint.startswith("e.g. ")
    assert list(tmp_path.iterdir()) == []
    assert main(["templates", "new", "--dir", str(tmp_path), "--", name]) == 2
    assert "UsageError" in capsys.readouterr().err


def test_new_never_overwrites_and_refuses_a_file_as_dir(tmp_path, capsys):
    path = new_template("weekly", directory=tmp_path)
    before = path.read_bytes()
    assert main(["templates", "new", "weekly", "--dir", str(tmp_path)]) == 2
    assert "never overwrites" in capsys.readouterr().err and path.read_bytes() == before
    with pytest.raises(UsageError, match="--dir names a file"):
        new_template("other", directory=path)
    with pytest.raises(UsageError, match="unknown template 'nope'"):
        new_template("other", from_template="nope", directory=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weekly.ipynb"]


# --- check -------------------------------------------------------------------------------------------------------

def _scaffold(tmp_path) -> nbformat.NotebookNode:
    return nbformat.read(new_template("base", directory=tmp_path / "base"), as_version=4)


def _set(nb, cell, source):
    nb.cells[cell].source = source


_PARAMS = 1  # the scaffold: 0 title, 1 parameters, 2 set-up, 3 "## Verdict", 4 triage + publish, 5 narrative, ...
_SECTION = 5
_BREAKS = {
    "no title": (lambda nb: nb.cells.pop(0), None, "no markdown title cell"),
    "title without description": (lambda nb: _set(nb, 0, "# Title only"), 0, "description line"),
    "no parameters tag": (lambda nb: nb.cells[_PARAMS].metadata.pop("tags"), _PARAMS, "tagged `parameters`"),
    "parameters not first": (lambda nb: nb.cells.insert(1, nbformat.v4.new_code_cell("x = 1")), 2,
                             "not the first code cell"),
    "untyped parameter": (lambda nb: _set(nb, _PARAMS, nb.cells[_PARAMS].source.replace("until: str =", "until =")),
                          _PARAMS, "'until' has no type annotation"),
    "list parameter": (lambda nb: _set(nb, _PARAMS, nb.cells[_PARAMS].source + "\nids: list = []  # request ids"),
                       _PARAMS, "'ids' is typed `list`"),
    "default of another type": (lambda nb: _set(nb, _PARAMS, nb.cells[_PARAMS].source + '\nn: int = "3"  # how many'),
                                _PARAMS, "annotated int but its default is a str"),
    "no help": (lambda nb: _set(nb, _PARAMS, nb.cells[_PARAMS].source + "\nn: int = 3"), _PARAMS,
                "'n' has no help comment"),
    "two = on a line": (lambda nb: _set(nb, _PARAMS, nb.cells[_PARAMS].source + "\nq: str = 'a'  # e.g. q=b"),
                        _PARAMS, "runner cannot read parameter 'q'"),
    "code in parameters": (lambda nb: _set(nb, _PARAMS, "import os\n" + nb.cells[_PARAMS].source), _PARAMS,
                           "`import os` is not an annotated parameter"),
    "no lake": (lambda nb: _set(nb, _PARAMS, nb.cells[_PARAMS].source.split("\n", 1)[1]), _PARAMS, "no `lake`"),
    "no output_dir": (lambda nb: _set(nb, _PARAMS, nb.cells[_PARAMS].source.rsplit("\n", 1)[0]), _PARAMS,
                      "no `output_dir`"),
    "def": (lambda nb: _set(nb, _SECTION, "def f(x):\n    return x"), _SECTION, "a function definition"),
    "class": (lambda nb: _set(nb, _SECTION, "class A:\n    pass"), _SECTION, "a class definition"),
    "for": (lambda nb: _set(nb, _SECTION, "for x in findings.hypotheses:\n    x"), _SECTION, "a for loop"),
    "while": (lambda nb: _set(nb, _SECTION, "while False:\n    pass"), _SECTION, "a while loop"),
    "list comprehension": (lambda nb: _set(nb, _SECTION, "[h for h in findings.hypotheses]"), _SECTION,
                           "a list comprehension"),
    "dict comprehension": (lambda nb: _set(nb, _SECTION, "{h: 1 for h in findings.hypotheses}"), _SECTION,
                           "a dict comprehension"),
    "generator": (lambda nb: _set(nb, _SECTION, "sum(1 for h in findings.hypotheses)"), _SECTION,
                  "a generator expression"),
    "lambda": (lambda nb: _set(nb, _SECTION, "key = lambda h: h.score"), _SECTION, "a lambda"),
    "three statements": (lambda nb: _set(nb, _SECTION, "a = 1\nb = 2\nreport.narrative(findings)"), _SECTION,
                         "has 3 statements"),
    "outputs": (lambda nb: nb.cells[_SECTION].outputs.append(nbformat.v4.new_output("stream", text="x")), _SECTION,
                "has outputs"),
    "execution count": (lambda nb: nb.cells[_SECTION].__setitem__("execution_count", 3), _SECTION,
                        "an execution count"),
    "magic": (lambda nb: _set(nb, _SECTION, "%matplotlib inline"), _SECTION, "is not plain Python"),
    "no publish": (lambda nb: _set(nb, 4, nb.cells[4].source.split("\n")[0]), None, "publishes no findings"),
}


@pytest.mark.parametrize("kind", list(_BREAKS))
def test_each_broken_convention_is_reported_with_its_cell(tmp_path, kind):
    nb = _scaffold(tmp_path)
    brk, cell, text = _BREAKS[kind]
    brk(nb)
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    problems = check_notebook(path)
    hits = [v for v in problems if text in v.problem]
    assert hits, render_violations(problems)
    assert hits[0].cell == cell and hits[0].fix
    if cell is not None:
        first = next(x.strip() for x in nb.cells[cell].source.splitlines() if x.strip())
        assert first.startswith(hits[0].first_line.rstrip("."))
    if kind != "parameters not first":  # there the set-up cell is counted as a section cell too
        assert problems == hits, render_violations(problems)


def test_check_prints_one_message_per_offending_cell_and_exits_1(tmp_path, capsys):
    nb = _scaffold(tmp_path)
    _set(nb, _SECTION, "a = [h for h in findings.hypotheses]\nb = 2\nreport.narrative(findings)")
    nbformat.write(nb, tmp_path / "bad.ipynb")
    shutil.copy(tmp_path / "base" / "base.ipynb", tmp_path / "good.ipynb")
    assert main(["templates", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'good.ipynb'}: follows the conventions" in out
    assert f"{tmp_path / 'bad.ipynb'}: 2 problem(s) in 1 place(s)" in out
    assert out.count(f"cell {_SECTION} `a = [h for h in findings.hypotheses]`:") == 1
    assert "holds logic: a list comprehension" in out and "has 3 statements" in out and out.count("fix: ") == 2


@pytest.mark.parametrize("args, message", [
    (["missing.ipynb"], "no such notebook"),
    (["notes.txt"], "a template is a notebook"),
    (["empty"], "no template in this directory"),
    (["base", "--cause", "data_drift"], "--cause and --param only apply with --run"),
    (["base", "--run", "--cause", "gremlins"], "unknown cause"),
])
def test_check_usage_errors_exit_2(tmp_path, capsys, monkeypatch, args, message):
    new_template("base", directory=tmp_path / "base")
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.chdir(tmp_path)
    assert main(["templates", "check", *args]) == 2
    assert message in capsys.readouterr().err


def test_check_run_runs_a_good_template_and_names_the_failing_cell_of_a_bad_one(tmp_path, capsys):
    tpl = tmp_path / "tpl"
    new_template("good", directory=tpl)
    nb = nbformat.read(tpl / "good.ipynb", as_version=4)
    nb.cells.insert(6, nbformat.v4.new_code_cell('wb.open_lake(lake).lineage_of("req-that-never-was")'))
    nbformat.write(nb, tpl / "lookup.ipynb")
    assert check_notebook(tpl / "lookup.ipynb") == []  # it follows the conventions; only running it shows the bug
    assert main(["templates", "check", str(tpl), "--run", "--cause", "data_drift"]) == 1
    out = capsys.readouterr()
    assert f"{tpl / 'good.ipynb'}: ran on the data_drift lake" in out.out
    assert re.search(rf"{re.escape(str(tpl / 'lookup.ipynb'))}: FAILED on the data_drift lake: ReportError: "
                     r"template 'lookup' failed in cell \d+: RequestNotFoundError", out.out), out.out
    # the failing cell as the template numbers it (papermill's added cells not counted)
    assert "\n  cell 6 `wb.open_lake(lake).lineage_of(\"req-that-never-was\")` failed\n" in out.out
    kept = Path(out.err.split("kept ")[1].split(" ")[0])
    assert (kept / "out-lookup" / "report.ipynb").is_file() and "partial notebook: " in out.out
    shutil.rmtree(kept)


# --- packs -------------------------------------------------------------------------------------------------------

def _pack(root: Path, dist: str, package: str, templates: dict[str, Path], extra_entry: str = "") -> Path:
    src = root / dist
    (src / package).mkdir(parents=True)
    (src / package / "__init__.py").write_text('"""Templates of a team, as a pack."""\n')
    for name, nb in templates.items():
        shutil.copy(nb, src / package / f"{name}.ipynb")
    (src / "pyproject.toml").write_text(textwrap.dedent(f'''
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "{dist}"
        version = "0.1"

        [project.entry-points."workbench.templates"]
        {package} = "{package}"
        {extra_entry}

        [tool.hatch.build.targets.wheel]
        packages = ["{package}"]
    '''))
    return src


@pytest.fixture(scope="module")
def pack_site(tmp_path_factory):
    """Two packs built with hatchling and installed with pip into their own directory: wb-team-pack ships
    team-weekly and a model-health (hiding the built-in); wb-zz-pack ships another team-weekly and a broken
    entry point."""
    root = tmp_path_factory.mktemp("packs")
    team = new_template("team-weekly", directory=root / "nb")
    health = nbformat.read(builtin_dir() / "model-health.ipynb", as_version=4)
    health.cells[0].source = "# Model health, our way\n\nThe team's model-health page."
    nbformat.write(health, root / "nb" / "model-health.ipynb")
    a = _pack(root, "wb-team-pack", "wb_team_pack",
              {"team-weekly": team, "model-health": root / "nb" / "model-health.ipynb"})
    b = _pack(root, "wb-zz-pack", "wb_zz_pack", {"team-weekly": team}, extra_entry='broken = "wb_zz_pack.missing"')
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(a), str(b)], check=True)
    return site


@pytest.fixture
def packs(pack_site, monkeypatch):
    monkeypatch.syspath_prepend(str(pack_site))  # entry points are read from sys.path
    return pack_site


def test_pack_templates_are_listed_with_their_origin_and_conflicts_reported(packs, tmp_path, capsys):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ts = {t.name: t for t in list_templates()}
    said = [str(x.message) for x in w if issubclass(x.category, WorkbenchWarning)]
    assert ts["team-weekly"].origin == "pack:wb-team-pack" and ts["team-weekly"].shadows == ("pack:wb-zz-pack",)
    assert Path(ts["team-weekly"].path).parent == packs / "wb_team_pack"
    assert ts["model-health"].origin == "pack:wb-team-pack" and ts["model-health"].shadows == ("builtin",)
    assert ts["model-health"].description == "The team's model-health page."
    assert ts["incident-triage"].origin == "builtin"
    assert any("'team-weekly' is in pack:wb-team-pack and pack:wb-zz-pack" in m for m in said), said
    assert any("'model-health' is in pack:wb-team-pack and builtin" in m for m in said), said
    assert any("template pack 'wb-zz-pack' (entry point broken = wb_zz_pack.missing) skipped" in m for m in said)
    # the user's own directory wins over packs, without a warning: it is what --templates-dir is for
    mine = tmp_path / "mine"
    new_template("team-weekly", directory=mine)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = find_template("team-weekly", mine)
    assert t.origin == "user" and t.shadows == ("pack:wb-team-pack", "pack:wb-zz-pack")
    assert not [x for x in w if "team-weekly" in str(x.message)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        assert find_template("model-health").origin == "pack:wb-team-pack"
        assert main(["templates"]) == 0
    out = capsys.readouterr().out
    assert "team-weekly  (pack:wb-team-pack; hides pack:wb-zz-pack)\n" in out
    assert "model-health  (pack:wb-team-pack; hides builtin)\n" in out
    assert "incident-triage  (builtin)\n" in out


def test_launcher_listing_carries_the_pack_origin(packs):
    from workbench.jupyter.forms import template_json

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = {t.name: template_json(t) for t in list_templates()}
    assert ts["team-weekly"]["source"] == "pack:wb-team-pack" and ts["incident-triage"]["source"] == "builtin"


def test_pack_template_runs(packs, tmp_path):
    truth = generate_lake(tmp_path / "lake", cause="schema_mismatch", seed=601, rows=20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        res = run_report("team-weekly", lake=tmp_path / "lake", out=tmp_path / "out",
                         params={"since": (truth.onset - dt.timedelta(hours=12)).isoformat()})
        sha = find_template("team-weekly").sha256
    assert res.template == "team-weekly" and Path(res.html).is_file()
    doc = json.loads(Path(res.findings).read_text())
    assert doc["verdict"]["cause"] == "schema_mismatch"
    assert doc["report"]["template_sha256"] == sha


def test_packs_are_gone_when_not_installed():
    assert {t.origin for t in list_templates()} == {"builtin"}
