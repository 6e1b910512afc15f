"""Masking of sensitive columns: a keyed hash (HMAC-SHA256) applied at load.

Equal raw values give equal masked values, so grouping and joins still work,
but the raw value cannot be recovered without the key. The key comes from
``open_lake(..., mask_key=...)``, else the ``WORKBENCH_MASK_KEY`` environment
variable, else a random per-user key kept in ``~/.config/workbench/mask.key``
(created on first use, mode 0600). Reports that must be reproducible across
machines should set ``WORKBENCH_MASK_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

import polars as pl

__all__ = ["MASK_PREFIX", "Masker", "resolve_mask_key"]

MASK_PREFIX = "anon:"
_HEX_CHARS = 20  # 80 bits: collisions are negligible below ~10^11 distinct values
_ENV = "WORKBENCH_MASK_KEY"
_CACHE_LIMIT = 1_000_000


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
        # Values repeat across batches (an e-mail per customer, not per request): remember
        # their masks, within a bound, so each is hashed about once per scan.
        self._cache: dict[str, str] = {}

    def __repr__(self) -> str:
        return "Masker(key=<hidden>)"

    def mask_value(self, value: str) -> str:
        m = self._mac.copy()
        m.update(value.encode("utf-8", "surrogatepass"))
        return MASK_PREFIX + m.hexdigest()[:_HEX_CHARS]

    def mask_series(self, s: pl.Series) -> pl.Series:
        """Mask a series: each distinct value is hashed once."""
        name = s.name
        if s.dtype.is_nested():
            text = pl.Series(name, [None if v is None else json.dumps(v, default=str, sort_keys=True)
                                    for v in s.to_list()], dtype=pl.String)
        else:
            text = s.cast(pl.String, strict=False) if s.dtype != pl.String else s
        uniq = text.unique().drop_nulls()
        cache = self._cache
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        values = uniq.to_list()
        hashed = list(map(cache.get, values))  # a C loop; misses are None
        for i, h in enumerate(hashed):
            if h is None:
                hashed[i] = cache[values[i]] = self.mask_value(values[i])
        return text.replace_strict(uniq, pl.Series(hashed, dtype=pl.String), default=None,
                                   return_dtype=pl.String).alias(name)

    def expr(self, name: str) -> pl.Expr:
        """A lazy expression masking column ``name`` (elementwise, streams)."""
        return pl.col(name).map_batches(
            self.mask_series, return_dtype=pl.String, is_elementwise=True
        ).alias(name)
