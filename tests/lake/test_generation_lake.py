"""Generation lakes (``task: generation``): roles after the OpenTelemetry GenAI conventions,
delayed feedback in labels/, and the prompts / indexes / prices lineage tables."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

import workbench as wb
from workbench.exceptions import ColumnNotFoundError, ColumnTypeError, LineageError, ManifestError

T0 = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)


def _calls(n: int = 6) -> pl.DataFrame:
    return pl.DataFrame({
        "request_id": [f"r{i}" for i in range(n)],
        "timestamp": [T0 + dt.timedelta(minutes=7 * i) for i in range(n)],
        "model_version": ["app-1.4"] * n,
        "latency_ms": [800.0 + 10 * i for i in range(n)],
        "conversation_id": [f"c{i // 2}" for i in range(n)],
        "operation": ["chat"] * n,
        "provider": ["openai"] * n,
        "request_model": ["gpt-4o-mini"] * n,
        "response_model": ["gpt-4o-mini-2024-07-18"] * n,
        "prompt_template": ["support-answer"] * n,
        "prompt_version": ["7"] * (n - 2) + ["8"] * 2,
        "input_tokens": list(range(400, 400 + n)),
        "output_tokens": [120] * n,
        "time_to_first_token_ms": [210.0] * n,
        "finish_reason": ["stop"] * (n - 1) + ["length"],
        "prompt_text": ["how do I reset my password?"] * n,
        "response_text": ["Open settings and choose reset [kb-1]."] * n,
        "retrieved_ids": [["kb-1", "kb-9"]] * (n - 1) + [[]],
        "retrieval_scores": [[0.82, 0.61]] * (n - 1) + [[]],
        "context_text": ["To reset a password open settings."] * n,
        "index_version": ["kb@2026-04-30"] * n,
        "policy_action": ["allowed"] * n,
        "client_tag": ["web"] * n,
    })


def _lake(tmp_path, *, manifest: dict | None = None, calls: pl.DataFrame | None = None, fmt: str = "parquet",
          feedback: pl.DataFrame | None = None, lineage: dict[str, str] | None = None):
    root = tmp_path / "llm-lake"
    (root / "predictions").mkdir(parents=True)
    (root / "lineage").mkdir()
    m = {"name": "support-assistant", "task": "generation", **(manifest or {})}
    (root / "workbench.yaml").write_text(json.dumps(m))
    df = _calls() if calls is None else calls
    if fmt == "parquet":
        df.write_parquet(root / "predictions" / "part-0.parquet")
    else:
        flat = df.with_columns(pl.col(c).list.eval(pl.element().cast(pl.String)).list.join(";")
                               for c, t in df.schema.items() if isinstance(t, pl.List))
        flat.write_csv(root / "predictions" / "part-0.csv")
    if feedback is not None:
        (root / "labels").mkdir()
        feedback.write_csv(root / "labels" / "feedback.csv")
    for name, text in (lineage or {}).items():
        (root / "lineage" / name).write_text(text)
    return root


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_generation_roles_are_read_with_their_types(tmp_path, fmt):
    lake = wb.open_lake(_lake(tmp_path, fmt=fmt))
    assert lake.task == "generation"
    for role in ("conversation_id", "provider", "request_model", "response_model", "prompt_version",
                 "input_tokens", "output_tokens", "finish_reason", "prompt_text", "response_text",
                 "retrieved_ids", "retrieval_scores", "index_version", "time_to_first_token_ms"):
        assert role in lake.roles, role
    s = lake.schema
    assert s["input_tokens"] == pl.Int64 and s["time_to_first_token_ms"] == pl.Float64
    assert s["retrieved_ids"] == pl.List(pl.String) and s["retrieval_scores"] == pl.List(pl.Float64)
    assert s["prompt_version"] == pl.String
    assert lake.other_columns == ("client_tag",)
    df = lake.predictions().collect()
    assert df["retrieved_ids"][0].to_list() == ["kb-1", "kb-9"]
    assert df["retrieved_ids"][-1].to_list() == []
    assert df["retrieval_scores"][0].to_list() == pytest.approx([0.82, 0.61])
    assert "score" not in lake.roles and "prediction" not in lake.roles  # not needed for LLM calls


def test_genai_roles_can_be_mapped_and_other_tasks_ignore_them(tmp_path):
    calls = _calls().rename({"input_tokens": "tokens_in", "response_model": "model_served"})
    lake = wb.open_lake(_lake(tmp_path, calls=calls,
                              manifest={"columns": {"input_tokens": "tokens_in", "response_model": "model_served"}}))
    assert "input_tokens" in lake.roles and lake.schema["response_model"] == pl.String
    assert lake.predictions(["input_tokens"]).collect()["input_tokens"][0] == 400
    # a classifier's lake with a `provider` column keeps it as an "other" column
    clf = _calls().with_columns(pl.lit(0.3).alias("score"))
    root = _lake(tmp_path / "clf", calls=clf, manifest={"task": "binary_classification"})
    lake = wb.open_lake(root)
    assert "provider" in lake.other_columns and "provider" not in lake.roles


def test_a_mapped_genai_column_that_is_missing_is_named(tmp_path):
    with pytest.raises(ColumnNotFoundError) as e:
        wb.open_lake(_lake(tmp_path, manifest={"columns": {"output_tokens": "completion_tokens"}}))
    assert e.value.column == "completion_tokens" and "output_tokens" in str(e.value)


def test_a_text_token_count_is_refused_with_the_column(tmp_path):
    calls = _calls().with_columns(pl.lit("many").alias("output_tokens"))
    with pytest.raises(ColumnTypeError) as e:
        wb.open_lake(_lake(tmp_path, calls=calls))
    assert e.value.column == "output_tokens"


def test_unknown_task_lists_generation(tmp_path):
    with pytest.raises(ManifestError) as e:
        wb.open_lake(_lake(tmp_path, manifest={"task": "genration"}))
    assert "generation" in str(e.value)


def test_delayed_feedback_joins_the_latest_per_call(tmp_path):
    fb = pl.DataFrame({
        "request_id": ["r0", "r0", "r1", "r3"],
        "thumbs": [1, -1, 0, None],
        "escalated": [False, False, None, True],
        "labeled_at": ["2026-05-01T02:00:00Z", "2026-05-01T05:00:00Z", "2026-05-01T03:00:00Z",
                       "2026-05-02T00:00:00Z"],
    })
    lake = wb.open_lake(_lake(tmp_path, feedback=fb, manifest={"columns": {"feedback": "thumbs"}}))
    assert lake.has_labels
    df = lake.predictions(["request_id", "feedback", "escalated", "labeled_at"], with_labels=True) \
        .collect().sort("request_id")
    got = {r["request_id"]: (r["feedback"], r["escalated"]) for r in df.iter_rows(named=True)}
    assert got["r0"] == (-1.0, False)  # the later thumbs-down replaces the thumbs-up
    assert got["r1"] == (0.0, None)
    assert got["r3"] == (None, True)
    assert got["r2"] == (None, None)  # no feedback yet
    p = lake.profile()
    assert p.labeled_predictions == 3


def test_feedback_without_a_feedback_column_is_named(tmp_path):
    fb = pl.DataFrame({"request_id": ["r0"], "rating": [1], "labeled_at": ["2026-05-01T02:00:00Z"]})
    with pytest.raises(ColumnNotFoundError) as e:
        wb.open_lake(_lake(tmp_path, feedback=fb))
    assert "feedback" in str(e.value) and "rating" in str(e.value)


PROMPTS = ("prompt_template,version,changed_at,text_sha256,author\n"
           "support-answer,7,2026-04-20T00:00:00Z,aa11,ana\n"
           "support-answer,8,2026-05-01T00:30:00Z,bb22,bo\n")
INDEXES = ("index,version,built_at,documents,source_dataset\n"
           "kb,2026-04-30,2026-04-30T02:00:00Z,12000,warehouse/kb_articles\n"
           "kb,2026-05-01,2026-05-01T00:20:00Z,9100,warehouse/kb_articles\n")
PRICES = ("provider,model,valid_from,input_per_1k,output_per_1k,currency\n"
          "openai,gpt-4o-mini,2026-01-01T00:00:00Z,0.00015,0.0006,USD\n")


def test_prompt_index_and_price_lineage_are_read_and_on_the_timeline(tmp_path):
    lake = wb.open_lake(_lake(tmp_path, lineage={"prompts.csv": PROMPTS, "indexes.csv": INDEXES,
                                                 "prices.csv": PRICES}))
    lin = lake.lineage
    assert lin.prompts["previous_version"].to_list() == [None, "7"]
    assert lin.indexes["previous_documents"].to_list() == [None, 12000.0]
    assert lin.prices["output_per_1k"][0] == pytest.approx(0.0006)
    tl = lake.timeline()
    kinds = dict(zip(tl["subject"], tl["kind"]))
    assert kinds["support-answer@8"] == "prompt_version" and kinds["kb@2026-05-01"] == "index_build"
    detail = tl.filter(pl.col("subject") == "kb@2026-05-01")["detail"][0]
    assert "12000 -> 9100 documents" in detail
    assert lin.counts()["prompts"] == 2


def test_bad_lineage_rows_are_named(tmp_path):
    bad = PRICES.replace("0.0006", "cheap")
    with pytest.raises(LineageError) as e:
        wb.open_lake(_lake(tmp_path, lineage={"prices.csv": bad}))
    assert e.value.column == "output_per_1k" and e.value.line == 2
    bad = INDEXES.replace(",9100,", ",lots,")
    with pytest.raises(LineageError) as e:
        wb.open_lake(_lake(tmp_path / "b", lineage={"indexes.csv": bad}))
    assert e.value.column == "documents" and e.value.line == 3
