"""Personal data, its harmless look-alikes, and the free text it can leak into.

Sensitive columns hold realistic e-mails, phone numbers, card BINs and IP addresses. The free-text
"other" column holds look-alikes that a naive scanner would flag (16-digit order numbers that fail
the Luhn check, version strings, ``@campaign`` handles) but no personal data until a ``pii_leak``
incident puts some there. All builders are vectorised over polars Series.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from workbench.synthetic.ids import digit_matrix, digit_strings

__all__ = [
    "LEAK_KINDS",
    "card_bins",
    "card_numbers",
    "emails",
    "free_text",
    "ibans",
    "ip_addresses",
    "leak_into",
    "luhn_check_digit",
    "phones",
]

_FIRST = ("anna", "ben", "chloe", "david", "emma", "felix", "grace", "hugo", "isla", "jack", "kai",
          "lena", "marco", "nora", "oscar", "paula", "quinn", "rosa", "sam", "tara", "umar", "vera",
          "will", "xena", "yusuf", "zoe", "maria", "jose", "wei", "priya", "ahmed", "olga")
_LAST = ("smith", "garcia", "muller", "rossi", "dubois", "kowalski", "jansen", "silva", "tanaka",
         "patel", "nguyen", "johnson", "brown", "martin", "lopez", "schmidt", "bianchi", "novak",
         "larsen", "okafor", "kim", "chen", "fischer", "moreau")
_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "web.de",
            "hotmail.co.uk", "orange.fr", "gmx.net", "fastmail.com")
_PAGES = ("checkout", "cart", "account", "search", "landing", "app-shell", "settings")
_PARTNERS = ("acme-bank", "northwind", "globex", "initech", "umbrella-pay", "contoso")
_HANDLES = ("spring_sale", "blackfriday", "newsletter", "retarget_q1", "loyalty", "summer_promo")
_APPS = ("AcmeApp", "ShopNow", "PayGo", "StreamBox")
_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "okhttp/4.12.0",
    "python-requests/2.31.0",
)
_QUERIES = (
    "wireless earbuds", "running shoes size 10", "iphone 15 case", "cheap flights to lisbon",
    "how to cancel subscription", "4k monitor 27 inch", "gift ideas for dad", "vegan protein powder",
    "standing desk", "return policy", "kids winter jacket", "coffee grinder burr", "yoga mat",
    "student discount", "bluetooth speaker waterproof", "laptop stand", "contact support",
    "track my package", "best budget phone 2026", "noise cancelling headphones",
)

#: what a pii_leak incident can write into a free-text column
LEAK_KINDS = ("email", "phone", "card", "iban")


def _pick(rng: np.random.Generator, pool: tuple[str, ...], n: int) -> pl.Series:
    return pl.Series(pool).gather(rng.integers(0, len(pool), size=n))


def _ints(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype(np.int64)).cast(pl.String)


def _join(parts: list[pl.Series | str], *, separator: str = "") -> pl.Series:
    return pl.select(pl.concat_str([pl.lit(p) for p in parts], separator=separator)).to_series()


def _assemble(choice: np.ndarray, builders: list, rng: np.random.Generator) -> pl.Series:
    """Build one string a row, by the template ``choice`` names, one vectorised pass per template."""
    order, pieces = [], []
    for template, build in enumerate(builders):
        idx = np.flatnonzero(choice == template)
        if idx.size:
            order.append(idx)
            pieces.append(build(rng, idx.size))
    if not pieces:
        return pl.Series([], dtype=pl.String)
    values = pl.concat(pieces)
    return values.gather(np.argsort(np.concatenate(order), kind="stable"))


def luhn_check_digit(payload: np.ndarray) -> np.ndarray:
    """The Luhn check digit completing each row of an ``(n, k)`` digit matrix."""
    payload = np.asarray(payload, dtype=np.int64)
    # Counting from the rightmost payload digit, every other digit is doubled.
    doubled = np.zeros(payload.shape[1], dtype=bool)
    doubled[::-1][0::2] = True
    d = payload.copy()
    d[:, doubled] *= 2
    d[d > 9] -= 9
    return (10 - d.sum(axis=1) % 10) % 10


def card_numbers(rng: np.random.Generator, n: int, *, valid: bool = True, spaced: bool = False) -> pl.Series:
    """16-digit card numbers; ``valid=False`` gives look-alikes that fail the Luhn check."""
    payload = digit_matrix(rng, n, 15)
    payload[:, 0] = rng.choice(np.array([4, 5], dtype=np.uint8), size=n)
    check = luhn_check_digit(payload)
    if not valid:
        check = (check + rng.integers(1, 10, size=n)) % 10
    digits = np.concatenate([payload, check[:, None].astype(np.uint8)], axis=1)
    if spaced:
        groups = [digit_strings(digits[:, i:i + 4]) for i in range(0, 16, 4)]
        return _join(groups, separator=" ")
    return digit_strings(digits)


def ibans(rng: np.random.Generator, n: int) -> pl.Series:
    """German IBANs with valid ISO 7064 mod-97 check digits (``DEkk`` + 18 digits)."""
    bban = digit_matrix(rng, n, 18)
    # BBAN followed by "DE00" as digits (D=13, E=14); the check is 98 - (that number mod 97).
    tail = np.tile(np.array([1, 3, 1, 4, 0, 0], dtype=np.int64), (n, 1))
    remainder = np.zeros(n, dtype=np.int64)
    for column in np.concatenate([bban.astype(np.int64), tail], axis=1).T:
        remainder = (remainder * 10 + column) % 97
    check = 98 - remainder
    check_digits = np.stack([check // 10, check % 10], axis=1).astype(np.uint8)
    return _join(["DE", digit_strings(check_digits), digit_strings(bban)])


def emails(rng: np.random.Generator, n: int) -> pl.Series:
    """Realistic personal e-mail addresses in a few common shapes."""
    first, last, domain = _pick(rng, _FIRST, n), _pick(rng, _LAST, n), _pick(rng, _DOMAINS, n)
    number = _ints(rng.integers(1, 99, size=n))
    shape = rng.integers(0, 3, size=n)
    frame = pl.DataFrame({"f": first, "l": last, "d": domain, "n": number, "s": shape})
    expr = (
        pl.when(pl.col("s") == 0).then(pl.concat_str([pl.col("f"), pl.lit("."), pl.col("l")]))
        .when(pl.col("s") == 1).then(pl.concat_str([pl.col("f").str.slice(0, 1), pl.col("l"), pl.col("n")]))
        .otherwise(pl.concat_str([pl.col("f"), pl.lit("_"), pl.col("l"), pl.col("n")]))
    )
    return frame.select(pl.concat_str([expr, pl.lit("@"), pl.col("d")]).alias("email")).to_series()


def phones(rng: np.random.Generator, n: int) -> pl.Series:
    """Phone numbers in national formats of a few countries (E.164 prefixes)."""

    def us(r, m):
        return _join(["+1 ", digit_strings(digit_matrix(r, m, 3, first_nonzero=True)), "-",
                      digit_strings(digit_matrix(r, m, 3, first_nonzero=True)), "-",
                      digit_strings(digit_matrix(r, m, 4))])

    def uk(r, m):
        return _join(["+44 7", digit_strings(digit_matrix(r, m, 3)), " ", digit_strings(digit_matrix(r, m, 6))])

    def de(r, m):
        return _join(["+49 15", digit_strings(digit_matrix(r, m, 2)), " ", digit_strings(digit_matrix(r, m, 7))])

    def fr(r, m):
        pairs = [digit_strings(digit_matrix(r, m, 2)) for _ in range(4)]
        return _join(["+33 6 ", *sum(([p, " "] for p in pairs), [])[:-1]])

    return _assemble(rng.choice(4, size=n, p=[0.4, 0.25, 0.2, 0.15]), [us, uk, de, fr], rng)


def card_bins(rng: np.random.Generator, n: int) -> pl.Series:
    """Six-digit card BINs (issuer prefixes)."""
    digits = digit_matrix(rng, n, 6)
    digits[:, 0] = rng.choice(np.array([4, 5], dtype=np.uint8), size=n)
    return digit_strings(digits)


def ip_addresses(rng: np.random.Generator, n: int) -> pl.Series:
    """Public-looking IPv4 addresses."""
    octets = [_ints(rng.integers(lo, hi, size=n)) for lo, hi in ((11, 223), (0, 256), (0, 256), (1, 255))]
    return _join(octets, separator=".")


def _versions(rng: np.random.Generator, n: int) -> pl.Series:
    return _join([_ints(rng.integers(3, 9, size=n)), _ints(rng.integers(0, 20, size=n)),
                  _ints(rng.integers(0, 10, size=n))], separator=".")


def _client_tags(rng: np.random.Generator, n: int) -> pl.Series:
    builders = [
        lambda r, m: _join(["ios/", _versions(r, m)]),
        lambda r, m: _join(["android/", _versions(r, m), " (build ",
                            digit_strings(digit_matrix(r, m, 5, first_nonzero=True)), ")"]),
        lambda r, m: _join(["web/", _pick(r, _PAGES, m)]),
        lambda r, m: _join(["partner:", _pick(r, _PARTNERS, m)]),
        lambda r, m: _join(["batch-import order ", card_numbers(r, m, valid=False)]),
        lambda r, m: _join(["campaign @", _pick(r, _HANDLES, m)]),
    ]
    choice = rng.choice(len(builders), size=n, p=[0.3, 0.25, 0.2, 0.1, 0.08, 0.07])
    return _assemble(choice, builders, rng)


def _user_agents(rng: np.random.Generator, n: int) -> pl.Series:
    builders = [
        lambda r, m: _pick(r, _AGENTS, m),
        lambda r, m: _join([_pick(r, _APPS, m), "/", _versions(r, m), " (iPhone; iOS 17.",
                            _ints(r.integers(0, 6, size=m)), "; build ",
                            digit_strings(digit_matrix(r, m, 5, first_nonzero=True)), ")"]),
        lambda r, m: _join([_pick(r, _APPS, m), "/", _versions(r, m), " (Android 14; okhttp/4.12.0)"]),
    ]
    return _assemble(rng.choice(3, size=n, p=[0.6, 0.25, 0.15]), builders, rng)


def _search_queries(rng: np.random.Generator, n: int) -> pl.Series:
    builders = [
        lambda r, m: _pick(r, _QUERIES, m),
        lambda r, m: _join(["order ", card_numbers(r, m, valid=False), " status"]),
        lambda r, m: _join(["firmware ", _versions(r, m), " download"]),
        lambda r, m: _join([_pick(r, _QUERIES, m), " size ", _ints(r.integers(4, 14, size=m))]),
        lambda r, m: _join(["@", _pick(r, _HANDLES, m), " deals"]),
    ]
    return _assemble(rng.choice(5, size=n, p=[0.7, 0.06, 0.06, 0.12, 0.06]), builders, rng)


def free_text(kind: str, rng: np.random.Generator, n: int) -> pl.Series:
    """Healthy values of a free-text column: ``client_tag``, ``user_agent`` or ``search_query``."""
    builders = {"client_tag": _client_tags, "user_agent": _user_agents, "search_query": _search_queries}
    if kind not in builders:
        msg = f"unknown free-text column kind {kind!r}; expected one of {sorted(builders)}"
        raise ValueError(msg)
    return builders[kind](rng, n)


def leak_into(base: pl.Series, personal: pl.Series, rng: np.random.Generator) -> pl.Series:
    """Embed personal values into free text the way logging mistakes do.

    Some rows become the bare value, others carry it after a key (``contact=...``) or appended to
    the original text, as when a client starts sending a whole form field in its tag.
    """
    n = len(base)
    shape = rng.choice(3, size=n, p=[0.4, 0.3, 0.3])
    key = _pick(rng, ("contact=", "user:", "ref "), n)
    frame = pl.DataFrame({"b": base, "p": personal, "s": shape, "k": key})
    expr = (
        pl.when(pl.col("s") == 0).then(pl.col("p"))
        .when(pl.col("s") == 1).then(pl.concat_str([pl.col("k"), pl.col("p")]))
        .otherwise(pl.concat_str([pl.col("b"), pl.lit(" "), pl.col("p")]))
    )
    return frame.select(expr).to_series()
