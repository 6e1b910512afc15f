"""The lake's masking (``anon:`` + the first 20 hex characters of HMAC-SHA256(key, utf-8 value))
as a Spark expression: HMAC spelled out with ``sha2`` over binary concatenations, so it runs on
the executors, vectorised, and gives exactly the values :class:`workbench.lake.masking.Masker` gives.

HMAC(K, m) = H((K' xor opad) || H((K' xor ipad) || m)), K' the key padded to SHA-256's 64-byte
block (hashed first when longer).
"""

from __future__ import annotations

import hashlib

from workbench.lake.masking import _HEX_CHARS, MASK_PREFIX

__all__ = ["mask_column"]

_BLOCK = 64


def _pads(key: bytes) -> tuple[str, str]:
    k = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    k = k.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


def mask_column(col, key: bytes):
    """A Spark column masking ``col`` (any scalar type, read as text); null stays null."""
    from pyspark.sql import functions as F

    ipad, opad = _pads(key)
    text = col.cast("string")
    inner = F.unhex(F.sha2(F.concat(F.unhex(F.lit(ipad)), F.encode(text, "UTF-8")), 256))
    outer = F.sha2(F.concat(F.unhex(F.lit(opad)), inner), 256)
    return F.when(text.isNull(), F.lit(None).cast("string")).otherwise(
        F.concat(F.lit(MASK_PREFIX), F.substring(outer, 1, _HEX_CHARS)))
