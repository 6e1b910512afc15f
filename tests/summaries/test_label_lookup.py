"""The label lookup gives each request id the label the lake's join gives it (latest_labels), held
as codes into the distinct labels when they are few, as the labels themselves when they are many
(or when -0.0 sits next to 0.0), whatever the batch in which that becomes clear."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_series_equal

from workbench.lake.tables import latest_labels
from workbench.summaries import rowpass
from workbench.summaries.rowpass import LabelLookup

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def _labels(rng, kind: str, n_ids: int = 3_000) -> pl.DataFrame:
    ids = [f"req-{i:06d}" for i in range(n_ids)]
    again = rng.choice(n_ids, size=n_ids // 5, replace=False)  # relabelled ids, some at the same time
    rid = ids + [ids[i] for i in again]
    n = len(rid)
    when = [T0 + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 50, n)]
    if kind == "int":
        label = pl.Series(rng.integers(0, 2, n))
    elif kind == "str":
        label = pl.Series(rng.choice(["cat", "dog", "bird"], n))
    elif kind == "bool":
        label = pl.Series(rng.random(n) < 0.5)
    elif kind == "float_classes":
        label = pl.Series(rng.integers(0, 3, n).astype(float))
    elif kind == "float_many":  # regression labels: every value distinct
        label = pl.Series(rng.normal(size=n))
    elif kind == "float_negzero":  # -0.0 turns up late: the labels are kept as they are from then on
        x = rng.integers(0, 3, n).astype(float)
        x[-50:] = -0.0
        label = pl.Series(x)
    else:
        raise AssertionError(kind)
    df = pl.DataFrame({"request_id": rid, "label": label, "labeled_at": pl.Series(when, dtype=pl.Datetime("us", "UTC"))})
    # invalid and missing labels too
    df = df.with_columns(pl.when(pl.int_range(pl.len()) % 97 == 0).then(None).otherwise(pl.col("label")).alias("label"))
    if df["label"].dtype.is_float():
        df = df.with_columns(pl.when(pl.int_range(pl.len()) % 89 == 0).then(float("nan"))
                             .otherwise(pl.col("label")).alias("label"))
    return df


@pytest.mark.parametrize("kind", ["int", "str", "bool", "float_classes", "float_many", "float_negzero"])
@pytest.mark.parametrize("max_codes", [None, 3])  # 3: codes give up after the first batches
def test_labels_are_the_joins(kind, max_codes, tmp_path, monkeypatch):
    if max_codes:
        monkeypatch.setattr(rowpass, "_MAX_CODES", max_codes)
    rng = np.random.default_rng(len(kind))
    df = _labels(rng, kind)
    df.sample(fraction=1.0, shuffle=True, seed=3).write_parquet(tmp_path / "l.parquet", row_group_size=400)
    frame = pl.scan_parquet(tmp_path / "l.parquet")
    lookup = LabelLookup.from_labels(frame)
    held_as_codes = lookup.codes is not None
    assert held_as_codes == (kind != "float_negzero" and not max_codes)
    if held_as_codes:  # 1 byte an id for a few classes, 2 for up to 65,534 values
        assert lookup.codes.dtype == (np.uint16 if kind == "float_many" else np.uint8)
    # needles: every labelled id (shuffled), and ids never labelled
    want = latest_labels(frame).collect().select("request_id", "label")
    needles = pl.concat([want.get_column("request_id").sample(fraction=1.0, shuffle=True, seed=4),
                         pl.Series(["nope-1", "nope-2"])])
    got = lookup.attach(needles.hash().to_numpy())
    expected = (needles.to_frame("request_id").join(want, on="request_id", how="left", maintain_order="left")
                .get_column("label"))
    assert_series_equal(got, expected, check_names=False)
    if kind == "float_negzero":  # -0.0 kept apart from 0.0
        assert np.signbit(got.drop_nulls().to_numpy()[got.drop_nulls().to_numpy() == 0]).any()


def test_no_labels():
    frame = pl.LazyFrame(schema={"request_id": pl.String, "label": pl.Int64, "labeled_at": pl.Datetime("us", "UTC")})
    lookup = LabelLookup.from_labels(frame)
    got = lookup.attach(pl.Series(["a", "b"]).hash().to_numpy())
    assert got.to_list() == [None, None] and got.dtype == pl.Int64


def test_passes_share_one_read_of_the_labels(tmp_path, monkeypatch):
    """A lookup read once gives each pass what reading the labels again gives; triage reads them
    once for its main pass and its segment pass."""
    from workbench.lake import open_lake
    from workbench.rca import triage
    from workbench.rca.context import Context
    from workbench.summaries import fit_lake_binning, summarize
    from workbench.summaries.lake import label_lookup
    from workbench.synthetic import generate_lake

    generate_lake(tmp_path / "l", cause="none", seed=2, rows=6_000, days=7, n_numeric=2, n_categorical=1)
    lake = open_lake(tmp_path / "l", mask_key="k")
    assert lake.segments
    b = fit_lake_binning(lake)
    shared = label_lookup(lake)
    assert shared is not None
    for kw in ({"bucket": "1d"}, {"bucket": "1h", "segment": list(lake.segments)}):
        a, c = summarize(lake, b, **kw), summarize(lake, b, label_lookup=shared, **kw)
        assert a.table.equals(c.table) and a.confusion.equals(c.confusion) and a.latency.equals(c.latency)
    reads = []
    real = LabelLookup.from_labels.__func__
    monkeypatch.setattr(LabelLookup, "from_labels", classmethod(lambda cls, lf: reads.append(1) or real(cls, lf)))
    monkeypatch.setattr(Context, "_riding_segments", lambda self, lo, end: [])  # a segment pass of its own
    lo, hi = lake.time_range()
    mid = lo + (hi - lo) * 0.75
    ctx = Context(lake, start=mid, end=hi, baseline_start=lo, baseline_end=mid)
    assert ctx._by_segment is None and ctx._segments.table.height
    assert len(reads) == 1
    f = triage(lake, since=mid)  # a triage as a whole
    assert not f.meta["errors"] and len(reads) == 2
