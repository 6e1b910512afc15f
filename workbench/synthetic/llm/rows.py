"""The calls of an LLM lake: conversations, retrieval, answers, tokens, cost, latency and feedback.

Calls come in conversations of one to five turns. Each turn's query depends on the previous
answer (a dissatisfied user re-asks a near-identical question), so calls are simulated turn by
turn, vectorised over every conversation at that turn; only the final string assembly loops in
Python. Everything a call's behaviour depends on is looked up from the timeline entity that served
it (release, prompt version, index build, provider snapshot) — see :mod:`.scenario`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.synthetic.ids import mix64, request_ids, trace_ids
from workbench.synthetic.llm.corpus import CANDIDATES
from workbench.synthetic.llm.scenario import Scenario
from workbench.synthetic.llm.vocab import CLOSERS, MODELS, OPENERS, POLICY_FLAGS, POLICY_NOTICE, REFUSALS
from workbench.synthetic.pii import emails, phones
from workbench.synthetic.traffic import BIN_US, DAY_US, HOUR_US
from workbench.synthetic.world import stream

__all__ = ["Calls", "simulate"]

_TURNS = np.array([0.45, 0.25, 0.15, 0.1, 0.05])
_REASK = ("That didn't answer my question. ", "Again: ", "Sorry, to be clear: ", "I still need help. ",
          "Let me rephrase. ")
_CUTOFF = 0.45  # retrieval keeps documents scoring at least this


@dataclass(frozen=True)
class Calls:
    """Logged calls, their labels, and the ingress counts per five-minute bin and route."""

    predictions: pl.DataFrame
    labels: pl.DataFrame
    ingress: np.ndarray  # (bins, 2): primary, canary


def _times(sc: Scenario, rng, rows: int) -> np.ndarray:
    bins = sc.traffic.bins()
    mean_turns = float((_TURNS * np.arange(1, 6)).sum())
    capture = 1.0 - sc.natural_loss - (sc.loss_rate * max(sc.end_us - (sc.onset_us or sc.end_us), 0)
                                        / (sc.end_us - sc.start_us))
    traffic = sc.traffic.__class__(**{**sc.traffic.__dict__,
                                      "base": rows / (float(sc.traffic.shape(bins).sum()) * mean_turns * capture)})
    return np.concatenate([traffic.sample(rng, sc.start_us + d * DAY_US)
                           for d in range((sc.end_us - sc.start_us) // DAY_US)])


def _lookup(times: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.maximum(np.searchsorted(times, t, side="right") - 1, 0)


def _releases(sc: Scenario, t: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Release index and route (0 primary, 1 canary) of each call."""
    rel = np.zeros(t.size, dtype=np.int32)
    for i, r in enumerate(sc.releases):
        if r.promote_us is not None:
            rel[t >= r.promote_us] = i
    route = np.zeros(t.size, dtype=np.int8)
    for i, r in enumerate(sc.releases):
        end = r.promote_us if r.promote_us is not None else sc.end_us
        on = (t >= r.at_us) & (t < end) & (u * 100.0 < r.canary_pct)
        rel[on], route[on] = i, 1
    return rel, route


def _topic_of(sc: Scenario, rng, t: np.ndarray) -> np.ndarray:
    n = len(sc.corpus.topics) - 1  # the last topic is the one a drift introduces
    day = (t - sc.start_us) // DAY_US
    days = int(day.max()) + 1
    wobble = sc.topic_weights * np.exp(0.18 * rng.standard_normal((days, n)))
    cdf = np.cumsum(wobble / wobble.sum(axis=1, keepdims=True), axis=1)
    topic = (rng.random(t.size)[:, None] > cdf[day]).sum(axis=1).clip(0, n - 1).astype(np.int32)
    if sc.new_topic >= 0:
        since = (t - sc.onset_us).astype(np.float64)
        ramp = np.clip(since / sc.new_topic_ramp_us, 0, 1) if sc.new_topic_ramp_us else (since >= 0)
        share = np.where(since >= 0, sc.new_topic_share * ramp, 0.0)
        topic[rng.random(t.size) < share] = sc.new_topic
    return topic


def _retrieve(sc: Scenario, q: np.ndarray, build: np.ndarray, rng) -> tuple[np.ndarray, ...]:
    """Retrieved document indices (n, k) padded with -1, their scores, how many were found, and the
    share of the query's two answering documents among them."""
    corpus, n = sc.corpus, q.size
    docs = corpus.query_docs[q].copy()
    answering = docs[:, :2].copy()
    scores = corpus.query_scores[q] + rng.normal(0.0, 0.015, size=(n, CANDIDATES))
    broken_share = np.array([b.broken_share for b in sc.indexes])[build]
    hashed = mix64(q.astype(np.uint64) * np.uint64(1_000_003) + build.astype(np.uint64), sc.seed)
    broken = (hashed >> np.uint64(11)).astype(np.float64) / 2.0**53 < broken_share
    if broken.any():
        j = np.arange(CANDIDATES, dtype=np.uint64)
        h = mix64(hashed[broken][:, None] + j[None, :], 17)
        docs[broken] = (h % np.uint64(len(corpus.doc_ids))).astype(np.int32)
        scores[broken] = np.sort(0.36 + 0.24 * (h >> np.uint64(40)).astype(np.float64) / 2.0**24, axis=1)[:, ::-1]
    present = np.stack([b.present for b in sc.indexes])[build[:, None], docs] & (scores >= _CUTOFF)
    order = np.argsort(~present, axis=1, kind="stable")
    docs = np.take_along_axis(docs, order, axis=1)[:, : sc.top_k]
    scores = np.take_along_axis(scores, order, axis=1)[:, : sc.top_k]
    found = np.minimum(present.sum(axis=1), sc.top_k)
    valid = np.arange(sc.top_k)[None, :] < found[:, None]
    docs = np.where(valid, docs, -1)
    hit = (answering[:, :, None] == docs[:, None, :]).any(axis=2).mean(axis=1)
    return docs, np.where(valid, np.round(scores, 4), np.nan), found, hit


def _snapshot(sc: Scenario, model: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = np.zeros(t.size, dtype=np.int32)
    for m in range(len(sc.models)):
        idx = [i for i, s in enumerate(sc.snapshots) if s.model == m]
        times = np.array([sc.snapshots[i].at_us for i in idx])
        hit = model == m
        out[hit] = np.array(idx)[_lookup(times, t[hit])]
    return out


def _spec(sc: Scenario, m: int):
    p, name = sc.models[m]
    return MODELS[p][name]


_SLOTS = 40  # most sentences an answer can have


class _Tables:
    """Every sentence of the lake in one table, so answers are matrices of sentence ids assembled by
    polars, not strings built in a Python loop. Entries ``cited + i`` hold document sentence ``i``
    followed by its own citation (``... [kb-0421].``)."""

    def __init__(self, sc: Scenario):
        c = sc.corpus
        bodies, self.doc_start, self.doc_count = [], [], []
        for sents in c.doc_sents:
            self.doc_start.append(len(bodies))
            self.doc_count.append(len(sents))
            bodies.extend(x[:-1] for x in sents)
        n_doc_sents = len(bodies)
        owner = np.repeat(np.arange(len(c.doc_sents)), self.doc_count)
        self.gen_start, self.gen_count = [], []
        for sents in c.generic:
            self.gen_start.append(len(bodies))
            self.gen_count.append(len(sents))
            bodies.extend(x[:-1] for x in sents)
        self.removed = len(bodies)
        bodies.append("[removed by policy]")
        self.cited = len(bodies)
        self.bodies = pl.Series(bodies, dtype=pl.String)
        self.body_len = np.array([len(x) for x in bodies])
        self.id_len = np.array([len(x) for x in c.doc_ids])
        self.ids = pl.Series(list(c.doc_ids), dtype=pl.String)
        cited = [f"{b} [{c.doc_ids[d]}]." for b, d in zip(bodies[:n_doc_sents], owner.tolist())]
        self.sentences = pl.Series([b + "." for b in bodies] + cited, dtype=pl.String)
        self.doc_start, self.doc_count = np.array(self.doc_start), np.array(self.doc_count)
        self.gen_start, self.gen_count = np.array(self.gen_start), np.array(self.gen_count)
        self.doc_text = pl.Series(list(c.doc_text), dtype=pl.String)


def _gather(table: pl.Series, idx: np.ndarray) -> pl.Series:
    """``table[idx]`` with null where ``idx`` is negative."""
    if not (idx < 0).any():
        return table.gather(idx)
    return table.extend_constant(None, 1).gather(np.where(idx < 0, table.len(), idx))


def _answers(tab: _Tables, sent: np.ndarray, cite: np.ndarray, head: list[pl.Series], tail: pl.Series) -> pl.Series:
    """Join each row's sentences (with their citations) after ``head`` and before ``tail``.

    ``cite`` is -1 (no citation), -2 (the sentence's own document: a precomputed entry) or a
    document index (a citation of another document).
    """
    cols, exprs = {}, []
    for j in range(sent.shape[1]):
        sj, cj = sent[:, j], cite[:, j]
        if (sj < 0).all():
            break
        other = cj >= 0
        idx = np.where(cj == -2, tab.cited + sj, sj)
        if not other.any():
            cols[f"s{j}"] = _gather(tab.sentences, idx)
            exprs.append(pl.col(f"s{j}"))
            continue
        cols[f"s{j}"] = _gather(tab.sentences, np.where(other, -1, idx))
        cols[f"b{j}"] = _gather(tab.bodies, np.where(other, sj, -1))
        cols[f"c{j}"] = _gather(tab.ids, cj)
        exprs.append(pl.coalesce(f"s{j}", pl.concat_str([pl.col(f"b{j}"), pl.lit(" ["), pl.col(f"c{j}"), pl.lit("].")])))
    frame = pl.DataFrame({f"h{i}": h for i, h in enumerate(head)} | cols | {"tail": tail})
    parts = [pl.col(f"h{i}") for i in range(len(head))] + exprs + [pl.col("tail")]
    return frame.select(pl.concat_str(parts, separator=" ", ignore_nulls=True).alias("x")).to_series()


def _prompts(sc: Scenario, q, reask, n_det, opener, pii) -> pl.Series:
    c = sc.corpus
    queries = pl.Series(list(c.queries), dtype=pl.String)
    details = pl.Series([d for ds in c.query_details for d in ds], dtype=pl.String)
    width = len(c.query_details[0])
    lead = pl.Series(_REASK).gather(q % len(_REASK)).zip_with(pl.Series(reask), pl.Series(OPENERS).gather(opener))
    cols = {"lead": lead, "q": queries.gather(q)}
    for j in range(5):
        cols[f"d{j}"] = _gather(details, np.where(n_det > j, q * width + j, -1))
    cols["pii"] = pl.Series(pii, dtype=pl.String)
    frame = pl.DataFrame(cols)
    return frame.select(pl.concat_str([pl.concat_str(["lead", "q"]), "d0", "d1", "d2", "d3", "d4", "pii"], separator=" ",
                                      ignore_nulls=True)).to_series()


def _texts(sc: Scenario, rng, tab: _Tables, *, q, reask, conv, turn, c_pii, user_email, user_phone, thanks, echo,
           closer, sent, cite, length, kind, docs, scores) -> tuple:
    """Prompt, response and retrieval columns from the simulated ids: refusals, policy notices,
    content-filter and cut-off streams, and ``length`` truncation at the token limit."""
    n, max_chars = q.size, sc.max_tokens * 4
    n_det = rng.integers(2, 6, n)
    opener = rng.integers(0, len(OPENERS), n)
    own = np.where(turn == 0, c_pii[conv], 0)
    pii_text = pl.DataFrame({"e": user_email.gather(conv), "p": user_phone.gather(conv), "k": own}).select(
        pl.concat_str([pl.when(pl.col("k") % 2 == 1).then(pl.format("My email is {}.", "e")),
                       pl.when(pl.col("k") >= 2).then(pl.format("You can call me on {}.", "p"))],
                      separator=" ", ignore_nulls=True)).to_series()
    pii_text = pii_text.set(pl.Series(own == 0), None) if (own == 0).any() else pii_text
    prompt_text = _prompts(sc, q, reask, n_det, opener, pii_text)
    head = [_gather(pl.Series(["Thanks for reaching out."]), np.where(thanks, 0, -1)),
            pl.DataFrame({"e": user_email.gather(conv), "x": echo}).select(
                pl.when("x").then(pl.format("I have noted your contact details ({}).", "e"))).to_series()]
    tail = pl.Series(CLOSERS).gather(closer).replace("", None)
    answer = _answers(tab, sent, cite, head, tail)
    cut_at = np.maximum((rng.random(n) * length).astype(np.int64), 20)
    truncated = ((kind == 0) | (kind == 4)) & (length > max_chars)
    # now and then a stream is cut off mid-answer: no finish reason, a partial text
    cut_off = (kind == 0) & ~truncated & (stream(sc.seed, "llm", "cut-off").random(n) < 0.0015)
    refusal = pl.Series(REFUSALS).gather(rng.integers(0, len(REFUSALS), n))
    response_text = pl.DataFrame({"a": answer, "r": refusal, "k": kind, "cut": cut_at, "tr": truncated,
                                  "off": cut_off}).select(
        pl.when(pl.col("k") == 1).then("r")
        .when(pl.col("k") == 3).then(pl.lit(POLICY_NOTICE))
        .when((pl.col("k") == 2) | pl.col("off")).then(pl.col("a").str.slice(0, "cut"))
        .when("tr").then(pl.col("a").str.slice(0, max_chars))
        .otherwise("a")).to_series()
    doc_cols = {f"d{j}": _gather(tab.doc_text, docs[:, j]) for j in range(sc.top_k)}
    id_cols = {f"i{j}": _gather(tab.ids, docs[:, j]) for j in range(sc.top_k)}
    score_cols = {f"s{j}": pl.Series(scores[:, j]).fill_nan(None) for j in range(sc.top_k)}
    retrieval = pl.DataFrame(doc_cols | id_cols | score_cols).select(
        context=pl.concat_str(list(doc_cols), separator=" ", ignore_nulls=True),
        ids=pl.concat_list(list(id_cols)).list.drop_nulls(),
        scores=pl.concat_list(list(score_cols)).list.drop_nulls())

    return prompt_text, response_text, retrieval, truncated, cut_off


def _usage(sc: Scenario, rng, *, t, prompt, model, rel, turn, truncated, chars) -> tuple[np.ndarray, ...]:
    """Tokens (~4 characters each, plus the prompt version's system prompt and the conversation so
    far), cost at the model's price on the day, time to first token and latency (model speed x release)."""
    p_chars, r_chars, c_chars = chars
    n = prompt.size
    sys_tokens = np.array([p.system_tokens for p in sc.prompts])[prompt]
    history = turn * rng.integers(60, 140, n)
    input_tokens = (sys_tokens + np.ceil(p_chars / 4) + np.ceil(c_chars / 4) + history).astype(np.int64)
    output_tokens = np.ceil(r_chars / 4 * rng.uniform(0.92, 1.08, n)).astype(np.int64)
    output_tokens[truncated] = sc.max_tokens
    specs = [_spec(sc, m) for m in range(len(sc.models))]
    price_in = np.array([s[1] for s in specs])[model]
    price_out = np.array([s[2] for s in specs])[model]
    if sc.price_cut is not None:  # the price table's row in force at the call
        m, at, cut_in, cut_out = sc.price_cut
        now = (model == m) & (t >= at)
        price_in, price_out = np.where(now, cut_in, price_in), np.where(now, cut_out, price_out)
    cost = np.round(input_tokens / 1000 * price_in + output_tokens / 1000 * price_out, 8)
    ttft_base = np.array([s[3] for s in specs])[model]
    per_tok = np.array([s[4] for s in specs])[model]
    lat_m = np.array([r.latency_mult for r in sc.releases])[rel]
    ttft_m = np.array([r.ttft_mult for r in sc.releases])[rel]
    ttft = ttft_base * ttft_m * np.exp(rng.normal(0, 0.25, n)) + input_tokens * 0.04
    latency = (rng.uniform(25, 90, n) * (sc.app == "support_rag") + ttft
               + output_tokens * per_tok * lat_m * np.exp(rng.normal(0, 0.2, n)))
    return input_tokens, output_tokens, cost, ttft, latency


def _feedback(sc: Scenario, rng, t: np.ndarray, badness: np.ndarray, logged: np.ndarray) -> tuple[np.ndarray, ...]:
    """Thumbs (-1/0/1) from a minority of users, likelier and more negative after a bad answer,
    escalations, and when each became known (hours later); labels exist only for logged calls
    known before the end of the data."""
    n = t.size
    day = (t - sc.start_us) // DAY_US
    wobble = np.exp(0.15 * rng.standard_normal(int(day.max()) + 1))[day]
    gives = rng.random(n) < np.clip(sc.feedback_cov * wobble * (0.8 + 0.8 * badness), 0, 1)
    p_down = np.clip(0.02 + 0.5 * badness, 0, 0.9)
    fu = rng.random(n)
    feedback = np.where(fu < p_down, -1, np.where(fu < p_down + (1 - p_down) * 0.8, 1, 0))
    escalated = rng.random(n) < np.clip(0.008 + 0.12 * badness, 0, 1)
    lag = np.exp(rng.normal(np.log(sc.label_lag_h[0] * 3), sc.label_lag_h[1], n)) * HOUR_US
    labeled_at = (t + np.clip(lag, 60e6, 5 * DAY_US)).astype(np.int64) // 1000 * 1000
    has_label = (gives | escalated) & (labeled_at < sc.end_us) & logged
    return feedback, gives, escalated, labeled_at, has_label


def simulate(sc: Scenario, rows: int) -> Calls:
    """Every call of the lake (see the module docstring)."""
    rng = stream(sc.seed, "llm", "rows")
    starts = _times(sc, rng, rows)
    n_conv = starts.size
    turns = rng.choice(5, size=n_conv, p=_TURNS) + 1
    conv = np.repeat(np.arange(n_conv), turns)
    first = np.repeat(np.cumsum(turns) - turns, turns)
    turn = np.arange(conv.size) - first
    gaps = np.exp(rng.normal(4.2, 0.7, size=conv.size)) * 1e6  # ~70 s between turns
    gaps[turn == 0] = 0
    t = (starts[conv] + (np.cumsum(gaps) - np.cumsum(gaps)[first])).astype(np.int64) // 1000 * 1000
    keep = t < sc.end_us
    conv, turn, t = conv[keep], turn[keep], t[keep]
    order = np.argsort(t, kind="stable")
    conv, turn, t = conv[order], turn[order], t[order]
    n = t.size

    # per conversation: topic, and whether the user pastes their own e-mail (1) or phone (2)
    c_topic = _topic_of(sc, rng, starts)
    c_pii = np.where(rng.random(n_conv) < 0.04, 1, 0) + np.where(rng.random(n_conv) < 0.025, 2, 0)
    user_email = emails(rng, n_conv)
    user_phone = phones(rng, n_conv)
    conv_key = int(rng.integers(0, 2**62))

    rel, route = _releases(sc, t, rng.random(n))
    prompt = _lookup(np.array([p.at_us for p in sc.prompts]), t)
    build = _lookup(np.array([b.at_us for b in sc.indexes]), t)
    topic = c_topic[conv]

    tab = _Tables(sc)
    corpus = sc.corpus
    q = np.zeros(n, dtype=np.int64)
    reask = np.zeros(n, dtype=bool)
    badness = np.zeros(n)
    model = np.zeros(n, dtype=np.int64)
    r_score = np.zeros(n)
    docs = np.full((n, sc.top_k), -1, dtype=np.int64)
    scores = np.full((n, sc.top_k), np.nan)
    kind = np.zeros(n, dtype=np.int8)  # 0 answer, 1 refusal, 2 content filter, 3 blocked, 4 rewritten
    sent = np.full((n, _SLOTS), -1, dtype=np.int64)
    cite = np.full((n, _SLOTS), -1, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    wrong_cite = np.zeros(n, dtype=bool)
    thanks = np.zeros(n, dtype=bool)
    echo = np.zeros(n, dtype=bool)
    closer = np.zeros(n, dtype=np.int64)

    threshold = np.array([r.threshold for r in sc.releases])
    big = np.array([r.model for r in sc.releases])
    small = np.array([r.small for r in sc.releases])
    p_g = np.array([p.g_delta for p in sc.prompts])
    p_len = np.array([p.length_mult for p in sc.prompts])
    p_ref = np.array([p.refusal_add for p in sc.prompts])
    p_cite = np.array([("cite", "none", "wrong").index(p.cite) for p in sc.prompts])
    s_g = np.array([s.g_delta for s in sc.snapshots])
    s_len = np.array([s.length_mult for s in sc.snapshots])
    s_ref = np.array([s.refusal_add for s in sc.snapshots])
    quality = np.array([_spec(sc, m)[5] for m in range(len(sc.models))])
    block = np.array([r.block for r in sc.releases])
    rewrite = np.array([r.rewrite for r in sc.releases])
    closer_len = np.array([len(x) + 1 if x else 0 for x in CLOSERS])
    email_len = user_email.str.len_chars().to_numpy()
    max_chars = sc.max_tokens * 4
    last_row = np.full(n_conv, -1)

    for k in range(5):
        idx = np.flatnonzero(turn == k)
        if not idx.size:
            continue
        m = idx.size
        tq = topic[idx]
        pools = corpus.topic_queries
        pick = rng.random(m)
        new_q = np.array([pools[tt][int(u * len(pools[tt]))] for tt, u in zip(tq.tolist(), pick.tolist())],
                         dtype=np.int64)
        if k:
            prev = last_row[conv[idx]]
            again = rng.random(m) < 0.02 + 0.4 * badness[prev]
            reask[idx] = again
            q[idx] = np.where(again, q[prev], new_q)
        else:
            q[idx] = new_q
        qi, ri, pi = q[idx], rel[idx], prompt[idx]
        if sc.app == "search_router":
            r_score[idx] = np.clip(corpus.query_difficulty[qi] + rng.normal(0, 0.07, m), 0, 1).round(4)
            model[idx] = np.where(r_score[idx] >= threshold[ri], big[ri], small[ri])
        else:
            model[idx] = big[ri]
        snap = _snapshot(sc, model[idx], t[idx])
        d, sc_, f, hit = _retrieve(sc, qi, build[idx], rng)
        docs[idx], scores[idx] = d, sc_
        relevant = (d >= 0) & (corpus.doc_topic[np.maximum(d, 0)] == corpus.query_topic[qi][:, None])
        relevance = relevant.sum(axis=1) / np.maximum(f, 1)
        g0 = rng.beta(12 * sc.g_mean, 12 * (1 - sc.g_mean), m) + quality[model[idx]] - quality[0]
        if sc.app == "search_router":
            hard = np.maximum(corpus.query_difficulty[qi] - 0.3, 0)  # the small model fails hard queries
            g0 -= np.where(model[idx] == small[ri], 0.8 * hard, 0)
        # answers are grounded as far as the context is on topic and holds the answering documents
        g = np.clip(g0 * relevance * (0.55 + 0.45 * hit) - p_g[pi] - s_g[snap], 0, 1)
        u = rng.random((m, 4))
        refuse = u[:, 0] < sc.refusal_base + p_ref[pi] + s_ref[snap]
        cfilter = ~refuse & (u[:, 1] < sc.filter_base)
        blocked = ~refuse & ~cfilter & (u[:, 2] < block[ri])
        rewritten = ~refuse & ~cfilter & ~blocked & (u[:, 2] < block[ri] + rewrite[ri])
        kd = np.select([refuse, cfilter, blocked, rewritten], [1, 2, 3, 4], 0).astype(np.int8)
        kind[idx] = kd
        mu = np.log(4.2 if sc.app == "support_rag" else 5.0)
        verbose = np.where(rng.random(m) < 0.006, 3.0, 1.0)  # now and then a long-form answer runs out of tokens
        n_sent = np.clip(np.round(np.exp(rng.normal(mu, 0.35, m)) * p_len[pi] * s_len[snap] * verbose), 2, _SLOTS)
        n_sent = n_sent.astype(np.int64)
        grounded = np.where(f > 0, np.round(g * n_sent), 0).astype(np.int64)
        available = np.where(d >= 0, tab.doc_count[np.maximum(d, 0)], 0).sum(axis=1)
        grounded = np.minimum(grounded, available)  # an answer quotes each retrieved sentence at most once

        # sentence ids: grounded slots cycle through the retrieved documents, the rest are generic
        width = int(n_sent.max())
        slots = np.arange(width)[None, :]
        active = slots < n_sent[:, None]
        from_doc = slots < grounded[:, None]
        slot_doc = np.take_along_axis(d, slots % np.maximum(f, 1)[:, None], axis=1)
        slot_doc = np.maximum(slot_doc, 0)
        r0 = rng.integers(0, 12, (m, 1))
        j = (r0 + slots // np.maximum(f, 1)[:, None]) % tab.doc_count[slot_doc]
        first_use = slots < f[:, None]
        contact = first_use & (corpus.doc_kind[slot_doc] == 2)
        j = np.where(contact, 1, j)  # a contact page's first use quotes its contact line
        gen = tab.gen_start[tq][:, None] + (r0 * 5 + slots) % tab.gen_count[tq][:, None]
        s_id = np.where(from_doc, tab.doc_start[slot_doc] + j, gen)
        s_id = np.where(active, s_id, -1)
        mode = p_cite[pi][:, None]
        c_id = np.where(from_doc & first_use & (mode == 0), -2, -1)
        if (mode == 2).any():
            wrong = rng.integers(0, len(corpus.doc_ids), (m, width))
            for _ in range(3):  # a cited document that was not retrieved
                clash = (wrong[:, :, None] == d[:, None, :]).any(axis=2)
                wrong = np.where(clash, (wrong + 1) % len(corpus.doc_ids), wrong)
            c_id = np.where(from_doc & first_use & (mode == 2), wrong, c_id)
        wrong_cite[idx] = ((mode[:, 0] == 2) & (grounded > 0))
        rw = rewritten & (n_sent > 1)
        s_id[rw, 1], c_id[rw, 1] = tab.removed, -1
        sent[idx, :width], cite[idx, :width] = s_id, c_id
        th = (sc.app == "support_rag") & (rng.random(m) < 0.5)
        ec = (k == 0) & (c_pii[conv[idx]] & 1 > 0) & (rng.random(m) < 0.3)
        cl = rng.integers(0, len(CLOSERS), m)
        thanks[idx], echo[idx], closer[idx] = th, ec, cl
        body = np.where(active, tab.body_len[np.maximum(s_id, 0)] + 2, 0).sum(axis=1) - 1
        cited_doc = np.where(c_id == -2, slot_doc, c_id)
        body += np.where(cited_doc >= 0, tab.id_len[np.maximum(cited_doc, 0)] + 3, 0).sum(axis=1)
        length[idx] = body + th * 25 + ec * (email_len[conv[idx]] + 38) + closer_len[cl]
        trunc = (kd == 0) | (kd == 4)
        badness[idx] = ((1 - g) * 0.9 + 0.7 * (trunc & (length[idx] > max_chars)) + 0.8 * (kd == 1)
                        + 0.5 * (kd == 3) + 0.3 * (kd == 2) + 0.25 * wrong_cite[idx]
                        + 0.3 * np.clip(length[idx] / 900 - 1, 0, 1) * trunc).clip(0, 1.5)  # rambling annoys
        last_row[conv[idx]] = idx

    prompt_text, response_text, retrieval, truncated, cut_off = _texts(
        sc, rng, tab, q=q, reask=reask, conv=conv, turn=turn, c_pii=c_pii, user_email=user_email,
        user_phone=user_phone, thanks=thanks, echo=echo, closer=closer, sent=sent, cite=cite, length=length,
        kind=kind, docs=docs, scores=scores)
    input_tokens, output_tokens, cost, ttft, latency = _usage(
        sc, rng, t=t, prompt=prompt, model=model, rel=rel, turn=turn, truncated=truncated,
        chars=[x.str.len_chars().to_numpy() for x in (prompt_text, response_text, retrieval["context"])])

    # logging: natural loss, a global loss from the onset, a release's logging bug
    loss = np.full(n, sc.natural_loss)
    if sc.loss_rate and sc.onset_us is not None:
        loss = np.where(t >= sc.onset_us, loss + sc.loss_rate, loss)
    loss = loss + np.array([r.log_loss for r in sc.releases])[rel] * (route == 1)
    logged = rng.random(n) >= loss
    ingress = np.zeros((sc.traffic.bins().size, 2), dtype=np.int64)
    np.add.at(ingress, (((t - sc.start_us) // BIN_US).astype(np.int64), route.astype(np.int64)), 1)

    feedback, gives, escalated, labeled_at, has_label = _feedback(sc, rng, t, badness, logged)

    finish = pl.Series(np.where(truncated, "length", np.where(kind == 2, "content_filter", "stop")))
    finish = finish.set(pl.Series(cut_off), None) if cut_off.any() else finish
    action = np.select([kind == 3, kind == 4], ["blocked", "rewritten"], "allowed")
    flag = _gather(pl.Series(POLICY_FLAGS), np.where(kind >= 3, rng.integers(0, len(POLICY_FLAGS), n), -1))
    snap_all = _snapshot(sc, model, t)
    ids = request_ids(0, n, key=sc.seed * 7919 + 17, style="uuid", rng=rng)
    conv_ids = pl.Series(mix64(conv.astype(np.uint64), conv_key)).cast(pl.String)

    def names(values, index):
        return pl.Series(list(values), dtype=pl.String).gather(index)

    frame = pl.DataFrame({
        "request_id": ids,
        "trace_id": trace_ids(rng, n),
        "timestamp": pl.Series(t, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
        "model_version": names((r.version for r in sc.releases), rel),
        "route": pl.Series(np.where(route == 1, "canary", "primary")),
        "conversation_id": "conv-" + conv_ids,
        "turn": turn.astype(np.int32),
        "operation": pl.Series(["chat"]).gather(np.zeros(n, dtype=np.int64)),
        "provider": names((p for p, _ in sc.models), model),
        "request_model": names((name for _, name in sc.models), model),
        "response_model": names((s.name for s in sc.snapshots), snap_all),
        "prompt_template": pl.Series([sc.template]).gather(np.zeros(n, dtype=np.int64)),
        "prompt_version": names((p.version for p in sc.prompts), prompt),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost": cost,
        "latency_ms": np.round(latency, 1),
        "time_to_first_token_ms": np.round(ttft, 1),
        "finish_reason": finish,
        "prompt_text": prompt_text,
        "response_text": response_text,
        "context_text": retrieval["context"],
        "retrieved_ids": retrieval["ids"],
        "retrieval_scores": retrieval["scores"],
        "index_version": names((b.version for b in sc.indexes), build),
        "policy_action": pl.Series(action),
        "policy_flags": pl.DataFrame({"f": flag}).select(
            pl.concat_list("f").list.drop_nulls()).to_series(),
    })
    if sc.app == "search_router":
        frame = frame.with_columns(router_decision=pl.Series(np.where(model == small[rel], "small", "big")),
                                   router_score=pl.Series(r_score))
    if sc.embedding_dim:
        frame = frame.with_columns(query_embedding=_embedding(sc, q, n))
    fb = pl.Series(feedback[has_label], dtype=pl.Int64)
    labels = pl.DataFrame({
        "request_id": ids.filter(pl.Series(has_label)),
        "feedback": fb.set(pl.Series(~gives[has_label]), None) if (~gives[has_label]).any() else fb,
        "escalated": escalated[has_label],
        "labeled_at": pl.Series(labeled_at[has_label], dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
    })
    return Calls(frame.filter(pl.Series(logged)), labels.sort("labeled_at", maintain_order=True), ingress)


def _embedding(sc: Scenario, q: np.ndarray, n: int) -> pl.Series:
    rng = stream(sc.seed, "llm", "embedding")
    dim, corpus = sc.embedding_dim, sc.corpus
    centre = rng.normal(0, 1, (len(corpus.topics), dim))
    per_query = centre[corpus.query_topic] + 0.45 * rng.normal(0, 1, (len(corpus.queries), dim))
    v = per_query[q] + 0.25 * rng.normal(0, 1, (n, dim))
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    return pl.Series("query_embedding", v, dtype=pl.Array(pl.Float32, dim)).cast(pl.List(pl.Float32))
