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
then a lookup of those (108 of their bits) in an open-addressed table (one 16-byte entry a
probe: both hashes and the value's number) and a gather of the masks, and only values
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
# identify a value in a column's cache: all 64 bits of the first and the high 44 of the second,
# 108 bits, so two values that share them are not to be expected in any lake (~10^-20 for a
# million distinct values). The low bits of the second hash hold a value's number in the table.
_SEEDS = (0x6D61736B1F2E3D4C, 0x77C5A31D2B8E4F60)
_CODE_BITS = 20  # a value's number (code) fits in the low bits of its table entry
_LOW = np.uint64((1 << _CODE_BITS) - 1)
_HIGH = (1 << 64) - (1 << _CODE_BITS)
assert _CACHE_LIMIT < 1 << _CODE_BITS
_PROBES = 4  # entries from its home a value may sit in; the few that find them all taken are stashed


def _packed(col: pl.Expr) -> pl.Expr:
    """What a batch function gets: the values and their two hashes (the second without its low
    bits), computed by the plan."""
    return pl.struct(col.alias("v"), col.hash(_SEEDS[0]).alias("a"),
                     (col.hash(_SEEDS[1]) & pl.lit(_HIGH, dtype=pl.UInt64)).alias("b"))


class _Seen:
    """The masks of values a column has shown, found by their two hashes (a snapshot: never changed).

    ``masks[code]`` is the mask of the value numbered ``code`` (from 1, in the order values were
    added); code 0 is the miss (mask null). ``table`` is an open-addressed table of ``2**bits``
    entries, at most half full; an entry is two words: the value's first hash ``a``, and its
    second hash ``b`` (whose low bits are zero) with the code in those low bits (0 in both words:
    an empty entry). A value sits in one of the ``_PROBES`` entries from its home (the high bits
    of ``a``), or, when those are all taken, in ``stash`` (entries sorted by ``a``). So a probe is
    one gather of 16 bytes, and ``entry[1] ^ b`` is the code when the value matches (below 2**20)
    and anything above when it does not; most values sit at home, and only the rows the first
    probe missed are probed on (a few numpy calls on a few rows, never a loop per row).
    Adding values makes a new snapshot, so a batch on another thread keeps a consistent one.
    """

    __slots__ = ("bits", "table", "stash", "masks")

    def __init__(self, bits: int, table: np.ndarray, stash: np.ndarray, masks: pl.Series | None) -> None:
        self.bits, self.table, self.stash, self.masks = bits, table, stash, masks

    @classmethod
    def empty(cls) -> _Seen:
        return cls(10, np.zeros(((1 << 10) + _PROBES - 1, 2), np.uint64), np.zeros((0, 2), np.uint64),
                   pl.Series([None], dtype=pl.String))

    def __len__(self) -> int:
        return len(self.masks) - 1

    def _home(self, a: np.ndarray) -> np.ndarray:
        """Each value's home entry: the high bits of its first hash (a view read as signed: no copy)."""
        return np.right_shift(a, np.uint64(64 - self.bits)).view(np.int64)

    def lookup(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, bool]:
        """Each value's code (uint32), 0 when it is not remembered, and whether all were found."""
        home = self._home(a)
        entry = np.take(self.table, home, axis=0)
        code = np.bitwise_xor(entry[:, 1], b)
        hit = code <= _LOW
        hit &= entry[:, 0] == a
        if hit.all():
            return code.astype(np.uint32), True
        rows = missed = np.flatnonzero(~hit)
        ra, rb = a[rows], b[rows]
        near = home[rows]
        c = np.zeros(len(rows), np.uint64)
        for step in range(1, _PROBES):  # the other entries a value may sit in
            entry = np.take(self.table, near + step, axis=0)
            cs = np.bitwise_xor(entry[:, 1], rb)
            np.copyto(c, cs, where=(cs <= _LOW) & (entry[:, 0] == ra))
        code[rows] = c  # 0: none matched
        if len(self.stash):
            rows, ra, rb = rows[c == 0], ra[c == 0], rb[c == 0]
            keys = self.stash[:, 0]
            at = np.searchsorted(keys, ra)
            while len(rows):  # the stashed entries with the same first hash, one at a time
                at = np.minimum(at, len(keys) - 1)
                c = np.bitwise_xor(self.stash[at, 1], rb)
                same = keys[at] == ra
                found = same & (c <= _LOW)
                code[rows[found]] = c[found]
                more = same & ~found & (at < len(keys) - 1)
                rows, ra, rb, at = rows[more], ra[more], rb[more], at[more] + 1
        return code.astype(np.uint32), bool(code[missed].all())

    def add(self, a: np.ndarray, b: np.ndarray, masks: pl.Series) -> _Seen:
        """A snapshot with these (new, distinct) values added; afresh when the cache is full."""
        n = len(self) + len(a)
        if n > _CACHE_LIMIT:  # start afresh: memory stays bounded
            return _Seen.empty().add(a, b, masks) if len(a) <= _CACHE_LIMIT else self
        bits = self.bits
        while n * 2 > 1 << bits:
            bits += 1
        new = np.column_stack([a, b | np.arange(len(self) + 1, n + 1, dtype=np.uint64)])
        if bits == self.bits:
            grown = _Seen(bits, self.table.copy(), self.stash, None)
        else:  # a bigger table: every entry moves to its new home
            grown = _Seen(bits, np.zeros(((1 << bits) + _PROBES - 1, 2), np.uint64), np.zeros((0, 2), np.uint64), None)
            new = np.concatenate([self.table[self.table[:, 1] != 0], self.stash, new])
        grown._place(new)
        grown.masks = pl.concat([self.masks, masks], rechunk=True)
        return grown

    def _place(self, new: np.ndarray) -> None:
        """Write entries (first hash, second word), each at the first free one of its probes,
        else into the stash."""
        home = self._home(new[:, 0])
        pending = np.arange(len(new))
        for step in range(_PROBES):
            at = home[pending] + step
            free = self.table[at, 1] == 0
            at, first = np.unique(at[free], return_index=True)  # one value per free entry
            won = pending[free][first]
            self.table[at] = new[won]
            pending = np.setdiff1d(pending, won, assume_unique=True)
            if not len(pending):
                return
        stash = np.concatenate([self.stash, new[pending]])
        self.stash = stash[np.argsort(stash[:, 0], kind="stable")]


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
        code, complete = seen.lookup(a, b)
        if complete:  # every value remembered (a null never is: it is never added)
            self._fresh = 0
            return seen.masks.gather(pl.Series(code))
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
        seen = self._remember(new)
        code[rows] = seen.lookup(a[rows], b[rows])[0]
        masks = seen.masks.gather(pl.Series(code))
        lost = rows[code[rows] == 0]  # only when the cache started afresh meanwhile
        if len(lost):
            masks = masks.scatter(lost, self._masker._hash(values.gather(lost)))
        return masks

    def _unknown(self, new: pl.DataFrame) -> pl.DataFrame:
        """The rows of ``new`` (v, a, b) the newest snapshot does not hold (another thread may
        have added some since this batch looked)."""
        known = self._seen.lookup(new["a"].to_numpy(), new["b"].to_numpy())[0] != 0
        return new.filter(pl.Series(~known)) if known.any() else new

    def _remember(self, new: pl.DataFrame) -> _Seen:
        """Hash and add the new values (v, a, b) that are still unknown; the snapshot that holds
        them (unless the cache started afresh). The HMAC runs outside the lock."""
        new = self._unknown(new)
        masks = self._masker._hash(new["v"])
        with self._lock:
            seen = self._seen
            if len(new):
                code = seen.lookup(new["a"].to_numpy(), new["b"].to_numpy())[0]
                keep = code == 0  # added by a batch on another thread meanwhile
                if not keep.all():
                    new, masks = new.filter(pl.Series(keep)), masks.filter(pl.Series(keep))
            if len(new):
                self._seen = seen = seen.add(new["a"].to_numpy(), new["b"].to_numpy(), masks)
            return seen
