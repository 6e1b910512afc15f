"""Row detectors of LLM calls (workbench.evidence.llm_rows, llm_topics) on synthetic chat traffic.

The traffic is built here from topic vocabularies (varied prompts, grounded answers, citations,
refusals phrased many ways, conversations with re-asks, personal data in prompts): a healthy
baseline and window come from the same process with different seeds; a changed window injects
one change of a given size.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

import numpy as np
import polars as pl
import pytest

from workbench.evidence.llm_rows import (LeakedPII, TextRate, leaked_pii, reask_rate, refusal_similarity,
                                         sample_rows, unsupported_sentence_rate)
from workbench.evidence.llm_text import excerpt, redact
from workbench.evidence.llm_topics import NewTopics, new_topics
from workbench.exceptions import ColumnNotFoundError, InsufficientDataError, InvalidValueError

SYL = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "zen", "bra", "cor", "del", "fin", "gar", "hul", "pra",
       "ster", "mon", "qui", "tal"]


def _vocab(rng, n):
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYL, size=rng.integers(2, 4))))
    return sorted(words)


_VOCAB_RNG = np.random.default_rng(12345)
TOPICS = [_vocab(_VOCAB_RNG, 25) for _ in range(14)]  # the last two are only ever "new"
ASK = ["How do I {a} the {b}?", "Why does my {a} keep {b} after the {c}?", "Can you explain {a} and {b}?",
       "What is the best way to {a} a {b} with {c}", "my {a} {b} is broken, {c} does not work",
       "Is it possible to {a} {b} without {c}?", "Please tell me about {a} {b}.", "{a} {b} {c} help"]
SAY = ["The {a} controls the {b}.", "To {a} it, open {b} and choose {c}.", "Your {a} needs a {b} first.",
       "{a} and {b} are covered by the {c} policy.", "After {a}, the {b} is reset within {n} days.",
       "Check the {a} panel, then the {b} tab."]
INVENT = ["The {a} of {b} is {c}.", "{a} is by {b} for {c}.", "As of {a}, {b} is {c}."]  # no word of the context
REFUSE = ["I'm sorry, but I can't help with that.", "I cannot help with account changes for other people.",
          "Unfortunately, I am unable to assist with this request.", "I'm not able to share that."]
PARAPHRASE = ["Regrettably, that's not something I am able to assist you with.",
              "Sorry, this request is outside of what I can help you with.",
              "My apologies, but I am unable to process that kind of request.",
              "I'm afraid that is beyond what I'm able to help with."]


@dataclass
class Change:
    refusal: float = 0.0        # extra share of responses that are paraphrased refusals
    unsupported: float = 0.0    # extra share of responses whose sentences come from another topic
    reask: float = 0.0          # extra chance that a turn repeats an earlier prompt
    new_topic: float = 0.0      # share of window prompts on an unseen topic
    leak: float = 0.0           # share of responses with an e-mail address not in the prompt


def traffic(n: int, seed: int, change: Change | None = None, topics: int = 12) -> pl.DataFrame:
    """``n`` calls in conversations of 1-4 turns (random numbers drawn up front: fast enough for
    100k rows)."""
    c = change or Change()
    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    m = n + 8
    turns = rng.integers(1, 5, m)
    conv_topic = np.where(rng.random(m) < c.new_topic, rng.integers(12, 14, m), rng.integers(0, topics, m))
    word = rng.integers(0, 25, (m, 12))
    other = rng.integers(0, 25, (m, 12))
    u = rng.random((m, 10))
    pick = rng.integers(0, 1000, (m, 8))
    rows = []
    conv = 0
    for i in range(n):
        if i == 0 or len(prompts) >= turns[conv]:
            conv += 1
            prompts: list[str] = []
        voc = TOPICS[conv_topic[conv]]
        w = [voc[j] for j in word[i]]
        if prompts and u[i, 0] < 0.04 + c.reask:
            p = ["", "again: ", "hello? "][pick[i, 0] % 3] + prompts[pick[i, 1] % len(prompts)]
            p = p.lower() if u[i, 1] < 0.5 else p
        else:
            p = ASK[pick[i, 0] % len(ASK)].format(a=w[0], b=w[1], c=w[2])
            if u[i, 1] < 0.05:
                p += f" my email is user{pick[i, 2]}@example.org"
        prompts.append(p)
        ctx = [SAY[pick[i, 3 + j] % len(SAY)].format(a=w[3 + 2 * j], b=w[4 + 2 * j], c=w[0], n=pick[i, j] % 28 + 2)
               for j in range(4)]
        ids = [f"doc-{conv_topic[conv]}-{pick[i, j] % 500}" for j in range(1 + pick[i, 7] % 3)]
        if u[i, 2] < 0.03:
            resp = REFUSE[pick[i, 4] % len(REFUSE)]
        elif u[i, 2] < 0.04 + c.refusal:
            resp = PARAPHRASE[pick[i, 4] % len(PARAPHRASE)]
        else:
            src = ctx
            if u[i, 3] < c.unsupported:
                ov = TOPICS[(conv_topic[conv] + 5) % 12]
                src = [INVENT[pick[i, 3 + j] % len(INVENT)].format(a=ov[other[i, j]], b=ov[other[i, j + 4]],
                                                                    c=ov[other[i, j + 8]]) for j in range(4)]
            k = 1 + pick[i, 5] % 3
            start = pick[i, 6] % 4
            resp = " ".join(src[(start + j) % 4] for j in range(k))
            if u[i, 4] < 0.3:
                resp += f" [{ids[0]}]"
            if "email is" in p and u[i, 5] < 0.5:
                resp += " We will write to " + p.split("email is ")[1] + "."
        if u[i, 6] < c.leak:
            resp += f" Contact agent{pick[i, 2]}.smith@corp-mail.com for details."
        rows.append((f"s{seed}-r{i}", f"s{seed}-c{conv}", t0 + dt.timedelta(minutes=i), p, resp, " ".join(ctx), ids))
    return pl.DataFrame(rows, schema=["request_id", "conversation_id", "timestamp", "prompt_text", "response_text",
                                      "context_text", "retrieved_ids"], orient="row")


SEEDS = [(1, 2), (3, 4), (5, 6)]


# ---------------------------------------------------------------- excerpt and sampling
def test_excerpt_redacts_and_cuts():
    text = "Mail jane.doe@example.com or +44 20 7946 0958, card 4111 1111 1111 1111, ip 10.1.2.3 " + "x" * 200
    e = excerpt(text)
    assert len(e) == 120 and e.endswith("…")
    for raw in ("jane.doe", "7946", "4111", "10.1.2.3"):
        assert raw not in e
    assert "[email]" in e and "[phone]" in e and "[card]" in e and "[ipv4]" in e
    assert excerpt(None) == "" and excerpt("  short\n text ") == "short text"
    # redacted before cutting: an address across the limit is not half shown
    assert "@" not in excerpt("a" * 110 + " someone@example.com")
    assert redact("order 12345 shipped") == "order 12345 shipped"


def test_sample_rows_is_by_hash_not_position_and_keeps_conversations_whole():
    df = traffic(3000, seed=9)
    a = sample_rows(df, ["prompt_text"], 500)
    b = sample_rows(df.reverse().lazy(), ["prompt_text"], 500)
    assert a.height == 500 and a.equals(b)
    assert not a["request_id"].equals(df["request_id"].head(500))
    conv = sample_rows(df, ["prompt_text"], 500, key="conversation_id")
    assert conv.height <= 500
    sizes = df.group_by("conversation_id").len()
    got = conv.group_by("conversation_id").len().join(sizes, on="conversation_id", suffix="_all")
    assert (got["len"] == got["len_all"]).all()  # every sampled conversation is whole


# ---------------------------------------------------------------- refusals
def test_refusal_similarity_catches_paraphrases_the_patterns_miss():
    texts = PARAPHRASE + ["The router needs a firmware update first.", "To reset it, open Settings and choose Reset."]
    df = pl.DataFrame({"request_id": [f"r{i}" for i in range(len(texts))], "response_text": texts})
    r = refusal_similarity(df)
    assert r.window_hits == len(PARAPHRASE) and r.window_n == len(texts)
    # "I am unable to" is in the pattern list; the three others only the similarity finds
    assert r.meta["window_pattern_hits"] == 1 and r.meta["window_paraphrase_hits"] == 3


@pytest.mark.parametrize("n, extra", [(4000, 0.04), (12000, 0.02)])
def test_refusal_similarity_flags_a_rise(n, extra):
    r = refusal_similarity(traffic(n, 11, Change(refusal=extra)), traffic(n, 12))
    assert r.flagged and r.difference == pytest.approx(extra, abs=0.012)
    assert r.window_ci[0] <= r.window_rate <= r.window_ci[1]
    assert r.baseline_rate == pytest.approx(0.04, abs=0.01)  # 3 % patterns + 1 % paraphrases


# ---------------------------------------------------------------- unsupported sentences
def test_unsupported_sentences_exact():
    df = pl.DataFrame({"request_id": ["a", "b", "c", "d"],
                       "response_text": ["Reset the router. Then call Kalamazoo headquarters tomorrow!", "Yes.", None,
                                         "I'm sorry, but I can't discuss salaries."],  # a refusal: not counted
                       "context_text": ["To reset a router press the button.", "anything", "context", "pay"]})
    r = unsupported_sentence_rate(df)
    # sentence 1 {reset, router} both found; sentence 2 {call, kalamazoo, headquarters, tomorrow} none
    assert (r.window_hits, r.window_n) == (1, 2)
    assert r.examples == ("Then call Kalamazoo headquarters tomorrow!",)


@pytest.mark.parametrize("n, extra", [(3000, 0.3), (10000, 0.1)])
def test_unsupported_sentences_flag_a_rise(n, extra):
    r = unsupported_sentence_rate(traffic(n, 21, Change(unsupported=extra)), traffic(n, 22))
    assert r.flagged and r.difference > extra / 2


# ---------------------------------------------------------------- re-asks
def test_reask_exact():
    t = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    df = pl.DataFrame({
        "request_id": ["1", "2", "3", "4", "5", "6"],
        "conversation_id": ["a", "a", "a", "b", "b", "c"],
        "timestamp": [t + dt.timedelta(minutes=m) for m in (0, 1, 2, 0, 1, 0)],
        "prompt_text": ["How do I reset my router password?", "What is the weather in Paris today?",
                        "how do I reset my router password??", "Cancel my order please",
                        "Where is my parcel right now?", "Hello"],
    })
    r = reask_rate(df.reverse())  # order of rows does not matter; timestamps do
    assert (r.window_hits, r.window_n) == (1, 3)  # turns after the first: a2, a3, b2; a3 repeats a1
    assert r.meta["window_conversations"] == 3


@pytest.mark.parametrize("n, extra", [(4000, 0.15), (12000, 0.06)])
def test_reask_flags_a_rise(n, extra):
    r = reask_rate(traffic(n, 31, Change(reask=extra)), traffic(n, 32))
    assert r.flagged and r.difference > extra / 3


# ---------------------------------------------------------------- leaked personal data
def test_leaked_pii_exact_and_never_raw():
    df = pl.DataFrame({
        "request_id": ["1", "2", "3", "4"],
        "prompt_text": ["my mail is Ann.Lee@example.com", "call me", "card?", None],
        "response_text": ["We wrote to ann.lee@example.com.",             # echoed (case ignored): no leak
                          "Call Bob on +1 415 555 0134 or bob@corp.io",    # two kinds leaked
                          "Card 4111 1111 1111 1112 is invalid; 4111-1111-1111-1111 is valid",  # one valid card
                          "Nothing here."],
    })
    r = leaked_pii(df, min_hits=1, min_share=0.0)
    by = {k["kind"]: k for k in r.kinds}
    assert r.rows == 4
    assert (by["email"]["hits"], by["email"]["echoed"]) == (1, 1)
    assert by["phone"]["hits"] == 1 and by["card"]["hits"] == 1 and by["iban"]["hits"] == 0
    assert {k["kind"] for k in r.flagged} == {"email", "phone", "card"}
    dump = json.dumps(r.to_dict()) + repr(r) + r._repr_html_()
    for raw in ("ann.lee", "bob@corp", "555 0134", "4111"):
        assert raw not in dump.lower()


@pytest.mark.parametrize("n, share", [(3000, 0.01), (10000, 0.003)])
def test_leaked_pii_flags_injected_leaks_and_not_echoes(n, share):
    healthy = leaked_pii(traffic(n, 41))
    assert healthy.flagged == [] and {k["kind"]: k["echoed"] for k in healthy.kinds}["email"] > 0
    r = leaked_pii(traffic(n, 41, Change(leak=share)))
    assert [k["kind"] for k in r.flagged] == ["email"]
    assert {k["kind"]: k["share"] for k in r.kinds}["email"] == pytest.approx(share, rel=0.5)


# ---------------------------------------------------------------- new topics
@pytest.mark.parametrize("n, share", [(3000, 0.10), (8000, 0.05)])
def test_new_topics_finds_an_unseen_topic(n, share):
    r = new_topics(traffic(n, 51), traffic(n, 52, Change(new_topic=share)))
    assert r.flagged, r.topics[:3]
    new_words = set(TOPICS[12]) | set(TOPICS[13])
    found = sum(t["share"] for t in r.flagged)
    assert found == pytest.approx(share, abs=share / 2)
    for t in r.flagged:
        assert set(t["terms"]) & new_words and len(t["example"]) <= 120


def test_new_topics_with_embeddings():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(8, 16))

    def emb(n, seed, new=0.0):
        r = np.random.default_rng(seed)
        k = r.integers(0, 6, n)
        k[r.random(n) < new] = 7
        return pl.DataFrame({"request_id": [f"{seed}-{i}" for i in range(n)],
                             "query_embedding": (centres[k] + 0.3 * r.normal(size=(n, 16))).tolist()})

    assert new_topics(emb(3000, 1), emb(3000, 2)).flagged == []
    r = new_topics(emb(3000, 1), emb(3000, 3, new=0.08))
    assert r.method == "query_embedding" and sum(t["share"] for t in r.flagged) == pytest.approx(0.08, abs=0.03)


# ---------------------------------------------------------------- healthy data stays quiet
@pytest.mark.parametrize("seeds", SEEDS)
def test_healthy_is_quiet(seeds):
    base, win = traffic(8000, seeds[0]), traffic(8000, seeds[1])
    for r in (refusal_similarity(win, base), unsupported_sentence_rate(win, base), reask_rate(win, base)):
        assert not r.flagged, r
    assert new_topics(base, win).flagged == []
    assert leaked_pii(win).flagged == []


@pytest.mark.slow
def test_healthy_is_quiet_at_100k_rows():
    base, win = traffic(100_000, 61), traffic(100_000, 62)
    for r in (refusal_similarity(win, base), unsupported_sentence_rate(win, base), reask_rate(win, base)):
        assert not r.flagged, r
        assert r.window_n >= 10_000  # the sample (20k rows) is bounded, not tiny; turns after the first for re-asks
    assert new_topics(base, win).flagged == []
    assert leaked_pii(win).flagged == []


# ---------------------------------------------------------------- determinism, round trip, no raw text
def test_deterministic_round_trip_and_no_raw_personal_data():
    base, win = traffic(3000, 71), traffic(3000, 72, Change(refusal=0.05, leak=0.02, new_topic=0.1))
    runs = []
    for frame_b, frame_w in ((base, win), (base.reverse(), win.sample(fraction=1.0, shuffle=True, seed=1))):
        runs.append([refusal_similarity(frame_w, frame_b), unsupported_sentence_rate(frame_w, frame_b),
                     reask_rate(frame_w, frame_b), leaked_pii(frame_w), new_topics(frame_b, frame_w)])
    for a, b in zip(*runs):
        assert a.to_dict() == b.to_dict()
        assert type(a).from_dict(json.loads(json.dumps(a.to_dict()))).to_dict() == a.to_dict()
        dump = json.dumps(a.to_dict()) + repr(a) + a._repr_html_()
        assert not re.search(r"@example\.org|@corp-mail\.com", dump)
        for ex in a.to_dict().get("examples", []):
            assert len(ex) <= 120
    assert isinstance(runs[0][0], TextRate) and isinstance(runs[0][3], LeakedPII) and isinstance(runs[0][4], NewTopics)


def test_inputs_are_not_mutated():
    df = traffic(500, 81)
    before = df.clone()
    refusal_similarity(df, df)
    leaked_pii(df)
    assert df.equals(before)


def test_named_errors():
    with pytest.raises(ColumnNotFoundError, match="response_text"):
        refusal_similarity(pl.DataFrame({"x": [1]}))
    with pytest.raises(ColumnNotFoundError, match="conversation_id"):
        reask_rate(pl.DataFrame({"prompt_text": ["a"], "timestamp": [dt.datetime(2026, 1, 1)]}))
    with pytest.raises(InvalidValueError, match="similarity"):
        reask_rate(traffic(10, 1), similarity=1.5)
    with pytest.raises(InsufficientDataError, match="new_topics"):
        new_topics(traffic(50, 1), traffic(50, 2))
