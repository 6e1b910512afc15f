"""triage(): the findings contract, the CLI, errors, determinism, privacy and a read-only lake."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl
import pytest

from workbench.cli import main
from workbench.exceptions import EmptyDataError, LakeNotFoundError, UsageError
from workbench.rca import CAUSES, DECISION_THRESHOLD, SUBJECT_KEYS, Findings, triage
from workbench.synthetic import generate_lake


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    root = tmp_path_factory.mktemp("triage")
    out = {}
    for cause, variant, seed in (("none", 0, 301), ("schema_mismatch", 1, 302), ("pii_leak", 0, 303)):
        path = root / cause
        out[cause] = (path, generate_lake(path, cause=cause, variant=variant, seed=seed, rows=30_000))
    return out


def _since(truth, hours=12):
    anchor = truth.onset or truth.start + (truth.end - truth.start) * 0.75
    return anchor - dt.timedelta(hours=hours)


def test_document_follows_the_contract(lakes):
    path, truth = lakes["schema_mismatch"]
    f = triage(path, since=_since(truth), mask_key="k")
    d = json.loads(json.dumps(f.to_dict()))
    assert d["schema_version"] == 1 and d["lake"] == truth.name
    assert set(d["window"]) >= {"start", "end", "rows"} and set(d["baseline"]) >= {"start", "end", "rows"}
    assert d["window"]["start"].endswith("Z") and d["window"]["rows"] > 0 and d["baseline"]["rows"] > 0
    for s in d["symptoms"]:
        assert set(s) >= {"sli", "baseline", "current", "slo", "breached"}
    scores = [h["score"] for h in d["hypotheses"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= x <= 1 for x in scores)
    for h in d["hypotheses"]:
        assert set(h) >= {"cause", "score", "subject", "onset", "evidence", "lineage", "next_steps"}
        assert list(h["subject"]) == list(SUBJECT_KEYS)
        assert h["cause"] in CAUSES
        for e in h["evidence"]:
            assert set(e) >= {"check", "statistic", "baseline", "p_value", "detail"}
        for e in h["lineage"]:
            assert set(e) >= {"kind", "at", "ref"}
    top = d["hypotheses"][0]
    assert d["verdict"] == {"cause": top["cause"], "score": top["score"]}
    assert top["cause"] == "schema_mismatch" and top["subject"]["feature"] == truth.subject["feature"]
    assert top["subject"]["dataset"] == truth.subject["dataset"]
    assert top["lineage"][0]["kind"] == "openlineage_schema_change" and top["next_steps"]
    # round trip
    back = Findings.from_dict(d)
    assert back.to_dict() == d


def test_healthy_lake_says_none_and_is_deterministic(lakes):
    path, truth = lakes["none"]
    a = triage(path, since=_since(truth), mask_key="k")
    b = triage(path, since=_since(truth), mask_key="k")
    assert a.verdict["cause"] == "none" and a.top is None
    assert all(h.score < DECISION_THRESHOLD for h in a.hypotheses)
    da, db = a.to_dict(), b.to_dict()
    assert "seconds" not in da["meta"]  # no timings: the same lake gives the same document
    assert json.dumps(da) == json.dumps(db)
    assert "none" in a.render() and a._repr_html_().startswith("<div")


def test_personal_data_never_appears_raw(lakes, tmp_path):
    path, truth = lakes["pii_leak"]
    f = triage(path, since=_since(truth), mask_key="k")
    assert f.verdict["cause"] == "pii_leak" and f.top.subject["column"] == truth.subject["column"]
    text = json.dumps(f.to_dict()) + f.render() + f._repr_html_()
    raw = pl.scan_parquet(str(path / "predictions" / "**" / "*.parquet"), hive_partitioning=False)
    col = truth.subject["column"]
    leaked = raw.select(pl.col(col)).filter(pl.col(col).str.contains("@")).head(50).collect()[col].to_list()
    assert leaked, "the generated leak should hold e-mail addresses"
    for value in leaked:
        for token in value.split():
            if "@" in token:
                assert token not in text


def test_lake_is_read_only(lakes):
    path, truth = lakes["schema_mismatch"]
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in Path(path).rglob("*") if p.is_file()}
    triage(path, since=_since(truth), mask_key="k")
    after = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in Path(path).rglob("*") if p.is_file()}
    assert before == after


def test_cli_prints_ranked_summary_and_writes_json(lakes, tmp_path, capsys):
    path, truth = lakes["schema_mismatch"]
    out = tmp_path / "findings.json"
    code = main(["triage", str(path), "--since", _since(truth).isoformat(), "--json", str(out)])
    cap = capsys.readouterr()
    assert code == 0
    assert "verdict: schema_mismatch" in cap.out and "rank" in cap.out
    assert "testing" in cap.err  # progress on standard error
    doc = json.loads(out.read_text())
    assert doc["verdict"]["cause"] == "schema_mismatch"
    code = main(["triage", str(path), "--since", _since(truth).isoformat(), "--json", "-", "--quiet"])
    cap = capsys.readouterr()
    assert code == 0 and json.loads(cap.out)["schema_version"] == 1 and cap.err == ""


@pytest.mark.parametrize(("args", "needle"), [
    (["--since", "2099-01-01"], "no predictions in the window"),
    (["--since", "2026-03-20", "--until", "2026-03-19"], ""),
    (["--since", "yesterday-ish"], "since"),
])
def test_cli_bad_window_exits_2_with_one_line_reason(lakes, capsys, args, needle):
    path, _ = lakes["none"]
    assert main(["triage", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err


def test_errors_are_named(lakes, tmp_path):
    with pytest.raises(LakeNotFoundError):
        triage(tmp_path / "nope", since="2026-03-01")
    path, truth = lakes["none"]
    with pytest.raises(EmptyDataError):
        triage(path, since=truth.end + dt.timedelta(days=30))
    with pytest.raises(UsageError):
        triage(path, since=_since(truth), baseline_since=truth.end, baseline_until=truth.end - dt.timedelta(days=1))


def test_explicit_baseline_and_until(lakes):
    path, truth = lakes["schema_mismatch"]
    since = _since(truth)
    f = triage(path, since=since, until=truth.end - dt.timedelta(hours=6),
               baseline_since=truth.start, baseline_until=since - dt.timedelta(days=1), mask_key="k")
    assert f.baseline["start"] == truth.start and f.verdict["cause"] == "schema_mismatch"
    assert os.fspath(path)  # the lake path stays usable


@pytest.mark.parametrize(("cause", "variant", "seed", "check"), [
    ("retrain_regression", 0, 311, "replay_auc"),
    ("serving_bug", 1, 312, "replay_rows_not_reproduced"),  # the artifact does not reproduce the logs
    ("third_party_change", 1, 313, "permutation_importance"),
])
def test_artifacts_add_replay_and_explanation_evidence(tmp_path, cause, variant, seed, check):
    truth = generate_lake(tmp_path / "l", cause=cause, variant=variant, seed=seed, rows=30_000, artifacts=True)
    f = triage(tmp_path / "l", since=_since(truth), mask_key="k")
    assert f.verdict["cause"] == cause and not f.meta["errors"] and not f.meta["notes"]
    checks = [e.check for e in f.top.evidence]
    assert check in checks, checks
    if cause != "third_party_change":  # a quality drop confined to the culprit version's rows
        assert f.top.explains is not None and f.top.explains > 0.5, f.top.explains


def test_untrusted_pickle_artifacts_are_skipped_with_a_note(tmp_path):
    import pickle

    truth = generate_lake(tmp_path / "l", cause="retrain_regression", variant=0, seed=314, rows=30_000)
    dep = tmp_path / "l" / "lineage" / "deployments.csv"
    df = pl.read_csv(dep)
    (tmp_path / "l" / "m.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    df.with_columns(pl.lit("m.pkl").alias("artifact_uri")).write_csv(dep)
    f = triage(tmp_path / "l", since=_since(truth), mask_key="k")
    assert f.verdict["cause"] == "retrain_regression"
    assert any("arbitrary code" in n for n in f.meta["notes"])


def test_triage_without_lineage_still_answers_and_says_what_it_could_not_know(tmp_path):
    import re
    import shutil

    truth = generate_lake(tmp_path / "l", cause="retrain_regression", variant=0, seed=315, rows=30_000)
    shutil.rmtree(tmp_path / "l" / "lineage")
    shutil.rmtree(tmp_path / "l" / "metrics")
    manifest = tmp_path / "l" / "workbench.yaml"
    manifest.write_text(re.sub(r"lineage: \{.*?\}\n", "", manifest.read_text(), flags=re.S))
    f = triage(tmp_path / "l", since=_since(truth), mask_key="k")
    top = f.top
    assert top is not None and top.cause == "retrain_regression"
    assert top.subject["model_version"] == truth.subject["model_version"]
    assert top.score < 0.95  # less sure than with lineage
    assert abs((top.onset - truth.onset).total_seconds()) <= 3 * 3600  # first hour the version was seen
    assert any("no deployment lineage" in e.detail for e in top.evidence)
    assert not f.meta["errors"]


def test_findings_display_as_the_extension_mime_type_with_fallbacks(lakes):
    """In a notebook, triage's result carries the findings document for the JupyterLab view and
    HTML/plain text for nbconvert and terminals; the output validates as nbformat and nbconvert
    renders the HTML fallback."""
    import nbformat
    from IPython.core.formatters import DisplayFormatter
    from nbconvert import HTMLExporter

    from workbench.rca.finding import FINDINGS_MIME

    path, truth = lakes["schema_mismatch"]
    f = triage(path, since=_since(truth), mask_key="k")
    data, _ = DisplayFormatter().format(f)
    assert set(data) >= {FINDINGS_MIME, "text/html", "text/plain"}
    assert data[FINDINGS_MIME] == json.loads(json.dumps(f.to_dict(), allow_nan=False))
    assert data[FINDINGS_MIME]["verdict"]["cause"] == "schema_mismatch"
    assert "schema_mismatch" in data["text/html"] and data["text/plain"].startswith("Findings(")
    only = f._repr_mimebundle_(include=["text/plain"])
    assert list(only) == ["text/plain"]

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("f", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", data=data, execution_count=1)]
    nb.cells.append(cell)
    nbformat.validate(nb)
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "workbench-findings" in html  # the HTML fallback, not the JSON


def test_importance_reads_a_bounded_stable_sample(tmp_path, monkeypatch):
    """Permutation importance reads at most ``importance_sample_rows`` labelled rows a side (a stable
    sample by request id); below that bound it gives what reading every labelled row gave."""
    import types
    from dataclasses import replace

    from workbench.lake import open_lake
    from workbench.lake.sampling import stable_sample
    from workbench.rca.context import Context
    from workbench.rca.thresholds import RCA_THRESHOLDS
    from workbench.summaries import window

    truth = generate_lake(tmp_path / "l", cause="third_party_change", variant=1, seed=313, rows=30_000, artifacts=True)
    since = _since(truth)

    def every_row(self, start, end):  # what importance read before: every labelled row of the side
        lf = self.lake.predictions(with_labels=True).filter(pl.col("label").is_not_null())
        return window(lf, start, end).collect()

    def importance(findings):
        return [(str(h.subject), e.statistic, e.baseline, e.detail) for h in findings.hypotheses for e in h.evidence
                if e.check == "permutation_importance"]

    sampled = importance(triage(tmp_path / "l", since=since, mask_key="k"))
    with monkeypatch.context() as m:
        m.setattr(Context, "_labelled_sample", every_row)
        read_all = importance(triage(tmp_path / "l", since=since, mask_key="k"))
    assert sampled and sampled == read_all
    # the bound: a side with more labelled rows gives the stable sample of them
    lake = open_lake(tmp_path / "l", mask_key="k")
    ctx = types.SimpleNamespace(lake=lake, thresholds=replace(RCA_THRESHOLDS, importance_sample_rows=700))
    lo, hi = lake.time_range()
    got = Context._labelled_sample(ctx, lo, hi)
    full = lake.predictions(with_labels=True).filter(pl.col("label").is_not_null()).collect()
    assert got.height == 700 < full.height
    assert got.equals(stable_sample(full, 700))
