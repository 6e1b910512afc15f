"""Masking of sensitive columns: a keyed hash (HMAC-SHA256) applied at load.

Equal raw values give equal masked values, so grouping and joins still work,
but the raw value cannot be recovered without the key. The key comes from
``open_lake(..., mask_key=...)``, else the ``WORKBENCH_MASK_KEY`` environment
variable, else a random per-user key kept in ``~/.config/workbench/mask.key``
(created on first use, mode 0600). Reports that must be reproducible across
machines should set ``WORKBENCH_MASK_KEY``.

A masked value is ``anon:`` + the first 20 hex digits of HMAC-SHA256(key, the
value's UTF-8 bytes). Non-text values are masked as their polars text form,
nested ones (lists, structs) as sorted-key JSON.

How it runs: the HMAC is the polars-hash plugin's native expression (checked
once against the standard library's ``hmac``; Python's ``hmac`` is the fallback
when the plugin is missing, fails that check, or the key is not UTF-8 text).
A scan masks a column batch by batch and remembers the masks of the values it
has seen (a column's values repeat: an e-mail per customer, not per request).
The plan computes two 64-bit polars hashes of each value natively; a batch is
then a lookup of those 128 bits in a table and a gather of the masks, and only
values never seen before get the HMAC. The key is held by the masker, never
written into a query plan: the plan shows an opaque Python function.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["MASK_PREFIX", "Masker", "resolve_mask_key"]

MASK_PREFIX = "anon:"
_HEX_CHARS = 20  # 80 bits: collisions are negligible below ~10^11 distinct values
_ENV = "WORKBENCH_MASK_KEY"
_CACHE_LIMIT = 1_000_000  # distinct values a column's cache remembers before it starts afresh
# A batch in which more than this share of the values is new counts as "fresh"; after
# _FRESH_BATCHES of them in a row the column is taken for an id column, and hashed row by row
# (remembering values that never repeat only costs time and memory).
_FRESH_SHARE = 0.9
_FRESH_BATCHES = 4


def resolve_mask_key(key: bytes | str | None = None) -> bytes:
    """The masking key: the argument, else $WORKBENCH_MASK_KEY, else the per-user key file."""
    if key is not None:
        return key.encode("utf-8") if isinstance(key, str) else bytes(key)
    env = os.environ.get(_ENV)
    if env:
        return env.encode("utf-8")
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "workbench"
    path = base / "mask.key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError:
        return secrets.token_hex(32).encode()  # unreadable: a session key, still masked
    try:
        base.mkdir(parents=True, exist_ok=True)
        new = secrets.token_hex(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(new)
        return new
    except FileExistsError:
        return path.read_bytes().strip()
    except OSError:
        return secrets.token_hex(32).encode()


def _native_key(key: bytes) -> str | None:
    """The key as the plugin takes it (text), or None when the native HMAC cannot be used."""
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        return None  # the plugin takes a text key: other bytes go the Python way
    return text if _native_hmac() is not None else None


@functools.lru_cache(maxsize=1)
def _native_hmac():
    """polars-hash's HMAC-SHA256 expression, or None when it is missing or disagrees with ``hmac``.

    A plugin is built against polars' plugin interface; a polars it was not built for may fail to
    load it or, in principle, misread its buffers. One check on a fixed key and a few values
    (not the user's key) guards both, once per process.
    """
    try:
        import polars_hash  # noqa: F401  (registers the ``chash`` namespace)

        def native(col: pl.Expr, key: str) -> pl.Expr:
            return col.chash.hmac_sha256(key=key)

        probe = ["", "alice@example.org", "é🙂\u0000", "x" * 300]
        got = pl.DataFrame({"v": probe}).select(native(pl.col("v"), "probe-k\u00e9y")).to_series().to_list()
    except Exception:  # ImportError, or a plugin polars cannot load
        return None
    want = [hmac.new("probe-k\u00e9y".encode(), v.encode(), hashlib.sha256).hexdigest() for v in probe]
    return native if got == want else None


def _as_text(s: pl.Series) -> pl.Series:
    """The text that is hashed for each value: strings as they are, nested values as sorted-key
    JSON, anything else as polars' text form. Nulls stay null."""
    if s.dtype == pl.String:
        return s
    if s.dtype.is_nested():
        return pl.Series(s.name, [None if v is None else json.dumps(v, default=str, sort_keys=True)
                                  for v in s.to_list()], dtype=pl.String)
    return s.cast(pl.String, strict=False)


class Masker:
    """Replace values by ``anon:<hmac-sha256 prefix>``; nulls stay null.

    Parameters
    ----------
    key : bytes
        The secret key.

    Examples
    --------
    >>> m = Masker(b"k")
    >>> m.mask_value("alice@example.com")[:5]
    'anon:'
    """

    def __init__(self, key: bytes) -> None:
        # One pre-keyed HMAC state, copied per value: the key pads are derived once.
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self._native = _native_key(key)  # the key for the plugin, or None: the Python way

    def __repr__(self) -> str:
        return "Masker(key=<hidden>)"

    def mask_value(self, value: str) -> str:
        m = self._mac.copy()
        m.update(value.encode("utf-8", "surrogatepass"))
        return MASK_PREFIX + m.hexdigest()[:_HEX_CHARS]

    def mask_series(self, s: pl.Series) -> pl.Series:
        """Mask a series (strings, numbers, dates, lists, structs); nulls stay null."""
        return self._hash(_as_text(s)).alias(s.name)

    def expr(self, name: str) -> pl.Expr:
        """A lazy expression masking column ``name`` (elementwise, streams batch by batch)."""
        return _packed(pl.col(name)).alias(name).map_batches(
            _ColumnMasks(self), return_dtype=pl.String, is_elementwise=True
        ).alias(name)

    def _hash(self, text: pl.Series) -> pl.Series:
        """Masks of a String series, row by row (natively), or once per distinct value (Python)."""
        key = self._native
        if key is not None:
            digest = _native_hmac()(pl.col("v"), key).str.head(_HEX_CHARS)
            try:
                return text.to_frame("v").select(pl.concat_str([pl.lit(MASK_PREFIX), digest])).to_series()
            except pl.exceptions.PolarsError:
                # never show the plugin's message (it could print the plan that holds the key);
                # hash this batch and later ones the Python way instead
                self._native = None
        uniq = text.unique().drop_nulls()
        masks = pl.Series([self.mask_value(v) for v in uniq.to_list()], dtype=pl.String)
        return text.replace_strict(uniq, masks, default=None, return_dtype=pl.String)


# Seeds of the two 64-bit hashes (polars' own, computed in the plan, natively) that together
# identify a value in a column's cache: 128 bits, so two values that share both are not to be
# expected in any lake (~10^-26 for a million distinct values).
_SEEDS = (0x6D61736B1F2E3D4C, 0x77C5A31D2B8E4F60)


def _packed(col: pl.Expr) -> pl.Expr:
    """What a batch function gets: the values and their two hashes, computed by the plan."""
    return pl.struct(col.alias("v"), col.hash(_SEEDS[0]).alias("a"), col.hash(_SEEDS[1]).alias("b"))


class _Seen:
    """The masks of values a column has shown, found by their two hashes.

    An open-addressed table of ``2**bits`` slots, at most 1/8 full. A slot is one row
    ``(hash a, hash b, code)`` (a probe reads one row), ``code`` numbers the values in the order
    they were added, from 1, and ``masks[code]`` is the mask; ``masks[0]`` is null, the answer
    for a miss. A value may sit in one of four slots (high and low bits of each hash); one whose
    four slots are all taken (about one in 4,000) is not remembered, and is hashed whenever it
    comes. Values are only ever added; a reader on another thread sees a value or a miss.
    """

    def __init__(self, bits: int, a: np.ndarray, b: np.ndarray, masks: pl.Series) -> None:
        self.bits, self.a, self.b, self.masks = bits, a, b, masks  # a[0], b[0], masks[0]: the miss
        self.rows = np.zeros((1 << bits, 3), np.uint64)
        self._place(np.arange(1, len(a)))

    @classmethod
    def empty(cls) -> _Seen:
        return cls(10, np.zeros(1, np.uint64), np.zeros(1, np.uint64), pl.Series([None], dtype=pl.String))

    def __len__(self) -> int:
        return len(self.a) - 1

    def _slot(self, k: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A value's k-th candidate slot (k < 4): the high, then the low bits of each hash."""
        h = a if k % 2 == 0 else b
        if k < 2:
            return (h >> np.uint64(64 - self.bits)).astype(np.intp)
        return (h & np.uint64((1 << self.bits) - 1)).astype(np.intp)

    def _place(self, codes: np.ndarray) -> None:
        for k in range(4):
            if not len(codes):
                return
            slots = self._slot(k, self.a[codes], self.b[codes])
            free = self.rows[slots, 2] == 0
            slots, first = np.unique(slots[free], return_index=True)  # one value per slot
            placed = codes[free][first]
            self.rows[slots] = np.stack([self.a[placed], self.b[placed], placed.astype(np.uint64)], axis=1)
            codes = np.setdiff1d(codes, placed, assume_unique=True)

    def lookup(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Each value's code, 0 when it is not remembered."""
        row = np.take(self.rows, self._slot(0, a, b), axis=0)  # take: several times faster than [ ]
        code = np.where((row[:, 0] == a) & (row[:, 1] == b), row[:, 2], 0).astype(np.int64)
        rows = np.flatnonzero(code == 0)
        for k in range(1, 4):  # most values sit in their first slot: later tries see few rows
            if not len(rows):
                break
            ra, rb = a[rows], b[rows]
            row = np.take(self.rows, self._slot(k, ra, rb), axis=0)
            found = (row[:, 0] == ra) & (row[:, 1] == rb) & (row[:, 2] != 0)
            code[rows[found]] = row[found, 2].astype(np.int64)
            rows = rows[~found]
        return code

    def add(self, a: np.ndarray, b: np.ndarray, masks: pl.Series) -> _Seen:
        """The table with these values added: this one, grown in place, or a bigger one."""
        n = len(self) + len(a)
        if n > _CACHE_LIMIT:  # start afresh: memory stays bounded
            return _Seen.empty().add(a, b, masks) if len(a) <= _CACHE_LIMIT else self
        bits = self.bits
        while n * 8 > 1 << bits:
            bits += 1
        all_a, all_b = np.concatenate([self.a, a]), np.concatenate([self.b, b])
        all_masks = pl.concat([self.masks, masks], rechunk=True)
        if bits != self.bits:
            return _Seen(bits, all_a, all_b, all_masks)
        # In place, in an order that keeps a reader on another thread right: a code is written
        # into a slot only once its mask is there (a reader sees the new value, or a miss).
        first = len(self.a)
        self.masks = all_masks
        self.a, self.b = all_a, all_b
        self._place(np.arange(first, len(all_a)))
        return self


class _ColumnMasks:
    """The function a lazy plan calls on each batch of one masked column.

    A column's values repeat across batches (an e-mail per customer, not per request), so the
    masks of values already seen are remembered across batches and scans. The plan hands each
    batch with two 64-bit hashes of every value, computed natively; a batch is then a lookup of
    those in a table (numpy) and a gather of the masks. Only values never seen before are hashed
    with the HMAC, then added. Batches arrive on several threads: a lookup may run while another
    batch adds values (the table only grows, in an order that keeps a reader right); adding is
    done under a lock.
    """

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._lock = threading.Lock()
        self._seen = _Seen.empty()
        self._fresh = 0  # consecutive batches of mostly new values
        self._by_row = False

    def __repr__(self) -> str:
        return "mask(<hidden key>)"

    def __call__(self, packed: pl.Series) -> pl.Series:
        values = packed.struct.field("v")
        if values.dtype != pl.String or self._by_row:
            # non-text values are masked by their text form, which their hashes do not identify
            return self._masker._hash(_as_text(values))
        seen = self._seen
        a = packed.struct.field("a").to_numpy()
        b = packed.struct.field("b").to_numpy()
        code = seen.lookup(a, b)
        present = values.is_not_null().to_numpy()
        code[~present] = 0  # a null stays null, whatever its hashes
        masks = seen.masks.gather(pl.Series(code))  # code 0: null
        missing = (code == 0) & present
        rows = np.flatnonzero(missing)
        if len(rows):
            new = pl.DataFrame({"v": values.gather(rows), "a": a[rows], "b": b[rows]}).unique("v")
            new_masks = self._masker._hash(new["v"])
            masks = masks.scatter(rows, values.gather(rows).replace_strict(new["v"], new_masks,
                                                                            return_dtype=pl.String))
            self._remember(new["a"].to_numpy(), new["b"].to_numpy(), new_masks)
            nonnull = len(values) - values.null_count()
            self._fresh = self._fresh + 1 if len(new) > _FRESH_SHARE * nonnull else 0
            if self._fresh >= _FRESH_BATCHES:
                self._by_row = True  # an id column: values do not repeat, remembering them is waste
                self._seen = _Seen.empty()
        else:
            self._fresh = 0
        return masks

    def _remember(self, a: np.ndarray, b: np.ndarray, masks: pl.Series) -> None:
        with self._lock:
            seen = self._seen
            known = seen.lookup(a, b) != 0  # added by a batch on another thread meanwhile
            if known.any():
                keep = ~known
                a, b, masks = a[keep], b[keep], masks.filter(pl.Series(keep))
            if len(a):
                self._seen = seen.add(a, b, masks)
