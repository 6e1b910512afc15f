"""Triage of generation lakes beyond accuracy: privacy of what it writes, lakes that log little,
and the findings contract's subject keys."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import polars as pl
import pytest

import workbench as wb
from workbench.evidence.pii import PII_PATTERNS
from workbench.rca.finding import SUBJECT_KEYS
from workbench.synthetic import generate_llm_lake


def _since(truth, hours=12):
    return (truth.onset or truth.end - dt.timedelta(days=2)) - dt.timedelta(hours=hours)


@pytest.fixture(scope="module")
def leak(tmp_path_factory):
    path = tmp_path_factory.mktemp("llm") / "leak"
    truth = generate_llm_lake(path, cause="pii_leak", seed=90_501, rows=30_000, days=14)
    return path, truth


def test_a_leak_is_found_and_no_personal_value_is_written(leak, tmp_path):
    path, truth = leak
    f = wb.triage(path, since=_since(truth))
    assert f.top is not None and f.top.cause == "pii_leak" and f.top.subject["column"] == "response_text"
    doc = json.dumps(f.to_dict(), default=str)
    for kind in ("email", "phone", "card", "iban"):
        assert not re.search(PII_PATTERNS[kind], doc), kind
    html = f._repr_html_()
    assert not re.search(PII_PATTERNS["email"], html)
    # every subject key of the contract, the LLM ones included
    assert set(f.to_dict()["hypotheses"][0]["subject"]) == set(SUBJECT_KEYS) >= {"prompt", "index"}


def test_a_lake_with_only_tokens_and_latency_is_triaged(leak, tmp_path):
    """No text, no retrieval, no feedback: the checks that need them step aside, nothing fails."""
    src, truth = leak
    dst = tmp_path / "thin"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("labels"))
    roles = wb.read_manifest(src).columns.mapping()
    keep = {roles[r]: r for r in ("request_id", "timestamp", "model_version", "input_tokens", "output_tokens",
                                  "latency_ms")}
    for p in (dst / "predictions").rglob("*.parquet"):
        pl.read_parquet(p).select(list(keep)).rename(keep).write_parquet(p)
    (dst / "workbench.yaml").write_text("name: thin\ntask: generation\n")
    f = wb.triage(dst, since=_since(truth))
    assert f.meta["errors"] == []
    assert f.verdict["cause"] == "none"  # the leak is in the text this lake does not log
