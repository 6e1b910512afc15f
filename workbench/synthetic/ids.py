"""Vectorised identifiers: request ids, trace ids, run ids, digests and digit strings.

Everything is drawn from a caller's :class:`numpy.random.Generator` (never ``uuid4`` or the clock),
so a seed reproduces every byte. Strings are built as byte matrices and handed to polars in one go:
a Python loop per row would dominate the generator's run time.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = [
    "bytes_to_strings",
    "digit_matrix",
    "digit_strings",
    "hex_digest",
    "hex_strings",
    "mix64",
    "request_ids",
    "trace_ids",
    "uuid_string",
]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def bytes_to_strings(chars: np.ndarray, *, name: str = "") -> pl.Series:
    """Turn an ``(n, k)`` matrix of ASCII codes into a polars string Series of width ``k``."""
    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    n, k = chars.shape
    if n == 0:
        return pl.Series(name, [], dtype=pl.String)
    raw = np.frombuffer(chars.tobytes(), dtype=f"S{k}")
    return pl.Series(name, raw).cast(pl.String)


def hex_strings(data: np.ndarray, *, name: str = "") -> pl.Series:
    """Lower-case hex of each row of an ``(n, m)`` uint8 matrix (``2m`` characters a row)."""
    data = np.asarray(data, dtype=np.uint8)
    chars = np.empty((data.shape[0], data.shape[1] * 2), dtype=np.uint8)
    chars[:, 0::2] = _HEX[data >> 4]
    chars[:, 1::2] = _HEX[data & 15]
    return bytes_to_strings(chars, name=name)


def digit_matrix(rng: np.random.Generator, n: int, k: int, *, first_nonzero: bool = False) -> np.ndarray:
    """An ``(n, k)`` matrix of decimal digits (values 0-9)."""
    digits = rng.integers(0, 10, size=(n, k), dtype=np.uint8)
    if first_nonzero and k:
        digits[:, 0] = rng.integers(1, 10, size=n, dtype=np.uint8)
    return digits


def digit_strings(digits: np.ndarray, *, name: str = "") -> pl.Series:
    """Strings of the decimal digits in each row of ``digits``."""
    return bytes_to_strings(np.asarray(digits, dtype=np.uint8) + 48, name=name)


def mix64(x: np.ndarray, key: int) -> np.ndarray:
    """Bijective scramble of uint64 values (splitmix64 finaliser): distinct in, distinct out."""
    z = (np.asarray(x, dtype=np.uint64) + np.uint64(key & 0xFFFFFFFFFFFFFFFF)).astype(np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def request_ids(day_index: int, n: int, *, key: int, style: str, rng: np.random.Generator) -> pl.Series:
    """Unique request ids for one day.

    Uniqueness across the lake comes from scrambling the counter ``day_index * 2**32 + i`` with a
    bijection, so ids look random but can never collide. ``style`` is ``"uuid"`` (8-4-4-4-12 hex)
    or ``"prefixed"`` (``req_`` and 20 hex characters).
    """
    counter = np.uint64(day_index) * np.uint64(1 << 32) + np.arange(n, dtype=np.uint64)
    unique = mix64(counter, key).astype(">u8").view(np.uint8).reshape(n, 8)
    tail = rng.integers(0, 256, size=(n, 8 if style == "uuid" else 2), dtype=np.uint8)
    frame = pl.DataFrame({"h": hex_strings(np.concatenate([unique, tail], axis=1))})
    h = pl.col("h")
    if style == "uuid":
        expr = pl.concat_str(
            [h.str.slice(0, 8), h.str.slice(8, 4), h.str.slice(12, 4), h.str.slice(16, 4), h.str.slice(20, 12)],
            separator="-",
        )
    else:
        expr = pl.lit("req_") + h
    return frame.select(expr.alias("request_id")).to_series()


def trace_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """OpenTelemetry trace ids: 32 lower-case hex characters, never all zero."""
    data = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    data[:, 0] |= 1  # an all-zero trace id is invalid in OpenTelemetry
    return hex_strings(data, name="trace_id")


def uuid_string(rng: np.random.Generator) -> str:
    """A random version-4-format UUID string drawn from ``rng``."""
    data = rng.integers(0, 256, size=16, dtype=np.uint8)
    data[6] = (data[6] & 0x0F) | 0x40
    data[8] = (data[8] & 0x3F) | 0x80
    h = data.tobytes().hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hex_digest(rng: np.random.Generator, n_chars: int) -> str:
    """A hex string of ``n_chars`` characters (64 for a sha256 digest, 40 for a git commit)."""
    return rng.integers(0, 256, size=(n_chars + 1) // 2, dtype=np.uint8).tobytes().hex()[:n_chars]
