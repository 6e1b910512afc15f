"""Everything a seed decides about an LLM lake before any row exists: the app, its models, the
lineage timeline (releases, prompt versions, index builds, provider snapshots) and the incident.

Incidents are not row effects here: each one is a changed entity of the timeline (a release with a
stricter policy gate, a prompt version without the cite-sources instruction, an index build that
lost documents, a provider snapshot that answers differently) or a global switch (telemetry loss,
a new query topic). Rows only look up which entity served them. Benign changes are entities with
neutral attributes; about half the seeds place one to three within 6-36 h of the onset.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from workbench.synthetic.ids import hex_digest
from workbench.synthetic.llm.corpus import Corpus, build_corpus
from workbench.synthetic.llm.vocab import APPS, MODELS, NEW_TOPICS, TOPICS
from workbench.synthetic.traffic import DAY_US, HOUR_US, Traffic
from workbench.synthetic.world import stream

__all__ = ["APPS_FORCED", "IndexBuild", "LLM_CAUSES", "PromptVersion", "Release", "Scenario", "Snapshot",
           "build_scenario"]

#: cause -> number of variants. What each injects (the truth subject in brackets):
#:
#: - ``none``: healthy, with benign changes (a prompt version, an index build adding documents, a
#:   release, an announced provider snapshot; a provider price cut in a third of the seeds) that
#:   move nothing but what they change (response_model names, the price per token).
#: - ``prompt_regression`` [prompt ``template@version``]: 0 answers less grounded (-0.08..-0.3) and
#:   more thumbs-down; 1 the cite-sources instruction dropped: citations vanish or name documents
#:   that were not retrieved; 2 answers 2-3.5x longer: ``length`` truncations, re-asks.
#: - ``provider_model_change`` [dependency ``provider:request_model``]: a new dated snapshot behind
#:   the request model (shorter, less grounded, more refusals); 0 silent, 1 announced in
#:   dependencies.csv.
#: - ``retrieval_regression`` [index ``index@version``]: 0 a build lost 45-90% of the documents of
#:   2-4 topics (fewer or empty retrievals, lower scores and groundedness, more thumbs-down);
#:   1 broken embeddings: 40-90% of queries retrieve unrelated documents.
#: - ``safety_regression``: 0 a release's stricter policy gate blocks or rewrites more
#:   [model_version]; 1 a prompt version raises refusals by 3-12 points [prompt].
#: - ``cost_regression``: 0 a prompt version with a 3-8x longer system prompt [prompt]; 1 a release
#:   switching the (small) request model to a pricier one [model_version].
#: - ``routing_regression`` [route ``small`` + model_version]: a release raises the router
#:   threshold, hard queries go to the small model: small share up, feedback down, cost down.
#: - ``latency_regression`` [model_version]: a release; 0 slower serving path (latency x1.4-2.5,
#:   TTFT x1.3-2.2), 1 a farther provider endpoint (TTFT x2-4).
#: - ``telemetry_loss``: 0 15-60% of calls unlogged from the onset [none]; 1 a release on the canary
#:   route logs 5-50% of its calls [model_version + route ``canary``].
#: - ``pii_leak`` [column ``response_text``]: an index build pulls in pages with staff e-mails and
#:   phones that answers quote (users' own details in prompts are not a leak).
#: - ``data_drift`` [feature ``prompt_text``]: a new query topic, no change event; 0 abrupt
#:   (8-25% of queries), 1 ramped over 12-48 h (10-30%).
LLM_CAUSES: dict[str, int] = {
    "none": 1,
    "prompt_regression": 3,
    "provider_model_change": 2,
    "retrieval_regression": 2,
    "safety_regression": 2,
    "cost_regression": 2,
    "routing_regression": 1,
    "latency_regression": 2,
    "telemetry_loss": 2,
    "pii_leak": 1,
    "data_drift": 2,
}
#: causes that only one app can show
APPS_FORCED = {"routing_regression": "search_router", "pii_leak": "support_rag"}

_FIRST_DAY_US = 1_767_571_200_000_000  # 2026-01-05T00:00:00Z
_RENAMES = {"input_tokens": "tokens_in", "output_tokens": "tokens_out", "latency_ms": "duration_ms",
            "time_to_first_token_ms": "ttft_ms", "conversation_id": "session_id", "finish_reason": "stop_reason",
            "prompt_text": "input_text", "response_text": "output_text", "feedback": "thumbs"}
_AUTHORS = ("j.alvarez", "m.chen", "prompt-ops-bot", "s.okafor", "l.meyer")


@dataclass(frozen=True)
class Release:
    """An application release (``model_version``), canary first, promoted at ``promote_us``."""

    version: str
    at_us: int
    canary_pct: float
    promote_us: int | None
    notes: str
    model: int = 0  # the (big) model it calls, index into Scenario.models
    small: int = -1  # search_router: the small model
    threshold: float = 0.5  # search_router: router score at or above which the big model answers
    latency_mult: float = 1.0
    ttft_mult: float = 1.0
    block: float = 0.002
    rewrite: float = 0.008
    log_loss: float = 0.0


@dataclass(frozen=True)
class PromptVersion:
    """A version of the app's prompt template, in force for every call from ``at_us``."""

    version: str
    at_us: int
    system_tokens: int
    author: str
    sha: str
    g_delta: float = 0.0  # groundedness lost
    cite: str = "cite"  # cite | none | wrong
    length_mult: float = 1.0
    refusal_add: float = 0.0


@dataclass(frozen=True)
class IndexBuild:
    """A retrieval-index build, serving from ``at_us``; ``present`` marks its documents."""

    version: str
    at_us: int
    present: np.ndarray
    broken_share: float = 0.0  # share of queries whose neighbours are scrambled (bad embeddings)


@dataclass(frozen=True)
class Snapshot:
    """A provider's dated model behind a request model, answering from ``at_us``."""

    model: int
    name: str
    at_us: int
    announced: bool
    g_delta: float = 0.0
    length_mult: float = 1.0
    refusal_add: float = 0.0


@dataclass(frozen=True)
class Scenario:
    """The resolved lake: app, models, timeline, incident and healthy-noise parameters."""

    seed: int
    app: str
    name: str
    template: str
    index_name: str
    source_dataset: str
    start_us: int
    end_us: int
    anchor_us: int
    traffic: Traffic
    corpus: Corpus
    models: tuple[tuple[str, str], ...]
    releases: tuple[Release, ...]
    prompts: tuple[PromptVersion, ...]
    indexes: tuple[IndexBuild, ...]
    snapshots: tuple[Snapshot, ...]
    columns: dict
    has_cost: bool
    embedding_dim: int
    topic_weights: np.ndarray
    new_topic: int  # index of a topic absent before the onset, or -1
    new_topic_share: float
    new_topic_ramp_us: int
    loss_rate: float  # global logging loss from the onset (telemetry_loss variant 0)
    natural_loss: float
    g_mean: float
    refusal_base: float
    filter_base: float
    feedback_cov: float
    max_tokens: int
    top_k: int
    label_lag_h: tuple[float, float]
    traffic_interval_s: int
    cause: str = "none"
    variant: int = 0
    onset_us: int | None = None
    subject: dict = field(default_factory=dict)
    description: str = "Nothing went wrong: only routine, harmless changes."
    details: dict = field(default_factory=dict)
    confounders: tuple = ()
    #: a provider's price cut for one model: (model index, valid from, input and output per 1k) or None
    price_cut: tuple | None = None


def subject(**values) -> dict:
    """A truth subject with every key of the findings contract (unused ones None)."""
    keys = ("feature", "column", "model_version", "segment", "dependency", "dataset", "route", "prompt", "index")
    return {k: values.get(k) for k in keys}


def _model_choice(rng, *, pricey: bool | None = None) -> tuple[str, str]:
    pool = [(p, m) for p, ms in MODELS.items() for m, spec in ms.items()
            if pricey is None or (spec[1] >= 0.002) == pricey]
    return pool[int(rng.integers(len(pool)))]


def _spec(model: tuple[str, str]):
    return MODELS[model[0]][model[1]]


def _anchor(rng, start_us: int, end_us: int) -> int:
    span = end_us - start_us
    lo, hi = start_us + 2 * span // 3, end_us - int(2.5 * DAY_US)
    return int(rng.integers(lo, max(hi, lo + HOUR_US)) // 1_000_000 * 1_000_000)


def _seconds(t: float) -> int:
    return int(t) // 1_000_000 * 1_000_000


def _prompt(version: int, at_us: int, tokens: int, rng, **kw) -> PromptVersion:
    return PromptVersion(str(version), _seconds(at_us), int(tokens), _AUTHORS[int(rng.integers(len(_AUTHORS)))],
                         hex_digest(rng, 64), **kw)


def _base(seed: int, app: str | None, cause: str, days: int) -> tuple[Scenario, np.random.Generator]:
    rng = stream(seed, "llm", "world")
    drawn = ("support_rag", "search_router")[int(rng.integers(2))]
    app = APPS_FORCED.get(cause) or app or drawn
    names = APPS[app]
    pick = int(rng.integers(3))
    start = _FIRST_DAY_US + int(rng.integers(0, 150)) * DAY_US
    end = start + days * DAY_US
    anchor = _anchor(rng, start, end)
    vocab = {**TOPICS[app], **NEW_TOPICS[app]}
    all_topics = list(TOPICS[app])
    n_topics = int(rng.integers(8, min(15, len(all_topics)) + 1))
    topics = [all_topics[int(i)] for i in np.sort(rng.choice(len(all_topics), size=n_topics, replace=False))]
    new = list(NEW_TOPICS[app])[int(rng.integers(len(NEW_TOPICS[app])))]
    pii_topics = tuple(int(i) for i in rng.choice(n_topics, size=int(rng.integers(1, 4)), replace=False))
    corpus = build_corpus(stream(seed, "llm", "corpus"), vocab, tuple(topics) + (new,),
                          app=app,
                          pii_topics=pii_topics if cause == "pii_leak" else ())

    if app == "support_rag":
        models = (_model_choice(rng, pricey=False),)
    else:
        big = _model_choice(rng, pricey=True)
        small_pool = [(big[0], m) for m, s in MODELS[big[0]].items() if s[1] < 0.002]
        models = (big, small_pool[int(rng.integers(len(small_pool)))])
    columns = {}
    if rng.random() < 0.25:
        for role in rng.choice(sorted(_RENAMES), size=int(rng.integers(2, 4)), replace=False):
            columns[str(role)] = _RENAMES[str(role)]
    # the versions in force when the data start (named by _name once the timeline is complete)
    released = _seconds(start - int(rng.integers(5, 30)) * DAY_US - int(rng.integers(0, 20)) * HOUR_US)
    first = Release("", released, 0.0, released, "initial release", model=0,
                    small=1 if app == "search_router" else -1, threshold=float(np.round(rng.uniform(0.42, 0.55), 3)))
    p0 = _prompt(0, start - int(rng.integers(2, 20)) * DAY_US - int(rng.integers(0, 23)) * HOUR_US,
                 int(rng.integers(180, 900)), rng)
    built = _seconds(start - int(rng.integers(1, 9)) * DAY_US - int(rng.integers(0, 23)) * HOUR_US)
    i0 = IndexBuild("", built, corpus.doc_kind == 0)
    snaps = tuple(Snapshot(m, _spec(models[m])[0][0], _seconds(start - int(rng.integers(40, 200)) * DAY_US), True)
                  for m in range(len(models)))
    weights = rng.dirichlet(np.full(n_topics, 3.0))
    sc = Scenario(
        seed=seed, app=app, name=names["names"][pick], template=names["template"][pick],
        index_name=names["index"][pick], source_dataset=names["source"][pick], start_us=start, end_us=end,
        anchor_us=anchor, traffic=Traffic.draw(rng, utc_offset_h=float(rng.choice([-5.0, 0.0, 1.0, 5.5])),
                                               start_us=start, end_us=end),
        corpus=corpus, models=models, releases=(first,), prompts=(p0,), indexes=(i0,), snapshots=snaps,
        columns=columns, has_cost=bool(rng.random() >= 1 / 3),
        embedding_dim=int(rng.integers(16, 33)) if rng.random() < 0.5 else 0,
        topic_weights=weights, new_topic=-1, new_topic_share=0.0, new_topic_ramp_us=0, loss_rate=0.0,
        natural_loss=float(rng.uniform(0.0005, 0.003)), g_mean=float(rng.uniform(0.8, 0.9)),
        refusal_base=float(rng.uniform(0.004, 0.015)), filter_base=float(rng.uniform(0.001, 0.003)),
        feedback_cov=float(rng.uniform(0.2, 0.4)), max_tokens=int(rng.choice([350, 400, 512])),
        top_k=int(rng.integers(2, 5)), label_lag_h=(float(rng.uniform(0.3, 1.2)), float(rng.uniform(0.8, 1.3))),
        traffic_interval_s=int(rng.choice([300, 3600])),
    )
    cut = stream(seed, "llm", "price")
    if cut.random() < 1 / 3:  # a benign price cut, early in the data: cost per call falls, nothing else
        _, p_in, p_out = _spec(models[0])[:3]
        factor = float(cut.uniform(0.5, 0.8))
        at = _seconds(start + cut.uniform(0.1, 0.5) * (anchor - start))
        sc = replace(sc, price_cut=(0, at, round(p_in * factor, 7), round(p_out * factor, 7)))
    return sc, rng


#: (cause, variant) -> the kind of timeline entity the incident adds ("none": a global switch)
_KIND = {"prompt_regression": "prompt_version", "provider_model_change": "snapshot",
         "retrieval_regression": "index_build", "pii_leak": "index_build", "routing_regression": "rollout",
         "latency_regression": "rollout", "data_drift": "none", "none": "none"}


def incident_kind(cause: str, variant: int) -> str:
    """Which entity a cause's variant adds to the timeline."""
    if cause == "safety_regression":
        return "rollout" if variant == 0 else "prompt_version"
    if cause == "cost_regression":
        return "prompt_version" if variant == 0 else "rollout"
    if cause == "telemetry_loss":
        return "none" if variant == 0 else "rollout"
    return _KIND[cause]


def _in_force(items: tuple, at_us: int):
    before = [x for x in items if x.at_us <= at_us]
    return before[-1] if before else items[0]


def _release(sc: Scenario, rng, at_us: int, notes: str, *, promote: bool = True, **changes) -> Release:
    prev = _in_force(sc.releases, at_us)
    pct = float(rng.choice([5.0, 10.0, 20.0, 25.0]))
    promote_us = _seconds(at_us + rng.uniform(2, 8) * HOUR_US) if promote else None
    return replace(prev, **{"version": "", "at_us": _seconds(at_us), "canary_pct": pct, "promote_us": promote_us,
                            "notes": notes, "log_loss": 0.0, **changes})


def _prompt_after(sc: Scenario, rng, at_us: int, **changes) -> PromptVersion:
    prev = _in_force(sc.prompts, at_us)
    tokens = changes.pop("system_tokens", None) or int(prev.system_tokens * rng.uniform(0.98, 1.03))
    return _prompt(0, at_us, tokens, rng, **changes)


def _index_after(sc: Scenario, rng, at_us: int, *, drop=None, broken: float = 0.0, pii: bool = False) -> IndexBuild:
    present = _in_force(sc.indexes, at_us).present.copy()
    kinds = sc.corpus.doc_kind
    present |= kinds == 1  # every rebuild picks up new articles
    if pii:
        present |= kinds == 2
    if drop is not None:
        topics, share = drop
        for t in topics:
            own = np.flatnonzero(present & (sc.corpus.doc_topic == t))
            present[rng.choice(own, size=int(round(share * own.size)), replace=False)] = False
    return IndexBuild("", _seconds(at_us), present, broken)


def _dep(sc: Scenario, model: int) -> str:
    return f"{sc.models[model][0]}:{sc.models[model][1]}"


def _add(sc: Scenario, kind: str, entity) -> Scenario:
    attr = {"rollout": "releases", "prompt_version": "prompts", "index_build": "indexes", "snapshot": "snapshots"}[kind]
    items = tuple(sorted(getattr(sc, attr) + (entity,), key=lambda x: x.at_us))
    return replace(sc, **{attr: items})


def _benign(sc: Scenario, rng, kind: str) -> Scenario:
    """Routine changes: a release, a prompt version, an index build adding documents, an announced
    provider snapshot with the same behaviour; about half the seeds put 1-3 of them within 6-36 h
    of the onset (before it when they are of the incident's own kind, so they cannot undo it)."""
    anchor, out, conf = sc.anchor_us, sc, []
    kinds = ("rollout", "prompt_version", "index_build", "snapshot")
    near = set()
    if rng.random() < 0.5:
        near = {str(k) for k in rng.choice(kinds, size=int(rng.integers(1, 4)), replace=False)}
    for k in kinds:
        if k in near:
            before = k == kind or rng.random() < 0.6
            at = _seconds(anchor + (-1 if before else 1) * rng.uniform(6, 36) * HOUR_US)
        else:
            at = _seconds(sc.start_us + rng.uniform(0.1, 0.55) * (anchor - sc.start_us))
        if k == "rollout":
            out = _add(out, k, _release(out, rng, at, "routine release: UI copy and logging fields"))
        elif k == "prompt_version":
            out = _add(out, k, _prompt_after(out, rng, at))
        elif k == "index_build":
            out = _add(out, k, _index_after(out, rng, at))
        else:
            model = int(rng.integers(len(out.models)))
            out = _add(out, k, Snapshot(model, "", at, True))
        conf.append({"kind": k, "at": at, "entity": (k, at), "near": k in near})
    return replace(out, confounders=tuple(conf))


def _incident(sc: Scenario, cause: str, variant: int, rng) -> Scenario:
    """Add the incident's entity (or switch) at the onset; subjects and descriptions are templates
    filled by :func:`_name` once every version has its final name."""
    onset = sc.anchor_us
    sc = replace(sc, cause=cause, variant=variant, onset_us=onset)
    kind = incident_kind(cause, variant)
    sub, det = {}, {}
    if cause == "prompt_regression":
        if variant == 0:
            g = float(np.round(rng.uniform(0.08, 0.3), 3))
            p = _prompt_after(sc, rng, onset, g_delta=g)
            desc, det = "Prompt version {prompt} makes answers less grounded in the retrieved context.", {
                "groundedness_drop": g}
        elif variant == 1:
            mode = "none" if rng.random() < 0.6 else "wrong"
            g = float(np.round(rng.uniform(0.03, 0.12), 3))
            p = _prompt_after(sc, rng, onset, g_delta=g, cite=mode)
            what = "citations vanish" if mode == "none" else "citations name documents that were not retrieved"
            desc, det = "Prompt version {prompt} dropped the cite-sources instruction: " + what + ".", {
                "citations": mode, "groundedness_drop": g}
        else:
            m = float(np.round(rng.uniform(2.0, 3.5), 2))
            p = _prompt_after(sc, rng, onset, length_mult=m, g_delta=float(np.round(rng.uniform(0.02, 0.06), 3)))
            desc, det = (f"Prompt version {{prompt}} makes answers {m:.1f}x longer: truncations and re-asks.",
                         {"length_mult": m})
        sc, sub = _add(sc, kind, p), {"prompt": "{prompt}"}
    elif cause == "provider_model_change":
        model = int(rng.integers(len(sc.models)))
        snap = Snapshot(model, "", onset, variant == 1, g_delta=float(np.round(rng.uniform(0.06, 0.25), 3)),
                        length_mult=float(np.round(rng.uniform(0.55, 0.8), 2)),
                        refusal_add=float(np.round(rng.uniform(0.01, 0.05), 3)))
        how = "silently" if variant == 0 else "in an announced update"
        desc = (f"The provider replaced {sc.models[model][1]} with {{snapshot}} {how}: shorter, less grounded "
                "answers and more refusals.")
        det = {"announced": variant == 1, "groundedness_drop": snap.g_delta, "length_mult": snap.length_mult,
               "refusal_add": snap.refusal_add}
        sc, sub = _add(sc, kind, snap), {"dependency": _dep(sc, model)}
    elif kind == "index_build":
        if cause == "pii_leak":
            b = _index_after(sc, rng, onset, pii=True)
            sub = {"column": "response_text"}
            desc = "Index build {index} pulled in pages with staff e-mails and phone numbers that answers now quote."
        elif variant == 0:
            n = len(sc.corpus.topics) - 1
            topics = tuple(int(t) for t in rng.choice(n, size=int(rng.integers(2, 5)), replace=False))
            share = float(np.round(rng.uniform(0.45, 0.9), 2))
            b = _index_after(sc, rng, onset, drop=(topics, share))
            names = [sc.corpus.topics[t] for t in topics]
            desc = f"Index build {{index}} lost {share:.0%} of the documents on {', '.join(names)}."
            det, sub = {"topics": names, "dropped_share": share}, {"index": "{index}"}
        else:
            share = float(np.round(rng.uniform(0.4, 0.9), 2))
            b = _index_after(sc, rng, onset, broken=share)
            desc = f"Index build {{index}} has broken embeddings: {share:.0%} of queries retrieve unrelated documents."
            det, sub = {"broken_share": share}, {"index": "{index}"}
        sc = _add(sc, kind, b)
    elif kind == "prompt_version":  # safety variant 1, cost variant 0
        if cause == "safety_regression":
            add = float(np.round(rng.uniform(0.03, 0.12), 3))
            p = _prompt_after(sc, rng, onset, refusal_add=add)
            desc, det = f"Prompt version {{prompt}} makes the assistant refuse {add:.0%} more requests.", {
                "refusal_add": add}
        else:
            before = _in_force(sc.prompts, onset).system_tokens
            mult = float(np.round(rng.uniform(3.0, 8.0), 2))
            p = _prompt_after(sc, rng, onset, system_tokens=int(before * mult))
            desc, det = f"Prompt version {{prompt}} has a {mult:.1f}x longer system prompt.", {
                "system_tokens": [before, p.system_tokens]}
        sc, sub = _add(sc, kind, p), {"prompt": "{prompt}"}
    elif cause == "telemetry_loss" and variant == 0:
        rate = float(np.round(rng.uniform(0.15, 0.6), 3))
        sc = replace(sc, loss_rate=rate)
        desc, det = f"From onset {rate:.0%} of calls were served but never logged.", {"loss_rate": rate}
    elif cause == "data_drift":
        share = float(np.round(rng.uniform(0.08, 0.25) if variant == 0 else rng.uniform(0.1, 0.3), 3))
        ramp = 0 if variant == 0 else int(rng.uniform(12, 48) * HOUR_US)
        topic = sc.corpus.topics[-1]
        sc = replace(sc, new_topic=len(sc.corpus.topics) - 1, new_topic_share=share, new_topic_ramp_us=ramp)
        ramped = f" after a {ramp / HOUR_US:.0f} h ramp" if ramp else ""
        desc = f"Users started asking about a new topic ({topic}): {share:.0%} of queries{ramped}."
        det, sub = {"topic": topic, "share": share, "ramp_h": ramp / HOUR_US}, {"feature": "prompt_text"}
    else:  # an application release carries it
        base = _in_force(sc.releases, onset)
        extra = {}
        if cause == "safety_regression":
            extra = {"block": float(np.round(rng.uniform(0.02, 0.08), 3)),
                     "rewrite": float(np.round(rng.uniform(0.04, 0.12), 3))}
            what = "a stricter policy gate that blocks or rewrites many more answers"
        elif cause == "cost_regression":
            # the (only or small) model moves to a pricey one: of its provider when it has one
            slot = "small" if sc.app == "search_router" else "model"
            current = sc.models[getattr(base, slot)]
            taken = set(sc.models)
            pool = [(p, m) for p, ms in MODELS.items() for m, spec in ms.items()
                    if spec[1] >= 0.002 and (p, m) not in taken]
            pool = [x for x in pool if x[0] == current[0]] or pool
            pricier = pool[int(rng.integers(len(pool)))]
            sc = replace(sc, models=sc.models + (pricier,))
            sc = _add(sc, "snapshot", Snapshot(len(sc.models) - 1, "", _seconds(sc.start_us - 90 * DAY_US), True))
            extra = {slot: len(sc.models) - 1}
            what = f"a switch of the request model from {current[1]} to the pricier {pricier[1]}"
            det = {"request_model": [current[1], pricier[1]]}
        elif cause == "routing_regression":
            th = float(np.round(min(base.threshold + rng.uniform(0.15, 0.35), 0.92), 3))
            extra = {"threshold": th}
            what = f"a router threshold raised from {base.threshold} to {th}: hard queries go to the small model"
            det = {"threshold": [base.threshold, th]}
        elif cause == "latency_regression":
            if variant == 0:
                extra = {"latency_mult": float(np.round(rng.uniform(1.4, 2.5), 2)),
                         "ttft_mult": float(np.round(rng.uniform(1.3, 2.2), 2))}
                what = "a slower serving path (latency and time to first token up)"
            else:
                extra = {"ttft_mult": float(np.round(rng.uniform(2.0, 4.0), 2))}
                what = "a provider endpoint in a farther region (time to first token up)"
            det = dict(extra)
        else:  # telemetry_loss variant 1: confined to the canary, never promoted
            extra = {"log_loss": float(np.round(rng.uniform(0.5, 0.95), 3))}
            what = f"a logging bug: it logs only {1 - extra['log_loss']:.0%} of the calls it serves"
            det = dict(extra)
        confined = cause == "telemetry_loss"
        r = _release(sc, rng, onset, "release", promote=not confined, **extra)
        det = {**det, "canary_pct": r.canary_pct,
               "promote_h": None if r.promote_us is None else round((r.promote_us - r.at_us) / HOUR_US, 2)}
        sc = _add(sc, kind, r)
        sub = {"model_version": "{release}"}
        if cause == "routing_regression":
            sub["route"] = "small"
        if confined:
            sub["route"] = "canary"
        desc = "Release {release} brought " + what + "."
    return replace(sc, subject=sub, description=desc, details=det)


def _name(sc: Scenario, major: int, minor: int, first_prompt: int, first_index: int) -> Scenario:
    """Give every entity its final version name in time order, then fill subjects and descriptions."""
    releases = tuple(replace(r, version=f"v{major}.{minor + i}.0") for i, r in enumerate(sc.releases))
    prompts = tuple(replace(p, version=str(first_prompt + i)) for i, p in enumerate(sc.prompts))
    indexes = tuple(replace(b, version=f"v{first_index + i}") for i, b in enumerate(sc.indexes))
    snaps, seen = [], {}
    for s in sorted(sc.snapshots, key=lambda x: x.at_us):
        names = _spec(sc.models[s.model])[0]
        i = seen.get(s.model, 0)
        seen[s.model] = i + 1
        snaps.append(replace(s, name=names[min(i, len(names) - 1)]))
    sc = replace(sc, releases=releases, prompts=prompts, indexes=indexes, snapshots=tuple(snaps))

    def ref(kind: str, at: int) -> str:
        if kind == "rollout":
            return next(r.version for r in releases if r.at_us == at)
        if kind == "prompt_version":
            return f"{sc.template}@{next(p.version for p in prompts if p.at_us == at)}"
        if kind == "index_build":
            return f"{sc.index_name}@{next(b.version for b in indexes if b.at_us == at)}"
        s = next(s for s in snaps if s.at_us == at)
        return f"{_dep(sc, s.model)}@{s.name}"

    conf = tuple({"kind": c["kind"], "at": c["at"], "ref": ref(*c["entity"]), "near": c["near"]}
                 for c in sc.confounders)
    if sc.price_cut is not None:
        model, at, _, _ = sc.price_cut
        conf += ({"kind": "price_change", "at": at, "ref": _dep(sc, model), "near": False},)
    if sc.cause == "none":
        return replace(sc, confounders=conf, subject=subject())
    onset = sc.onset_us
    fill = {}
    for key, kind in (("release", "rollout"), ("prompt", "prompt_version"), ("index", "index_build"),
                      ("snapshot", "snapshot")):
        try:
            value = ref(kind, onset)
        except StopIteration:
            continue
        fill[key] = value.split("@")[-1] if key in ("snapshot",) else value
    if "prompt" in fill:
        fill["prompt"] = fill["prompt"]
    sub = subject(**{k: v.format(**fill) for k, v in sc.subject.items()})
    details = dict(sc.details)
    if "index" in fill and sc.cause == "pii_leak":
        details["index"] = fill["index"]
    if "snapshot" in fill and sc.cause == "provider_model_change":
        details["snapshot"] = fill["snapshot"]
    return replace(sc, confounders=conf, subject=sub, description=sc.description.format(**fill), details=details)


def build_scenario(seed: int, cause: str, variant: int, app: str | None, days: int) -> Scenario:
    """Resolve everything for one lake (see the module docstring)."""
    sc, rng = _base(seed, app, cause, days)
    major, minor = int(rng.integers(1, 5)), int(rng.integers(2, 30))  # first release v{major}.{minor}.0
    first_prompt, first_index = int(rng.integers(2, 15)), int(rng.integers(10, 80))
    sc = _benign(sc, stream(seed, "llm", "benign"), incident_kind(cause, variant))
    if cause != "none":
        sc = _incident(sc, cause, variant, stream(seed, "llm", "incident", cause, variant))
    return _name(sc, major, minor, first_prompt, first_index)
