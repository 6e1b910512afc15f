"""Masking is native and cached, and its values are exactly the ones the Python ``hmac`` gives."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import polars as pl
import pytest

from workbench.lake import masking
from workbench.lake.masking import MASK_PREFIX, Masker

KEY = b"k\xc3\xa9y-for-tests"  # UTF-8 text with a non-ASCII letter

TEXTS = ["alice@example.org", "", " ", "é", "名前@例え.jp", "🙂🙃", "a\x00b", "tab\tnew\nline",
         "x" * 55, "y" * 56, "z" * 64, "w" * 1000, "ü" * 300, "'\"\\", "NULL", "None"]


def _reference(key: bytes, s: pl.Series) -> list[str | None]:
    """The masks as the Python-UDF implementation made them: polars' text form (sorted-key JSON
    for nested values), HMAC-SHA256 with the standard library, ``anon:`` + 20 hex digits."""
    if s.dtype.is_nested():
        texts = [None if v is None else json.dumps(v, default=str, sort_keys=True) for v in s.to_list()]
    else:
        texts = (s if s.dtype == pl.String else s.cast(pl.String, strict=False)).to_list()
    return [None if t is None else MASK_PREFIX + hmac.new(key, t.encode("utf-8"), hashlib.sha256).hexdigest()[:20]
            for t in texts]


SERIES = [
    pl.Series("text", TEXTS + [None, "alice@example.org", None]),
    pl.Series("ints", [411111, 411111, -5, 0, None, 2**62]),
    pl.Series("floats", [1.5, -0.0, 1e20, 3.0, None, float("nan")]),
    pl.Series("bools", [True, False, None]),
    pl.Series("dates", [dt.date(2024, 1, 31), None, dt.date(1999, 12, 1)]),
    pl.Series("stamps", [dt.datetime(2024, 1, 31, 12, 30, 1, 5), None]),
    pl.Series("tags", [["a@b.c", "é"], ["a@b.c", "é"], None, []]),
    pl.Series("struct", [{"id": 1, "mail": "a@b.c"}, {"id": 2, "mail": None}, None]),
    pl.Series("empty", [], dtype=pl.String),
    pl.Series("nulls", [None, None], dtype=pl.String),
]


@pytest.fixture(params=["native", "python"])
def path(request, monkeypatch):
    if request.param == "native":
        if masking._native_hmac() is None:
            pytest.fail("the polars-hash plugin is a dependency: it must load and agree with hmac")
    else:
        monkeypatch.setattr(masking, "_native_key", lambda key: None)
    return request.param


@pytest.mark.parametrize("s", SERIES, ids=[s.name for s in SERIES])
def test_masks_equal_the_standard_library(path, s):
    m = Masker(KEY)
    assert (m._native is not None) == (path == "native")
    assert m.mask_series(s).to_list() == _reference(KEY, s)
    lazy = pl.LazyFrame({s.name: s}).select(m.expr(s.name)).collect(engine="streaming")[s.name]
    assert lazy.dtype == pl.String and lazy.to_list() == _reference(KEY, s)


def test_mask_value_agrees_with_the_series_path(path):
    m = Masker(KEY)
    assert m.mask_series(pl.Series(TEXTS)).to_list() == [m.mask_value(t) for t in TEXTS]


@pytest.mark.parametrize("key", [b"", b"\xff\xfe not utf-8", b"K" * 64, b"L" * 65, "ключ".encode()])
def test_any_key_gives_the_standard_library_masks(key):
    """Empty, non-UTF-8 (the Python way), block-sized and longer-than-a-block (hashed) keys."""
    m = Masker(key)
    s = pl.Series("v", TEXTS)
    assert m.mask_series(s).to_list() == _reference(key, s)


def _batches_file(tmp_path, values: list[str | None], rows_per_group: int):
    path = tmp_path / "col.parquet"
    pl.DataFrame({"v": values}).write_parquet(path, row_group_size=rows_per_group)
    return path


def _customers(n: int) -> list[str | None]:
    people = [f"person{i}@example.org" for i in range(300)] + [None]
    # old customers in every batch of 2,000, a new one now and then
    return [people[(i * 7919) % len(people)] if i % 50 else f"new{i // 4_000}@example.org" for i in range(n)]


def _pack(s: pl.Series) -> pl.Series:
    """A batch as a masked column's plan hands it over."""
    return pl.DataFrame({"v": s}).select(masking._packed(pl.col("v"))).to_series()


def test_each_distinct_value_is_hashed_once(monkeypatch):
    values = _customers(60_000)
    m = Masker(KEY)
    hashed = []
    real = Masker._hash
    monkeypatch.setattr(Masker, "_hash", lambda self, text: hashed.append(len(text)) or real(self, text))
    fn = masking._ColumnMasks(m)
    out = [fn(_pack(pl.Series("v", values[i:i + 2_000]))) for i in range(0, len(values), 2_000)]
    assert pl.concat(out).to_list() == _reference(KEY, pl.Series(values))
    assert sum(hashed) == 300 + 15 and len(hashed) == 15  # the new ones, in the batch they appear
    assert not fn._by_row


def test_streaming_scan_masks_every_batch_and_remembers_across_scans(tmp_path, monkeypatch):
    values = _customers(60_000)
    path = _batches_file(tmp_path, values, rows_per_group=2_000)
    m = Masker(KEY)
    hashed = []
    real = Masker._hash
    monkeypatch.setattr(Masker, "_hash", lambda self, text: hashed.append(len(text)) or real(self, text))
    lf = pl.scan_parquet(path).select(m.expr("v"))
    out = lf.collect(engine="streaming")["v"]
    assert out.to_list() == _reference(KEY, pl.Series(values))
    assert len(hashed) > 1  # batch by batch
    first = sum(hashed)
    again = lf.collect(engine="streaming")["v"]  # a second scan of the same plan: all remembered
    assert again.equals(out) and sum(hashed) == first


def test_cache_starting_afresh_keeps_masks_right(tmp_path, monkeypatch):
    monkeypatch.setattr(masking, "_CACHE_LIMIT", 50)
    values = [f"v{(i * 31) % 400}" for i in range(20_000)]
    path = _batches_file(tmp_path, values, rows_per_group=1_000)
    m = Masker(KEY)
    out = pl.scan_parquet(path).select(m.expr("v")).collect(engine="streaming")["v"]
    assert out.to_list() == _reference(KEY, pl.Series(values))


def test_an_id_column_is_hashed_row_by_row():
    m = Masker(KEY)
    fn = masking._ColumnMasks(m)
    batches = [pl.Series("v", [f"req-{b:03d}-{i:04d}" for i in range(1_000)]) for b in range(10)]
    for batch in batches:
        assert fn(_pack(batch)).to_list() == _reference(KEY, batch)
    assert fn._by_row and len(fn._seen) == 0  # no values kept for a column that never repeats


def test_a_failing_plugin_falls_back_to_python(monkeypatch):
    def broken(col, key):
        return col.cast(pl.Int64, strict=True).cast(pl.String)  # raises on text

    monkeypatch.setattr(masking, "_native_hmac", lambda: broken)
    m = Masker(KEY)
    assert m._native is not None
    s = pl.Series("v", TEXTS)
    assert m.mask_series(s).to_list() == _reference(KEY, s)
    assert m._native is None


def test_the_key_is_in_no_plan_repr_or_error(monkeypatch):
    secret = "unguessable-s3cret"
    m = Masker(secret.encode())
    lf = pl.LazyFrame({"v": ["a", None]}).select(m.expr("v"))
    texts = [repr(m), repr(m.expr("v")), str(m.expr("v")), lf.explain(), str(lf), lf._repr_html_()]
    with pytest.raises(Exception) as err:
        lf.serialize()  # a plan that holds a masker cannot be written out
    texts.append(str(err.value))
    assert not [t for t in texts if secret in t]


def test_values_whose_slots_are_all_taken_are_still_found():
    """Six values share their four candidate slots (same high and low bits of both hashes): four
    take the slots, two go to the stash; each is found with its own mask, an unknown one is not."""
    import numpy as np

    mid = np.arange(1, 8, dtype=np.uint64) << np.uint64(20)  # differ only in bits the slots do not use
    a, b = np.uint64(0xA) | mid, np.uint64(0xB << 60) | np.uint64(0x5) | mid
    masks = pl.Series([f"anon:{i}" for i in range(7)], dtype=pl.String)
    seen = masking._Seen.empty().add(a[:6], b[:6], masks[:6])
    assert len(seen.stash) == 2 and len(seen) == 6
    code = seen.lookup(a, b)
    assert code.tolist() == [1, 2, 3, 4, 5, 6, 0]
    assert seen.masks.gather(pl.Series(code)).to_list() == masks[:6].to_list() + [None]
    grown = seen.add(a[6:], b[6:], masks[6:])  # a new snapshot; the old one is unchanged
    assert grown.lookup(a, b).tolist() == [1, 2, 3, 4, 5, 6, 7] and seen.lookup(a, b)[6] == 0


def _one_hash_for_all(which: str):
    """``_packed`` with one of the two hashes the same for every value: a forced collision."""
    def packed(col: pl.Expr) -> pl.Expr:
        same = pl.lit(0x5EED, dtype=pl.UInt64)
        a = same if which == "a" else col.hash(masking._SEEDS[0])
        b = same if which == "b" else col.hash(masking._SEEDS[1])
        return pl.struct(col.alias("v"), a.alias("a"), b.alias("b"))
    return packed


@pytest.mark.parametrize("which", ["a", "b"], ids=["first-hash-collides", "second-hash-collides"])
def test_values_sharing_one_hash_still_get_their_own_masks(tmp_path, monkeypatch, which):
    """Every value with the same first (or second) hash: the other one tells them apart, in a
    streaming scan batch after batch (nulls stay null), and a second scan reuses the table."""
    monkeypatch.setattr(masking, "_packed", _one_hash_for_all(which))
    values = [None if i % 97 == 0 else f"user{(i * 31) % 60}@example.org" for i in range(6_000)]
    path = _batches_file(tmp_path, values, rows_per_group=500)
    m = Masker(KEY)
    lf = pl.scan_parquet(path).select(m.expr("v"))
    assert lf.collect(engine="streaming")["v"].to_list() == _reference(KEY, pl.Series(values))
    assert lf.collect(engine="streaming")["v"].to_list() == _reference(KEY, pl.Series(values))


def test_a_growing_table_keeps_every_value():
    """Values added in many steps: the table grows (every code placed again each time) and each
    value keeps its code; a snapshot taken before the last step does not see the last values."""
    import numpy as np

    rng = np.random.default_rng(7)
    a, b = rng.integers(1, 2**64 - 1, (2, 5_000), dtype=np.uint64)
    masks = pl.Series([f"anon:{i}" for i in range(5_000)], dtype=pl.String)
    seen = masking._Seen.empty()
    for i in range(0, 5_000, 700):
        before, seen = seen, seen.add(a[i:i + 700], b[i:i + 700], masks[i:i + 700])
    assert seen.bits >= 14 and len(seen) == 5_000
    assert seen.lookup(a, b).tolist() == list(range(1, 5_001))
    assert (before.lookup(a, b)[4_900:] == 0).all()


def test_batches_on_many_threads_get_the_right_masks_and_keep_each_value_once():
    from concurrent.futures import ThreadPoolExecutor

    values = _customers(40_000)
    batches = [pl.Series("v", values[i:i + 1_000]) for i in range(0, len(values), 1_000)] * 3
    fn = masking._ColumnMasks(Masker(KEY))
    with ThreadPoolExecutor(8) as pool:
        out = list(pool.map(lambda s: fn(_pack(s)), batches))
    for s, got in zip(batches, out):
        assert got.to_list() == _reference(KEY, s)
    assert len(fn._seen) == pl.Series(values).drop_nulls().n_unique()  # met by two threads: kept once
