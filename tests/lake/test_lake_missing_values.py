"""validate() and lake-info on NaN and infinities: per-column counts, a named error for invalid
score/latency/label rows, warnings for features mostly or entirely missing; and text deep in a
numeric CSV column named by file, line and column."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.exceptions import ColumnTypeError, InvalidValueError, LakeValidationWarning
from workbench.lake.info import lake_info
from workbench.summaries import fit_lake_binning
from handmade_lake import T0, labels_frame, predictions_frame, write_lake


def _with(preds: pl.DataFrame, col: str, idx, value) -> pl.DataFrame:
    x = preds[col].cast(pl.Float64).to_numpy().copy()
    x[list(idx)] = value
    return preds.with_columns(pl.Series(col, x))


@pytest.mark.parametrize(("col", "value", "k"), [("score", np.nan, 1), ("score", np.inf, 4),
                                                 ("latency_ms", np.nan, 7), ("latency_ms", -np.inf, 2)])
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_invalid_score_or_latency_is_a_named_error_with_the_count(tmp_path, col, value, k, fmt):
    preds = _with(predictions_frame(), col, range(100, 100 + k), value)
    lake = wb.open_lake(write_lake(tmp_path / "lake", fmt=fmt, preds=preds), mask_key="k")
    with pytest.raises(InvalidValueError) as err:
        lake.validate()
    e = err.value
    assert isinstance(e, ValueError) and e.column == col and e.file.startswith("predictions")
    assert f"{k} row" in str(e) and ("NaN" in e.found if np.isnan(value) else "±inf" in e.found)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof = lake.validate(strict=False)
        info = lake_info(lake).render()
    assert prof.invalid_counts == {col: k}
    assert (prof.nan_counts if np.isnan(value) else prof.inf_counts)[col] == k
    assert "Validation  ok" not in info and "error:" in info and col in info


def test_nan_labels_in_labels_are_invalid(tmp_path):
    preds = predictions_frame()
    root = write_lake(tmp_path / "lake", preds=preds)
    lab = labels_frame(preds).with_columns(pl.col("label").cast(pl.Float64))
    lab = lab.with_columns(pl.when(pl.int_range(pl.len()) < 5).then(float("nan")).otherwise(pl.col("label"))
                           .alias("label"))
    lab.write_parquet(root / "labels" / "labels.parquet")
    lake = wb.open_lake(root, mask_key="k")
    with pytest.raises(InvalidValueError) as err:
        lake.validate()
    assert err.value.column == "label" and "5 rows" in str(err.value) and err.value.file.startswith("labels")


def test_feature_nan_and_inf_counts_and_warnings(tmp_path):
    n = 288
    preds = _with(predictions_frame(), "amount", range(0, n, 3), np.nan)  # 96 NaN: 33 %
    preds = _with(preds, "amount", [1, 2], np.inf)
    preds = preds.with_columns(pl.lit(float("nan")).alias("account_age_days"))  # no value at all
    lake = wb.open_lake(write_lake(tmp_path / "lake", preds=preds), mask_key="k")
    with pytest.warns(LakeValidationWarning) as caught:
        prof = lake.validate()
    assert prof.nan_counts == {"amount": 96, "account_age_days": n} and prof.inf_counts == {"amount": 2}
    assert prof.invalid_counts == {}  # features: counted and warned, never an error
    texts = [str(w.message) for w in caught]
    assert any("`amount` is 34% missing or invalid" in t and "96 NaN" in t and "2 ±inf" in t for t in texts), texts
    assert any("`account_age_days` has no value" in t for t in texts), texts
    info = lake_info(lake).render()
    assert "Validation  ok" not in info and "amount (96 NaN, 2 ±inf)" in info


@pytest.mark.parametrize("share", [0.01, 0.2])
def test_a_few_nans_in_a_feature_are_counted_but_keep_the_lake_ok(tmp_path, share):
    preds = _with(predictions_frame(), "amount", range(0, int(288 * share)), np.nan)
    lake = wb.open_lake(write_lake(tmp_path / "lake", preds=preds), mask_key="k")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LakeValidationWarning)
        prof = lake.validate()
    assert prof.nan_counts == {"amount": int(288 * share)} and prof.warnings == ()
    assert "Validation  ok" in lake_info(lake).render()


@pytest.mark.parametrize(("column", "bad", "row"), [("amount", "n/a", 11_500), ("latency_ms", "12ms", 14_321),
                                                    ("score", "high", 10_400)])
def test_text_deep_in_a_numeric_csv_column_names_file_line_and_column(tmp_path, column, bad, row):
    preds = pl.concat([predictions_frame()] * 60).with_columns(
        (pl.lit("req-") + pl.int_range(pl.len()).cast(pl.String)).alias("request_id"))  # 17,280 rows
    root = write_lake(tmp_path / "lake", fmt="csv", preds=preds, labels=False)
    path = root / "predictions" / "predictions.csv"
    lines = path.read_text().splitlines()
    i = lines[0].split(",").index(column)
    fields = lines[row].split(",")
    fields[i] = bad
    lines[row] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    lake = wb.open_lake(root, mask_key="k")  # the first 10,000 rows say the column is a number
    calls = [lake.validate, lambda: wb.triage(lake, T0 + dt.timedelta(hours=30))]
    if column in lake.numeric_features:
        calls.append(lambda: fit_lake_binning(lake))
    for call in calls:
        with pytest.raises(ColumnTypeError) as err:
            call()
        e = err.value
        assert (e.file, e.line, e.column) == ("predictions/predictions.csv", row + 1, column), str(e)
        assert bad in e.found
