"""Bounded samples of a Parquet lake's rows, chosen from the files' footers.

Checks that need rows rather than summaries (embedding drift, the PII scan) do not read whole
columns: they read a few runs of rows spread over the time window. The row groups and their time
ranges come from each file's Parquet footer (row counts and the timestamp column's min/max
statistics), read here with a small decoder of the footer's Thrift compact encoding, so no data
page is touched to choose. The rule is stable: the rows of the row groups overlapping the window,
taken in (first time, last time, file, index) order, are cut at ``slices`` evenly spaced ranks and
a run of ``rows / slices`` rows is read around each (inside its row group, where polars' slice
pushdown reads only those pages); the same lake and window give the same rows.

When the window's row groups hold no more rows than the budget, or the lake is not Parquet, or a
footer lacks the timestamp statistics, :func:`sample_frame` returns None and callers read the
window whole (CSV and NDJSON lakes then sample by a stable hash of the request id, as before).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import polars as pl

__all__ = ["RowGroup", "RowGroupSample", "parquet_row_groups", "pick_slices", "sample_frame"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_PER_SECOND = {"ns": 1_000_000_000, "us": 1_000_000, "ms": 1_000}


@dataclass(frozen=True)
class RowGroup:
    """One row group: its file, index in the file, first row in the whole scan, rows and times."""

    path: Path
    index: int
    offset: int  # rows before it in the lake's scan order
    rows: int
    t_min: dt.datetime | None
    t_max: dt.datetime | None


@dataclass(frozen=True)
class RowGroupSample:
    """The runs of rows read for one window, out of how many, and the rows read."""

    frame: pl.LazyFrame
    runs: tuple[tuple[int, int], ...]  # (offset in the scan, rows)
    rows: int  # rows read
    window_groups: int  # row groups overlapping the window
    window_rows: int  # rows in them

    def describe(self) -> str:
        return (f"{self.rows:,} of {self.window_rows:,} rows ({len(self.runs)} runs spread over "
                f"{self.window_groups} row groups)")


# -- Parquet footer (Thrift compact protocol) ----------------------------------------------
# Only what choosing needs is decoded (row counts, the time column's statistics); the rest of the
# footer (other columns' chunks, the schema, key-value metadata) is skipped without building values.
def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, pos
        shift += 7


def _zigzag(buf: bytes, pos: int) -> tuple[int, int]:
    n, pos = _varint(buf, pos)
    return (n >> 1) ^ -(n & 1), pos


def _skip(buf: bytes, pos: int, t: int) -> int:
    """The position after a value of compact type ``t`` starting at ``pos``."""
    if t in (1, 2):
        return pos
    if t == 3:
        return pos + 1
    if t in (4, 5, 6):
        while buf[pos] & 0x80:
            pos += 1
        return pos + 1
    if t == 7:
        return pos + 8
    if t == 8:
        n, pos = _varint(buf, pos)
        return pos + n
    if t in (9, 10):
        head = buf[pos]
        pos += 1
        n, et = head >> 4, head & 0x0F
        if n == 15:
            n, pos = _varint(buf, pos)
        if et in (1, 2, 3):
            return pos + n
        for _ in range(n):
            pos = _skip(buf, pos, et)
        return pos
    if t == 11:
        n, pos = _varint(buf, pos)
        if n:
            kv = buf[pos]
            pos += 1
            for _ in range(n):
                pos = _skip(buf, _skip(buf, pos, kv >> 4), kv & 0x0F)
        return pos
    if t == 12:
        while True:
            head = buf[pos]
            pos += 1
            if head == 0:
                return pos
            if not head >> 4:
                _, pos = _zigzag(buf, pos)
            pos = _skip(buf, pos, head & 0x0F)
    raise ValueError(f"unknown thrift compact type {t}")


def _fields(buf: bytes, pos: int):
    """Yield ``(field id, type, position of the value)`` of a struct; the caller gives back the
    position after the value through ``send`` (or None to have it skipped)."""
    fid = 0
    while True:
        head = buf[pos]
        pos += 1
        if head == 0:
            return pos
        delta, t = head >> 4, head & 0x0F
        if delta:
            fid += delta
        else:
            fid, pos = _zigzag(buf, pos)
        after = yield fid, t, pos
        pos = after if after is not None else _skip(buf, pos, t)


def _walk(buf: bytes, pos: int, want) -> tuple[dict[int, object], int]:
    """Decode a struct's fields for which ``want(fid)`` returns a decoder ``(buf, pos, t) ->
    (value, pos)``; skip the others. Returns the decoded fields and the position after it."""
    out: dict[int, object] = {}
    gen = _fields(buf, pos)
    after = None
    try:
        fid, t, at = next(gen)
        while True:
            dec = want(fid)
            if dec is None:
                after = None
            else:
                out[fid], after = dec(buf, at, t)
            fid, t, at = gen.send(after)
    except StopIteration as stop:
        return out, stop.value


def _list(buf: bytes, pos: int) -> tuple[int, int, int]:
    head = buf[pos]
    pos += 1
    n, et = head >> 4, head & 0x0F
    if n == 15:
        n, pos = _varint(buf, pos)
    return n, et, pos


def _bytes(buf, pos, t):
    n, pos = _varint(buf, pos)
    return bytes(buf[pos:pos + n]), pos + n


def _strings(buf, pos, t):
    n, _, pos = _list(buf, pos)
    out = []
    for _ in range(n):
        s, pos = _bytes(buf, pos, 8)
        out.append(s.decode("utf-8", "replace"))
    return out, pos


def _stats(buf, pos, t):
    return _walk(buf, pos, lambda f: _bytes if f in (1, 2, 5, 6) else None)


def _column_meta(buf, pos, t):
    return _walk(buf, pos, lambda f: {3: _strings, 12: _stats}.get(f))


def _chunk(buf, pos, t):
    return _walk(buf, pos, lambda f: _column_meta if f == 3 else None)


def _row_groups(buf: bytes, pos: int, column: str) -> tuple[list[tuple[int, dict]], int]:
    """``[(rows, statistics of column), ...]`` of the footer's row-group list at ``pos``."""
    n, _, pos = _list(buf, pos)
    out = []
    leaf = None  # the column's index among each row group's chunks (the same in every one)
    for _ in range(n):
        rows, stats = 0, {}
        gen = _fields(buf, pos)
        after = None
        try:
            fid, t, at = next(gen)
            while True:
                after = None
                if fid == 3:
                    rows, after = _zigzag(buf, at)
                elif fid == 1:
                    m, _, p = _list(buf, at)
                    for j in range(m):
                        if leaf is None or j == leaf:
                            chunk, p = _chunk(buf, p, 12)
                            meta = chunk.get(3) or {}
                            if meta.get(3) == [column]:
                                leaf, stats = j, meta.get(12) or {}
                        else:
                            p = _skip(buf, p, 12)
                    after = p
                fid, t, at = gen.send(after)
        except StopIteration as stop:
            pos = stop.value
        out.append((rows, stats))
    return out, pos


def _footer(path: Path, column: str) -> list[tuple[int, dict]]:
    with open(path, "rb") as fh:
        fh.seek(-8, 2)
        size, magic = struct.unpack("<I4s", fh.read(8))
        if magic != b"PAR1":
            raise ValueError("not a Parquet file (no PAR1 magic at the end)")
        fh.seek(-8 - size, 2)
        buf = fh.read(size)
    groups: list[tuple[int, dict]] = []

    def rgs(b, p, t):
        nonlocal groups
        groups, p = _row_groups(b, p, column)
        return None, p

    _walk(buf, 0, lambda f: rgs if f == 4 else None)
    return groups


def _time(raw: object, unit: str) -> dt.datetime | None:
    if not isinstance(raw, bytes) or len(raw) != 8:
        return None
    v = struct.unpack("<q", raw)[0]
    return _EPOCH + dt.timedelta(microseconds=v * 1_000_000 // _PER_SECOND[unit])


def parquet_row_groups(paths: list[Path], time_column: str, unit: str) -> list[RowGroup] | None:
    """Every row group of ``paths`` (in that order: the lake's scan order) with its rows and the
    min/max of ``time_column`` (an INT64 timestamp of ``unit``); None when a row group has no
    statistics for it."""
    out: list[RowGroup] = []
    offset = 0
    for p in paths:
        for i, (rows, stats) in enumerate(_footer(p, time_column)):
            t_min, t_max = _time(stats.get(6, stats.get(2)), unit), _time(stats.get(5, stats.get(1)), unit)
            if rows and (t_min is None or t_max is None):
                return None
            out.append(RowGroup(p, i, offset, rows, t_min, t_max))
            offset += rows
    return out


def pick_slices(groups: list[RowGroup], start: dt.datetime, end: dt.datetime, rows: int, *,
                slices: int = 8) -> tuple[list[tuple[int, int]], list[RowGroup]]:
    """``(picked, overlapping)``: the row groups overlapping ``[start, end)``, and ``slices``
    runs of rows (``(offset in the scan, length)``, ``rows`` in all) centred at evenly spaced
    ranks of their rows taken in (first time, last time, file, index) order, each inside one row
    group; every row group whole when they hold no more than ``rows``."""
    over = [g for g in groups if g.rows and g.t_min < end and g.t_max >= start]
    over.sort(key=lambda g: (g.t_min, g.t_max, str(g.path), g.index))
    total = sum(g.rows for g in over)
    if total <= rows:
        return [(g.offset, g.rows) for g in over], over
    size = math.ceil(rows / slices)
    cum, acc = [], 0
    for g in over:
        cum.append(acc)
        acc += g.rows
    picked, j = [], 0
    for i in range(slices):
        centre = int((i + 0.5) * total / slices)
        while j + 1 < len(over) and cum[j + 1] <= centre:
            j += 1
        g = over[j]
        length = min(size, g.rows)
        first = min(max(centre - cum[j] - length // 2, 0), g.rows - length)
        picked.append((g.offset + first, length))
    return sorted(set(picked)), over


#: the scan order and agreed schema of the last set of files sampled (keyed by path, size, mtime)
_SCAN_ORDER: dict[tuple, tuple[list[Path], dict]] = {}


@functools.lru_cache(maxsize=8)
def _groups_of(stamp: tuple[tuple[str, int, int], ...], column: str, unit: str) -> list[RowGroup] | None:
    """:func:`parquet_row_groups` once per set of files (keyed by path, size and mtime): the
    checks of one triage sample several windows of the same lake."""
    return parquet_row_groups([Path(p) for p, _, _ in stamp], column, unit)


def sample_frame(lake, columns: list[str], start: dt.datetime, end: dt.datetime, rows: int, *,
                 slices: int = 8) -> RowGroupSample | None:
    """The lake's normalised predictions (``columns``) over a bounded sample of rows in its row
    groups overlapping ``[start, end)`` (read now, not yet filtered to the window), or None when
    those row groups hold no more than ``rows`` rows or cannot be chosen from the footers (not
    Parquet, a timestamp stored as text, missing statistics): then read the window whole."""
    from workbench.lake.files import parquet_scan_order

    files = lake._preds.files
    if files.format != "parquet":
        return None
    src = lake.manifest.columns.mapping().get("timestamp", "timestamp")
    key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files.paths)
    if key not in _SCAN_ORDER:  # each file's schema read once per set of files, not per sample
        _SCAN_ORDER.clear()
        _SCAN_ORDER[key] = parquet_scan_order(files)
    order, schema = _SCAN_ORDER[key]
    dtype = schema.get(src)
    if not isinstance(dtype, pl.Datetime):
        return None
    at = {p: (size, mtime) for p, size, mtime in key}
    stamp = tuple((str(p), *at[str(p)]) for p in order)
    groups = _groups_of(stamp, src, dtype.time_unit)
    if not groups:
        return None
    picked, over = pick_slices(groups, start, end, rows, slices=slices)
    total = sum(g.rows for g in over)
    if total <= rows:
        return None
    base = lake.predictions(columns)
    # one query per run of rows: in one plan polars would share the scan between them and read it whole
    frame = pl.concat([base.slice(o, n).collect() for o, n in picked]).lazy()
    return RowGroupSample(frame, tuple(picked), sum(n for _, n in picked), len(over), total)
