"""Every breach of the lake contract raises its named error, naming file/column/line."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest
import yaml

import workbench as wb
from workbench import exceptions as E
from handmade_lake import predictions_frame, write_lake


def _manifest(root):
    return yaml.safe_load((root / "workbench.yaml").read_text())


def _write_manifest(root, m):
    (root / "workbench.yaml").write_text(yaml.safe_dump(m, sort_keys=False))


def test_lake_path_missing(tmp_path):
    with pytest.raises(E.LakeNotFoundError, match="no telemetry lake") as ei:
        wb.open_lake(tmp_path / "nope")
    assert isinstance(ei.value, FileNotFoundError)
    assert "nope" in str(ei.value)


def test_manifest_missing(tmp_path):
    (tmp_path / "predictions").mkdir()
    with pytest.raises(E.LakeNotFoundError, match="no workbench.yaml") as ei:
        wb.open_lake(tmp_path)
    assert "predictions" in str(ei.value)  # lists what the directory holds


def test_manifest_invalid_yaml(lake_dir):
    (lake_dir / "workbench.yaml").write_text("name: x\nfeatures: [a, b\nsegments: c\n")
    with pytest.raises(E.ManifestError, match="not valid YAML") as ei:
        wb.open_lake(lake_dir)
    assert ei.value.line is not None and "line:" in str(ei.value)


def test_manifest_unknown_keys_listed_with_valid_ones(lake_dir):
    m = _manifest(lake_dir)
    m["sensitve"] = ["email"]
    m["owner"] = "team-x"
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ManifestError) as ei:
        wb.open_lake(lake_dir)
    text = str(ei.value)
    assert "'sensitve'" in text and "'owner'" in text
    assert "Expected: one of name, task, predictions" in text
    assert "did you mean `sensitive`?" in text


def test_manifest_unknown_role(lake_dir):
    m = _manifest(lake_dir)
    m["columns"] = {"scores": "score"}
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ManifestError, match="unknown key") as ei:
        wb.open_lake(lake_dir)
    assert "did you mean `score`?" in str(ei.value)


def test_manifest_bad_task_and_types(lake_dir):
    m = _manifest(lake_dir)
    m["task"] = "binary"
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ManifestError, match="unknown task"):
        wb.open_lake(lake_dir)
    m["task"] = "binary_classification"
    m["slo"] = {"capture_rate": 99}
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ManifestError, match="share between 0 and 1"):
        wb.open_lake(lake_dir)
    m["slo"] = {}
    m["segments"] = {"region": 1}
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ManifestError, match="list of column names"):
        wb.open_lake(lake_dir)


def test_missing_role_column_names_file_column_and_hint(lake_dir):
    m = _manifest(lake_dir)
    m["columns"] = {"score": "proba"}
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ColumnNotFoundError) as ei:
        wb.open_lake(lake_dir)
    text = str(ei.value)
    assert "column `proba` not found in predictions/" in text
    assert "Found: request_id, trace_id" in text
    assert "columns: {score: <column>}" in text
    assert isinstance(ei.value, ValueError)


def test_missing_required_role(tmp_path):
    root = write_lake(tmp_path / "l", preds=predictions_frame().drop("model_version"))
    with pytest.raises(E.ColumnNotFoundError, match="role `model_version`"):
        wb.open_lake(root)


def test_missing_feature_suggests_close_name(lake_dir):
    m = _manifest(lake_dir)
    m["features"]["numeric"] = ["amount", "acount_age_days"]
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ColumnNotFoundError, match="did you mean `account_age_days`"):
        wb.open_lake(lake_dir)


def test_missing_sensitive_column_is_an_error(lake_dir):
    # a typo in `sensitive` would otherwise leave the real column unmasked
    m = _manifest(lake_dir)
    m["sensitive"] = ["emial"]
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ColumnNotFoundError, match="sensitive column `emial`"):
        wb.open_lake(lake_dir)


def test_wrong_dtype(lake_dir):
    m = _manifest(lake_dir)
    m["features"]["numeric"] = ["amount", "country"]
    m["features"]["categorical"] = ["device"]
    _write_manifest(lake_dir, m)
    with pytest.raises(E.ColumnTypeError) as ei:
        wb.open_lake(lake_dir)
    assert ei.value.column == "country" and "Found: String" in str(ei.value)
    assert isinstance(ei.value, TypeError)


def test_wrong_dtype_of_a_role(tmp_path):
    preds = predictions_frame().with_columns(pl.col("score").cast(pl.String))
    root = write_lake(tmp_path / "l", preds=preds, labels=False)
    with pytest.raises(E.ColumnTypeError, match="`score`"):
        wb.open_lake(root)


def _csv_lake(tmp_path, mutate):
    root = write_lake(tmp_path / "l", fmt="csv")
    path = root / "predictions" / "predictions.csv"
    lines = path.read_text().splitlines()
    mutate(lines)
    path.write_text("\n".join(lines) + "\n")
    return root


def test_unparsable_timestamp_names_line(tmp_path):
    def mutate(lines):
        lines[5] = lines[5].replace("2026-03-01T00:40:00Z", "yesterday noon")

    root = _csv_lake(tmp_path, mutate)
    with pytest.raises(E.TimestampError, match="cannot be parsed") as ei:
        wb.open_lake(root)
    assert ei.value.line == 6 and "predictions.csv" in ei.value.file


def test_tz_mixed_timestamps(tmp_path):
    def mutate(lines):
        lines[9] = lines[9].replace("2026-03-01T01:20:00Z", "2026-03-01T01:20:00")

    root = _csv_lake(tmp_path, mutate)
    with pytest.raises(E.TimestampError, match="mix zone-aware and naive") as ei:
        wb.open_lake(root)
    assert ei.value.line == 10


def test_unparsable_timestamp_beyond_the_sample_is_caught_by_validate(tmp_path):
    preds = predictions_frame(3000).with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    preds = preds.with_columns(pl.when(pl.int_range(pl.len()) == 2900).then(pl.lit("not a time"))
                               .otherwise(pl.col("timestamp")).alias("timestamp"))
    root = write_lake(tmp_path / "l", preds=predictions_frame(10), labels=False)
    shutil.rmtree(root / "predictions")
    (root / "predictions").mkdir()
    preds.drop("embedding").write_parquet(root / "predictions" / "a.parquet")
    lake = wb.open_lake(root)  # the sample (first rows) is clean
    with pytest.raises(E.TimestampError, match="1 prediction rows") as ei:
        lake.validate()
    assert ei.value.file.endswith("a.parquet")


def test_empty_predictions(tmp_path):
    root = write_lake(tmp_path / "l", preds=predictions_frame().head(0), labels=False)
    with pytest.raises(E.EmptyDataError, match="no prediction rows"):
        wb.open_lake(root)


def test_no_prediction_files(lake_dir):
    shutil.rmtree(lake_dir / "predictions")
    (lake_dir / "predictions").mkdir()
    (lake_dir / "predictions" / "README.txt").write_text("nothing here")
    with pytest.raises(E.DataFileNotFoundError, match="no predictions files") as ei:
        wb.open_lake(lake_dir)
    assert ".txt" in str(ei.value)


def test_mixed_formats(lake_dir):
    predictions_frame().head(3).drop("embedding").write_csv(lake_dir / "predictions" / "extra.csv")
    with pytest.raises(E.UnsupportedFormatError, match="mixes file formats"):
        wb.open_lake(lake_dir)


def test_corrupt_parquet_names_the_file(lake_dir):
    (lake_dir / "predictions" / "part-1.parquet").write_bytes(b"PAR1 this is not parquet at all")
    with pytest.raises(E.CorruptFileError) as ei:
        wb.open_lake(lake_dir)
    assert ei.value.file == "predictions/part-1.parquet"
    assert isinstance(ei.value, OSError)


def test_openlineage_line_not_json(lake_dir):
    path = lake_dir / "lineage" / "openlineage.ndjson"
    lines = path.read_text().splitlines()
    lines.insert(3, '{"eventType": "COMPLETE", "eventTime": ')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(E.OpenLineageError, match="not JSON") as ei:
        wb.open_lake(lake_dir)
    assert ei.value.line == 4 and ei.value.file.endswith("openlineage.ndjson")


def test_openlineage_event_without_run_id(lake_dir):
    path = lake_dir / "lineage" / "openlineage.ndjson"
    ev = {"eventType": "START", "eventTime": "2026-03-01T00:00:00Z", "run": {}, "job": {"name": "j"}}
    path.write_text(path.read_text() + json.dumps(ev) + "\n")
    n = len(path.read_text().splitlines())
    with pytest.raises(E.OpenLineageError, match="run.runId") as ei:
        wb.open_lake(lake_dir)
    assert ei.value.line == n


def test_labels_that_join_nothing(lake_dir):
    lab = pl.read_parquet(lake_dir / "labels" / "labels.parquet")
    lab.with_columns(pl.format("other-{}", "request_id").alias("request_id")).write_parquet(
        lake_dir / "labels" / "labels.parquet")
    lake = wb.open_lake(lake_dir)
    with pytest.raises(E.LabelJoinError, match="labels join no prediction") as ei:
        lake.validate()
    assert "0 matches" in str(ei.value)


def test_duplicate_request_ids_warn_with_count(tmp_path):
    preds = predictions_frame()
    preds = pl.concat([preds, preds.head(7)])
    root = write_lake(tmp_path / "l", preds=preds)
    lake = wb.open_lake(root)
    with pytest.warns(E.DuplicateRequestIdWarning, match="^7 prediction rows repeat"):
        prof = lake.validate()
    assert prof.duplicate_request_ids == 7


def test_deployments_missing_column(lake_dir):
    p = lake_dir / "lineage" / "deployments.csv"
    p.write_text(p.read_text().replace("traffic_pct", "share"))
    with pytest.raises(E.LineageError, match="column `traffic_pct` not found") as ei:
        wb.open_lake(lake_dir)
    assert ei.value.file == "lineage/deployments.csv"


def test_deployments_bad_route_names_line(lake_dir):
    p = lake_dir / "lineage" / "deployments.csv"
    p.write_text(p.read_text().replace(",canary,10,", ",blue,10,"))
    with pytest.raises(E.LineageError, match="unknown route") as ei:
        wb.open_lake(lake_dir)
    assert ei.value.line == 3 and "primary | canary | shadow" in str(ei.value)


def test_deployments_bad_time_and_share(lake_dir):
    p = lake_dir / "lineage" / "deployments.csv"
    original = p.read_text()
    p.write_text(original.replace("2026-03-01T20:00:00Z", "soon"))
    with pytest.raises(E.TimestampError) as ei:
        wb.open_lake(lake_dir)
    assert ei.value.line == 3
    p.write_text(original.replace(",canary,10,", ",canary,250,"))
    with pytest.raises(E.LineageError, match="traffic_pct"):
        wb.open_lake(lake_dir)


def test_explicit_lineage_path_missing(lake_dir):
    m = _manifest(lake_dir)
    m["lineage"] = {"dependencies": "lineage/deps.csv"}
    _write_manifest(lake_dir, m)
    with pytest.raises(E.DataFileNotFoundError, match="no lineage.dependencies files"):
        wb.open_lake(lake_dir)


def test_default_lineage_path_missing_is_fine(lake_dir):
    (lake_dir / "lineage" / "dependencies.csv").unlink()
    lake = wb.open_lake(lake_dir)
    assert lake.lineage.dependencies.height == 0


def test_role_collision(tmp_path):
    preds = predictions_frame().with_columns(pl.col("score").alias("proba"))
    root = write_lake(tmp_path / "l", preds=preds, manifest={"columns": {"score": "proba"}})
    with pytest.raises(E.ColumnCollisionError, match="would hide the column `score`"):
        wb.open_lake(root)


def test_unknown_request_id(lake_dir):
    lake = wb.open_lake(lake_dir)
    with pytest.raises(E.RequestNotFoundError) as ei:
        lake.lineage_of("req-99999")
    assert isinstance(ei.value, LookupError)


def test_every_error_has_the_house_shape():
    for name in E.__all__:
        cls = getattr(E, name)
        if issubclass(cls, E.WorkbenchError) and cls is not E.WorkbenchError:
            assert len(cls.__mro__) > 3, f"{name} must also subclass a builtin"
    e = E.ColumnNotFoundError("column `x` not found", file="p/", column="x", expected="a", found="b", hint="h")
    assert str(e) == "column `x` not found (file: p/, column: x)\n\nExpected: a\nFound: b\n\nHint: h"


def test_lineage_row_without_a_required_value(lake_dir):
    p = lake_dir / "lineage" / "features.csv"
    lines = p.read_text().splitlines()
    lines.insert(1, ",,0")
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(E.LineageError, match="has no `feature`") as ei:
        wb.open_lake(lake_dir)
    assert ei.value.line == 2
