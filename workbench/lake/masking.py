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
then a lookup of those 128 bits in a compact table (4 bytes a slot, so a column's
table stays in the processor's cache) and a gather of the masks, and only values
never seen before get the HMAC. The key is held by the masker, never
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
    """The masks of values a column has shown, found by their two hashes (a snapshot: never changed).

    ``a[code]``, ``b[code]`` and ``masks[code]`` are the hashes and the mask of the value numbered
    ``code`` (from 1, in the order values were added); code 0 is the miss (hashes 0, mask null).
    ``slots`` is an open-addressed table of ``2**bits`` codes, at most 1/4 full: 4 bytes a slot,
    so the table of a hundred thousand values (2 MB) stays in the processor's cache, and a probe
    is a gather of a code and a check of the value's hashes against ``a[code]``, ``b[code]``.
    A value may sit in one of four slots (high and low bits of each hash); the few whose four
    slots are all taken go to ``stash``, a dict looked up only for the rows the table missed.
    Adding values makes a new snapshot, so a batch on another thread keeps a consistent one.
    """

    __slots__ = ("bits", "slots", "a", "b", "masks", "stash")

    def __init__(self, bits: int, slots: np.ndarray, a: np.ndarray, b: np.ndarray, masks: pl.Series,
                 stash: dict[tuple[int, int], int]) -> None:
        self.bits, self.slots, self.a, self.b, self.masks, self.stash = bits, slots, a, b, masks, stash

    @classmethod
    def empty(cls) -> _Seen:
        zero = np.zeros(1, np.uint64)
        return cls(10, np.zeros(1 << 10, np.uint32), zero, zero, pl.Series([None], dtype=pl.String), {})

    def __len__(self) -> int:
        return len(self.a) - 1

    def _slot(self, k: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A value's k-th candidate slot (k < 4): the high bits of each hash, then the low bits."""
        h = a if k % 2 == 0 else b
        if k < 2:  # below 2**bits: the same bits read as a signed index (a view, not a copy)
            return np.right_shift(h, np.uint64(64 - self.bits)).view(np.int64)
        return np.bitwise_and(h, np.uint64((1 << self.bits) - 1)).view(np.int64)

    def lookup(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Each value's code (uint32), 0 when it is not remembered."""
        code = np.take(self.slots, self._slot(0, a, b))
        hit = (np.take(self.a, code) == a) & (np.take(self.b, code) == b)
        if hit.all():
            return code
        code[~hit] = 0
        rows = np.flatnonzero(~hit)
        for k in range(1, 4):  # most values sit in their first slot: later tries see few rows
            ra, rb = a[rows], b[rows]
            c = np.take(self.slots, self._slot(k, ra, rb))
            found = (np.take(self.a, c) == ra) & (np.take(self.b, c) == rb) & (c != 0)
            code[rows[found]] = c[found]
            rows = rows[~found]
            if not len(rows):
                return code
        if self.stash:
            code[rows] = [self.stash.get(ab, 0) for ab in zip(a[rows].tolist(), b[rows].tolist())]
        return code

    def add(self, a: np.ndarray, b: np.ndarray, masks: pl.Series) -> _Seen:
        """A snapshot with these (new, distinct) values added; afresh when the cache is full."""
        n = len(self) + len(a)
        if n > _CACHE_LIMIT:  # start afresh: memory stays bounded
            return _Seen.empty().add(a, b, masks) if len(a) <= _CACHE_LIMIT else self
        bits = self.bits
        while n * 4 > 1 << bits:
            bits += 1
        grown = _Seen(bits, self.slots.copy() if bits == self.bits else np.zeros(1 << bits, np.uint32),
                      np.concatenate([self.a, a]), np.concatenate([self.b, b]),
                      pl.concat([self.masks, masks], rechunk=True), dict(self.stash) if bits == self.bits else {})
        grown._place(np.arange(len(self.a) if bits == self.bits else 1, n + 1))
        return grown

    def _place(self, codes: np.ndarray) -> None:
        for k in range(4):
            if not len(codes):
                return
            slots = self._slot(k, self.a[codes], self.b[codes])
            free = self.slots[slots] == 0
            slots, first = np.unique(slots[free], return_index=True)  # one value per slot
            placed = codes[free][first]
            self.slots[slots] = placed
            codes = np.setdiff1d(codes, placed, assume_unique=True)
        self.stash.update(zip(zip(self.a[codes].tolist(), self.b[codes].tolist()), codes.tolist()))


class _ColumnMasks:
    """The function a lazy plan calls on each batch of one masked column.

    A column's values repeat across batches (an e-mail per customer, not per request), so the
    masks of values already seen are remembered across batches and scans. The plan hands each
    batch with two 64-bit hashes of every value, computed natively; a batch is then a lookup of
    those in a table (numpy) and a gather of the masks. Only values never seen before are hashed
    with the HMAC, then added. Batches arrive on several threads: each works on the snapshot of
    the table it finds; adding values (under a lock) makes a new snapshot.
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
        a = packed.struct.field("a").to_numpy()
        b = packed.struct.field("b").to_numpy()
        seen = self._seen
        code = seen.lookup(a, b)
        missing = code == 0
        if values.null_count():
            missing &= values.is_not_null().to_numpy()  # a null stays null (code 0), whatever its hashes
        rows = np.flatnonzero(missing)
        if not len(rows):
            self._fresh = 0
            return seen.masks.gather(pl.Series(code))
        new = pl.DataFrame({"v": values.gather(rows), "a": a[rows], "b": b[rows]}).unique(["a", "b"])
        nonnull = len(values) - values.null_count()
        self._fresh = self._fresh + 1 if len(new) > _FRESH_SHARE * nonnull else 0
        if self._fresh >= _FRESH_BATCHES:
            self._by_row = True  # an id column: values do not repeat, remembering them is waste
            self._seen = _Seen.empty()
            return self._masker._hash(values)
        seen = self._remember(new["a"].to_numpy(), new["b"].to_numpy(), self._masker._hash(new["v"]))
        code[rows] = seen.lookup(a[rows], b[rows])
        masks = seen.masks.gather(pl.Series(code))
        lost = rows[code[rows] == 0]  # only when the cache started afresh meanwhile
        if len(lost):
            masks = masks.scatter(lost, self._masker._hash(values.gather(lost)))
        return masks

    def _remember(self, a: np.ndarray, b: np.ndarray, masks: pl.Series) -> _Seen:
        """Add new values' masks; the snapshot that holds them (unless the cache started afresh)."""
        with self._lock:
            seen = self._seen
            known = seen.lookup(a, b) != 0  # added by a batch on another thread meanwhile
            if known.any():
                keep = ~known
                a, b, masks = a[keep], b[keep], masks.filter(pl.Series(keep))
            if len(a):
                self._seen = seen = seen.add(a, b, masks)
            return seen
