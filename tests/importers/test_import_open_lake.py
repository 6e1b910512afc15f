"""Every imported lake opens with ``workbench.open_lake`` as a generation lake with its roles."""

from __future__ import annotations

import json
import warnings

import polars as pl
import pytest
from test_import_langfuse import OBS, TRACES
from test_import_openinference import SPANS

import workbench as wb
from workbench.exceptions import LakeValidationWarning
from workbench.importers import import_telemetry


def _open(out):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LakeValidationWarning)
        return wb.open_lake(out)


def _same_rows(lake, out):
    written = pl.read_parquet(out / "predictions" / "*.parquet")
    loaded = lake.predictions().collect()
    for role in lake.roles:
        if role in written.columns:
            assert loaded[role].to_list() == written[role].to_list(), role


def test_otlp_lake_opens(tmp_path):
    otel_export = pytest.importorskip("otel_export")
    src = otel_export.write_export(tmp_path / "in" / "t.jsonl", otel_export.export_lines(otel_export.make_spans()))
    out = tmp_path / "lake"
    import_telemetry(src, out)
    lake = _open(out)
    assert lake.manifest.task == "generation"
    assert {"request_id", "trace_id", "timestamp", "model_version", "latency_ms", "conversation_id", "operation",
            "provider", "request_model", "response_model", "prompt_template", "prompt_version", "input_tokens",
            "output_tokens", "cache_read_tokens", "reasoning_tokens", "time_to_first_token_ms", "finish_reason",
            "prompt_text", "response_text", "retrieved_ids", "retrieval_scores", "context_text",
            "index_version"} <= set(lake.roles)
    assert "cost" not in lake.roles and "query_embedding" not in lake.roles
    _same_rows(lake, out)
    assert lake.lineage.prompts["version"].to_list() == ["v7", "v8"]
    assert lake.predictions(with_labels=True).collect().height == 2


def test_phoenix_lake_opens(tmp_path):
    src = tmp_path / "in" / "spans.json"
    src.parent.mkdir()
    src.write_text(json.dumps({"data": SPANS}))
    out = tmp_path / "lake"
    import_telemetry(src, out)
    lake = _open(out)
    assert {"cost", "query_embedding", "retrieved_ids", "index_version", "prompt_version"} <= set(lake.roles)
    _same_rows(lake, out)
    assert lake.schema["query_embedding"] == pl.List(pl.Float32)


def test_langfuse_lake_opens(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "obs.json").write_text(json.dumps(OBS))
    (src / "traces.json").write_text(json.dumps(TRACES))
    out = tmp_path / "lake"
    import_telemetry(src, out)
    lake = _open(out)
    assert {"cost", "prompt_template", "prompt_version", "time_to_first_token_ms", "conversation_id"} <= set(lake.roles)
    _same_rows(lake, out)
    assert lake.lineage.prompts["version"].to_list() == ["3", "4"]
