"""The world a lake describes, resolved from a seed before any incident is chosen.

:func:`build_world` picks a theme, names, features and their sources, segments, column mapping,
traffic profile, latency and labelling habits, the pipelines' run schedule and the true outcome
model. Nothing here depends on the cause, so the same seed gives the same world for every cause:
only the incident (and the benign changes placed around its onset) differ.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import polars as pl

from workbench.synthetic import pii
from workbench.synthetic.ids import hex_digest, uuid_string
from workbench.synthetic.model import Release, Standardizer, TruthModel, Weights, calibrate_binary, signal
from workbench.synthetic.population import (
    CategoricalFeature, NumericFeature, Segment, draw_codes, embed, numeric_latent,
)
from workbench.synthetic.themes import COUNTRIES, THEMES, NumericTemplate, Theme
from workbench.synthetic.traffic import DAY_US, HOUR_US, Traffic

__all__ = ["UNIT_CHANGES", "Dataset", "Runs", "UnitChange", "World", "build_world", "stream", "to_datetime"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_FIRST_DAY = datetime(2026, 1, 5, tzinfo=timezone.utc)


@dataclass(frozen=True)
class UnitChange:
    """What an upstream unit change does to a feature and to its schema facet."""

    factor: float
    old_type: str
    new_type: str
    old_description: str
    new_description: str


UNIT_CHANGES: dict[str, UnitChange] = {
    "usd": UnitChange(100.0, "DECIMAL(12,2)", "BIGINT", "amount in USD", "amount in cents"),
    "seconds": UnitChange(1000.0, "DOUBLE", "BIGINT", "duration in seconds", "duration in milliseconds"),
    "km": UnitChange(1000.0, "DOUBLE", "BIGINT", "distance in kilometres", "distance in metres"),
    "ms": UnitChange(0.001, "BIGINT", "DOUBLE", "duration in milliseconds", "duration in seconds"),
    "ratio": UnitChange(100.0, "DOUBLE", "DECIMAL(5,2)", "share between 0 and 1", "percentage between 0 and 100"),
    "gb": UnitChange(1000.0, "DOUBLE", "BIGINT", "volume in GB", "volume in MB"),
}

_SUFFIXES = ("avg_7d", "max_30d", "p90_7d", "std_30d", "delta_1d", "avg_90d", "min_7d", "ewm_24h")
_ROLE_NAMES = {
    "timestamp": ("ts", "event_time"),
    "latency_ms": ("latency", "inference_ms"),
    "fallback": ("fallback", "used_fallback"),
    "score": ("proba", "confidence"),
    "embedding": ("emb", "context_embedding"),
    "label": ("outcome",),
}
_JOB_NAMESPACES = ("airflow-prod", "dagster-prod", "prefect-etl")
_SOURCE_NAMESPACES = ("kafka://events-prod:9092", "postgres://oltp-replica:5432", "s3://raw-landing")


def stream(seed: int, *keys: int | str) -> np.random.Generator:
    """An independent random stream for one purpose, so parts never steal each other's draws."""
    ints = [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return np.random.default_rng([seed, *ints])


def to_datetime(t_us: int) -> datetime:
    """UTC datetime of a microsecond timestamp."""
    return datetime.fromtimestamp(int(t_us) // 1_000_000, tz=timezone.utc)


@dataclass(frozen=True)
class Dataset:
    """An upstream dataset written by one scheduled job, with its base schema."""

    key: str
    namespace: str
    name: str
    job_namespace: str
    job_name: str
    source_namespace: str
    source_name: str
    fields: tuple[tuple[str, str, str], ...]  # (name, type, description)

    @property
    def id(self) -> str:
        """``namespace/name``, as features.csv names it."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Runs:
    """Scheduled runs of one dataset's job: START and COMPLETE times and run ids."""

    start_us: np.ndarray
    complete_us: np.ndarray
    run_ids: tuple[str, ...]


@dataclass(frozen=True)
class World:
    """Everything about a lake that the seed decides; see :func:`build_world`."""

    seed: int
    task: str
    theme: str
    name: str
    start_us: int
    end_us: int
    anchor_us: int
    numeric: tuple[NumericFeature, ...]
    categorical: tuple[CategoricalFeature, ...]
    segments: tuple[Segment, ...]
    external_feature: int
    datasets: tuple[Dataset, ...]
    runs: dict[str, Runs]
    external_api: str
    embedding_api: str
    embedding_dim: int
    embedding_basis: np.ndarray
    other_column: str
    sensitive: tuple[str, ...]
    people: pl.DataFrame
    columns: dict[str, str]
    traffic: Traffic
    truth: TruthModel
    standardizer: Standardizer
    baseline: Release
    benign: Release
    version_names: dict[str, str]
    training_table: str
    latency: dict[str, float]
    fallback_rate: float
    natural_loss: float
    label_coverage: float
    label_lag: tuple[float, float]
    traffic_interval_s: int
    request_id_style: str
    id_key: int
    feature_set: tuple[str, int]
    slo: dict[str, float]

    def dataset(self, key: str) -> Dataset:
        """The dataset with theme key ``key``."""
        return next(d for d in self.datasets if d.key == key)


def _jitter_shares(shares, rng: np.random.Generator) -> tuple[float, ...]:
    s = np.asarray(shares, dtype=np.float64) * np.exp(rng.normal(0.0, 0.15, len(shares)))
    return tuple(float(x) for x in s / s.sum())


def _numeric(t: NumericTemplate, rng: np.random.Generator, *, name: str | None = None) -> NumericFeature:
    loc = t.loc if t.kind == "bounded" else t.loc * float(np.exp(rng.normal(0.0, 0.25)))
    if t.unit in UNIT_CHANGES:
        field_type = UNIT_CHANGES[t.unit].old_type
        description = UNIT_CHANGES[t.unit].old_description
    else:
        field_type = "BIGINT" if t.decimals == 0 else "DOUBLE"
        description = ""
    return NumericFeature(
        name=name or t.name, kind=t.kind, loc=loc, spread=t.spread * float(rng.uniform(0.85, 1.15)),
        low=t.low, high=t.high, decimals=t.decimals, unit=t.unit,
        seasonal=float(rng.uniform(0.15, 0.4)) if t.seasonal else 0.0,
        loading=float(rng.uniform(0.0, 0.5)),
        null_rate=0.0 if rng.random() < 0.4 else float(rng.uniform(0.0005, 0.012)),
        dataset=t.dataset, field=name or t.field or t.name, field_type=field_type, description=description,
    )


def _pick_numeric(theme: Theme, n: int, rng: np.random.Generator) -> tuple[NumericFeature, ...]:
    anchors, rest = theme.numeric[:2], list(theme.numeric[2:])
    order = rng.permutation(len(rest))
    chosen = [_numeric(t, rng) for t in anchors] + [_numeric(rest[i], rng) for i in order[: max(0, n - 2)]]
    derived = [(t, s) for s in _SUFFIXES for t in theme.numeric if t.dataset != "external"]
    for k in rng.permutation(len(derived))[: max(0, n - len(chosen))]:
        t, suffix = derived[k]
        chosen.append(_numeric(t, rng, name=f"{t.name}_{suffix}"))
    return tuple(chosen)


def _pick_categorical(theme: Theme, n: int, rng: np.random.Generator) -> tuple[CategoricalFeature, ...]:
    # the first one can always change its code set (schema_mismatch variant 2 needs one)
    recodable = [t for t in theme.categorical if t.recoded]
    first = recodable[int(rng.integers(len(recodable)))]
    others = [t for t in theme.categorical if t is not first]
    templates = [first] + [others[i] for i in rng.permutation(len(others))][: max(0, n - 1)]
    out = []
    for t in templates[:n]:
        if t.name == "country":
            shares = _jitter_shares([v[1] for v in COUNTRIES.values()], rng)
        else:
            shares = _jitter_shares(rng.dirichlet(np.full(len(t.vocab), 2.0)), rng)
        out.append(CategoricalFeature(
            name=t.name, vocab=t.vocab, shares=shares,
            null_rate=0.0 if rng.random() < 0.5 else float(rng.uniform(0.0005, 0.006)),
            dataset=t.dataset, field=t.field or t.name, field_type=t.field_type, description=t.description,
            recoded=t.recoded, recoded_type=t.recoded_type, recoded_description=t.recoded_description,
        ))
    return tuple(out)


def _pick_segments(theme: Theme, categorical, rng: np.random.Generator) -> tuple[Segment, ...]:
    templates = [theme.segments[i] for i in rng.permutation(len(theme.segments))]
    segments = [Segment(t.name, t.values, _jitter_shares(t.shares, rng), None) for t in templates[:2]]
    # sometimes a categorical feature doubles as a segment (the spec allows the overlap)
    overlap = [j for j, c in enumerate(categorical) if any(0.08 <= s <= 0.25 for s in c.shares)]
    if overlap and rng.random() < 0.3:
        j = overlap[int(rng.integers(len(overlap)))]
        segments[1] = Segment(categorical[j].name, categorical[j].vocab, categorical[j].shares, j)
    elif rng.random() < 0.3:
        t = templates[2]
        segments.append(Segment(t.name, t.values, _jitter_shares(t.shares, rng), None))
    return tuple(segments)


def _pick_datasets(theme: Theme, rng: np.random.Generator) -> tuple[Dataset, ...]:
    namespace = theme.namespaces[int(rng.integers(len(theme.namespaces)))]
    job_namespace = _JOB_NAMESPACES[int(rng.integers(len(_JOB_NAMESPACES)))]
    source_namespace = _SOURCE_NAMESPACES[int(rng.integers(len(_SOURCE_NAMESPACES)))]
    return tuple(
        Dataset(key=t.key, namespace=namespace, name=t.names[int(rng.integers(len(t.names)))],
                job_namespace=job_namespace, job_name=t.job, source_namespace=source_namespace,
                source_name=t.source, fields=tuple((f, ty, "") for f, ty in t.extra_fields))
        for t in theme.datasets
    )


def _with_feature_fields(datasets, numeric, categorical) -> tuple[Dataset, ...]:
    out = []
    for d in datasets:
        fields = list(d.fields)
        fields += [(f.field, f.field_type, f.description) for f in numeric if f.dataset == d.key]
        fields += [(c.field, c.field_type, c.description) for c in categorical if c.dataset == d.key]
        out.append(Dataset(d.key, d.namespace, d.name, d.job_namespace, d.job_name,
                           d.source_namespace, d.source_name, tuple(dict.fromkeys(fields))))
    return tuple(out)


def _schedule(datasets, start_us: int, end_us: int, rng: np.random.Generator) -> dict[str, Runs]:
    runs = {}
    for d in datasets:
        cadence = int(rng.choice([24, 24, 12, 6])) * HOUR_US
        first = start_us - 2 * DAY_US + int(rng.uniform(0.5, 5.0) * HOUR_US)
        starts = np.arange(first, end_us, cadence, dtype=np.int64)
        # scheduler jitter and run durations, in whole seconds so onsets are exact to the second
        starts = starts // 1_000_000 * 1_000_000 + rng.integers(0, 600, size=starts.size) * 1_000_000
        complete = starts + rng.integers(180, 2700, size=starts.size) * 1_000_000
        keep = complete < end_us
        runs[d.key] = Runs(starts[keep], complete[keep], tuple(uuid_string(rng) for _ in range(int(keep.sum()))))
    return runs


def _version_names(rng: np.random.Generator) -> dict[str, str]:
    style = int(rng.integers(3))
    if style == 0:
        major, minor = int(rng.integers(1, 4)), int(rng.integers(2, 10))
        names = (f"{major}.{minor}.0", f"{major}.{minor + 1}.0", f"{major}.{minor + 2}.0", f"{major}.{minor + 1}.1")
    elif style == 1:
        n = int(rng.integers(7, 40))
        names = (f"v{n}", f"v{n + 1}", f"v{n + 2}", f"v{n + 1}.1")
    else:
        n = int(rng.integers(1, 8))
        names = (f"2026.{n}", f"2026.{n + 1}", f"2026.{n + 2}", f"2026.{n + 1}.1")
    return dict(zip(("baseline", "benign", "incident", "hotfix"), names))


def _columns(rng: np.random.Generator, taken: set[str]) -> dict[str, str]:
    roles = ("request_id", "trace_id", "timestamp", "model_version", "route", "latency_ms", "fallback",
             "prediction", "score", "label", "embedding", "feature_set_version")
    columns = {role: "is_fallback" if role == "fallback" else role for role in roles}
    # most teams keep the default names; some map one or two roles to their own
    renamed = rng.permutation(sorted(_ROLE_NAMES))[: int(rng.choice([0, 0, 1, 2]))]
    for role in renamed:
        options = _ROLE_NAMES[str(role)]
        name = options[int(rng.integers(len(options)))]
        if name not in taken:
            columns[str(role)] = name
    return columns


def _anchor(rng: np.random.Generator, start_us: int, end_us: int) -> int:
    """A time in the last third of the span, leaving room for labels, never near midnight."""
    span = end_us - start_us
    lo = start_us + 2 * span // 3
    hi = max(lo, end_us - max(span // 5, int(3.5 * DAY_US)))
    while True:
        t = int(rng.integers(lo, hi + 1)) // 1_000_000 * 1_000_000
        if 0.5 * HOUR_US < t % DAY_US < 23.5 * HOUR_US:
            return t


def _class_intercepts(s: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Intercepts giving skewed class shares (the first class commonest), fitted on a reference signal."""
    target = np.sort(rng.dirichlet(np.linspace(6.0, 1.5, s.shape[1])))[::-1]
    target = np.maximum(target, 0.03) / np.maximum(target, 0.03).sum()
    latent = s + noise * rng.standard_normal(s.shape) - np.log(-np.log(rng.random(s.shape)))
    b = np.log(target) - s.mean(axis=0)
    for _ in range(40):  # fixed point: raise the intercept of classes drawn too rarely
        share = np.bincount((latent + b).argmax(axis=1), minlength=s.shape[1]) / s.shape[0]
        b += 0.5 * (np.log(target) - np.log(np.maximum(share, 1e-4)))
    return b


def _truth(task: str, theme: Theme, categorical, segments, reference, rng: np.random.Generator) -> TruthModel:
    """True weights scaled to a seed-varied signal strength, calibrated to a target quality.

    ``reference`` holds standardised numeric inputs, category codes and embeddings of a healthy
    sample; the first two numeric features (the money feature and the external one) always weigh.
    """
    z, codes, embedding = reference
    p, dim = z.shape[1], embedding.shape[1]
    c = len(theme.classes) if task == "multiclass" else 1
    w = rng.normal(0.0, 0.5, (c, p)) * np.where(rng.random(p) < 0.3, 0.15, 1.0)
    # the features incidents like to target carry real weight, so corrupting them shows
    w[:, :2] = rng.choice([-1.0, 1.0], (c, 2)) * rng.uniform(0.7, 1.0, (c, 2))
    cat = tuple(rng.normal(0.0, 0.4, (c, len(f.vocab))) for f in categorical)
    emb = rng.standard_normal((c, dim))
    if task == "multiclass":  # class 0 is the reference class
        w[0], emb[0] = 0.0, 0.0
        cat = tuple(np.vstack([np.zeros(e.shape[1]), e[1:]]) for e in cat)
    zero = np.zeros(c)
    base = signal(Weights(w, cat, np.zeros_like(emb), zero), z, codes, embedding)
    emb_part = signal(Weights(np.zeros_like(w), tuple(np.zeros_like(e) for e in cat), emb, zero), z, codes, embedding)
    emb *= (base.std(axis=0).mean() / max(emb_part.std(axis=0).mean(), 1e-9)) * rng.uniform(0.6, 0.9)
    total = signal(Weights(w, cat, emb, zero), z, codes, embedding)
    strength = (1.0 if task == "regression" else rng.uniform(1.8, 2.6)) / total.std(axis=0).mean()
    w, emb, cat = w * strength, emb * strength, tuple(e * strength for e in cat)
    s = total[:, 0] * strength
    seg_effects = tuple(rng.normal(0.0, 0.2, (c, len(seg.values))) for seg in segments)
    threshold = 0.5
    if task == "binary_classification":
        noise, b, shrink = calibrate_binary(s, auc=float(rng.uniform(0.78, 0.86)),
                                            prevalence=float(rng.uniform(*theme.prevalence)))
        intercept = np.array([b])
        threshold = float(np.round(rng.uniform(0.3, 0.5), 2))
    elif task == "multiclass":
        noise, shrink = 1.0, 1.0 / np.sqrt(1.0 + np.pi / 8.0)
        intercept = _class_intercepts(total * strength, noise, rng)
    else:
        r2 = rng.uniform(0.45, 0.75)
        noise, shrink, intercept = float(np.sqrt(1.0 / r2 - 1.0)), 1.0, np.array([-s.mean()])
    weights = Weights(w, cat, emb, np.asarray(intercept, dtype=np.float64))
    signal_sd = float((total * strength).std(axis=0).mean())
    return TruthModel(task, weights, float(noise), float(shrink), signal_sd, seg_effects, theme.classes,
                      theme.target, threshold)


def build_world(seed: int, *, task: str, days: int, rows: int, n_numeric: int | None,
                n_categorical: int | None, embedding_dim: int | None) -> World:
    """Resolve everything a seed decides about a lake (see the module docstring)."""
    rng = stream(seed, "world")
    theme = THEMES[int(rng.integers(len(THEMES)))]
    start_us = int((_FIRST_DAY - _EPOCH).total_seconds() * 1e6) + int(rng.integers(0, 150)) * DAY_US
    end_us = start_us + days * DAY_US
    anchor_us = _anchor(rng, start_us, end_us)
    numeric = _pick_numeric(theme, int(rng.integers(4, 9)) if n_numeric is None else n_numeric, rng)
    categorical = _pick_categorical(
        theme, int(rng.integers(2, 4)) if n_categorical is None else n_categorical, rng)
    segments = _pick_segments(theme, categorical, rng)
    datasets = _with_feature_fields(_pick_datasets(theme, rng), numeric, categorical)
    dim = int(rng.integers(8, 17)) if embedding_dim is None else embedding_dim
    basis = np.linalg.qr(rng.standard_normal((dim, dim)))[0]

    # a healthy reference sample: what training data looked like
    ref = stream(seed, "reference")
    n_ref = 20_000
    factor = ref.standard_normal(n_ref)
    hours = ref.uniform(0.0, 24.0, n_ref)
    latent = numeric_latent(numeric, factor, hours, ref)
    values = np.column_stack([f.values(latent[:, j], ref) for j, f in enumerate(numeric)])
    standardizer = Standardizer.fit(values, np.array([f.log for f in numeric]))
    codes = np.column_stack([draw_codes(c.shares, n_ref, ref) for c in categorical]
                            or [np.zeros((n_ref, 0), np.int16)])
    hidden = 0.5 * factor[:, None] + np.sqrt(0.75) * ref.standard_normal((n_ref, dim))
    truth = _truth(task, theme, categorical, segments,
                   (standardizer(values), codes.astype(np.int64), embed(hidden, basis)), rng)

    names = _version_names(rng)
    model_rng = stream(seed, "releases")
    baseline = Release(names["baseline"], "", hex_digest(model_rng, 64), hex_digest(model_rng, 40),
                       truth.weights.perturbed(model_rng, 0.04))
    benign = Release(names["benign"], "", hex_digest(model_rng, 64), hex_digest(model_rng, 40),
                     truth.weights.perturbed(model_rng, 0.05))
    median = float(rng.uniform(15.0, 80.0))
    sigma = float(rng.uniform(0.3, 0.5))
    p95 = median * np.exp(1.645 * sigma)
    people_rng = stream(seed, "people")
    n_people = int(np.clip(rows // 5, 1_000, 100_000))
    people = pl.DataFrame({
        "email": pii.emails(people_rng, n_people), "phone": pii.phones(people_rng, n_people),
        "card_bin": pii.card_bins(people_rng, n_people), "ip_address": pii.ip_addresses(people_rng, n_people),
    })
    taken = {f.name for f in numeric} | {c.name for c in categorical} | {s.name for s in segments}
    return World(
        seed=seed, task=task, theme=theme.key,
        name=theme.model_names[int(rng.integers(len(theme.model_names)))],
        start_us=start_us, end_us=end_us, anchor_us=anchor_us,
        numeric=numeric, categorical=categorical, segments=segments, external_feature=1,
        datasets=datasets, runs=_schedule(datasets, start_us, end_us, stream(seed, "runs")),
        external_api=theme.external_apis[int(rng.integers(len(theme.external_apis)))],
        embedding_api=theme.embedding_apis[int(rng.integers(len(theme.embedding_apis)))],
        embedding_dim=dim, embedding_basis=basis,
        other_column=theme.other_columns[int(rng.integers(len(theme.other_columns)))],
        sensitive=theme.sensitive, people=people, columns=_columns(rng, taken),
        traffic=Traffic.draw(rng, utc_offset_h=float(rng.choice(theme.utc_offset_h)),
                             start_us=start_us, end_us=end_us),
        truth=truth, standardizer=standardizer, baseline=baseline, benign=benign, version_names=names,
        training_table=f"{datasets[0].namespace}/ml.{theme.key}_training",
        latency={"median_ms": median, "sigma": sigma, "tail_share": float(rng.uniform(0.01, 0.03)),
                 "tail_factor": float(rng.uniform(2.0, 5.0)), "timeout_ms": float(np.round(p95 * 2.5, -1))},
        fallback_rate=float(rng.uniform(0.002, 0.01)),
        natural_loss=float(rng.uniform(0.0005, 0.003)),
        label_coverage=float(rng.uniform(0.85, 1.0)),
        label_lag=(float(rng.uniform(1.3, 2.5)), float(rng.uniform(2.0, 4.0))),
        traffic_interval_s=int(rng.choice([300, 3600])),
        request_id_style=str(rng.choice(["uuid", "prefixed"])),
        id_key=int(rng.integers(0, 2**62)),
        feature_set=(str(rng.choice(["fs-v", "features-", "fset_"])), int(rng.integers(3, 40))),
        slo={"latency_p95_ms": float(np.round(p95 * rng.uniform(1.5, 2.2), -1)),
             "fallback_rate": float(rng.choice([0.01, 0.02])), "capture_rate": 0.99},
    )
