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
A scan masks a column batch by batch, and remembers the masks of values it has
seen in a private polars Categorical: each batch costs one cast and one gather,
and only values never seen before are hashed. The key is held by the masker,
never written into a query plan: the plan shows an opaque Python function.
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
        return pl.col(name).map_batches(
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


class _ColumnMasks:
    """The function a lazy plan calls on each batch of one masked column.

    A column's values repeat across batches (an e-mail per customer, not per request), so the
    masks of values already seen are kept in a small frame (value, mask) that lives across batches
    and scans. A batch is one native left join against it; only values never seen before are
    hashed, then added. Batches arrive on several threads: the lookup reads a snapshot of the
    frame, and adding to it is done under a lock.
    """

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._lock = threading.Lock()
        self._seen = _EMPTY_SEEN
        self._fresh = 0  # consecutive batches of mostly new values
        self._by_row = False

    def __repr__(self) -> str:
        return "mask(<hidden key>)"

    def __call__(self, s: pl.Series) -> pl.Series:
        text = _as_text(s)
        if self._by_row:
            return self._masker._hash(text).alias(s.name)
        seen = self._seen
        looked = text.to_frame("v").join(seen, on="v", how="left", maintain_order="left")
        masks = looked["m"]
        missing = masks.is_null() & text.is_not_null()
        n_new = 0
        if missing.any():
            rows = missing.arg_true()
            new = text.gather(rows).unique()
            n_new = len(new)
            new_masks = self._masker._hash(new)
            masks = masks.scatter(rows, text.gather(rows).replace_strict(new, new_masks, return_dtype=pl.String))
            self._remember(seen, pl.DataFrame({"v": new, "m": new_masks}))
        self._fresh = self._fresh + 1 if n_new > _FRESH_SHARE * (len(text) - text.null_count()) else 0
        if self._fresh >= _FRESH_BATCHES:
            self._by_row = True  # an id column: values do not repeat, remembering them is waste
            self._seen = _EMPTY_SEEN
        return masks.alias(s.name)

    def _remember(self, snapshot: pl.DataFrame, new: pl.DataFrame) -> None:
        with self._lock:
            seen = self._seen
            if seen is not snapshot:  # another batch added values meanwhile: no key twice
                new = new.join(seen, on="v", how="anti")
            if len(seen) + len(new) > _CACHE_LIMIT:
                seen = _EMPTY_SEEN  # start afresh: memory stays bounded
            # one chunk: a join against a frame of many chunks is several times slower
            self._seen = pl.concat([seen, new], rechunk=True)


_EMPTY_SEEN = pl.DataFrame(schema={"v": pl.String, "m": pl.String})
