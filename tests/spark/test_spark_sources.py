"""Lakes whose predictions and labels only Spark reads: a catalog table (an external table saved
with saveAsTable under a temporary directory, and a temporary view) and a ``file://`` URI (real
object stores are out of reach in CI; Spark reads ``s3a://``/``gs://`` through the same call).
They triage as the same lake read from its files does; the polars engine refuses them by name."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid

import pytest
import yaml

from workbench.exceptions import DataFileNotFoundError, ManifestError, UsageError
from workbench.lake import open_lake
from workbench.lake.manifest import SparkSource, parse_manifest
from workbench.rca import triage
from workbench.synthetic import generate_lake

from same_findings import assert_same_findings


@pytest.fixture(scope="module")
def file_lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("sources") / "lake"
    truth = generate_lake(path, cause="data_drift", seed=61, rows=6_000, days=7, n_numeric=3, n_categorical=2)
    return path, truth


def _variant(src, dest, predictions, labels=None):
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("predictions", "labels"))
    m = yaml.safe_load((dest / "workbench.yaml").read_text())
    m["predictions"] = predictions
    if labels is not None:
        m["labels"] = labels
    (dest / "workbench.yaml").write_text(yaml.safe_dump(m))
    return dest


def test_manifest_forms():
    m = parse_manifest({"predictions": {"table": "analytics.preds"}, "labels": "s3a://bucket/labels/"})
    assert m.spark_sources == {"predictions": SparkSource("table", "analytics.preds"),
                               "labels": SparkSource("uri", "s3a://bucket/labels/", "parquet")}
    assert m.predictions == "table analytics.preds" and m.labels == "s3a://bucket/labels/"
    assert parse_manifest({"predictions": {"path": "gs://b/p/", "format": "csv"}}).spark_sources[
        "predictions"].format == "csv"
    assert parse_manifest({"predictions": "file:///data/p.ndjson"}).spark_sources["predictions"].format == "json"
    assert parse_manifest({"predictions": "predictions/"}).spark_sources == {}
    assert parse_manifest({"predictions": {"table": "db.p"}}).to_dict()["predictions"] == {"table": "db.p"}


@pytest.mark.parametrize("entry, match", [
    ({"table": "db.p", "path": "s3a://b/p"}, "exactly one"),
    ({}, "exactly one"),
    ({"table": "db.p", "format": "csv"}, "applies to a path"),
    ({"path": "s3a://b/p", "format": "xlsx"}, "unknown format"),
    ({"path": "local/dir"}, "must be a URI"),
    ({"table": "db. p"}, "not a table name"),
    ({"tabel": "db.p"}, "unknown key"),
])
def test_manifest_errors(entry, match):
    with pytest.raises(ManifestError, match=match):
        parse_manifest({"predictions": entry})


def test_lineage_stays_local():
    with pytest.raises(ManifestError, match="read from the lake directory"):
        parse_manifest({"lineage": {"deployments": "s3a://b/deployments.csv"}})


def test_polars_engine_refuses_a_table_or_uri_lake(file_lake, tmp_path):
    src, _ = file_lake
    for name, entry, kind in (("t", {"table": "db.preds"}, "a Spark table"),
                              ("u", f"file://{src}/predictions/", "an object-store URI")):
        lake = _variant(src, tmp_path / name, entry)
        with pytest.raises(UsageError, match=kind) as e:
            open_lake(lake, mask_key="k")
        assert "engine='spark'" in str(e.value)


def test_missing_table_and_path_are_named_errors(file_lake, tmp_path, spark):
    src, _ = file_lake
    lake = _variant(src, tmp_path / "t", {"table": "default.no_such_table_here"})
    with pytest.raises(DataFileNotFoundError, match="table default.no_such_table_here does not exist"):
        open_lake(lake, mask_key="k", engine="spark", spark=spark)
    lake = _variant(src, tmp_path / "u", f"file://{tmp_path}/nowhere/")
    with pytest.raises(DataFileNotFoundError, match="does not exist"):
        open_lake(lake, mask_key="k", engine="spark", spark=spark)


def test_missing_column_in_a_table_is_the_same_error(file_lake, tmp_path, spark):
    from workbench.exceptions import ColumnNotFoundError

    src, _ = file_lake
    view = f"wb_{uuid.uuid4().hex[:8]}"
    spark.read.parquet(str(src / "predictions")).drop("model_version").createOrReplaceTempView(view)
    lake = _variant(src, tmp_path / "t", {"table": view})
    with pytest.raises(ColumnNotFoundError, match="model_version"):
        open_lake(lake, mask_key="k", engine="spark", spark=spark)


def _same(fs, fp):
    assert fp.top is not None  # a lake with an incident: its culprit and onset are compared
    assert_same_findings(fs, fp)


def test_table_and_uri_lakes_triage_like_the_file_lake(file_lake, tmp_path, spark):
    src, truth = file_lake
    since = truth.onset - dt.timedelta(hours=12)
    fp = triage(open_lake(src, mask_key="k"), since=since)
    # an external catalog table (saveAsTable with its data under tmp_path) and a temporary view
    name = f"default.wb_preds_{uuid.uuid4().hex[:8]}"
    (spark.read.parquet(str(src / "predictions")).write.option("path", str(tmp_path / "warehouse" / "preds"))
     .saveAsTable(name))
    view = f"wb_labels_{uuid.uuid4().hex[:8]}"
    spark.read.parquet(str(src / "labels")).createOrReplaceTempView(view)
    try:
        table_lake = open_lake(_variant(src, tmp_path / "t", {"table": name}, {"table": view}), mask_key="k",
                               engine="spark", spark=spark)
        assert table_lake.time_range() == open_lake(src, mask_key="k").time_range()
        _same(triage(table_lake, since=since), fp)
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {name}")
    uri_lake = open_lake(_variant(src, tmp_path / "u", f"file://{src}/predictions/", f"file://{src}/labels/"),
                         mask_key="k", engine="spark", spark=spark)
    assert uri_lake.files() == [f for f in uri_lake.files() if f["table"].startswith("lineage")]
    _same(triage(uri_lake, since=since), fp)


def test_sensitive_columns_of_a_table_are_masked_as_in_the_file_lake(file_lake, tmp_path, spark):
    src, _ = file_lake
    file_lake_ = open_lake(src, mask_key="k")
    col = file_lake_.sensitive[0]
    uri_lake = open_lake(_variant(src, tmp_path / "u", f"file://{src}/predictions/", f"file://{src}/labels/"),
                         mask_key="k",
                         engine="spark", spark=spark)
    want = set(file_lake_.predictions(["request_id", col]).collect().rows())
    got = uri_lake.spark_lake.predictions(["request_id", col]).collect()
    assert {tuple(r) for r in got} == want and all(str(v).startswith("anon:") for _, v in want if v is not None)


def test_rows_without_a_timestamp_are_counted_by_spark(file_lake, tmp_path, spark):
    """``read_notes`` counts rows without a timestamp where the rows are: the file lake's note on
    both engines, and the same count from a table."""
    import polars as pl

    src, _ = file_lake
    lake = tmp_path / "nulls"
    shutil.copytree(src, lake)
    first = sorted((lake / "predictions").rglob("*.parquet"))[1]
    df = pl.read_parquet(first)
    df.with_columns(pl.when(pl.int_range(pl.len()) % 7 == 0).then(None).otherwise(pl.col("timestamp"))
                    .alias("timestamp")).write_parquet(first)
    n = (df.height + 6) // 7
    want = open_lake(lake, mask_key="k").read_notes()
    assert any(f"{n:,} prediction rows have a missing" in t and first.parent.name in t for t in want), want
    assert open_lake(lake, mask_key="k", engine="spark", spark=spark).read_notes() == want
    view = f"wb_{uuid.uuid4().hex[:8]}"
    spark.read.parquet(str(lake / "predictions")).createOrReplaceTempView(view)
    table_lake = _variant(lake, tmp_path / "t", {"table": view})
    shutil.copytree(lake / "labels", table_lake / "labels")
    notes = open_lake(table_lake, mask_key="k", engine="spark", spark=spark).read_notes()
    assert any(f"{n:,} prediction rows have a missing" in t and view in t for t in notes), notes
