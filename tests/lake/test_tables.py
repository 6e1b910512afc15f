"""lake/tables.py: what load_labels names when a column is missing; the count frame of load_predictions."""

from __future__ import annotations

import polars as pl
import pytest

import workbench as wb
from workbench import exceptions as E


@pytest.mark.parametrize(("written", "missing", "suggested"), [
    ("lable", "label", "lable"),           # a typo: the close name is suggested
    ("key", "request_id", None),           # nothing close: the hint alone
    ("request", "request_id", "request"),
    ("outcome", "label", None),            # `labeled_at` serves its own role: never suggested for `label`
])
def test_labels_missing_a_column_names_it_with_a_hint(lake_dir, written, missing, suggested):
    path = lake_dir / "labels" / "labels.parquet"
    pl.read_parquet(path).rename({missing: written}).write_parquet(path)
    with pytest.raises(E.ColumnNotFoundError) as ei:
        wb.open_lake(lake_dir)
    text = str(ei.value)
    assert f"column `{missing}` not found in labels" in text
    assert f"(role `{missing}`)" in text
    assert "labels need request_id, label, labeled_at." in text
    assert ("did you mean" in text) == (suggested is not None)
    if suggested:
        assert f"did you mean `{suggested}`?" in text
    assert "did you mean `labeled_at`" not in text
    assert isinstance(ei.value, ValueError)


def test_count_frame_unmasks_sensitive_columns_under_their_canonical_names(tmp_path):
    # request_id written as `rid` and declared sensitive, score written as `proba`: the frame masks
    # ids and emails; the count frame (counts only) holds the written values under the same names
    from handmade_lake import RAW_EMAILS, predictions_frame, write_lake

    preds = predictions_frame(97).rename({"request_id": "rid", "score": "proba"})
    root = write_lake(tmp_path / "lake", preds=preds, labels=False,
                      manifest={"columns": {"request_id": "rid", "score": "proba"},
                                "sensitive": ["email", "rid", "phone"]})
    table = wb.open_lake(root)._preds
    frame, counted = table.frame.collect(), table.count_frame.collect()
    assert counted.columns == frame.columns
    assert {"request_id", "score"} <= set(frame.columns) and not {"rid", "proba"} & set(frame.columns)
    assert table.sensitive == ("email", "request_id", "phone")
    assert counted["request_id"].to_list() == preds["rid"].to_list()
    assert set(counted["email"]) == set(RAW_EMAILS)
    assert not set(frame["email"]) & set(RAW_EMAILS)
    assert not set(frame["request_id"]) & set(preds["rid"])
    assert frame["request_id"].n_unique() == counted["request_id"].n_unique() == 97
    assert table.other == ("client_tag",)  # `rid` is sensitive, not "other"
    unmasked = [c for c in frame.columns if c not in ("request_id", "email", "phone")]
    assert counted.select(unmasked).equals(frame.select(unmasked))
