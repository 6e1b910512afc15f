"""When a categorical column is really an identifier: the high-cardinality rule.

A column whose baseline values are mostly distinct (request or session ids, IP addresses, free
text listed as a feature) has no stable set of codes: nearly every window value is "never seen
before" by construction, so unseen-code alarms on it would fire on healthy data. Binning and
lake-info use this one rule to treat such columns apart.
"""

from __future__ import annotations

__all__ = ["HIGH_CARDINALITY_SHARE", "HIGH_CARDINALITY_MIN", "is_high_cardinality"]

#: Distinct values per non-null row above which a categorical column is treated as id-like.
HIGH_CARDINALITY_SHARE = 0.5
#: ...provided it has at least this many distinct values (a 40-row baseline with 25 codes is
#: small, not id-like).
HIGH_CARDINALITY_MIN = 200


def is_high_cardinality(distinct: int, rows: int) -> bool:
    """Whether ``distinct`` values among ``rows`` non-null rows make a column id-like.

    >>> is_high_cardinality(9_800, 10_000), is_high_cardinality(180, 10_000)
    (True, False)
    """
    return distinct >= HIGH_CARDINALITY_MIN and rows > 0 and distinct / rows > HIGH_CARDINALITY_SHARE
