"""One day of requests, generated column-wise with numpy and polars.

The day flows through the stages of :data:`~workbench.synthetic.effects.STAGES`: requests arrive
and are routed, the population is drawn (truth), upstream data reaches the model (what it sees),
the embedding service answers, each release scores its rows, latency and fallbacks happen, free
text is captured and finally rows are logged or lost. Incident effects hook into those stages.
Every stage draws from its own random stream, so a cause never shifts another stage's draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.synthetic import pii
from workbench.synthetic.effects import STAGES, Batch
from workbench.synthetic.ids import request_ids, trace_ids
from workbench.synthetic.incidents import Incident
from workbench.synthetic.model import hidden_noise, model_outputs, release_logits, sigmoid, signal, true_outcome
from workbench.synthetic.population import draw_codes, embed, numeric_latent
from workbench.synthetic.timeline import Timeline
from workbench.synthetic.traffic import BIN_US, DAY_US
from workbench.synthetic.world import World, stream

__all__ = ["Day", "generate_day"]

_ROUTES = ("primary", "canary")


@dataclass(frozen=True)
class Day:
    """A generated day: logged predictions, the labels known by the end, ingress counts.

    ``ingress`` has one row per five-minute bin and one column per route (primary, canary).
    """

    predictions: pl.DataFrame
    labels: pl.DataFrame
    ingress: np.ndarray


def _timestamps(t_us: np.ndarray) -> pl.Series:
    return pl.Series(t_us, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _as_logged(world: World, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Numeric inputs and embedding exactly as the lake will hold them (integer columns as Int64,
    embeddings as Float32), so a release scores what an artifact can later read back."""
    num = np.column_stack([_numeric_column(f, batch.seen_num[:, j]).cast(pl.Float64).fill_null(np.nan).to_numpy()
                           for j, f in enumerate(world.numeric)])
    return num, batch.emb_seen.astype(np.float32).astype(np.float64)


def _in_segment(world: World, batch: Batch, segments: np.ndarray, release) -> np.ndarray | None:
    """Rows whose *logged* segment value is the one a release's segment quirk gets wrong."""
    quirk = release.quirks.segment
    if quirk is None:
        return None
    seg = world.segments[quirk.column]
    if seg.feature is None:
        return segments[:, quirk.column] == quirk.value
    # a categorical feature doubling as segment: what the serving log wrote (missing or recoded differ)
    j = seg.feature
    return (batch.seen_cat[:, j] == quirk.value) & ~batch.recoded[:, j]


def _outputs(world: World, timeline: Timeline, batch: Batch, segments, rng):
    """Every release scores the rows routed to it, on the inputs as logged: a fixed function of
    those inputs, so the release's artifact reproduces it (serving bugs aside)."""
    truth, n = world.truth, batch.t.size
    codes = np.where(batch.recoded, -1, batch.seen_cat).astype(np.int64)
    seen_num, emb = _as_logged(world, batch)
    if truth.task == "multiclass":
        prediction = np.empty(n, dtype=object)
    else:
        prediction = np.empty(n, dtype=np.int64 if truth.task == "binary_classification" else np.float64)
    score = np.empty(n, dtype=np.float64)
    for r in np.unique(batch.release):
        rows = batch.release == r
        release = timeline.releases[int(r)]
        in_segment = _in_segment(world, batch, segments, release)
        raw = release_logits(release, world.standardizer, seen_num[rows], codes[rows], emb[rows],
                             None if in_segment is None else in_segment[rows], shrink=truth.shrink,
                             noise_sd=truth.noise_sd)
        prediction[rows], s = model_outputs(truth, raw, invert=release.quirks.invert)
        if s is not None:
            score[rows] = s
    # the fallback path answers with a fixed prior when the model times out
    fallback = rng.random(n) < world.fallback_rate
    prior = truth.shrink * truth.weights.intercept
    if truth.task == "binary_classification":
        prediction[fallback], score[fallback] = 0, np.round(sigmoid(prior[0]), 2)
    elif truth.task == "multiclass":
        probs = np.exp(prior) / np.exp(prior).sum()
        prediction[fallback], score[fallback] = truth.classes[int(probs.argmax())], np.round(probs.max(), 2)
    else:
        prediction[fallback] = truth.target[0]
    return prediction, score, fallback


def _latency(world: World, timeline: Timeline, batch: Batch, fallback, rng) -> np.ndarray:
    spec, n = world.latency, batch.t.size
    mu = np.array([np.log(spec["median_ms"] * r.quirks.latency_median) for r in timeline.releases])
    # a slower release keeps its median close but stretches the tail to the requested p95 factor
    sigma = np.array([spec["sigma"] + max(0.0, np.log(r.quirks.latency_tail / r.quirks.latency_median)) / 1.645
                      for r in timeline.releases])
    load = 0.9 + 0.15 * world.traffic.shape(batch.t)
    latency = np.exp(mu[batch.release] + sigma[batch.release] * rng.standard_normal(n)) * load
    tail = rng.random(n) < spec["tail_share"]
    latency[tail] *= rng.uniform(1.0, spec["tail_factor"], int(tail.sum()))
    latency[fallback] = spec["timeout_ms"] + rng.uniform(0.0, 25.0, int(fallback.sum()))
    return np.round(latency, 3)


def _categorical_columns(world: World, batch: Batch) -> dict[str, pl.Series]:
    out = {}
    for j, c in enumerate(world.categorical):
        code = batch.seen_cat[:, j].astype(np.int64)
        # recoded rows index the alternative code set, stored after the usual one
        vocab = pl.Series(c.name, list(c.vocab) + list(c.recoded or ()))
        index = np.where(batch.recoded[:, j], code + len(c.vocab), code)
        values = vocab.gather(np.maximum(index, 0))
        missing = np.flatnonzero(code < 0)
        out[c.name] = values.scatter(missing, None) if missing.size else values
    return out


def _numeric_column(feature, values: np.ndarray, nan: np.ndarray | None = None) -> pl.Series:
    """Missing values as null, except the cells ``nan`` marks, which stay NaN (a float column)."""
    series = pl.Series(feature.name, values, nan_to_null=True)
    if nan is not None and nan.any():
        return series.cast(pl.Float64).scatter(np.flatnonzero(nan), float("nan"))
    return series.cast(pl.Int64) if feature.integer else series


def _prediction_columns(world: World, timeline: Timeline, batch: Batch, segments: np.ndarray, ids: pl.Series,
                        traces: pl.Series, prediction: np.ndarray, score: np.ndarray, fallback: np.ndarray,
                        latency: np.ndarray) -> dict[str, pl.Series | np.ndarray]:
    """Every column of predictions/, in the order a serving log would write them."""
    cols, task = world.columns, world.task
    data = {
        cols["request_id"]: ids,
        cols["trace_id"]: traces,
        cols["timestamp"]: _timestamps(batch.t),
        cols["model_version"]: pl.Series([r.version for r in timeline.releases]).gather(batch.release),
        cols["route"]: pl.Series(_ROUTES).gather(batch.route),
        cols["latency_ms"]: latency,
        cols["fallback"]: fallback,
        cols["prediction"]: pl.Series(prediction, dtype=pl.String) if task == "multiclass" else prediction,
    }
    if task != "regression":
        data[cols["score"]] = np.round(score, 6)
    for j, f in enumerate(world.numeric):
        data[f.name] = _numeric_column(f, batch.seen_num[:, j], None if batch.nan_num is None else batch.nan_num[:, j])
    data.update(_categorical_columns(world, batch))
    for k, s in enumerate(world.segments):
        if s.feature is None:
            data[s.name] = pl.Series(s.values).gather(segments[:, k])
    for name in world.sensitive:
        data[name] = world.people[name].gather(batch.person)
    data[world.other_column] = batch.other
    data[cols["embedding"]] = pl.Series(batch.emb_seen).cast(pl.List(pl.Float32))
    feature_sets = pl.Series([v for _, v in timeline.feature_sets])
    data[cols["feature_set_version"]] = feature_sets.gather(timeline.feature_set_at(batch.t))
    return data


def generate_day(world: World, timeline: Timeline, incident: Incident, day: int) -> Day:
    """Generate day ``day`` (0-based) of the lake."""

    def rng(purpose: str) -> np.random.Generator:
        return stream(world.seed, "day", day, purpose)

    hooks = {stage: [(i, e) for i, e in enumerate(incident.effects) if e.stage == stage] for stage in STAGES}

    def run(stage: str) -> None:
        for i, effect in hooks[stage]:
            effect.apply(batch, stream(world.seed, "day", day, "effect", i))

    day_start = world.start_us + day * DAY_US
    requests = rng("requests")
    t = world.traffic.sample(requests, day_start)
    n = t.size
    route, release = timeline.assign(t, requests.random(n))
    # a few customers are frequent: the person index is skewed towards the start of the pool
    person = (world.people.height * requests.random(n) ** 1.5).astype(np.int64)
    batch = Batch(t, route, release, world.people, person)

    pop = rng("population")
    factor = pop.standard_normal(n)
    batch.latent = numeric_latent(world.numeric, factor, world.traffic.local_hour(t), pop)
    run("latent")
    batch.true_num = np.column_stack([f.values(batch.latent[:, j], pop) for j, f in enumerate(world.numeric)])
    batch.latent = None  # the largest array of a wide day; nothing reads it after this
    q = len(world.categorical)
    batch.true_cat = (np.column_stack([draw_codes(c.shares, n, pop) for c in world.categorical])
                      if q else np.zeros((n, 0), dtype=np.int16))
    run("categories")
    segments = np.column_stack([batch.true_cat[:, s.feature] if s.feature is not None else draw_codes(s.shares, n, pop)
                                for s in world.segments])
    null_num = pop.random(batch.true_num.shape) < np.array([f.null_rate for f in world.numeric])
    batch.seen_num = np.where(null_num, np.nan, batch.true_num)
    null_cat = pop.random((n, q)) < np.array([c.null_rate for c in world.categorical])
    batch.seen_cat = np.where(null_cat, -1, batch.true_cat).astype(np.int16)
    batch.recoded = np.zeros((n, q), dtype=bool)
    run("upstream")
    hidden_user = 0.5 * factor[:, None] + np.sqrt(0.75) * pop.standard_normal((n, world.embedding_dim))
    batch.emb_true = embed(hidden_user, world.embedding_basis)
    batch.emb_seen = batch.emb_true.copy()
    run("embedding")

    truth = world.truth
    labels_rng = rng("labels")
    z_true = world.standardizer(batch.true_num)
    true_signal = signal(truth.weights, z_true, batch.true_cat.astype(np.int64), batch.emb_true)
    # outcome noise: part a fixed nonlinear function of the true inputs (what a better model could
    # learn), part chance; same variance as drawn noise, so calibration is unchanged
    hidden = hidden_noise(truth.noise_sd, z_true, labels_rng.standard_normal(true_signal.shape))
    for k, effect in enumerate(truth.segment_effects):
        hidden += effect[:, segments[:, k]].T
    outcome = true_outcome(truth, true_signal, hidden, labels_rng)

    model_rng = rng("model")
    prediction, score, fallback = _outputs(world, timeline, batch, segments, model_rng)
    latency = _latency(world, timeline, batch, fallback, rng("latency"))

    batch.other = pii.free_text(world.other_column, rng("text"), n)
    run("text")
    batch.lost = rng("logging").random(n) < world.natural_loss
    run("logging")

    bins = (t - day_start) // BIN_US
    ingress = np.bincount(bins * 2 + route, minlength=2 * (DAY_US // BIN_US)).reshape(-1, 2)

    ids_rng = rng("ids")
    ids = request_ids(day, n, key=world.id_key, style=world.request_id_style, rng=ids_rng)
    traces = trace_ids(ids_rng, n)
    kept = ~batch.lost
    columns = _prediction_columns(world, timeline, batch, segments, ids, traces, prediction, score, fallback,
                                  latency)
    predictions = pl.DataFrame(columns).filter(pl.Series(kept))

    timing = rng("label_timing")
    a, b = world.label_lag
    labeled_at = t + ((1.0 + 2.0 * timing.beta(a, b, n)) * DAY_US).astype(np.int64) // 1000 * 1000
    known = kept & (labeled_at <= world.end_us) & (timing.random(n) < world.label_coverage)
    label = pl.Series(outcome[known], dtype=pl.String) if truth.task == "multiclass" else outcome[known]
    labels = pl.DataFrame({
        world.columns["request_id"]: ids.filter(pl.Series(known)),
        world.columns["label"]: label,
        "labeled_at": _timestamps(labeled_at[known]),
    })
    return Day(predictions, labels, ingress)
