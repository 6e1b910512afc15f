"""Judge-free detectors of LLM calls that need whole rows, on bounded samples chosen by a hash.

Paraphrased refusals (character n-gram TF-IDF similarity to example refusals), unsupported
sentences (sentences of a response whose content words are mostly absent from its retrieved
context), re-asks (a user repeating a near-identical prompt in one conversation) and leaked
personal data (in a response but not in the user's own prompt). Each reads at most ``max_rows``
rows per frame, picked by a seeded hash of the request id (of the conversation id for re-asks),
never by row position, so a rerun or a reordered scan gives the same answer. Rates come with
intervals; with a baseline, a window is flagged only when its rate is significantly and
materially higher. Nothing raw leaves: examples are :func:`~workbench.evidence.llm_text.excerpt`\\ s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence.llm_text import REFUSAL_PATTERNS, content_words, excerpt, refusal_regex
from workbench.evidence.pii import PII_PATTERNS, PIIThresholds, iban_valid, luhn_valid
from workbench.evidence.quality import wilson
from workbench.evidence.stats import ALPHA, Z95, overridden, two_proportion
from workbench.exceptions import ColumnNotFoundError, InvalidValueError
from workbench.results import Result

__all__ = ["MAX_ROWS", "REFUSAL_EXAMPLES", "LeakedPII", "TextRate", "TextRateThresholds", "leaked_pii",
           "reask_rate", "refusal_similarity", "sample_rows", "unsupported_sentence_rate"]

#: Rows read per frame (baseline or window) by each detector of this module, at most.
MAX_ROWS = 20_000

#: Example refusals that responses are compared with (character 3-5-grams): paraphrases of
#: "I can't help with that" that :data:`~workbench.evidence.llm_text.REFUSAL_PATTERNS` miss.
REFUSAL_EXAMPLES: tuple[str, ...] = (
    "I'm sorry, but I can't help with that.",
    "Unfortunately, I am unable to assist with this request.",
    "I can't provide that information.",
    "That's not something I'm able to help with.",
    "I'm afraid I can't do that.",
    "Sorry, I won't be able to answer that question.",
    "I'm not able to share details about that.",
    "This request is outside of what I can help with.",
    "I apologize, but I cannot comply with this request.",
    "Regrettably, that is not something I can assist with.",
    "I do not have the ability to help with that.",
    "My apologies, but that is beyond what I am allowed to discuss.",
    "I'm unable to process that request.",
    "Sorry, I can't assist you with this.",
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class TextRateThresholds:
    """When a window's rate counts as higher than the baseline's: significant and material."""

    #: the one-sided test's level
    alpha: float = ALPHA
    #: the rise that matters, in absolute share (0.02 = two points)
    min_increase: float = 0.02


@dataclass(frozen=True, repr=False)
class TextRate(Result):
    """A rate measured on sampled rows of a window (and a baseline), with 95 % intervals.

    ``unit`` is what is counted (responses, sentences, turns). With a baseline, ``p_value`` is
    the one-sided test that the window's rate is higher and ``flagged`` says it is significantly
    (``alpha``) and materially (``min_increase``) so. ``examples`` are redacted excerpts (at most
    120 characters) of window rows that count.
    """

    name: str
    unit: str
    window_n: int
    window_hits: int
    window_rate: float | None
    window_ci: tuple[float, float]
    baseline_n: int | None = None
    baseline_hits: int | None = None
    baseline_rate: float | None = None
    baseline_ci: tuple[float, float] | None = None
    difference: float | None = None
    p_value: float | None = None
    flagged: bool = False
    examples: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        rate = "n/a" if self.window_rate is None else f"{self.window_rate:.3f}"
        base = "" if self.baseline_rate is None else f" vs {self.baseline_rate:.3f}"
        return f"{self.name}: {rate}{base} of {self.window_n} {self.unit}, flagged={self.flagged}"

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        rows = [{"": "window", "n": self.window_n, "hits": self.window_hits, "rate": self.window_rate,
                 "ci": self.window_ci}]
        if self.baseline_n is not None:
            rows.insert(0, {"": "baseline", "n": self.baseline_n, "hits": self.baseline_hits,
                            "rate": self.baseline_rate, "ci": self.baseline_ci})
        text = (f"{self.unit} counted; " + ("higher than the baseline" if self.flagged else "no significant rise")
                + ("" if self.p_value is None else f" (one-sided p = {self.p_value:.3g})"))
        parts = [table(rows, units={"rate": "%", "n": "rows", "hits": "rows"})]
        if self.examples:
            parts.append(table([{"example (redacted)": e} for e in self.examples], units={"example (redacted)": "text"}))
        return block(self.name.replace("_", " "), text, *parts)


def _frame(frame: pl.LazyFrame | pl.DataFrame, needed: Sequence[str], caller: str) -> pl.LazyFrame:
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    names = lf.collect_schema().names()
    missing = [c for c in needed if c not in names]
    if missing:
        msg = f"{caller} needs column(s) {', '.join(f'`{c}`' for c in missing)}"
        raise ColumnNotFoundError(msg, column=missing[0], found=", ".join(names) or "no columns",
                                  hint="map the role to your column name in workbench.yaml (columns: {role: name})")
    return lf


def sample_rows(frame: pl.LazyFrame | pl.DataFrame, columns: Sequence[str], n: int = MAX_ROWS, *,
                key: str = "request_id", seed: int = 0) -> pl.DataFrame:
    """Up to ``n`` rows of ``columns``, those with the smallest seeded hash of ``key``.

    A streaming pre-filter on the hash keeps about ``3n`` rows before the sort, so a window of
    millions of rows is never loaded whole. All rows sharing a key (a conversation) are kept or
    dropped together, except the last key when ``n`` cuts it, which is dropped. Without ``key``
    in the frame, the hash is of the selected columns.
    """
    lf = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    names = lf.collect_schema().names()
    cols = list(dict.fromkeys([*(c for c in columns if c in names), *([key] if key in names else [])]))
    h = (pl.col(key) if key in names else pl.struct(cols)).hash(seed).alias("__h")
    total = lf.select(pl.len()).collect(engine="streaming").item()
    q = lf.select(cols).with_columns(h)
    if total > 3 * n:
        q = q.filter(pl.col("__h") % 1_000_000 < max(1, int(3 * n / total * 1_000_000)))
    out = q.sort(["__h", *([key] if key in names else [])]).head(n + 1).collect(engine="streaming")
    if out.height > n:  # the key at the cut may be incomplete: drop it
        last = out["__h"][n]
        out = out.head(n).filter(pl.col("__h") != last) if key in names else out.head(n)
    return out.drop("__h")


def _rate(name: str, unit: str, w: tuple[int, int], b: tuple[int, int] | None, th: TextRateThresholds, *,
          ci_w: tuple[float, float] | None = None, ci_b: tuple[float, float] | None = None,
          se: tuple[float, float] | None = None, examples: Sequence[str] = (),
          meta: dict[str, Any] | None = None) -> TextRate:
    """A :class:`TextRate` from (hits, n) of the window and the baseline. Rows are independent
    unless ``se`` (cluster-robust standard errors of the two rates) is given."""
    kw, nw = w
    rate_w = kw / nw if nw else None
    out: dict[str, Any] = dict(name=name, unit=unit, window_n=nw, window_hits=kw, window_rate=rate_w,
                               window_ci=ci_w or wilson(kw, nw), examples=tuple(examples[:3]),
                               meta={"alpha": th.alpha, "min_increase": th.min_increase, **(meta or {})})
    if b is not None:
        kb, nb = b
        rate_b = kb / nb if nb else None
        out.update(baseline_n=nb, baseline_hits=kb, baseline_rate=rate_b, baseline_ci=ci_b or wilson(kb, nb))
        if nw and nb:
            if se is None:
                diff, p2 = two_proportion(kb, nb, kw, nw)
                p = p2 / 2 if diff > 0 else 1 - p2 / 2
            else:
                diff = rate_w - rate_b
                s = math.hypot(*se)
                p = 0.5 * math.erfc(diff / s / math.sqrt(2)) if s > 0 else (0.0 if diff > 0 else 1.0)
            out.update(difference=diff, p_value=p, flagged=bool(p < th.alpha and diff >= th.min_increase))
    return TextRate(**out)


def _ratio(num: np.ndarray, den: np.ndarray) -> tuple[float, float, tuple[float, float]]:
    """Ratio of sums over clusters, its cluster-robust (delta-method) standard error and 95 % interval:
    sentences of one response, turns of one conversation, are not independent."""
    n, total = len(num), float(den.sum())
    if total == 0:
        return 0.0, 0.0, (0.0, 1.0)
    r = float(num.sum()) / total
    se = math.sqrt(n / max(n - 1, 1) * float(np.sum((num - r * den) ** 2))) / total if n > 1 else 0.0
    return r, se, (max(0.0, r - Z95 * se), min(1.0, r + Z95 * se))


def _texts(lf: pl.LazyFrame, cols: Sequence[str], max_rows: int, seed: int, key: str = "request_id") -> pl.DataFrame:
    return sample_rows(lf, cols, max_rows, key=key, seed=seed)


# ---------------------------------------------------------------- refusals
def refusal_similarity(window: pl.LazyFrame | pl.DataFrame, baseline: pl.LazyFrame | pl.DataFrame | None = None, *,
                       examples: Sequence[str] = REFUSAL_EXAMPLES, threshold: float = 0.45,
                       max_rows: int = MAX_ROWS, seed: int = 0, alpha: float | None = None,
                       min_increase: float | None = None, thresholds: TextRateThresholds | None = None) -> TextRate:
    """Refusal rate of responses: the pattern list or a paraphrase of an example refusal.

    Each of the first four sentences of a sampled response is compared with ``examples`` by the
    cosine of character 3-5-gram TF-IDF vectors (scikit-learn, fitted on the examples and the
    sampled sentences of both frames); a response counts when a sentence reaches ``threshold``
    or the response matches :data:`~workbench.evidence.llm_text.REFUSAL_PATTERNS`. The rate has
    a Wilson interval per frame; with a ``baseline``, a one-sided two-proportion test.

    Parameters
    ----------
    window, baseline : LazyFrame or DataFrame
        Calls with ``response_text`` (and ``request_id``, which chooses the sample).
    examples : sequence of str
        Example refusals; the default is :data:`REFUSAL_EXAMPLES`.
    threshold : float, default 0.45
        Cosine similarity from which a sentence is a paraphrased refusal.
    max_rows : int
        Rows sampled per frame.
    alpha, min_increase : float, optional
        Override the fields of ``thresholds`` (:class:`TextRateThresholds`).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    _check_fraction("threshold", threshold)
    th = overridden(thresholds or TextRateThresholds(min_increase=0.01), alpha=alpha, min_increase=min_increase)
    frames = [_frame(f, ["response_text"], "refusal_similarity") for f in (window, baseline) if f is not None]
    samples = [_texts(f, ["response_text"], max_rows, seed)["response_text"].fill_null("").to_list() for f in frames]
    sents = [[[s for s in _SENTENCE.split(t.strip()) if s][:4] for t in texts] for texts in samples]
    flat = [s[:300] for group in sents for ss in group for s in ss]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True)
    vec.fit(list(examples) + flat)
    ex = vec.transform(list(examples))
    pattern = re.compile(refusal_regex())
    counts, shown = [], []
    for texts, groups in zip(samples, sents):
        lens = [len(ss) for ss in groups]
        pieces = [s[:300] for ss in groups for s in ss]
        sim = np.asarray((vec.transform(pieces) @ ex.T).max(axis=1).todense()).ravel() if pieces else np.zeros(0)
        best = np.zeros(len(texts))
        starts = np.cumsum([0, *lens])[:-1]
        for i, (a, m) in enumerate(zip(starts, lens)):
            if m:
                best[i] = sim[a:a + m].max()
        pat = np.array([bool(pattern.search(t.lower())) for t in texts], dtype=bool)
        hit = pat | (best >= threshold)
        counts.append((int(hit.sum()), len(texts), int(pat.sum()), int((hit & ~pat).sum())))
        shown.append([excerpt(texts[i]) for i in np.flatnonzero(hit & ~pat)[:3]] +
                     [excerpt(texts[i]) for i in np.flatnonzero(pat)[:3]])
    w, b = counts[0], (counts[1] if len(counts) > 1 else None)
    meta = {"threshold": threshold, "examples": len(examples), "patterns": len(REFUSAL_PATTERNS),
            "window_pattern_hits": w[2], "window_paraphrase_hits": w[3],
            "method": "patterns or char 3-5-gram TF-IDF cosine >= threshold to an example refusal"}
    if b is not None:
        meta.update(baseline_pattern_hits=b[2], baseline_paraphrase_hits=b[3])
    return _rate("refusal_rate", "responses", w[:2], b[:2] if b else None, th, examples=shown[0], meta=meta)


# ---------------------------------------------------------------- unsupported sentences
def _unsupported(resp: str | None, ctx: str | None, support: float) -> tuple[int, int, str | None]:
    """(unsupported sentences, sentences with a content word, the first unsupported sentence)."""
    if not resp or not ctx:
        return 0, 0, None
    known = content_words(ctx)
    bad = total = 0
    first = None
    for s in _SENTENCE.split(resp):
        words = content_words(s)
        if not words:
            continue
        total += 1
        if len(words & known) / len(words) < support:
            bad += 1
            first = first or s
    return bad, total, first


def unsupported_sentence_rate(window: pl.LazyFrame | pl.DataFrame,
                              baseline: pl.LazyFrame | pl.DataFrame | None = None, *, support: float = 0.5,
                              max_rows: int = MAX_ROWS, seed: int = 0, alpha: float | None = None,
                              min_increase: float | None = None,
                              thresholds: TextRateThresholds | None = None) -> TextRate:
    """Share of response sentences with less than ``support`` of their content words in the context.

    Sentences end at ``.``, ``!``, ``?`` followed by a space, or a line break; a sentence without
    a content word (as :func:`~workbench.evidence.llm_text.content_words` defines them) is not
    counted, nor are rows without a response or a context, nor responses that match the refusal
    patterns (a refusal is not a claim about the context). Sentences of one response are not
    independent, so the interval and the test use cluster-robust (per-response) standard errors.
    """
    _check_fraction("support", support)
    th = overridden(thresholds or TextRateThresholds(min_increase=0.05), alpha=alpha, min_increase=min_increase)
    parts, shown = [], []
    for f in (window, baseline):
        if f is None:
            continue
        df = _texts(_frame(f, ["response_text", "context_text"], "unsupported_sentence_rate"),
                    ["response_text", "context_text"], max_rows, seed)
        refusal = re.compile(refusal_regex())
        # a refusal says nothing about the context: not a sentence the context should support
        res = [_unsupported(r, c, support) if not (r and refusal.search(r.lower())) else (0, 0, None)
               for r, c in zip(df["response_text"], df["context_text"])]
        bad = np.array([x[0] for x in res], dtype=float)
        tot = np.array([x[1] for x in res], dtype=float)
        parts.append((int(bad.sum()), int(tot.sum()), _ratio(bad[tot > 0], tot[tot > 0]), int((tot > 0).sum())))
        shown.append([excerpt(x[2]) for x in res if x[2]][:3])
    w, b = parts[0], (parts[1] if len(parts) > 1 else None)
    meta = {"support": support, "window_responses": w[3],
            "method": "content words of each sentence found among the words of the retrieved context"}
    if b is not None:
        meta["baseline_responses"] = b[3]
    return _rate("unsupported_sentence_rate", "sentences", w[:2], b[:2] if b else None, th, ci_w=w[2][2],
                 ci_b=b[2][2] if b else None, se=(w[2][1], b[2][1]) if b else None, examples=shown[0], meta=meta)


# ---------------------------------------------------------------- re-asks
def _reasks(df: pl.DataFrame, similarity: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per conversation: turns after the first, and those near-identical to an earlier prompt."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    df = df.filter(pl.col("conversation_id").is_not_null()).with_columns(pl.col("prompt_text").fill_null(""))
    df = df.sort(["conversation_id", "timestamp", "request_id"] if "request_id" in df.columns
                 else ["conversation_id", "timestamp"])
    if df.is_empty():
        return np.zeros(0), np.zeros(0), []
    conv = df["conversation_id"].to_numpy()
    texts = df["prompt_text"].to_list()
    x = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(texts)
    starts = np.flatnonzero(np.r_[True, conv[1:] != conv[:-1]])
    ends = np.r_[starts[1:], len(conv)]
    i_idx, j_idx = [], []
    for a, e in zip(starts, ends):
        for i in range(a + 1, e):
            i_idx.extend([i] * (i - a))
            j_idx.extend(range(a, i))
    again = np.zeros(len(conv), dtype=bool)
    if i_idx:
        i_arr, j_arr = np.array(i_idx), np.array(j_idx)
        sims = np.asarray(x[i_arr].multiply(x[j_arr]).sum(axis=1)).ravel()
        np.logical_or.at(again, i_arr, sims >= similarity)
    turns = (ends - starts - 1).astype(float)
    hits = np.add.reduceat(again.astype(float), starts)
    return hits, turns, [excerpt(texts[i]) for i in np.flatnonzero(again)[:3]]


def reask_rate(window: pl.LazyFrame | pl.DataFrame, baseline: pl.LazyFrame | pl.DataFrame | None = None, *,
               similarity: float = 0.8, max_rows: int = MAX_ROWS, seed: int = 0, alpha: float | None = None,
               min_increase: float | None = None, thresholds: TextRateThresholds | None = None) -> TextRate:
    """Share of conversation turns whose prompt is near-identical to an earlier prompt of the
    same conversation (a user asking again: the answer did not help).

    Turns are ordered by ``timestamp``; a turn after the first counts when the cosine of the
    character 3-5-gram TF-IDF vectors of its prompt and of any earlier prompt of the conversation
    is at least ``similarity``. Whole conversations are sampled (by a hash of
    ``conversation_id``), and the interval and test are cluster-robust per conversation.
    """
    _check_fraction("similarity", similarity)
    th = overridden(thresholds or TextRateThresholds(), alpha=alpha, min_increase=min_increase)
    cols = ["conversation_id", "timestamp", "prompt_text"]
    parts, shown = [], []
    for f in (window, baseline):
        if f is None:
            continue
        lf = _frame(f, cols, "reask_rate")
        df = sample_rows(lf, [*cols, "request_id"], max_rows, key="conversation_id", seed=seed)
        hits, turns, ex = _reasks(df, similarity)
        parts.append((int(hits.sum()), int(turns.sum()), _ratio(hits, turns), len(turns)))
        shown.append(ex)
    w, b = parts[0], (parts[1] if len(parts) > 1 else None)
    meta = {"similarity": similarity, "window_conversations": w[3],
            "method": "char 3-5-gram TF-IDF cosine to an earlier prompt of the conversation"}
    if b is not None:
        meta["baseline_conversations"] = b[3]
    return _rate("reask_rate", "turns", w[:2], b[:2] if b else None, th, ci_w=w[2][2], ci_b=b[2][2] if b else None,
                 se=(w[2][1], b[2][1]) if b else None, examples=shown[0], meta=meta)


# ---------------------------------------------------------------- leaked personal data
@dataclass(frozen=True, repr=False)
class LeakedPII(Result):
    """Personal data in responses that the same row's prompt did not contain (counts only).

    ``kinds`` holds, per kind of personal data: responses scanned, responses with a leaked value
    (``hits``), their share with a Wilson interval, responses whose values all came from the
    prompt (``echoed``), and ``flagged`` (at least ``min_hits`` rows and ``min_share``).
    Never a matched value.
    """

    rows: int
    kinds: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[dict[str, Any]]:
        return [k for k in self.kinds if k["flagged"]]

    def _summary(self) -> str:
        return f"rows={self.rows}, leaked={[(k['kind'], k['hits']) for k in self.kinds if k['hits']]}"

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        rows = [{"kind": k["kind"], "hits": k["hits"], "share": k["share"], "ci": k["ci"], "echoed": k["echoed"],
                 "flagged": k["flagged"]} for k in self.kinds if k["hits"] or k["echoed"]]
        return block("Personal data leaked in responses", f"of {self.rows:,} responses: "
                     + (f"{len(self.flagged)} kinds leaked" if self.flagged else "no leak flagged"),
                     *([table(rows, units={"echoed": "rows"})] if rows else []))


def _norm(v: str) -> str:
    return re.sub(r"[\s().-]", "", v).lower()


_VALID = {"card": luhn_valid, "iban": iban_valid}


def leaked_pii(frame: pl.LazyFrame | pl.DataFrame, *, sources: Sequence[str] = ("prompt_text",),
               max_rows: int | None = MAX_ROWS, seed: int = 0, min_hits: int | None = None,
               min_share: float | None = None, thresholds: PIIThresholds | None = None) -> LeakedPII:
    """Count responses with personal data that the row's own prompt did not contain.

    The patterns are the PII scanner's (:data:`workbench.evidence.pii.PII_PATTERNS`; card and
    IBAN candidates must pass their check digits). A value in the response counts as leaked
    unless the same value (spaces, dots, dashes and brackets ignored, case-insensitive) occurs in
    one of the row's ``sources`` columns (default the prompt: a user's own e-mail address echoed
    back is not a leak; add ``"context_text"`` to allow what the retrieved documents hold).

    Parameters
    ----------
    frame : LazyFrame or DataFrame
        Calls with ``response_text``.
    sources : sequence of str
        Columns whose values the response may repeat; those absent from the frame are ignored.
    max_rows : int or None
        Rows sampled by request-id hash; None scans every row (streaming, the filter first).
    min_hits, min_share : int, float
        Override :class:`~workbench.evidence.pii.PIIThresholds` (when a kind is flagged).
    """
    th = overridden(thresholds or PIIThresholds(), min_hits=min_hits, min_share=min_share)
    lf = _frame(frame, ["response_text"], "leaked_pii")
    names = lf.collect_schema().names()
    srcs = [c for c in sources if c in names and c != "response_text"]
    if max_rows is not None:
        lf = sample_rows(lf, ["response_text", *srcs], max_rows, seed=seed).lazy()
    else:
        lf = lf.select("response_text", *srcs)
    any_match = "|".join(f"(?:{p})" for p in PII_PATTERNS.values())
    q = lf.with_columns(pl.col("response_text").str.contains(any_match).fill_null(False).alias("__any"))
    total = q.select(pl.len()).collect(engine="streaming").item()
    cand = q.filter(pl.col("__any")).collect(engine="streaming")
    kinds = []
    for kind, pattern in PII_PATTERNS.items():
        rx = re.compile(pattern)
        hits = echoed = 0
        for row in cand.iter_rows(named=True):
            found = [m.group(0) for m in rx.finditer(row["response_text"])]
            if kind in _VALID:
                found = [v for v in found if _VALID[kind](v)]
            if not found:
                continue
            own = "".join(_norm(row[c] or "") for c in srcs)
            if any(_norm(v) not in own for v in found):
                hits += 1
            else:
                echoed += 1
        share = hits / total if total else 0.0
        kinds.append({"kind": kind, "rows": total, "hits": hits, "share": share, "ci": wilson(hits, total),
                      "echoed": echoed, "flagged": hits >= th.min_hits and share >= th.min_share})
    return LeakedPII(rows=total, kinds=kinds, meta={"sources": tuple(srcs), "min_hits": th.min_hits,
                                                   "min_share": th.min_share, "sampled": max_rows is not None})


def _check_fraction(name: str, v: float) -> None:
    if not 0 < v <= 1:
        msg = f"{name} must be in (0, 1]"
        raise InvalidValueError(msg, expected="a share or a cosine similarity in (0, 1]", found=repr(v))

