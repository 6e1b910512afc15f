"""A request labelled more than once keeps its latest label (by ``labeled_at``), whatever the
file names, file order or row order; ties follow a documented order, not the scan."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import workbench as wb
from handmade_lake import predictions_frame, write_lake


def _labels_of(lake, ids) -> dict[str, object]:
    df = (lake.predictions(["request_id", "label", "labeled_at"], with_labels=True)
          .filter(pl.col("request_id").is_in(list(ids))).collect())
    assert df.height == len(ids), "the join must not repeat a prediction row"
    return dict(zip(df["request_id"], df["label"]))


def _write(root, name: str, df: pl.DataFrame, fmt: str) -> None:
    if fmt == "parquet":
        df.write_parquet(root / "labels" / f"{name}.parquet")
    else:
        df.with_columns(pl.col("labeled_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(
            root / "labels" / f"{name}.csv")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize(("old_name", "new_name"), [("zz-first-batch", "aa-relabel"), ("b-old", "a-new"),
                                                    ("a-new", "b-newer")])
def test_latest_labeled_at_wins_across_files_whatever_their_names(tmp_path, fmt, old_name, new_name):
    preds = predictions_frame()
    root = write_lake(tmp_path / "lake", fmt=fmt, preds=preds, labels=False)
    (root / "labels").mkdir()
    ids = preds["request_id"][:40].to_list()
    t_old = dt.datetime(2026, 3, 3, tzinfo=dt.timezone.utc)
    t_new = t_old + dt.timedelta(hours=7, minutes=13)
    old = pl.DataFrame({"request_id": ids, "label": [i % 2 for i in range(40)],
                        "labeled_at": [t_old] * 40})
    new = pl.DataFrame({"request_id": ids[:25], "label": [1 - i % 2 for i in range(25)],
                        "labeled_at": [t_new] * 25})
    _write(root, old_name, old, fmt)
    _write(root, new_name, new, fmt)
    lake = wb.open_lake(root, mask_key="k")
    got = _labels_of(lake, ids)
    want = {r: 1 - i % 2 if i < 25 else i % 2 for i, r in enumerate(ids)}
    assert got == want
    # lake.labels() still lists every label row written
    assert lake.labels().collect().height == 65


def test_duplicates_within_one_file_resolve_by_labeled_at_not_row_order(tmp_path):
    preds = predictions_frame()
    root = write_lake(tmp_path / "lake", preds=preds, labels=False)
    (root / "labels").mkdir()
    ids = preds["request_id"][5:11].to_list()
    base = dt.datetime(2026, 3, 4, 12, tzinfo=dt.timezone.utc)
    rows = []
    for i, r in enumerate(ids):
        # three labels per id, the latest written first, in the middle, or last
        times = [base + dt.timedelta(minutes=m) for m in (30, 5, 90)]
        labels = [0, 1, 2]
        k = i % 3
        times[k], times[2] = times[2], times[k]
        labels[k], labels[2] = labels[2], labels[k]
        rows += [{"request_id": r, "label": lab, "labeled_at": t} for lab, t in zip(labels, times)]
    pl.DataFrame(rows).write_parquet(root / "labels" / "labels.parquet")
    got = _labels_of(wb.open_lake(root, mask_key="k"), ids)
    assert got == dict.fromkeys(ids, 2)


def test_ties_and_missing_times_follow_the_documented_order(tmp_path):
    preds = predictions_frame()
    root = write_lake(tmp_path / "lake", preds=preds, labels=False)
    (root / "labels").mkdir()
    a, b, c, d = preds["request_id"][20:24].to_list()
    t = dt.datetime(2026, 3, 5, 8, tzinfo=dt.timezone.utc)
    first = pl.DataFrame({"request_id": [a, b, c, d], "label": [1.0, 0.0, None, 0.0],
                          "labeled_at": [t, t, t, None]},
                         schema={"request_id": pl.String, "label": pl.Float64,
                                 "labeled_at": pl.Datetime("us", "UTC")})
    second = pl.DataFrame({"request_id": [a, b, c, d], "label": [0.0, float("nan"), 0.0, 1.0],
                           "labeled_at": [t, t, t, t - dt.timedelta(days=30)]},
                          schema=first.schema)
    # the same rows in two orders of files: the answer must not change
    for names in (("x1", "x2"), ("x2", "x1")):
        for p in (root / "labels").glob("*.parquet"):
            p.unlink()
        first.write_parquet(root / "labels" / f"{names[0]}.parquet")
        second.write_parquet(root / "labels" / f"{names[1]}.parquet")
        got = _labels_of(wb.open_lake(root, mask_key="k"), [a, b, c, d])
        # a: tie -> greatest label; b: tie -> valid over NaN; c: tie -> valid over null;
        # d: a missing labeled_at is older than any time
        assert got == {a: 1.0, b: 0.0, c: 0.0, d: 1.0}


def test_profile_counts_a_relabelled_prediction_once_with_its_latest_lag(tmp_path):
    preds = predictions_frame()
    root = write_lake(tmp_path / "lake", preds=preds, labels=False)
    (root / "labels").mkdir()
    ids, ts = preds["request_id"][:30].to_list(), preds["timestamp"][:30].to_list()
    utc = [t.replace(tzinfo=dt.timezone.utc) for t in ts]
    first = pl.DataFrame({"request_id": ids, "label": [0] * 30, "labeled_at": [t + dt.timedelta(hours=2) for t in utc]})
    again = pl.DataFrame({"request_id": ids[:12], "label": [1] * 12,
                          "labeled_at": [t + dt.timedelta(hours=50) for t in utc[:12]]})
    first.write_parquet(root / "labels" / "b.parquet")
    again.write_parquet(root / "labels" / "a.parquet")
    p = wb.open_lake(root, mask_key="k").profile()
    assert p.label_rows == 42 and p.orphan_labels == 0
    assert p.labeled_predictions == 30
    assert p.label_lag_hours_median == pytest.approx(2.0)  # 18 of 30 latest labels came after 2 h
