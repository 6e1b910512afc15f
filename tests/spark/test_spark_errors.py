"""The Spark engine's named errors: the same as polars' for a missing column, a corrupt file and
bad timestamps; a clear one for a missing pyspark and an unknown engine or master."""

from __future__ import annotations

import builtins

import polars as pl
import pytest

from workbench.exceptions import (
    ColumnNotFoundError,
    CorruptFileError,
    SparkNotInstalledError,
    TimestampError,
    UsageError,
    WorkbenchError,
)
from workbench.lake import open_lake
from workbench.summaries import fit_lake_binning, summarize
from workbench.synthetic import generate_lake


def test_without_pyspark_a_named_error_says_which_extra(monkeypatch, lake_dir):
    real = builtins.__import__

    def no_pyspark(name, *a, **k):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError("No module named 'pyspark'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    with pytest.raises(SparkNotInstalledError) as e:
        open_lake(lake_dir, engine="spark")
    assert "ml-incident-workbench[spark]" in str(e.value) and isinstance(e.value, ImportError)


def test_unknown_engine_and_master(lake_dir, spark):
    with pytest.raises(UsageError, match="unknown engine"):
        open_lake(lake_dir, engine="duckdb")
    with pytest.raises(UsageError, match="master URL"):
        open_lake(lake_dir, engine="spark", spark="http://nowhere")


def _csv_lake(tmp_path):
    path = tmp_path / "lake"
    generate_lake(path, cause="none", seed=5, rows=3_000, days=7, n_numeric=2, n_categorical=1, fmt="csv")
    return path


def _edit_csv(path, edit, *, every: bool = False):
    files = sorted((path / "predictions").rglob("*.csv"))
    for f in files if every else files[-1:]:
        df = pl.read_csv(f, infer_schema=False)
        edit(df).write_csv(f)
    return files[-1]


def test_missing_column_is_the_same_error(tmp_path, spark):
    path = _csv_lake(tmp_path)
    feature = open_lake(path).numeric_features[0]
    _edit_csv(path, lambda df: df.drop(feature), every=True)
    errs = []
    for kw in ({}, {"engine": "spark", "spark": spark}):
        with pytest.raises(ColumnNotFoundError) as e:
            open_lake(path, **kw)
        errs.append((e.value.file, e.value.column))
    assert errs[0] == errs[1] and errs[0][1] == feature


def test_a_corrupt_file_is_the_same_error(tmp_path, spark):
    """A Parquet file whose footer reads but whose data does not: found while the summary pass
    reads rows (by polars or by Spark), and named."""
    path = tmp_path / "lake"
    generate_lake(path, cause="none", seed=5, rows=3_000, days=7, n_numeric=2, n_categorical=1)
    f = sorted((path / "predictions").rglob("*.parquet"))[-1]
    data = bytearray(f.read_bytes())
    data[100:len(data) // 2] = bytes((i * 7919) % 251 for i in range(len(data) // 2 - 100))
    f.write_bytes(bytes(data))
    got = []
    for kw in ({}, {"engine": "spark", "spark": spark}):
        lake = open_lake(path, **kw)
        with pytest.raises(CorruptFileError) as e:
            summarize(lake, fit_lake_binning(lake))
        got.append((e.value.file, e.value.line, e.value.column))
    assert got[0] == got[1] and got[0][0].endswith(f.name), got


def test_a_value_that_breaks_its_type_is_the_same_error(tmp_path, spark):
    path = _csv_lake(tmp_path)
    feature = open_lake(path).numeric_features[0]
    _edit_csv(path, lambda df: df.with_columns(
        pl.when(pl.int_range(pl.len()) == pl.len() - 1).then(pl.lit("oops")).otherwise(pl.col(feature))
        .alias(feature)))
    got = []
    for kw in ({}, {"engine": "spark", "spark": spark}):
        with pytest.raises(WorkbenchError) as e:
            open_lake(path, **kw)
        got.append((type(e.value), e.value.file, e.value.line, e.value.column))
    assert got[0] == got[1] and got[0][3] == feature, got
    assert "oops" not in str(got)


def test_bad_timestamps_are_the_same_error(tmp_path, spark):
    path = _csv_lake(tmp_path)
    _edit_csv(path, lambda df: df.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("not a time")).otherwise(pl.col("timestamp"))
        .alias("timestamp")))
    got = []
    for kw in ({}, {"engine": "spark", "spark": spark}):
        with pytest.raises(TimestampError) as e:
            open_lake(path, **kw)
        got.append((e.value.file, e.value.line, e.value.column))
    assert got[0] == got[1]


def test_repeated_request_ids_are_counted_the_same(tmp_path, spark):
    from workbench.evidence.slis import duplicate_rows
    from workbench.spark.evidence import duplicate_rows_spark

    path = _csv_lake(tmp_path)
    _edit_csv(path, lambda df: pl.concat([df, df.head(40)]))
    lp, ls = open_lake(path), open_lake(path, engine="spark", spark=spark)
    want = duplicate_rows(lp.predictions(["request_id", "timestamp", "route"]))
    got = duplicate_rows_spark(ls)
    assert want["dup"].sum() == 40
    assert got.equals(want)


def test_cli_spark_options_are_checked(lake_dir, capsys, spark):
    from workbench.cli import main

    assert main(["triage", str(lake_dir), "--since", "2026-03-10", "--spark-master", "local[2]"]) == 2
    assert "--spark-master needs --engine spark" in capsys.readouterr().err
    assert main(["triage", str(lake_dir), "--since", "2026-03-10", "--engine", "spark",
                 "--spark-master", "http://nowhere", "--quiet"]) == 2
    assert "unknown Spark master URL" in capsys.readouterr().err
