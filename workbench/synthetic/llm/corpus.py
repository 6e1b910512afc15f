"""A lake's knowledge base and query pool, drawn from the app's topic vocabularies.

Documents are a few knowledge-base sentences each, with ids like ``kb-0421``; every topic also has
answer sentences that no document supports (what a model says when it does not use its context).
Each canonical query knows its ranked candidate documents and base relevance scores; some
candidates exist only in later index builds (documents a benign rebuild adds, or documents carrying
contact details that a ``pii_leak`` rebuild pulls in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.synthetic.llm.vocab import PERIODS, TEMPLATES
from workbench.synthetic.pii import emails, phones

__all__ = ["CANDIDATES", "Corpus", "build_corpus"]

#: candidate documents ranked per query
CANDIDATES = 6
_PII_SENTENCES = (
    "For urgent cases, contact {name} directly at {email} or call {phone}.",
    "Escalations are handled by {name} ({email}, {phone}).",
    "If this fails, write to {name} at {email} or phone {phone} during office hours.",
)
_NUMBERS = (2, 3, 5, 7, 10, 14, 30)
_STAFF = ("Maria Rossi", "Tom Becker", "Aisha Khan", "Lucas Moreau", "Sofia Jansen", "Daniel Kim", "Nina Patel")


@dataclass(frozen=True)
class Corpus:
    """Documents, unsupported answer sentences and queries of one lake."""

    topics: tuple[str, ...]
    doc_ids: tuple[str, ...]
    doc_topic: np.ndarray
    doc_sents: tuple[tuple[str, ...], ...]
    doc_text: tuple[str, ...]
    doc_kind: np.ndarray  # 0 original, 1 added by a benign rebuild, 2 carries contact details
    generic: tuple[tuple[str, ...], ...]  # per topic
    queries: tuple[str, ...]
    query_details: tuple[tuple[str, ...], ...]
    query_topic: np.ndarray
    query_docs: np.ndarray  # (n_queries, CANDIDATES) document indices, best first; the first two answer it
    query_scores: np.ndarray  # (n_queries, CANDIDATES)
    query_difficulty: np.ndarray
    topic_queries: tuple[np.ndarray, ...]


def _fill(template: str, nouns, verbs, rng: np.random.Generator) -> str:
    n, m, v, k, k2, p = rng.random(6)
    first = int(n * len(nouns))
    other = (first + 1 + int(m * (len(nouns) - 1))) % len(nouns)
    return template.format(n=nouns[first], m=nouns[other], v=verbs[int(v * len(verbs))],
                           k=_NUMBERS[int(k * len(_NUMBERS))], k2=1000 + int(k2 * 98999),
                           p=PERIODS[int(p * len(PERIODS))])


def _some(rng: np.random.Generator, n: int, k: int) -> list[int]:
    """``k`` distinct indices below ``n`` (cheaper than ``choice(replace=False)`` for tiny ``n``)."""
    return rng.random(n).argsort()[:k].tolist()


def _doc_ids(rng: np.random.Generator, n: int, prefix: str) -> list[str]:
    numbers = rng.choice(10_000, size=n, replace=False)
    return [f"{prefix}-{int(k):04d}" for k in numbers]


def build_corpus(rng: np.random.Generator, vocab: dict, topics: tuple[str, ...], *, app: str,
                 pii_topics: tuple[int, ...] = ()) -> Corpus:
    """Documents, generic sentences and queries of ``app`` for ``topics`` (names keyed in ``vocab``)."""
    DOC_TEMPLATES, QUESTION_TEMPLATES, DETAILS, GENERIC_TEMPLATES = TEMPLATES[app]  # noqa: N806
    prefix = "kb" if app == "support_rag" else "doc"
    sents, kinds, dtopic = [], [], []
    for t, topic in enumerate(topics):
        nouns, verbs = vocab[topic]
        n_docs = int(rng.integers(18, 36))
        n_added = int(rng.integers(2, 5))
        for d in range(n_docs + n_added):
            k = int(rng.integers(2, 6))
            picks = _some(rng, len(DOC_TEMPLATES), k)
            sents.append(tuple(_fill(DOC_TEMPLATES[int(i)], nouns, verbs, rng) for i in picks))
            kinds.append(0 if d < n_docs else 1)
            dtopic.append(t)
        if t in pii_topics:
            contacts = zip(emails(rng, 3).to_list(), phones(rng, 3).to_list())
            for email, phone in contacts:
                name = _STAFF[int(rng.integers(len(_STAFF)))]
                line = _PII_SENTENCES[int(rng.integers(len(_PII_SENTENCES)))].format(name=name, email=email,
                                                                                     phone=phone)
                body = [_fill(DOC_TEMPLATES[int(i)], nouns, verbs, rng)
                        for i in _some(rng, len(DOC_TEMPLATES), 2)]
                sents.append((body[0], line, body[1]))
                kinds.append(2)
                dtopic.append(t)
    doc_topic = np.array(dtopic, dtype=np.int32)
    doc_kind = np.array(kinds, dtype=np.int8)
    ids = _doc_ids(rng, len(sents), prefix)

    generic = []
    for topic in topics:
        nouns, verbs = vocab[topic]
        generic.append(tuple(_fill(GENERIC_TEMPLATES[int(rng.integers(len(GENERIC_TEMPLATES)))], nouns, verbs, rng)
                             for _ in range(24)))

    queries, details, qtopic, qdocs, qscores, qdiff = [], [], [], [], [], []
    for t, topic in enumerate(topics):
        nouns, verbs = vocab[topic]
        own = np.flatnonzero(doc_topic == t)
        base = own[doc_kind[own] == 0]
        extra = own[doc_kind[own] == 1]
        contact = own[doc_kind[own] == 2]
        for _ in range(int(rng.integers(25, 40))):
            queries.append(_fill(QUESTION_TEMPLATES[int(rng.integers(len(QUESTION_TEMPLATES)))], nouns, verbs, rng))
            details.append(tuple(_fill(DETAILS[int(i)], nouns, verbs, rng)
                                 for i in _some(rng, len(DETAILS), 5)))
            cand = base[_some(rng, base.size, CANDIDATES)].tolist()
            if extra.size and rng.random() < 0.35:  # a later document ranks high for this query
                cand.insert(int(rng.integers(2, 5)), int(rng.choice(extra)))  # below the answering pair
                cand = cand[:CANDIDATES]
            if contact.size and rng.random() < 0.6:  # contact pages rank first once indexed
                cand = [int(rng.choice(contact))] + cand[:CANDIDATES - 1]
            qdocs.append(cand)
            top = rng.uniform(0.78, 0.93)
            steps = rng.uniform(0.02, 0.09, CANDIDATES - 1)
            steps[1] += rng.uniform(0.08, 0.2)  # past the answering pair, matches are markedly weaker
            qscores.append(np.round(top - np.cumsum(np.r_[0.0, steps]), 4))
            qtopic.append(t)
            qdiff.append(rng.beta(2.0, 2.5))
    qt = np.array(qtopic, dtype=np.int32)
    return Corpus(
        topics=tuple(topics), doc_ids=tuple(ids), doc_topic=doc_topic, doc_sents=tuple(sents),
        doc_text=tuple(" ".join(s) for s in sents), doc_kind=doc_kind, generic=tuple(generic),
        queries=tuple(queries), query_details=tuple(details), query_topic=qt,
        query_docs=np.array(qdocs, dtype=np.int32), query_scores=np.array(qscores),
        query_difficulty=np.array(qdiff), topic_queries=tuple(np.flatnonzero(qt == t) for t in range(len(topics))),
    )
