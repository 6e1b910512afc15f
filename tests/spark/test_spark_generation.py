"""LLM-call lakes (``task: generation``) on Spark: the LLM summary Spark computes equals the polars
engine's (counts exactly, sums to rounding, the same grounded sample), on generated lakes and on a
hand-made lake of edge cases (finish reasons in odd case and white space, empty and null texts,
markdown links among citations, divisions by zero, feedback given twice or withdrawn, costs from
the price list), and triage finds the same on generated lakes of every LLM cause."""

from __future__ import annotations

import datetime as dt
import shutil

import polars as pl
import pytest
import yaml

from workbench.evidence.llm_calls import summarize_llm
from workbench.lake import open_lake
from workbench.rca import triage
from workbench.synthetic import LLM_CAUSES, generate_llm_lake

from same_findings import assert_same_findings

KEYS = ["bucket", "model_version", "route", "provider", "request_model", "response_model", "prompt",
        "index_version", "router_decision"]


def _assert_same_summary(a, b):
    assert a.measures == b.measures and a.events == b.events
    assert a.meta["signals"] == b.meta["signals"] and a.meta["priced"] == b.meta["priced"]
    assert a.frame.schema == b.frame.schema and a.frame.height == b.frame.height
    j = a.frame.join(b.frame, on=KEYS, how="full", nulls_equal=True, suffix="_s")
    assert j.height == a.frame.height  # the same groups
    for c in a.frame.columns:
        if c in KEYS:
            continue
        x, y = j[c], j[f"{c}_s"]
        assert (x.is_null() == y.is_null()).all(), c
        if a.frame.schema[c] == pl.Int64:
            assert (x == y).all(), (c, j.filter(x != y).select(*KEYS, c, f"{c}_s").head(3))
        else:
            assert ((x - y).abs() <= 1e-9 * (x.abs() + 1)).all(), c
    assert a.latency.equals(b.latency)


@pytest.fixture(scope="module")
def rag_lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("llm") / "rag"
    generate_llm_lake(path, cause="prompt_regression", seed=5, rows=8_000, days=7)
    return path


@pytest.mark.parametrize("variant", ["as_written", "masked_ids_priced_costs"])
def test_llm_summary_equals_polars_on_a_generated_lake(spark, rag_lake, tmp_path, variant):
    path = rag_lake
    if variant != "as_written":  # request ids masked (the grounded sample hashes the masks), no cost logged
        path = tmp_path / "lake"
        shutil.copytree(rag_lake, path)
        for p in (path / "predictions").rglob("*.parquet"):
            pl.read_parquet(p).drop("cost").write_parquet(p)
        m = yaml.safe_load((path / "workbench.yaml").read_text())
        m["columns"].pop("cost")
        m["sensitive"] = ["request_id"]
        (path / "workbench.yaml").write_text(yaml.safe_dump(m))
    a = summarize_llm(open_lake(path, mask_key="k"), bucket="6h")
    b = summarize_llm(open_lake(path, mask_key="k", engine="spark", spark=spark), bucket="6h")
    assert a.calls > 7_000 and a.frame["grounded_share:n"].sum() > 500  # the sample is there, and used
    assert a.meta["priced"] == (variant != "as_written")
    _assert_same_summary(a, b)


def _edge_lake(root):
    t0 = dt.datetime(2026, 4, 1, 9, tzinfo=dt.timezone.utc)
    texts = [  # response, context, finish reason, policy action, retrieved ids
        ("I’m sorry, but I can’t help with that [kb/7] [2].", "Store hours are nine to five.", "  STOP\t", "allowed",
         ["doc-1", "kb/7"]),
        ("Refunds take five business days [doc-1] [doc-1] and [guide](http://x) [doc-2].",
         "Refunds take five days.", "Length", "BLOCKED ", ["doc-1"]),
        ("", "", "", "", []),
        (None, None, None, None, None),
        ("é🙂 Ünïcode answers count characters [3] [1]", "answers", "content_filter", "rewritten", ["doc-9"]),
        ("As an AI I cannot browse.", "nothing relevant", "weird_reason", "allowed", None),
    ]
    rows = []
    for i in range(60):
        resp, ctx, fin, pol, retrieved = texts[i % len(texts)]
        rows.append({
            "request_id": f"q{i:03d}", "timestamp": t0 + dt.timedelta(minutes=37 * i),
            "model_version": "app-2" if i >= 30 else "app-1", "route": None if i % 7 == 0 else "primary",
            "provider": "openai", "request_model": "gpt-x" if i % 4 else "gpt-y",
            "response_model": None if i % 9 == 0 else "gpt-x-2026",
            "prompt_template": None if i % 5 == 0 else "answer", "prompt_version": None if i % 11 == 0 else str(i // 20),
            "input_tokens": [0, 120, 80, None][i % 4], "output_tokens": [0, 40, None, 15][i % 4],
            "latency_ms": [float("nan"), 900.0, 0.001, None, 12_000.0][i % 5],
            "ttft_ms": [120.0, None, float("inf"), 35.0][i % 4],
            "finish_reason": fin, "response_text": resp, "context_text": ctx, "input_text": f"question {i} é",
            "retrieved_ids": retrieved,
            "retrieval_scores": [None, [], [0.2, 0.9], [float("nan")]][i % 4],
            "policy_action": pol, "index_version": "idx-3" if i < 40 else "idx-4",
        })
    preds = pl.DataFrame(rows, schema_overrides={"retrieved_ids": pl.List(pl.String),
                                                 "retrieval_scores": pl.List(pl.Float64)})
    (root / "predictions").mkdir(parents=True)
    preds.write_parquet(root / "predictions" / "part-0.parquet")
    fb = []
    for i in range(0, 60, 2):
        at = t0 + dt.timedelta(minutes=37 * i + 90)
        fb.append({"request_id": f"q{i:03d}", "feedback": [1.0, -1.0, 0.0][i % 3], "escalated": None, "labeled_at": at})
        if i % 6 == 0:  # changed their mind later; a later row without feedback replaces nothing
            fb.append({"request_id": f"q{i:03d}", "feedback": -1.0, "escalated": True,
                       "labeled_at": at + dt.timedelta(hours=2)})
            fb.append({"request_id": f"q{i:03d}", "feedback": None, "escalated": False,
                       "labeled_at": at + dt.timedelta(hours=3)})
        if i % 10 == 4:  # two at the same time: the greater counts
            fb.append({"request_id": f"q{i:03d}", "feedback": 1.0, "escalated": None, "labeled_at": at})
    (root / "labels").mkdir()
    pl.DataFrame(fb).write_parquet(root / "labels" / "part-0.parquet")
    (root / "lineage").mkdir()
    pl.DataFrame({"provider": ["openai", "openai", "openai"], "model": ["gpt-x", "gpt-x", "gpt-y"],
                  "valid_from": ["2026-01-01T00:00:00Z", "2026-04-01T20:00:00Z", "2026-01-01T00:00:00Z"],
                  "input_per_1k": [0.5, 0.25, 2.0], "output_per_1k": [1.5, 0.75, 6.0],
                  "currency": ["USD"] * 3}).write_csv(root / "lineage" / "prices.csv")
    (root / "workbench.yaml").write_text(yaml.safe_dump({
        "name": "edge-llm", "task": "generation", "predictions": "predictions/", "labels": "labels/",
        "columns": {"time_to_first_token_ms": "ttft_ms", "prompt_text": "input_text"},
        "lineage": {"prices": "lineage/prices.csv"}}))
    return root


def test_llm_summary_equals_polars_on_edge_cases(spark, tmp_path):
    path = _edge_lake(tmp_path / "edge")
    a = summarize_llm(open_lake(path), bucket="1h")
    b = summarize_llm(open_lake(path, engine="spark", spark=spark), bucket="1h")
    assert a.meta["priced"] and "cost" in a.measures
    t = a.totals()
    # the cases are there: both refusals, odd finish reasons, withdrawn feedback, a division by zero
    assert t["refusal:k"].item() == 20 and t["finish:stop:k"].item() == 10 and t["finish:other:k"].item() == 10
    assert t["finish:stop:n"].item() == 40 and t["feedback:negative:k"].item() > 0
    assert t["citations:sum"].item() == 10 * (2 + 2 + 2) and t["unsupported_citations:sum"].item() == 10 * (0 + 1 + 1)
    assert t["output_input_ratio:n"].item() == 15  # 0/0, x/0 and nulls are not ratios
    _assert_same_summary(a, b)


def _since(truth, hours=12):
    return (truth.onset or truth.end - dt.timedelta(days=2)) - dt.timedelta(hours=hours)


FAST = {"none", "prompt_regression"}


@pytest.mark.parametrize("cause", [c if c in FAST else pytest.param(c, marks=pytest.mark.slow) for c in LLM_CAUSES])
def test_llm_triage_same_findings_as_polars(tmp_path, spark, cause):
    path = tmp_path / "lake"
    truth = generate_llm_lake(path, cause=cause, seed=61, rows=8_000, days=8)
    since = _since(truth)
    fp = triage(open_lake(path, mask_key="k"), since=since)
    fs = triage(open_lake(path, mask_key="k", engine="spark", spark=spark), since=since)
    assert fp.meta["errors"] == [] and fs.meta["errors"] == []
    assert_same_findings(fs, fp)


def test_text_onset_passes_equal_polars(spark, tmp_path):
    """The hourly pattern counts (personal data in answers, not in their prompt; a topic's terms
    in lower-cased prompts) and the terms' baseline/window rates, counted by Spark, equal polars'."""
    from types import SimpleNamespace

    from workbench.evidence.pii import PII_PATTERNS
    from workbench.rca.llm_text_causes import _distinctive, _hourly

    path = tmp_path / "leak"
    truth = generate_llm_lake(path, cause="pii_leak", seed=7, rows=6_000, days=7)
    lo, hi = truth.start, truth.end
    mid = lo + (hi - lo) / 2
    ctxs = [SimpleNamespace(lake=lake, baseline_start=lo, baseline_end=mid, start=mid, end=hi)
            for lake in (open_lake(path), open_lake(path, engine="spark", spark=spark))]
    hits = 0
    for kind in ("email", "phone", "card", "iban"):
        a, b = (_hourly(c, "response_text", PII_PATTERNS[kind], unless="prompt_text") for c in ctxs)
        assert a.height > 100 and a["bucket"].to_list() == b["bucket"].to_list()
        assert a["n"].to_list() == b["n"].to_list() and a["k"].to_list() == b["k"].to_list(), kind
        hits += int(a["k"].sum())
    assert hits > 0  # the leak is there to count
    a, b = (_hourly(c, "prompt_text", r"\brefund\b|\border\b", lower=True) for c in ctxs)
    assert a["k"].to_list() == b["k"].to_list() and a["k"].sum() > 0
    terms = ["refund", "order", "password", "zzzz"]
    for lift in (0.0, 1.0, 1.2):
        assert _distinctive(ctxs[0], terms, lift=lift) == _distinctive(ctxs[1], terms, lift=lift)


def test_an_llm_lake_in_tables_triages_like_its_files(spark, tmp_path):
    """Predictions and feedback as Spark views: the summary and the onset passes run on Spark, the
    checks on samples of calls stream their columns from Spark; the findings are the file lake's.
    The polars engine refuses such a lake by name."""
    import uuid

    from workbench.exceptions import UsageError

    src = tmp_path / "files"
    truth = generate_llm_lake(src, cause="pii_leak", seed=61, rows=8_000, days=8)
    since = _since(truth)
    views = {}
    for what in ("predictions", "labels"):
        views[what] = f"wb_llm_{what}_{uuid.uuid4().hex[:8]}"
        spark.read.parquet(str(src / what)).createOrReplaceTempView(views[what])
    dst = tmp_path / "tables"
    dst.mkdir()
    for d in ("lineage", "metrics"):
        shutil.copytree(src / d, dst / d)
    m = yaml.safe_load((src / "workbench.yaml").read_text())
    m["predictions"], m["labels"] = {"table": views["predictions"]}, {"table": views["labels"]}
    (dst / "workbench.yaml").write_text(yaml.safe_dump(m))
    fp = triage(open_lake(src, mask_key="k"), since=since)
    fs = triage(open_lake(dst, mask_key="k", engine="spark", spark=spark), since=since)
    assert fp.verdict["cause"] == "pii_leak" and fs.meta["errors"] == []
    assert_same_findings(fs, fp)
    with pytest.raises(UsageError, match="only Spark reads it"):
        open_lake(dst)
