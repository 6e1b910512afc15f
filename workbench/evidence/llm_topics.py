"""New topics: clusters of a window's prompts that the baseline lacks.

Prompts of both frames are sampled (by request-id hash) and embedded: the query embeddings when
both frames have them, else TF-IDF word vectors of the redacted prompts. Every sampled prompt gets
its ``neighbours`` nearest prompts (cosine) in the union of both samples; a window prompt is an
*orphan* when at most ``orphan_share`` of its neighbours are baseline prompts, and symmetrically a
baseline prompt when few of its neighbours are window prompts. With the two samples of equal size
from one process both orphan rates are equal (duplicates, conversations and rare phrasings count
on both sides), so the window's orphan rate is tested against the baseline's; the window's
orphans are then clustered (MiniBatchKMeans), each baseline orphan assigned to its nearest
cluster, and a cluster is a new topic when its window share is significantly (one-sided
two-proportion test, Holm-adjusted over clusters) and materially higher than its baseline share.
Each is reported with its size, top terms and one redacted excerpt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence.llm_rows import _frame, sample_rows
from workbench.evidence.llm_text import excerpt, redact
from workbench.evidence.quality import wilson
from workbench.evidence.stats import ALPHA, holm, overridden, two_proportion
from workbench.exceptions import InsufficientDataError
from workbench.results import Result

__all__ = ["NewTopics", "TopicThresholds", "new_topics"]


@dataclass(frozen=True)
class TopicThresholds:
    """When a cluster of window prompts is a new topic."""

    #: level of the one-sided test (Holm-adjusted over the clusters)
    alpha: float = ALPHA
    #: the cluster holds at least this share of the window's prompts
    min_share: float = 0.02
    #: and at least this many of them
    min_rows: int = 30
    #: and its baseline share is at most this fraction of its window share (few baseline neighbours)
    max_baseline_ratio: float = 0.25
    #: fewer sampled prompts than this on a side is too few to compare
    min_prompts: int = 200
    #: nearest prompts looked at around each prompt
    neighbours: int = 10
    #: a prompt is an orphan when at most this share of its neighbours are from the other frame
    orphan_share: float = 0.1


@dataclass(frozen=True, repr=False)
class NewTopics(Result):
    """Clusters of window prompts compared with the baseline (see :func:`new_topics`).

    ``orphan_share`` is the share of window prompts with few baseline neighbours,
    ``baseline_orphan_share`` the same the other way round, ``p_value`` the one-sided test that
    the first is higher. ``topics`` holds every cluster of the window's orphans, largest first: ``cluster``, ``rows`` (window
    prompts), ``share`` (of the window, with ``ci``), ``baseline_rows``, ``baseline_share``,
    ``lift`` (window share / baseline share, the latter floored at half a prompt), ``p_value``,
    ``p_adjusted`` (Holm), ``terms`` (top terms), ``example`` (a redacted excerpt of the prompt
    nearest the centre, at most 120 characters) and ``flagged``.
    """

    n_baseline: int
    n_window: int
    method: str
    topics: list[dict[str, Any]]
    orphan_share: float = 0.0
    baseline_orphan_share: float = 0.0
    p_value: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[dict[str, Any]]:
        return [t for t in self.topics if t["flagged"]]

    def _summary(self) -> str:
        return (f"{len(self.flagged)} new of {len(self.topics)} clusters ({self.method}), "
                f"window={self.n_window}, baseline={self.n_baseline}")

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        rows = [{"share": t["share"], "baseline_share": t["baseline_share"], "terms": ", ".join(t["terms"]),
                 "example": t["example"], "p_adjusted": t["p_adjusted"]} for t in self.flagged]
        text = (f"{len(rows)} clusters of the window's prompts the baseline lacks" if rows
                else f"no new topic among {len(self.topics)} clusters")
        return block("New topics", text, *([table(rows, units={"baseline_share": "%"})] if rows else []))


def _vectors(base: pl.DataFrame, win: pl.DataFrame, use_embedding: bool):
    """L2-normalised vectors of the baseline and window prompts (dense embeddings or sparse
    TF-IDF), the fitted vectorizer (for terms, None without text), its matrix and the redacted
    window texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    has_text = "prompt_text" in win.columns and "prompt_text" in base.columns
    texts_b = [redact(t) for t in base["prompt_text"].fill_null("").to_list()] if has_text else []
    texts_w = [redact(t) for t in win["prompt_text"].fill_null("").to_list()] if has_text else []
    vec = terms = None
    if has_text:
        vec = TfidfVectorizer(sublinear_tf=True, stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
        try:
            terms = vec.fit_transform(texts_b + texts_w)
        except ValueError:  # no word at all: no terms to show
            vec = terms = None
    if use_embedding:
        xb = normalize(np.asarray(base["query_embedding"].to_list(), dtype=np.float32))
        xw = normalize(np.asarray(win["query_embedding"].to_list(), dtype=np.float32))
        return xb, xw, vec, terms, texts_w
    if terms is None:
        msg = "new_topics found no words to compare in prompt_text"
        raise InsufficientDataError(msg, found=f"{len(texts_w)} window prompts")
    terms = terms.astype(np.float32)
    return terms[: len(texts_b)], terms[len(texts_b):], vec, terms, texts_w


def _other_side_share(x, y, *, k: int, chunk: int = 1000) -> np.ndarray:
    """For each row of ``x``: the share of its ``k`` nearest rows of ``[x; y]`` (itself excluded,
    cosine on normalised rows) that are rows of ``y``."""
    import scipy.sparse as sp

    union = sp.vstack([x, y]).tocsr() if sp.issparse(x) else np.vstack([x, y])
    nx = x.shape[0]
    out = np.empty(nx)
    for a in range(0, nx, chunk):
        sims = x[a:a + chunk] @ union.T
        sims = sims.toarray() if sp.issparse(sims) else np.asarray(sims)
        rows = np.arange(sims.shape[0])
        sims[rows, a + rows] = -np.inf  # not its own neighbour
        # ties (identical prompts) broken by position, the same on every run
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        out[a:a + chunk] = (top >= nx).mean(axis=1)
    return out


def new_topics(baseline: pl.LazyFrame | pl.DataFrame, window: pl.LazyFrame | pl.DataFrame, *,
               clusters: int = 8, max_rows: int = 5_000, seed: int = 0, use_embedding: bool | None = None,
               alpha: float | None = None, min_share: float | None = None,
               thresholds: TopicThresholds | None = None) -> NewTopics:
    """Clusters of the window's prompts that the baseline lacks.

    Parameters
    ----------
    baseline, window : LazyFrame or DataFrame
        Calls with ``prompt_text`` and/or ``query_embedding`` (and ``request_id``, which picks
        the sample).
    clusters : int, default 8
        Clusters of the window's orphan prompts, at most (one per ``2 min_rows`` orphans in excess
        of the baseline's).
    max_rows : int, default 5000
        Prompts sampled per frame, by a seeded hash of the request id.
    use_embedding : bool, optional
        Cluster query embeddings (default: when both frames have ``query_embedding``) instead of
        TF-IDF word vectors of the prompts. Top terms need ``prompt_text`` either way.
    alpha, min_share : float, optional
        Override the fields of ``thresholds`` (:class:`TopicThresholds`).

    Notes
    -----
    The cost is the neighbour search: two ``max_rows`` x ``2 max_rows`` similarity products, in
    chunks of 1,000 rows (about 10 s for 5,000 prompts a side on 2 cores). A topic split over
    several clusters is reported as several. TF-IDF vectors see words, not meaning: a new way of
    asking an old question (other words) can look like a new topic, and a new topic asked with
    old words is missed; embeddings, when logged, do better. A topic that is new but tiny
    (under ``min_share`` of the window or ``min_rows`` prompts) is not reported.
    """
    from sklearn.cluster import MiniBatchKMeans

    th = overridden(thresholds or TopicThresholds(), alpha=alpha, min_share=min_share)
    lfb, lfw = (_frame(f, [], "new_topics") for f in (baseline, window))
    nb_names, nw_names = lfb.collect_schema().names(), lfw.collect_schema().names()
    if use_embedding is None:
        use_embedding = "query_embedding" in nb_names and "query_embedding" in nw_names
    need = ["query_embedding"] if use_embedding else ["prompt_text"]
    lfb, lfw = _frame(baseline, need, "new_topics"), _frame(window, need, "new_topics")
    cols = [c for c in ("prompt_text", "query_embedding") if c in nw_names and c in nb_names
            and (use_embedding or c == "prompt_text")]
    base = sample_rows(lfb, cols, max_rows, seed=seed).drop_nulls(need)
    win = sample_rows(lfw, cols, max_rows, seed=seed).drop_nulls(need)
    # equal sample sizes keep the two orphan rates comparable
    n = min(base.height, win.height)
    base, win = base.head(n), win.head(n)
    if n < th.min_prompts:
        msg = f"new_topics needs at least {th.min_prompts} prompts on each side"
        raise InsufficientDataError(msg, found=f"{base.height} baseline and {win.height} window prompts")
    xb, xw, vec, terms, texts_w = _vectors(base, win, use_embedding)
    k = th.neighbours
    orphan_w = _other_side_share(xw, xb, k=k) <= th.orphan_share
    orphan_b = _other_side_share(xb, xw, k=k) <= th.orphan_share
    ow, ob = int(orphan_w.sum()), int(orphan_b.sum())
    diff, p2 = two_proportion(ob, n, ow, n)
    p_all = p2 / 2 if diff > 0 else 1 - p2 / 2
    topics: list[dict[str, Any]] = []
    if ow >= th.min_rows:
        iw, ib = np.flatnonzero(orphan_w), np.flatnonzero(orphan_b)
        # as many clusters as the excess of orphans over the baseline's fills with 2 * min_rows
        # prompts each: one on healthy data, a few when something new arrived
        kc = int(max(1, min(clusters, (ow - ob) // (2 * th.min_rows))))
        km = MiniBatchKMeans(n_clusters=kc, random_state=seed, n_init=3, batch_size=1024).fit(xw[iw])
        lw = km.labels_
        centres = km.cluster_centers_ / np.maximum(np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True), 1e-12)
        # a baseline orphan counts for the cluster it is nearest to if it is as close to the centre
        # as the cluster's own members mostly are (its 10th percentile): far-off ones belong nowhere
        own = np.asarray(xw[iw] @ centres.T)[np.arange(len(iw)), lw]
        radius = np.array([np.quantile(own[lw == c], 0.1) if np.any(lw == c) else np.inf for c in range(kc)])
        lb = np.zeros(0, dtype=int)
        if len(ib):
            sb = np.asarray(xb[ib] @ centres.T)
            near = sb.argmax(axis=1)
            lb = near[sb[np.arange(len(ib)), near] >= radius[near]]
        cw, cb = np.bincount(lw, minlength=kc), np.bincount(lb, minlength=kc)
        tests = [two_proportion(cb[c], n, cw[c], n) for c in range(kc)]
        pvals = np.array([p / 2 if d > 0 else 1 - p / 2 for d, p in tests])
        adj = holm(pvals)
        names = np.asarray(vec.get_feature_names_out()) if vec is not None else None
        tw = terms[n:] if terms is not None else None
        for c in range(kc):
            members = iw[lw == c]
            share, bshare = cw[c] / n, cb[c] / n
            top: list[str] = []
            if tw is not None and len(members):
                weights = np.asarray(tw[members].mean(axis=0)).ravel()
                top = [str(names[i]) for i in np.argsort(-weights, kind="stable")[:5] if weights[i] > 0]
            ex = ""
            if texts_w and len(members):
                sims = np.asarray(xw[members] @ centres[c]).ravel()
                ex = excerpt(texts_w[members[int(np.argmax(sims))]])
            flagged = bool(adj[c] < th.alpha and share >= th.min_share and cw[c] >= th.min_rows
                           and bshare <= th.max_baseline_ratio * share)
            topics.append({"cluster": c, "rows": int(cw[c]), "share": float(share), "ci": wilson(cw[c], n),
                           "baseline_rows": int(cb[c]), "baseline_share": float(bshare),
                           "lift": float(share / max(bshare, 0.5 / n)), "p_value": float(pvals[c]),
                           "p_adjusted": float(adj[c]), "terms": top, "example": ex, "flagged": flagged})
        topics.sort(key=lambda t: (-t["share"], t["cluster"]))
    return NewTopics(n_baseline=n, n_window=n, method="query_embedding" if use_embedding else "tfidf",
                     topics=topics, orphan_share=ow / n, baseline_orphan_share=ob / n, p_value=float(p_all),
                     meta={"neighbours": k, "orphan_share": th.orphan_share, "seed": seed, "alpha": th.alpha,
                           "min_share": th.min_share, "min_rows": th.min_rows,
                           "max_baseline_ratio": th.max_baseline_ratio})
