"""triage() on lakes a new user really has: no embedding column, failing hypotheses, odd windows."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from workbench.cli import EXIT_INCOMPLETE, main
from workbench.rca import Finding, triage
from workbench.rca import engine
from workbench.synthetic import generate_lake


def _since(truth, hours=12):
    anchor = truth.onset or truth.start + (truth.end - truth.start) * 0.75
    return anchor - dt.timedelta(hours=hours)


@pytest.fixture(scope="module")
def csv_schema_lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "lake"
    return path, generate_lake(path, cause="schema_mismatch", variant=0, seed=3, rows=20_000, fmt="csv")


def test_csv_lake_without_embedding_finds_its_schema_mismatch(csv_schema_lake):
    path, truth = csv_schema_lake
    f = triage(path, since=_since(truth), mask_key="k")
    assert not f.meta["errors"], f.meta["errors"]
    assert f.incomplete is None and "incomplete" not in f.verdict
    assert f.verdict["cause"] == "schema_mismatch"
    assert f.top.subject["feature"] == truth.subject["feature"]
    assert any("embedding" in n and "not tested" in n for n in f.meta["notes"])


class _Broken:
    cause = "gremlins"
    name = "tests.Broken"

    def evaluate(self, ctx):
        raise RuntimeError('boom on "a quoted value"\nand a long plan below')


class _Quiet:
    cause = "quiet"
    name = "tests.Quiet"

    def evaluate(self, ctx):
        return [Finding(cause="quiet", score=0.1, subject={})]


def test_a_failed_hypothesis_makes_the_verdict_incomplete(csv_schema_lake):
    path, truth = csv_schema_lake
    with pytest.warns(engine.HypothesisWarning, match="tests.Broken failed"):
        f = triage(path, since=_since(truth), mask_key="k", hypotheses=[_Quiet(), _Broken()])
    assert f.verdict["cause"] == "none"
    assert f.incomplete == "incomplete: 1 of 2 hypotheses failed (Broken)"
    assert f.verdict["incomplete"] == f.incomplete
    assert f.incomplete in f.render() and "among those that ran" in f.render()
    err = f.meta["errors"][0]["error"]
    assert err.startswith("RuntimeError: boom") and "\n" not in err and "a quoted value" not in err
    assert "incomplete" in repr(f) and "incomplete" in f._repr_html_()
    back = json.loads(json.dumps(f.to_dict()))
    assert back["verdict"]["incomplete"] == f.incomplete


def test_cli_exits_3_when_a_hypothesis_failed_and_still_writes_findings(csv_schema_lake, tmp_path, capsys,
                                                                         monkeypatch):
    path, truth = csv_schema_lake
    monkeypatch.setattr(engine, "BUILTIN_HYPOTHESES", engine.BUILTIN_HYPOTHESES + (_Broken,))
    out = tmp_path / "f.json"
    code = main(["triage", str(path), "--since", _since(truth).isoformat(), "--json", str(out), "--quiet"])
    cap = capsys.readouterr()
    assert code == EXIT_INCOMPLETE == 3
    assert "incomplete: 1 of " in cap.err and "hypotheses failed (Broken)" in cap.err and "incomplete" in cap.out
    doc = json.loads(out.read_text())
    assert doc["verdict"]["cause"] == "schema_mismatch" and "incomplete" in doc["verdict"]


def _add_id_column(root, name, make):
    import polars as pl
    import yaml

    for f in sorted((root / "predictions").rglob("*.parquet")):
        df = pl.read_parquet(f, hive_partitioning=False)
        df.with_columns(make(df).alias(name)).write_parquet(f)
    m = yaml.safe_load((root / "workbench.yaml").read_text())
    m["features"]["categorical"].append(name)
    (root / "workbench.yaml").write_text(yaml.safe_dump(m, sort_keys=False))


@pytest.mark.parametrize(("seed", "rows", "name", "kind"), [(3, 20_000, "session_id", "id"),
                                                            (41, 14_000, "client_ip", "ip")])
def test_an_id_like_categorical_feature_raises_no_alarm_on_a_healthy_lake(tmp_path, seed, rows, name, kind):
    import polars as pl

    from workbench.lake.info import lake_info

    path = tmp_path / "lake"
    truth = generate_lake(path, cause="none", seed=seed, rows=rows)

    def make(df):
        h = pl.col("request_id").hash(seed)
        if kind == "id":
            return pl.lit("s-") + h.cast(pl.String)
        return pl.concat_str([(h % 223 + 1), (h // 223 % 256), (h // 57_000 % 256), (h // 9_000_000 % 254 + 1)],
                             separator=".")

    _add_id_column(path, name, make)
    f = triage(path, since=_since(truth), mask_key="k")
    assert f.verdict["cause"] == "none", f.render()
    assert all(h.subject.get("feature") != name or h.score < 0.2 for h in f.hypotheses)
    assert any(n.startswith(f"categorical feature {name} is id-like") for n in f.meta["notes"])
    info = lake_info(str(path))
    assert any("id-like" in w and name in w for w in info.warnings), info.warnings


def _rewrite(root, table, fn, *, last=None):
    import polars as pl

    files = sorted((root / table).rglob("*.parquet"))
    for f in files[-last:] if last else files:
        fn(pl.read_parquet(f, hive_partitioning=False)).write_parquet(f)


def _symptom(f, sli):
    return next((s for s in f.symptoms if s["sli"] == sli), None)


@pytest.mark.parametrize(("seed", "days", "share"), [(3, 5, 0.2), (43, 3, 0.5)])
def test_duplicate_request_ids_do_not_push_capture_above_one(tmp_path, seed, days, share):
    import polars as pl

    path = tmp_path / "lake"
    truth = generate_lake(path, cause="none", seed=seed, rows=16_000)
    clean = triage(path, since=_since(truth), mask_key="k")
    _rewrite(path, "predictions", lambda df: pl.concat([df, df.head(int(df.height * share))]), last=days)
    f = triage(path, since=_since(truth), mask_key="k")
    cap, cap0 = _symptom(f, "capture_rate"), _symptom(clean, "capture_rate")
    assert cap["current"] <= 1.0 and cap["current"] == pytest.approx(cap0["current"], abs=1e-9)
    note = [n for n in f.meta["notes"] if "repeat a request_id" in n]
    assert len(note) == 1 and f.verdict["cause"] == "none"


def test_capture_slis_per_route_leave_duplicates_out(tmp_path):
    import polars as pl

    from workbench.rca.context import Context

    path = tmp_path / "lake"
    truth = generate_lake(path, cause="none", seed=44, rows=12_000)
    _rewrite(path, "predictions", lambda df: pl.concat([df, df]), last=4)
    f = triage(path, since=_since(truth), mask_key="k")
    assert f.verdict["cause"] == "none"
    import workbench as wb

    lake = wb.open_lake(path, mask_key="k")
    since = _since(truth)
    ctx = Context(lake, start=since, end=truth.end, baseline_start=since - dt.timedelta(days=7),
                  baseline_end=since)
    for res in ctx.slis:
        for g in res.groups:
            if g.get("capture_rate") is not None:
                assert g["capture_rate"] <= 1.0 + 1e-9, g


@pytest.mark.parametrize(("seed", "pos", "neg"), [(3, "yes", "no"), (45, "True", "False")])
def test_text_labels_measure_the_same_quality_as_numbers(tmp_path, seed, pos, neg):
    import polars as pl

    path = tmp_path / "lake"
    truth = generate_lake(path, cause="retrain_regression", variant=0, seed=seed, rows=16_000)
    before = triage(path, since=_since(truth), mask_key="k")
    _rewrite(path, "labels", lambda df: df.with_columns(
        pl.when(pl.col("label") == 1).then(pl.lit(pos)).otherwise(pl.lit(neg)).alias("label")))
    after = triage(path, since=_since(truth), mask_key="k")
    for sli in ("auc", "accuracy"):
        a, b = _symptom(before, sli), _symptom(after, sli)
        assert a is not None and b is not None, sli
        assert b["current"] == pytest.approx(a["current"]) and b["baseline"] == pytest.approx(a["baseline"])
    assert after.verdict == before.verdict


def test_labels_that_join_nothing_are_explained_in_the_notes(tmp_path):
    import polars as pl

    path = tmp_path / "lake"
    truth = generate_lake(path, cause="retrain_regression", variant=0, seed=46, rows=14_000)
    _rewrite(path, "labels", lambda df: df.with_columns((pl.lit("other-") + pl.col("request_id")).alias("request_id")))
    f = triage(path, since=_since(truth), mask_key="k")
    assert _symptom(f, "auc") is None
    assert any(n.startswith("labels join no prediction (0 of ") for n in f.meta["notes"]), f.meta["notes"]


@pytest.mark.parametrize(("b_since", "b_until", "needle", "column"), [
    (-2, -6, "the baseline is reversed", "baseline_since"),     # both given, swapped
    (3, None, "baseline_since (--baseline-since)", "baseline_since"),  # starts after the window start
    (None, -24 * 60, "baseline_until (--baseline-until)", "baseline_until"),  # ends before the data
])
def test_a_bad_baseline_names_the_parameter_at_fault(csv_schema_lake, b_since, b_until, needle, column):
    from workbench.exceptions import UsageError

    path, truth = csv_schema_lake
    since = _since(truth)
    kw = {}
    if b_since is not None:
        kw["baseline_since"] = since + dt.timedelta(hours=b_since) if b_since > 0 else since + dt.timedelta(days=b_since)
    if b_until is not None:
        kw["baseline_until"] = since + dt.timedelta(days=b_until) if b_until > -100 else \
            since + dt.timedelta(hours=b_until)
    with pytest.raises(UsageError) as ei:
        triage(path, since=since, mask_key="k", **kw)
    assert needle in str(ei.value) and ei.value.column == column
    assert "pick a later --since" not in str(ei.value)


@pytest.mark.parametrize("hours", [6, 30])
def test_a_baseline_reaching_into_the_window_is_refused(csv_schema_lake, capsys, hours):
    path, truth = csv_schema_lake
    since = _since(truth)
    until = since + dt.timedelta(hours=hours)
    code = main(["triage", str(path), "--since", since.isoformat(), "--baseline-since",
                 (since - dt.timedelta(days=5)).isoformat(), "--baseline-until", until.isoformat(), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "overlaps the window" in err and "baseline_until" in err and "Traceback" not in err


@pytest.mark.parametrize(("seed", "k", "n"), [(3, 17, 30), (47, 4, 1)])
def test_rows_without_a_timestamp_are_said_to_be_left_out(tmp_path, seed, k, n):
    import polars as pl

    path = tmp_path / "lake"
    truth = generate_lake(path, cause="none", seed=seed, rows=12_000)
    files = sorted((path / "predictions").rglob("*.parquet"))
    df = pl.read_parquet(files[k], hive_partitioning=False)
    ts = df["timestamp"].to_list()
    df.with_columns(pl.Series("timestamp", [None] * n + ts[n:], dtype=df["timestamp"].dtype)).write_parquet(files[k])
    f = triage(path, since=_since(truth), mask_key="k")
    note = [x for x in f.meta["notes"] if "missing or unparsable timestamp" in x]
    assert len(note) == 1 and note[0].startswith(f"{n:,} prediction rows")
    assert str(files[k].relative_to(path)) in note[0]


def test_the_report_narrative_says_the_run_was_incomplete(csv_schema_lake):
    from workbench.report.sections import narrative

    path, truth = csv_schema_lake
    with pytest.warns(engine.HypothesisWarning):
        f = triage(path, since=_since(truth), mask_key="k", hypotheses=[_Quiet(), _Broken()])
    text = narrative(f)._repr_markdown_()
    assert "incomplete: 1 of 2 hypotheses failed (Broken)" in text and "Verdict: none" in text
