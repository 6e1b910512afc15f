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


def _retrieve(sc: Scenario, q: np.ndarray, build: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retrieved document indices (n, k) padded with -1, their scores, and how many were found."""
    corpus, n = sc.corpus, q.size
    docs = corpus.query_docs[q].copy()
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
    return np.where(valid, docs, -1), np.where(valid, np.round(scores, 4), np.nan), found


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


class _Text:
    """Per-row string assembly (the only Python loop)."""

    def __init__(self, sc: Scenario):
        self.c = sc.corpus
        self.support = sc.app == "support_rag"

    def prompt(self, q: int, reask: bool, n_details: int, opener: str, pii: str | None) -> str:
        c = self.c
        parts = [(_REASK[q % len(_REASK)] if reask else opener) + c.queries[q]]
        parts += c.query_details[q][:n_details]
        if pii:
            parts.append(pii)
        return " ".join(parts)

    def response(self, docs, n_sent: int, grounded: int, cite: str, topic: int, u: np.ndarray,
                 echo: str | None, wrong_ids) -> str:
        c = self.c
        out = []
        if self.support and u[0] < 0.5:
            out.append("Thanks for reaching out.")
        if echo:
            out.append(f"I have noted your contact details ({echo}).")
        cited = set()
        use = [d for d in docs if d >= 0]
        for i in range(n_sent):
            if i < grounded and use:
                d = use[i % len(use)]
                sents = c.doc_sents[d]
                s = sents[int(u[1 + i % 15] * len(sents))]
                if c.doc_kind[d] == 2 and d not in cited:
                    s = sents[1]  # the contact line: what a leaking answer quotes
                if cite == "cite" and d not in cited:
                    s = f"{s[:-1]} [{c.doc_ids[d]}]."
                elif cite == "wrong" and d not in cited:
                    s = f"{s[:-1]} [{wrong_ids[i % len(wrong_ids)]}]."
                cited.add(d)
            else:
                pool = c.generic[topic]
                s = pool[int(u[1 + i % 15] * len(pool) + i) % len(pool)]
            out.append(s)
        closer = CLOSERS[int(u[0] * 97) % len(CLOSERS)]
        if closer:
            out.append(closer)
        return " ".join(out)


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

    # per-conversation draws
    c_topic = _topic_of(sc, rng, starts)
    c_email = np.where(rng.random(n_conv) < 0.04, 1, 0) + np.where(rng.random(n_conv) < 0.025, 2, 0)
    user_email = emails(rng, n_conv).to_list()
    user_phone = phones(rng, n_conv).to_list()
    conv_key = rng.integers(0, 2**62)

    rel, route = _releases(sc, t, rng.random(n))
    prompt = _lookup(np.array([p.at_us for p in sc.prompts]), t)
    build = _lookup(np.array([b.at_us for b in sc.indexes]), t)
    topic = c_topic[conv]

    # outputs filled turn by turn
    q = np.zeros(n, dtype=np.int32)
    reask = np.zeros(n, dtype=bool)
    badness = np.zeros(n)
    model = np.zeros(n, dtype=np.int32)
    r_score = np.zeros(n)
    docs = np.full((n, sc.top_k), -1, dtype=np.int32)
    scores = np.full((n, sc.top_k), np.nan)
    found = np.zeros(n, dtype=np.int64)
    g_eff = np.zeros(n)
    kind = np.zeros(n, dtype=np.int8)  # 0 answer, 1 refusal, 2 content filter, 3 blocked, 4 rewritten
    prompt_text = [""] * n
    response_text = [""] * n
    truncated = np.zeros(n, dtype=bool)
    wrong_cite = np.zeros(n, dtype=bool)

    text = _Text(sc)
    corpus = sc.corpus
    threshold = np.array([r.threshold for r in sc.releases])
    big = np.array([r.model for r in sc.releases])
    small = np.array([r.small for r in sc.releases])
    p_g = np.array([p.g_delta for p in sc.prompts])
    p_len = np.array([p.length_mult for p in sc.prompts])
    p_ref = np.array([p.refusal_add for p in sc.prompts])
    p_cite = [p.cite for p in sc.prompts]
    s_g = np.array([s.g_delta for s in sc.snapshots])
    s_len = np.array([s.length_mult for s in sc.snapshots])
    s_ref = np.array([s.refusal_add for s in sc.snapshots])
    quality = np.array([_spec(sc, m)[5] for m in range(len(sc.models))])
    block = np.array([r.block for r in sc.releases])
    rewrite = np.array([r.rewrite for r in sc.releases])
    max_chars = sc.max_tokens * 4
    by_conv_row = np.full(n_conv, -1)

    for k in range(5):
        idx = np.flatnonzero(turn == k)
        if not idx.size:
            continue
        m = idx.size
        prev = by_conv_row[conv[idx]]
        tq = topic[idx]
        pool_pick = rng.random(m)
        new_q = np.array([corpus.topic_queries[tt][int(u * len(corpus.topic_queries[tt]))]
                          for tt, u in zip(tq, pool_pick)], dtype=np.int32)
        if k:
            again = rng.random(m) < 0.02 + 0.4 * badness[prev]
            reask[idx] = again
            q[idx] = np.where(again, q[prev], new_q)
        else:
            q[idx] = new_q
        qi = q[idx]
        # routing
        if sc.app == "search_router":
            r_score[idx] = np.clip(corpus.query_difficulty[qi] + rng.normal(0, 0.07, m), 0, 1).round(4)
            model[idx] = np.where(r_score[idx] >= threshold[rel[idx]], big[rel[idx]], small[rel[idx]])
        else:
            model[idx] = big[rel[idx]]
        snap = _snapshot(sc, model[idx], t[idx])
        d, s, f = _retrieve(sc, qi, build[idx], rng)
        docs[idx], scores[idx], found[idx] = d, s, f
        relevant = np.where(d >= 0, corpus.doc_topic[np.maximum(d, 0)] == corpus.query_topic[qi][:, None], False)
        relevance = relevant.sum(axis=1) / np.maximum(f, 1)
        g0 = rng.beta(12 * sc.g_mean, 12 * (1 - sc.g_mean), m) + quality[model[idx]] - quality[0]
        if sc.app == "search_router":
            g0 -= np.where(model[idx] == small[rel[idx]], 0.45 * np.maximum(corpus.query_difficulty[qi] - 0.35, 0), 0)
        g_eff[idx] = np.clip(g0 * relevance - p_g[prompt[idx]] - s_g[snap], 0, 1)
        u = rng.random((m, 4))
        refuse = u[:, 0] < sc.refusal_base + p_ref[prompt[idx]] + s_ref[snap]
        cfilter = ~refuse & (u[:, 1] < sc.filter_base)
        bl, rw = block[rel[idx]], rewrite[rel[idx]]
        blocked = ~refuse & ~cfilter & (u[:, 2] < bl)
        rewritten = ~refuse & ~cfilter & ~blocked & (u[:, 2] < bl + rw)
        kind[idx] = np.select([refuse, cfilter, blocked, rewritten], [1, 2, 3, 4], 0)
        n_sent = np.clip(np.round(np.exp(rng.normal(np.log(4.2 if sc.app == "support_rag" else 5.0), 0.35, m))
                                  * p_len[prompt[idx]] * s_len[snap]), 2, 40).astype(int)
        grounded = np.round(g_eff[idx] * n_sent).astype(int)
        n_det = rng.integers(1, 4, m)
        opener = rng.integers(0, len(OPENERS), m)
        draws = rng.random((m, 16))
        wrong = rng.integers(0, len(corpus.doc_ids), (m, 3))
        echo = rng.random(m) < 0.3
        for j in range(m):
            i = idx[j]
            ce = c_email[conv[i]]
            pii = None
            if ce and k == 0:
                pii = (f"My email is {user_email[conv[i]]}." if ce & 1 else "") + \
                      (f" You can call me on {user_phone[conv[i]]}." if ce & 2 else "")
                pii = pii.strip()
            prompt_text[i] = text.prompt(int(q[i]), bool(reask[i]), int(n_det[j]), OPENERS[opener[j]], pii)
            kd = kind[i]
            if kd == 1:
                response_text[i] = REFUSALS[int(draws[j, 0] * len(REFUSALS))]
                continue
            if kd == 3:
                response_text[i] = POLICY_NOTICE
                continue
            cite = p_cite[prompt[i]]
            wrong_ids = [corpus.doc_ids[w] for w in wrong[j] if w not in docs[i]] or ["kb-0000"]
            said = text.response(docs[i], int(n_sent[j]), int(grounded[j]), cite, int(topic[i]), draws[j],
                                 user_email[conv[i]] if (pii and ce & 1 and echo[j]) else None, wrong_ids)
            if cite == "wrong" and grounded[j]:
                wrong_cite[i] = True
            if kd == 4:
                cut = said.find(". ", len(said) // 3)
                said = said[: cut + 2] + "[removed by policy] " + said[cut + 2:] if cut > 0 else said
            if kd == 2:
                said = said[: max(int(len(said) * draws[j, 15]), 20)]
            elif len(said) > max_chars:
                said = said[:max_chars]
                truncated[i] = True
            response_text[i] = said
        bi = idx
        badness[bi] = ((1 - g_eff[bi]) * 0.9 + 0.7 * truncated[bi] + 0.8 * (kind[bi] == 1) + 0.5 * (kind[bi] == 3)
                       + 0.3 * (kind[bi] == 2) + 0.25 * wrong_cite[bi]).clip(0, 1.5)
        by_conv_row[conv[idx]] = idx

    # tokens, cost, latency
    sys_tokens = np.array([p.system_tokens for p in sc.prompts])[prompt]
    p_len_chars = np.fromiter((len(x) for x in prompt_text), dtype=np.int64, count=n)
    r_len_chars = np.fromiter((len(x) for x in response_text), dtype=np.int64, count=n)
    context = [" ".join(corpus.doc_text[d] for d in row if d >= 0) for row in docs.tolist()]
    c_len_chars = np.fromiter((len(x) for x in context), dtype=np.int64, count=n)
    history = turn * rng.integers(60, 140, n)
    input_tokens = sys_tokens + np.ceil(p_len_chars / 4) + np.ceil(c_len_chars / 4) + history
    output_tokens = np.ceil(r_len_chars / 4 * rng.uniform(0.92, 1.08, n)).astype(np.int64)
    output_tokens[truncated] = sc.max_tokens
    input_tokens = input_tokens.astype(np.int64)
    specs = [_spec(sc, m) for m in range(len(sc.models))]
    price_in = np.array([s[1] for s in specs])[model]
    price_out = np.array([s[2] for s in specs])[model]
    cost = np.round(input_tokens / 1000 * price_in + output_tokens / 1000 * price_out, 8)
    ttft_base = np.array([s[3] for s in specs])[model]
    per_tok = np.array([s[4] for s in specs])[model]
    lat_m = np.array([r.latency_mult for r in sc.releases])[rel]
    ttft_m = np.array([r.ttft_mult for r in sc.releases])[rel]
    ttft = ttft_base * ttft_m * np.exp(rng.normal(0, 0.25, n)) + input_tokens * 0.04
    latency = (rng.uniform(25, 90, n) * (sc.app == "support_rag") + ttft
               + output_tokens * per_tok * lat_m * np.exp(rng.normal(0, 0.2, n)))

    # logging: natural loss, a global loss from the onset, a release's logging bug
    u = rng.random(n)
    loss = np.full(n, sc.natural_loss)
    if sc.loss_rate and sc.onset_us is not None:
        loss = np.where(t >= sc.onset_us, loss + sc.loss_rate, loss)
    loss = loss + np.array([r.log_loss for r in sc.releases])[rel] * (route == 1)
    logged = u >= loss

    bins = sc.traffic.bins()
    b = ((t - sc.start_us) // BIN_US).astype(np.int64)
    ingress = np.zeros((bins.size, 2), dtype=np.int64)
    np.add.at(ingress, (b, route.astype(np.int64)), 1)

    # feedback (delayed) and escalations
    day = (t - sc.start_us) // DAY_US
    wobble = np.exp(0.15 * rng.standard_normal(int(day.max()) + 1))[day]
    bad = badness
    gives = rng.random(n) < np.clip(sc.feedback_cov * wobble * (0.8 + 0.8 * bad), 0, 1)
    p_down = np.clip(0.02 + 0.5 * bad, 0, 0.9)
    fu = rng.random(n)
    feedback = np.where(fu < p_down, -1, np.where(fu < p_down + (1 - p_down) * 0.8, 1, 0))
    escalated = rng.random(n) < np.clip(0.008 + 0.12 * bad, 0, 1)
    lag = np.exp(rng.normal(np.log(sc.label_lag_h[0] * 3), sc.label_lag_h[1], n)) * HOUR_US
    labeled_at = (t + np.clip(lag, 60e6, 5 * DAY_US)).astype(np.int64) // 1000 * 1000
    has_label = (gives | escalated) & (labeled_at < sc.end_us) & logged

    # finish reason, policy, routing
    finish = np.where(truncated, "length", np.where(kind == 2, "content_filter", "stop"))
    action = np.select([kind == 3, kind == 4], ["blocked", "rewritten"], "allowed")
    flag_pick = rng.integers(0, len(POLICY_FLAGS), n)
    snap_all = _snapshot(sc, model, t)
    ids = request_ids(0, n, key=int(mix64(np.array([sc.seed]), 99)[0] >> np.uint64(2)), style="uuid", rng=rng)
    conv_ids = [f"conv-{int(x):016x}" for x in mix64(conv.astype(np.uint64), int(conv_key))]

    frame = pl.DataFrame({
        "request_id": ids,
        "trace_id": trace_ids(rng, n),
        "timestamp": pl.Series(t, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
        "model_version": [sc.releases[i].version for i in rel],
        "route": np.where(route == 1, "canary", "primary"),
        "conversation_id": conv_ids,
        "turn": turn.astype(np.int32),
        "operation": ["chat"] * n,
        "provider": [sc.models[m][0] for m in model],
        "request_model": [sc.models[m][1] for m in model],
        "response_model": [sc.snapshots[s].name for s in snap_all],
        "prompt_template": [sc.template] * n,
        "prompt_version": [sc.prompts[p].version for p in prompt],
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost": cost,
        "latency_ms": np.round(latency, 1),
        "time_to_first_token_ms": np.round(ttft, 1),
        "finish_reason": finish,
        "prompt_text": prompt_text,
        "response_text": response_text,
        "context_text": context,
        "retrieved_ids": [[corpus.doc_ids[d] for d in row if d >= 0] for row in docs.tolist()],
        "retrieval_scores": [[s for s in row if s == s] for row in scores.tolist()],
        "index_version": [sc.indexes[i].version for i in build],
        "policy_action": action,
        "policy_flags": [[POLICY_FLAGS[f]] if a != "allowed" else [] for f, a in zip(flag_pick, action)],
    }, schema_overrides={"retrieved_ids": pl.List(pl.String), "retrieval_scores": pl.List(pl.Float64),
                         "policy_flags": pl.List(pl.String)})
    if sc.app == "search_router":
        frame = frame.with_columns(router_decision=pl.Series(np.where(model == small[rel], "small", "big")),
                                   router_score=pl.Series(r_score))
    if sc.embedding_dim:
        frame = frame.with_columns(query_embedding=_embedding(sc, q, n))
    labels = pl.DataFrame({
        "request_id": ids.filter(pl.Series(has_label)),
        "feedback": pl.Series(np.where(gives, feedback, 0)[has_label], dtype=pl.Int64)
        .set(pl.Series(~gives[has_label]), None) if has_label.any() else pl.Series([], dtype=pl.Int64),
        "escalated": escalated[has_label],
        "labeled_at": pl.Series(labeled_at[has_label], dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
    })
    return Calls(frame.filter(pl.Series(logged)), labels.sort("labeled_at"), ingress)


def _embedding(sc: Scenario, q: np.ndarray, n: int) -> pl.Series:
    rng = stream(sc.seed, "llm", "embedding")
    dim, corpus = sc.embedding_dim, sc.corpus
    centre = rng.normal(0, 1, (len(corpus.topics), dim))
    per_query = centre[corpus.query_topic] + 0.45 * rng.normal(0, 1, (len(corpus.queries), dim))
    v = per_query[q] + 0.25 * rng.normal(0, 1, (n, dim))
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    return pl.Series("query_embedding", v, dtype=pl.Array(pl.Float32, dim)).cast(pl.List(pl.Float32))
