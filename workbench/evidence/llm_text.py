"""Per-row text signals of LLM calls, as polars expressions (no judge, no model, no Python per row).

:func:`signal_exprs` turns the text and retrieval columns of a generation lake into a few numbers
per call (refusal, groundedness proxy, citations, retrieval health, lengths) that a one-pass
summary can stream and sum over millions of rows. :func:`excerpt` is the one way text is shown.
Detectors that need whole rows (paraphrased refusals, unsupported sentences, re-asks, leaked
personal data) are in :mod:`workbench.evidence.llm_rows`, new topics in
:mod:`workbench.evidence.llm_topics`; they work on bounded samples chosen by a hash.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection

import polars as pl

from workbench.evidence.pii import PII_PATTERNS

__all__ = ["CITATION_PATTERN", "EXCERPT_CHARS", "GROUNDED_SAMPLE", "REFUSAL_PATTERNS", "SAMPLE_HASH_SEED", "SIGNALS", "STOPWORDS", "WORD_PATTERN", "content_words",
           "excerpt", "redact", "refusal_regex", "signal_exprs"]

#: Refusal phrases, matched anywhere in the lower-cased response (Rust regex syntax; ``[’']``
#: accepts a straight or a curly apostrophe). A response matching any is a refusal. Lower case on
#: purpose: lower-casing once and matching is ~20x cheaper than a case-insensitive regex.
#: Kept short and literal: paraphrases are caught by
#: :func:`workbench.evidence.llm_rows.refusal_similarity`.
REFUSAL_PATTERNS: tuple[str, ...] = (
    r"\bi[’']m sorry,? but i (?:can[’']?t|cannot|am unable|[’']m unable|won[’']t)",
    r"\bi am sorry,? but i (?:can[’']?t|cannot|am unable|won[’']t)",
    r"\bi (?:can[’']?t|cannot|can not) (?:help|assist|provide|comply|answer|share|do that|support)",
    r"\bi[’']m (?:not able|unable) to\b",
    r"\bi am (?:not able|unable) to\b",
    r"\bi (?:won[’']t|will not) be able to (?:help|assist|provide|answer)",
    r"\bas an ai\b",
    r"\bas a language model\b",
    r"\bi[’']m not (?:allowed|permitted) to\b",
    r"\bi am not (?:allowed|permitted) to\b",
    r"\bi must (?:decline|refuse)\b",
    r"\bi (?:have to|need to) decline\b",
    r"\bcan[’']?t (?:help|assist) with (?:that|this)\b",
    r"\b(?:goes|is) against (?:my|our) (?:guidelines|policy|policies)\b",
)

#: A content word: a maximal run of ASCII letters, at least 4 long, of the lower-cased text
#: (accented letters split a word; digits and punctuation separate words).
WORD_PATTERN = r"[a-z]{4,}"

#: Words of 4+ letters too common to say anything about grounding (function words, politeness).
STOPWORDS: tuple[str, ...] = tuple(sorted(set("""
about above after again against also among another anything around because been before being below
between both cannot could does doing done down during each either else enough even ever every from
further getting given have having here hers herself himself into itself just less like made make many
might more most much must myself need never next none only other others ours ourselves over own
please really same shall should since some something such sure than thank thanks that their theirs
them themselves then there these they thing things this those though through thus together under
until upon very want well were what whatever when where whether which while whom whose will with
within without would your yours yourself yourselves able also okay help hello
""".split())))

_WORD = re.compile(WORD_PATTERN)
_STOP = frozenset(STOPWORDS)

#: A citation: a bracketed token without spaces, e.g. ``[doc-123]``, ``[kb/42]``, ``[3]``
#: (a markdown link's ``[text](url)`` is not one). A number cites the retrieved document at
#: that 1-based position.
CITATION_PATTERN = r"\[[A-Za-z0-9][A-Za-z0-9_.:#/-]{0,63}\]\(?"

#: Default share of rows on which ``grounded_share`` is computed (see :func:`signal_exprs`).
GROUNDED_SAMPLE = 0.125
#: The rows of the grounded sample: XXH64 of the request id's UTF-8 bytes with this seed (Spark's
#: ``xxhash64`` seed, so the Spark engine picks the same rows), as a signed 64-bit number, modulo
#: 10^6 (floored), below ``GROUNDED_SAMPLE`` x 10^6.
SAMPLE_HASH_SEED = 42
_SAMPLE_SEED = 14  # polars' own hash, when the xxhash64 plugin cannot be used

#: The signals and their dtypes, in the order :func:`signal_exprs` returns them.
SIGNALS: dict[str, pl.DataType] = {
    "refusal": pl.Boolean(), "grounded_share": pl.Float64(), "citations": pl.Int64(),
    "unsupported_citations": pl.Int64(), "empty_retrieval": pl.Boolean(), "top_retrieval_score": pl.Float64(),
    "response_chars": pl.Int64(), "prompt_chars": pl.Int64(),
}


def refusal_regex() -> str:
    """The one regex of :data:`REFUSAL_PATTERNS`, for ``str.contains`` on lower-cased text."""
    return "|".join(REFUSAL_PATTERNS)


def content_words(text: str | None) -> set[str]:
    """The distinct content words of one text, as :func:`signal_exprs` counts them (Python, for
    detectors on samples)."""
    return set(_WORD.findall(text.lower())) - _STOP if text else set()


def _content_words(text: pl.Expr) -> pl.Expr:
    """Hashes of the content words of a text (a list, repeats kept; null for null text).

    Words are hashed (64 bits, collisions negligible) so the set operations run on integers:
    about twice as fast as on strings.
    """
    stop = pl.Series(list(STOPWORDS)).implode()
    return (text.str.to_lowercase().str.extract_all(WORD_PATTERN)
            .list.eval(pl.element().filter(~pl.element().is_in(stop)).hash()))


def _grounded_share(sample: float) -> pl.Expr:
    keep = pl.lit(True)
    if sample < 1.0:
        # the key's hash picks the rows; texts of other rows become null *before* tokenising, so
        # their words are never built (a when/then on the result would still compute them all)
        keep = (_sample_hash(pl.col("request_id")) % 1_000_000) < int(round(sample * 1_000_000))
    resp = pl.when(keep).then(pl.col("response_text"))
    ctx = pl.when(keep).then(pl.col("context_text"))
    words = _content_words(resp)
    n = words.list.n_unique()
    found = words.list.set_intersection(_content_words(ctx)).list.len()
    usable = (resp.str.len_bytes() > 0) & (ctx.str.len_bytes() > 0) & (n > 0)
    return pl.when(usable).then(found / n).otherwise(None).cast(pl.Float64).alias("grounded_share")


def _sample_hash(col: pl.Expr) -> pl.Expr:
    """The grounded sample's hash of ``col`` (see :data:`SAMPLE_HASH_SEED`): polars-hash's native
    XXH64, the function Spark's ``xxhash64`` computes, so both engines sample the same rows;
    polars' own hash (another sample, as uniform) where the plugin cannot be used."""
    if _xxhash64_ok():
        return col.cast(pl.String).nchash.xxhash64(seed=SAMPLE_HASH_SEED).cast(pl.Int64, wrap_numerical=True)
    return col.hash(_SAMPLE_SEED).cast(pl.Int64, wrap_numerical=True)


@functools.lru_cache(maxsize=1)
def _xxhash64_ok() -> bool:
    """Whether polars-hash's xxhash64 loads and gives XXH64's values (checked once against values
    Spark 4's ``xxhash64`` gives with seed 42)."""
    want = [1423657621850124518, -7444071767201028348, 8569317953039633371]
    try:
        import polars_hash  # noqa: F401  (registers the ``nchash`` namespace)

        got = (pl.DataFrame({"v": ["abc", "", "req-1"]})
               .select(pl.col("v").nchash.xxhash64(seed=SAMPLE_HASH_SEED).cast(pl.Int64, wrap_numerical=True))
               .to_series().to_list())
    except Exception:  # ImportError, or a plugin this polars cannot load
        return False
    return got == want


def _cited(col: str = "response_text") -> pl.Expr:
    """Distinct cited ids of the response, brackets stripped, markdown links dropped."""
    return (pl.col(col).str.extract_all(CITATION_PATTERN)
            .list.eval(pl.element().filter(~pl.element().str.ends_with("(")).str.strip_chars("[]"))
            .list.unique())


def signal_exprs(columns: Collection[str], *, grounded_sample: float = GROUNDED_SAMPLE) -> list[pl.Expr]:
    """Per-row signals of LLM calls that the present ``columns`` allow, as polars expressions.

    Every expression is native polars (regexes and list operations, no Python per row), so
    ``lf.with_columns(signal_exprs(lf.collect_schema().names()))`` streams.

    Parameters
    ----------
    columns : collection of str
        The frame's column names (canonical roles: ``prompt_text``, ``response_text``,
        ``context_text``, ``retrieved_ids``, ``retrieval_scores``, ``request_id``).
    grounded_sample : float, default :data:`GROUNDED_SAMPLE`
        Share of rows, chosen by the XXH64 hash of ``request_id`` (:data:`SAMPLE_HASH_SEED`: the
        rows the Spark engine picks too; all rows without that column),
        on which ``grounded_share`` is computed; it is null on the others. Word sets are the one
        costly signal (~27 s per million calls with ~1 KB of text on 2 cores, against ~4 s for
        all the others together; benchmarks/README.md); an hourly mean over an eighth of the
        calls is as good as over all. Pass 1.0 for every row.

    Returns
    -------
    list of Expr
        Among, in this order (see :data:`SIGNALS`):

        - ``refusal`` (Boolean; needs response_text): the lower-cased response matches
          :data:`REFUSAL_PATTERNS` (null when the response is null);
        - ``grounded_share`` (Float64 in [0, 1]; response_text and context_text): the share of the
          response's distinct content words (:data:`WORD_PATTERN`, minus :data:`STOPWORDS`) that
          occur as words of the context; null when either text is null or empty, when the
          response has no content word, or when the row is outside ``grounded_sample``;
        - ``citations`` (Int64; response_text): distinct ids cited as :data:`CITATION_PATTERN`;
        - ``unsupported_citations`` (Int64; response_text and retrieved_ids): those of the cited
          ids that are neither a retrieved id nor a number from 1 to the number retrieved (a null
          list counts as nothing retrieved);
        - ``empty_retrieval`` (Boolean; retrieved_ids): the list is null or empty;
        - ``top_retrieval_score`` (Float64; retrieval_scores): the largest score (null when none);
        - ``response_chars``, ``prompt_chars`` (Int64): lengths in characters.

    Examples
    --------
    >>> import polars as pl
    >>> df = pl.DataFrame({"response_text": ["I'm sorry, but I can't help with that."],
    ...                    "context_text": ["Opening hours: we help with returns."]})
    >>> df.select(signal_exprs(df.columns)).row(0, named=True)["refusal"]
    True
    """
    if not 0.0 < grounded_sample <= 1.0:
        from workbench.exceptions import InvalidValueError

        msg = "grounded_sample must be in (0, 1]"
        raise InvalidValueError(msg, found=repr(grounded_sample), hint="pass 1.0 to compute it on every row")
    cols = set(columns)
    if "request_id" not in cols:
        grounded_sample = 1.0
    out: list[pl.Expr] = []
    resp, ctx, ids = "response_text" in cols, "context_text" in cols, "retrieved_ids" in cols
    if resp:
        out.append(pl.col("response_text").str.to_lowercase().str.contains(refusal_regex()).alias("refusal"))
    if resp and ctx:
        out.append(_grounded_share(grounded_sample))
    if resp:
        out.append(_cited().list.len().cast(pl.Int64).alias("citations"))
    if resp and ids:
        retrieved = pl.col("retrieved_ids").fill_null(pl.lit([], dtype=pl.List(pl.String)))
        positions = pl.int_ranges(1, retrieved.list.len() + 1).cast(pl.List(pl.String))
        known = pl.concat_list(retrieved, positions)
        out.append(_cited().list.set_difference(known).list.len().cast(pl.Int64).alias("unsupported_citations"))
    if ids:
        out.append((pl.col("retrieved_ids").is_null() | (pl.col("retrieved_ids").list.len() == 0))
                   .alias("empty_retrieval"))
    if "retrieval_scores" in cols:
        out.append(pl.col("retrieval_scores").list.max().cast(pl.Float64).alias("top_retrieval_score"))
    if resp:
        out.append(pl.col("response_text").str.len_chars().cast(pl.Int64).alias("response_chars"))
    if "prompt_text" in cols:
        out.append(pl.col("prompt_text").str.len_chars().cast(pl.Int64).alias("prompt_chars"))
    return out


_REDACT = [(re.compile(PII_PATTERNS[k]), f"[{k}]") for k in
           ("email", "iban", "card", "national_id", "phone", "ipv6")]
_IPV4 = re.compile(r"(?<![0-9A-Za-z./_-])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])")
_SPACE = re.compile(r"\s+")

#: Longest excerpt of a text shown anywhere (tables, findings, reports).
EXCERPT_CHARS = 120


def redact(text: str | None) -> str:
    """``text`` with every candidate of :data:`workbench.evidence.pii.PII_PATTERNS` replaced by its
    kind in brackets (``[email]``, ``[phone]``, ...). Card and IBAN candidates are replaced whether
    or not their check digits pass: showing a near-miss is not worth the risk."""
    if not text:
        return ""
    for pattern, label in _REDACT:
        text = pattern.sub(label, text)
    return _IPV4.sub("[ipv4]", text)


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """A short, redacted excerpt of a text: personal data replaced by its kind (:func:`redact`,
    before cutting, so a cut cannot hide a match), whitespace collapsed, at most ``limit``
    characters (an ellipsis marks a cut).

    Examples
    --------
    >>> excerpt("Mail me at jane.doe@example.com   or call +1 415 555 0134 about order 1234.")
    'Mail me at [email] or call [phone] about order 1234.'
    >>> len(excerpt("word " * 100))
    120
    """
    t = _SPACE.sub(" ", redact(text)).strip()
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


# Checked once at import: a typo in the phrase list fails loudly here, not inside a polars query.
re.compile(refusal_regex())
