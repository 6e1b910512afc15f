"""Every file format of the contract loads to the same normalised, lazy frame."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import polars as pl
import pytest
import yaml

import workbench as wb
from handmade_lake import predictions_frame, write_lake

FORMATS = [("parquet", False), ("parquet", True), ("csv", False), ("ndjson", False)]


@pytest.mark.parametrize(("fmt", "hive"), FORMATS)
def test_every_format_loads_the_same_rows(tmp_path, fmt, hive):
    root = write_lake(tmp_path / "l", fmt=fmt, hive=hive)
    lake = wb.open_lake(root)
    df = lake.predictions().sort("request_id").collect()
    ref = predictions_frame().sort("request_id")
    assert df.height == ref.height
    assert df["timestamp"].dtype == pl.Datetime("us", "UTC")
    # tz-naive parquet values are read as UTC; text values with Z are UTC
    assert df["timestamp"].to_list() == ref["timestamp"].dt.replace_time_zone("UTC").to_list()
    assert df["request_id"].to_list() == ref["request_id"].to_list()
    assert df["amount"].to_list() == pytest.approx(ref["amount"].to_list())
    assert df["fallback"].to_list() == ref["is_fallback"].to_list()
    assert df["embedding"].dtype == pl.List(pl.Float32)
    assert df["embedding"].to_list()[:3] == [[0.0, 0.5, -1.0], [1.0, 0.5, -1.0], [2.0, 0.5, -1.0]]
    assert set(lake.roles) >= {"request_id", "timestamp", "model_version", "route", "score", "fallback"}
    assert lake.other_columns[:1] == ("client_tag",)
    if hive:
        assert "date" in lake.other_columns and df["date"].dtype == pl.Date


@pytest.mark.parametrize(("fmt", "hive"), FORMATS)
def test_labels_join_on_request_id(tmp_path, fmt, hive):
    lake = wb.open_lake(write_lake(tmp_path / "l", fmt=fmt, hive=hive))
    df = lake.predictions(["request_id", "timestamp", "label", "labeled_at"], with_labels=True).collect()
    assert df.height == 288
    labelled = df.filter(pl.col("label").is_not_null())
    assert labelled.height == 144
    assert (labelled["labeled_at"] - labelled["timestamp"]).unique().to_list() == [dt.timedelta(days=1)]
    assert lake.labels().collect().columns == ["request_id", "label", "labeled_at"]


def test_predictions_stay_lazy(lake_dir, monkeypatch):
    from workbench.lake import masking

    calls = []  # the columns whose batches were masked
    original = masking._ColumnMasks.__call__
    monkeypatch.setattr(masking._ColumnMasks, "__call__", lambda self, s: calls.append(s.name) or original(self, s))
    lake = wb.open_lake(lake_dir)
    lf = lake.predictions()
    assert isinstance(lf, pl.LazyFrame)
    assert isinstance(lake.predictions(with_labels=True), pl.LazyFrame)
    assert isinstance(lake.labels(), pl.LazyFrame)
    assert calls == []  # opening read no sensitive value
    lake.predictions(["amount"]).collect()
    assert calls == []  # projection pushdown: unselected columns are never read or masked
    lake.predictions(["email"]).collect()
    assert set(calls) == {"email"}


def test_globs_and_explicit_files(tmp_path):
    root = write_lake(tmp_path / "l", manifest={"predictions": "predictions/part-*.parquet"})
    assert wb.open_lake(root).profile().rows == 288
    m = yaml.safe_load((root / "workbench.yaml").read_text())
    m["predictions"] = "predictions/part-1.parquet"
    (root / "workbench.yaml").write_text(yaml.safe_dump(m))
    assert wb.open_lake(root).profile().rows == 144


def test_role_mapping_and_defaults(tmp_path):
    preds = predictions_frame().rename({"score": "proba", "latency_ms": "lat", "model_version": "mv"})
    root = write_lake(tmp_path / "l", preds=preds, labels=False,
                      manifest={"columns": {"score": "proba", "latency_ms": "lat", "model_version": "mv"}})
    lake = wb.open_lake(root)
    df = lake.predictions(["score", "latency_ms", "model_version"]).collect()
    assert df.columns == ["score", "latency_ms", "model_version"]
    assert df["score"].to_list() == preds["proba"].to_list()
    assert lake.manifest.slo.fallback_rate == 0.01 and lake.manifest.slo.latency_p95_ms == 250


def test_route_defaults_to_primary_when_absent(tmp_path):
    root = write_lake(tmp_path / "l", preds=predictions_frame().drop("route"), labels=False)
    assert wb.open_lake(root).predictions(["route"]).collect()["route"].unique().to_list() == ["primary"]


def test_timezones_are_converted_to_utc(tmp_path):
    preds = predictions_frame().with_columns(
        pl.col("timestamp").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Berlin"))
    root = write_lake(tmp_path / "l", preds=preds, labels=False)
    ts = wb.open_lake(root).predictions(["timestamp"]).collect()["timestamp"]
    assert ts.dtype == pl.Datetime("us", "UTC")
    assert ts[0] == dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def test_epoch_and_offset_text_timestamps(tmp_path):
    preds = predictions_frame(20).with_columns(
        (pl.col("timestamp").dt.epoch("s")).alias("timestamp")).drop("embedding")
    root = write_lake(tmp_path / "l", preds=predictions_frame(20), fmt="csv", labels=False)
    preds.write_csv(root / "predictions" / "predictions.csv")
    ts = wb.open_lake(root).predictions(["timestamp"]).collect()["timestamp"]
    assert ts[0] == dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    text = predictions_frame(20).with_columns(
        pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%S+01:00")).drop("embedding")
    text.write_csv(root / "predictions" / "predictions.csv")
    ts = wb.open_lake(root).predictions(["timestamp"]).collect()["timestamp"]
    assert ts[0] == dt.datetime(2026, 2, 28, 23, tzinfo=dt.timezone.utc)


def test_codes_and_versions_stay_text_in_csv(tmp_path):
    preds = predictions_frame(30).with_columns(
        pl.lit("1.10").alias("model_version"), pl.lit("05").alias("country"))
    root = write_lake(tmp_path / "l", preds=preds, fmt="csv", labels=False)
    df = wb.open_lake(root).predictions(["model_version", "country"]).collect()
    assert df["model_version"][0] == "1.10" and df["country"][0] == "05"


def test_inline_labels(tmp_path):
    preds = predictions_frame().with_columns((pl.col("score") > 0.5).cast(pl.Int64).alias("label"))
    root = write_lake(tmp_path / "l", preds=preds, labels=False)
    lake = wb.open_lake(root)
    assert lake.has_labels
    assert lake.predictions(["label"], with_labels=True).collect()["label"].sum() == preds["label"].sum()


def test_schema_drift_across_files_is_combined(tmp_path):
    root = write_lake(tmp_path / "l", labels=False)
    p = root / "predictions" / "part-1.parquet"
    pl.read_parquet(p).with_columns(pl.lit("x").alias("new_col")).write_parquet(p)
    df = wb.open_lake(root).predictions(["request_id", "new_col"]).collect()
    assert df.height == 288 and df["new_col"].null_count() == 144


def _snapshot(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        out[dirpath] = sorted(dirnames + filenames)
        for f in filenames:
            p = os.path.join(dirpath, f)
            st = os.stat(p)
            out[p] = (st.st_size, st.st_mtime_ns, hashlib.sha256(open(p, "rb").read()).hexdigest())
    return out


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_lake_is_never_written(tmp_path, fmt):
    root = write_lake(tmp_path / "l", fmt=fmt)
    before = _snapshot(root)
    lake = wb.open_lake(root)
    lake.validate()
    lake.predictions(with_labels=True).collect()
    lake.timeline()
    lake.lineage_of("req-00010")
    from workbench.lake.info import lake_info

    lake_info(root).render()
    assert _snapshot(root) == before


def test_an_all_empty_numeric_column_in_one_csv_file_is_numeric(tmp_path):
    # after an upstream rename a day's file can hold no value of a feature at all
    root = write_lake(tmp_path / "l", fmt="csv", labels=False)
    text = predictions_frame().with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).drop("embedding")
    (root / "predictions" / "predictions.csv").unlink()
    text.head(144).write_csv(root / "predictions" / "a.csv")
    text.tail(144).with_columns(pl.lit(None, dtype=pl.Float64).alias("amount")).write_csv(root / "predictions" / "b.csv")
    df = wb.open_lake(root).predictions(["amount"]).collect()
    assert df["amount"].dtype == pl.Float64 and df["amount"].null_count() == 144
    # a column with real text in it is still a type error
    text.tail(144).with_columns(pl.lit("n/a").alias("amount")).write_csv(root / "predictions" / "b.csv")
    from workbench.exceptions import ColumnTypeError

    with pytest.raises(ColumnTypeError, match="amount"):
        wb.open_lake(root)
