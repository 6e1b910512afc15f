"""One function per cause of the findings taxonomy, each returning the :class:`Incident` to inject.

An incident states its exact onset (the first moment rows are affected), the subject a correct
diagnosis must name, a one-sentence description, the row effects, and the lineage it leaves
behind: a model release rolled out canary-first, upstream schema changes, a dependency version.
Parameters (sizes, features, segments, kinds) are drawn from the incident's own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from workbench.synthetic.effects import (
    CategoryMix, Drop, EmbeddingChange, LatentShift, Leak, NullOut, Recode, Rescale, Reshape,
)
from workbench.synthetic.ids import hex_digest
from workbench.synthetic.model import Quirks, Release, SegmentQuirk, logit_sd
from workbench.synthetic.population import numeric_latent
from workbench.synthetic.traffic import HOUR_US
from workbench.synthetic.world import UNIT_CHANGES, World

__all__ = ["CAUSES", "INCIDENT_RELEASE", "DependencyChange", "Incident", "SchemaChange", "combine_incidents",
           "make_incident"]

#: index of an incident's own release in the timeline (after the baseline and the benign retrain)
INCIDENT_RELEASE = 2


@dataclass(frozen=True)
class SchemaChange:
    """A change to an upstream dataset's schema facet, first visible in the run completing at ``at_us``.

    ``kind`` is ``"add"``, ``"remove"``, ``"rename"`` or ``"retype"`` (type and/or description).
    """

    dataset: str
    at_us: int
    run_id: str
    kind: str
    field: str
    new_name: str | None = None
    new_type: str | None = None
    new_description: str | None = None


@dataclass(frozen=True)
class DependencyChange:
    """An external service moving to a new ``bump`` (``"major"``, ``"minor"``, ``"patch"``) version."""

    dependency: str
    at_us: int
    bump: str


@dataclass(frozen=True)
class Incident:
    """What one cause injects.

    Attributes
    ----------
    onset_us : int or None
        First affected moment (microseconds since the epoch); None for ``"none"``.
    subject, description, details
        What :class:`~workbench.synthetic.truth.Truth` reports.
    effects : tuple
        Row effects from :mod:`workbench.synthetic.effects`.
    release : Release or None
        A new model version, deployed on the canary route at the onset with ``canary_pct`` and
        promoted ``promote_after_us`` later (never, when None). ``reuse_artifact`` keeps the
        digest and training data of the version it replaces (a serving-code change).
    schema_changes, dependency
        Lineage the incident leaves upstream.
    dataset, feature
        Theme dataset key and feature the incident touches, so benign changes avoid them.
    release_at_us : int or None
        When ``release`` reaches the canary route; None means at ``onset_us``.
    also : tuple of Incident
        Further real causes injected in the same lake (see :func:`combine_incidents`); their
        effects, release and lineage are already merged into this incident's fields.
    """

    cause: str
    variant: int
    onset_us: int | None
    subject: dict
    description: str
    details: dict = field(default_factory=dict)
    effects: tuple = ()
    release: Release | None = None
    canary_pct: float = 0.0
    promote_after_us: int | None = None
    reuse_artifact: bool = False
    schema_changes: tuple[SchemaChange, ...] = ()
    dependency: DependencyChange | None = None
    dataset: str | None = None
    feature: str | None = None
    release_at_us: int | None = None
    also: tuple = ()

    @property
    def release_onset_us(self) -> int | None:
        """When the incident's release (if any) first serves traffic."""
        return self.release_at_us if self.release_at_us is not None else self.onset_us


def _subject(**values) -> dict:
    keys = ("feature", "column", "model_version", "segment", "dependency", "dataset", "route")
    return {k: values.get(k) for k in keys}


def _top_numeric(world: World, k: int, *, exclude: tuple[int, ...] = ()) -> list[int]:
    weight = np.abs(world.truth.weights.numeric).max(axis=0)
    order = [int(j) for j in np.argsort(-weight, kind="stable") if int(j) not in exclude]
    return order[:k]


def _next_run(world: World, dataset: str, after_us: int) -> tuple[int, str]:
    runs = world.runs[dataset]
    i = int(np.searchsorted(runs.complete_us, after_us))
    if i >= runs.complete_us.size:
        msg = f"no upstream run of {dataset} after the onset; use more days"
        raise ValueError(msg)
    return int(runs.complete_us[i]), runs.run_ids[i]


def _new_release(world: World, rng: np.random.Generator, quirks: Quirks) -> Release:
    """A retrain: new weights, digest and commit (the timeline names its training snapshot)."""
    return Release(world.version_names["incident"], "", hex_digest(rng, 64), hex_digest(rng, 40),
                   world.truth.weights.perturbed(rng, 0.05), quirks)


def _rollout(rng: np.random.Generator, *, confined: bool = False) -> tuple[dict, dict]:
    """Incident arguments of a canary-first rollout, and the same facts for ``Truth.details``.

    A ``confined`` rollout stays on the canary route (5-20% of traffic) until the end of the data.
    """
    if confined:
        pct, after_s = float(np.round(rng.uniform(8.0, 20.0))), None
    else:
        pct, after_s = float(np.round(rng.uniform(5.0, 10.0))), int(rng.uniform(2.0, 24.0) * 3600)
    arguments = {"canary_pct": pct, "promote_after_us": None if after_s is None else after_s * 1_000_000}
    details = {"canary_pct": pct, "promote_after_hours": None if after_s is None else round(after_s / 3600, 3)}
    return arguments, details


def _none(world, variant, rng):
    return Incident("none", variant, None, _subject(), "No incident was injected; the lake holds only routine changes.")


def _data_drift(world, variant, rng):
    onset = world.anchor_us
    if variant == 0:
        # a continuous feature: low counts drift too, but in steps a test of distributions barely sees
        counts = tuple(k for k, f in enumerate(world.numeric) if f.kind == "poisson")
        candidates = _top_numeric(world, 3, exclude=(world.external_feature, *counts))
        j = int(rng.choice(candidates or _top_numeric(world, 3, exclude=(world.external_feature,))))
        delta = float(rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]))
        ramp_h = float(np.round(rng.uniform(12.0, 48.0), 1))
        name = world.numeric[j].name
        return Incident(
            "data_drift", 0, onset, _subject(feature=name),
            f"The population's {name} drifted by {delta:+.2f} standard deviations, ramping in over {ramp_h:g} h.",
            {"shift_sd": delta, "ramp_hours": ramp_h},
            (LatentShift(j, onset, int(ramp_h * HOUR_US), delta),), feature=name,
        )
    if not world.categorical:
        raise ValueError("data_drift variant 1 shifts a categorical feature; n_categorical must be at least 1")
    q = int(rng.integers(len(world.categorical)))
    feature = world.categorical[q]
    shares = np.asarray(feature.shares)
    code = int(rng.choice(np.flatnonzero(shares <= np.quantile(shares, 0.6))))
    target = float(min(0.9, shares[code] + rng.uniform(0.15, 0.35)))
    switch = (target - shares[code]) / (1.0 - shares[code])
    return Incident(
        "data_drift", 1, onset, _subject(feature=feature.name),
        f"The share of {feature.name}={feature.vocab[code]} jumped from {shares[code]:.0%} to about {target:.0%} "
        "(a new campaign), with no upstream or code change.",
        {"category": feature.vocab[code], "share_before": float(shares[code]), "share_after": target},
        (CategoryMix(q, onset, code, float(switch)),), feature=feature.name,
    )


def _rename(field: str, rng: np.random.Generator) -> str:
    parts = field.split("_")
    options = (parts[0] + "".join(p.title() for p in parts[1:]), f"{field}_v2", f"src_{field}")
    return options[int(rng.integers(len(options)))]


def _schema_mismatch(world, variant, rng):
    if variant == 0:
        candidates = [j for j, f in enumerate(world.numeric)
                      if f.unit in UNIT_CHANGES and f.dataset != "external"]
        # usually the money feature (dollars -> cents is the classic), sometimes another unit
        j = 0 if 0 in candidates and rng.random() < 0.5 else int(rng.choice(candidates))
        feature = world.numeric[j]
        change = UNIT_CHANGES[feature.unit]
        onset, run_id = _next_run(world, feature.dataset, world.anchor_us)
        decimals = max(0, feature.decimals - int(round(np.log10(change.factor)))) + (3 if change.factor < 1 else 0)
        dataset = world.dataset(feature.dataset)
        return Incident(
            "schema_mismatch", 0, onset, _subject(feature=feature.name, dataset=dataset.id),
            f"Upstream {dataset.id} changed {feature.field} from {change.old_description} to "
            f"{change.new_description}, so {feature.name} arrives multiplied by {change.factor:g}.",
            {"kind": "unit", "factor": change.factor, "field": feature.field,
             "old_type": feature.field_type, "new_type": change.new_type, "run_id": run_id},
            (Rescale(j, onset, change.factor, decimals),),
            schema_changes=(SchemaChange(feature.dataset, onset, run_id, "retype", feature.field,
                                         new_type=change.new_type, new_description=change.new_description),),
            dataset=feature.dataset, feature=feature.name,
        )
    if variant == 1:
        j = int(rng.choice(_top_numeric(world, 3, exclude=(world.external_feature,))))
        feature = world.numeric[j]
        onset, run_id = _next_run(world, feature.dataset, world.anchor_us)
        new_name = _rename(feature.field, rng)
        dataset = world.dataset(feature.dataset)
        return Incident(
            "schema_mismatch", 1, onset, _subject(feature=feature.name, dataset=dataset.id),
            f"Upstream {dataset.id} renamed {feature.field} to {new_name}, so {feature.name} is logged as null.",
            {"kind": "rename", "field": feature.field, "new_field": new_name, "run_id": run_id},
            (NullOut(j, onset),),
            schema_changes=(SchemaChange(feature.dataset, onset, run_id, "rename", feature.field, new_name=new_name),),
            dataset=feature.dataset, feature=feature.name,
        )
    if variant == 3:
        # a removed field that a pandas-based feature job fills with NaN, not null
        top = _top_numeric(world, 3, exclude=(world.external_feature,))
        floats = [j for j in top if not world.numeric[j].integer]
        j = int(rng.choice(floats or top))
        feature = world.numeric[j]
        onset, run_id = _next_run(world, feature.dataset, world.anchor_us)
        dataset = world.dataset(feature.dataset)
        return Incident(
            "schema_mismatch", 3, onset, _subject(feature=feature.name, dataset=dataset.id),
            f"Upstream {dataset.id} removed {feature.field}, and the feature job fills the missing field with "
            f"NaN, so {feature.name} is logged as NaN.",
            {"kind": "remove", "field": feature.field, "run_id": run_id, "written_as": "NaN"},
            (NullOut(j, onset, nan=True),),
            schema_changes=(SchemaChange(feature.dataset, onset, run_id, "remove", feature.field),),
            dataset=feature.dataset, feature=feature.name,
        )
    if not world.categorical:
        raise ValueError("schema_mismatch variant 2 changes a code set; n_categorical must be at least 1")
    feature = world.categorical[0]
    onset, run_id = _next_run(world, feature.dataset, world.anchor_us)
    dataset = world.dataset(feature.dataset)
    return Incident(
        "schema_mismatch", 2, onset, _subject(feature=feature.name, dataset=dataset.id),
        f"Upstream {dataset.id} switched {feature.field} to a new code set ({feature.recoded_description}), "
        f"so {feature.name} takes values the model has never seen.",
        {"kind": "code_set", "field": feature.field, "old_codes": list(feature.vocab[:5]),
         "new_codes": list(feature.recoded[:5]), "run_id": run_id},
        (Recode(0, onset),),
        schema_changes=(SchemaChange(feature.dataset, onset, run_id, "retype", feature.field,
                                     new_type=feature.recoded_type or feature.field_type,
                                     new_description=feature.recoded_description),),
        dataset=feature.dataset, feature=feature.name,
    )


def _latency_regression(world, variant, rng):
    factor = float(np.round(rng.uniform(1.6, 3.0), 2))
    release = _new_release(world, rng, Quirks(latency_median=float(rng.uniform(1.05, 1.3)), latency_tail=factor))
    rollout, facts = _rollout(rng, confined=variant == 1)
    where = "on the canary route only" if variant == 1 else "rolled out canary-first, then to all traffic"
    return Incident(
        "latency_regression", variant, world.anchor_us,
        _subject(model_version=release.version, route="canary" if variant == 1 else None),
        f"Model version {release.version}, {where}, is {factor:g}x slower at the 95th percentile.",
        {"p95_factor": factor, **facts}, release=release, **rollout,
    )


def _segment_value(segment, rng) -> int:
    shares = np.asarray(segment.shares)
    fits = np.flatnonzero((shares >= 0.08) & (shares <= 0.25))
    return int(rng.choice(fits)) if fits.size else int(np.argmin(np.abs(shares - 0.15)))


def _bias_regression(world, variant, rng):
    column = min(variant, len(world.segments) - 1)
    segment = world.segments[column]
    value = _segment_value(segment, rng)
    share, spread = segment.shares[value], logit_sd(world.truth)
    if variant == 0:
        quirk = SegmentQuirk(column, value, noise=float(rng.uniform(1.0, 1.5) * spread))
        how = "much noisier"
    else:
        # the new training data taught it to ignore (or misread) its two strongest inputs for this segment
        quirk = SegmentQuirk(column, value, noise=float(rng.uniform(0.4, 0.65) * spread),
                             shift=float(rng.uniform(0.6, 1.2) * rng.choice([-1.0, 1.0])),
                             flip=tuple(_top_numeric(world, 2)), flip_strength=float(rng.uniform(1.0, 1.3)))
        how = "systematically miscalibrated"
    # better elsewhere, by enough that the whole looks flat or slightly better
    gain = float(rng.uniform(0.1, 0.2) + 1.5 * share)
    release = _new_release(world, rng, Quirks(hidden_gain=gain, segment=quirk))
    rollout, facts = _rollout(rng)
    return Incident(
        "bias_regression", variant, world.anchor_us,
        _subject(model_version=release.version, segment={"column": segment.name, "value": segment.values[value]}),
        f"Model version {release.version}, trained on new data, is {how} for {segment.name}={segment.values[value]} "
        f"({segment.shares[value]:.0%} of traffic) while slightly better overall.",
        {"segment_share": float(segment.shares[value]), "overall_gain": gain, "segment_noise": quirk.noise,
         "segment_shift": quirk.shift, **facts},
        release=release, **rollout,
    )


def _third_party_change(world, variant, rng):
    onset = world.anchor_us
    if variant == 0:
        rotation = np.linalg.qr(rng.standard_normal((world.embedding_dim, world.embedding_dim)))[0]
        # vectors either grow (un-normalised output) or shrink; shrunk ones only hurt when they also
        # point elsewhere, so those keep less of the old geometry
        grow = bool(rng.random() < 0.6)
        norm = float(np.round(rng.uniform(1.5, 2.5) if grow else rng.uniform(0.3, 0.5), 2))
        keep = float(np.round(rng.uniform(0.3, 0.6) if grow else rng.uniform(0.0, 0.25), 2))
        column = world.columns["embedding"]
        return Incident(
            "third_party_change", 0, onset, _subject(dependency=world.embedding_api, column=column),
            f"A new major version of {world.embedding_api} returns embeddings in a partly rotated space with "
            f"norm {norm:g} instead of 1, degrading the scores that read {column}.",
            {"keep": keep, "norm": norm}, (EmbeddingChange(onset, rotation, keep, norm),),
            dependency=DependencyChange(world.embedding_api, onset, "major"),
        )
    j = world.external_feature
    feature = world.numeric[j]
    mode = str(rng.choice(["inverted", "recalibrated", "rescaled"]))
    new_low, new_high = (0.0, 100.0) if mode == "rescaled" else (feature.low, feature.high)
    power = float(np.round(rng.uniform(2.5, 4.0), 2))
    decimals = max(0, feature.decimals - 2) if mode == "rescaled" else feature.decimals
    how = {"inverted": "with its orientation inverted (high now means low)",
           "recalibrated": f"recalibrated (a power-{power:g} transform)",
           "rescaled": "on a 0-100 scale"}[mode]
    return Incident(
        "third_party_change", 1, onset, _subject(dependency=world.external_api, feature=feature.name),
        f"A new major version of {world.external_api} returns {feature.name} {how} instead of "
        f"{feature.low:g}-{feature.high:g}, with no upstream schema change.",
        {"mode": mode, "new_range": [new_low, new_high], "power": power if mode == "recalibrated" else None},
        (Reshape(j, onset, mode, feature.low, feature.high, new_low, new_high, power, decimals),),
        dependency=DependencyChange(world.external_api, onset, "major"), feature=feature.name,
    )


def _telemetry_loss(world, variant, rng):
    onset = world.anchor_us
    if variant == 0:
        rate = float(np.round(rng.uniform(0.15, 0.6), 3))
        return Incident(
            "telemetry_loss", 0, onset, _subject(),
            f"From onset {rate:.0%} of requests were served but never logged (a log shipper dropping batches).",
            {"loss_rate": rate}, (Drop(onset, rate),),
        )
    rate = float(np.round(rng.uniform(0.5, 0.95), 3))
    release = _new_release(world, rng, Quirks())
    rollout, facts = _rollout(rng, confined=True)
    return Incident(
        "telemetry_loss", 1, onset, _subject(model_version=release.version, route="canary"),
        f"Model version {release.version}, on the canary route, logs only {1 - rate:.0%} of the requests it serves.",
        {"loss_rate": rate, **facts}, (Drop(onset, rate, release=INCIDENT_RELEASE),), release=release, **rollout,
    )


def _retrain_regression(world, variant, rng):
    spread = logit_sd(world.truth)
    if variant == 0:
        quirks = Quirks(logit_noise=float(rng.uniform(1.1, 1.6) * spread))
        how = "ranks cases worse (a weaker model)"
    else:
        flatter = bool(rng.random() < 0.5)
        scale = float(rng.uniform(0.35, 0.55) if flatter else rng.uniform(1.8, 2.5))
        # flattened scores drift up towards 0.5 and sharpened ones down: the shift reinforces that,
        # strongly enough to dominate the upward pull of the added noise
        shift = float(rng.uniform(0.8, 1.5) if flatter else -rng.uniform(1.5, 2.5))
        quirks = Quirks(logit_noise=float(rng.uniform(0.8, 1.1) * spread), scale=scale, shift=shift)
        how = "is miscalibrated and ranks cases worse"
    release = _new_release(world, rng, quirks)
    rollout, facts = _rollout(rng)
    return Incident(
        "retrain_regression", variant, world.anchor_us, _subject(model_version=release.version),
        f"Model version {release.version}, retrained on new data, {how}.",
        {"logit_noise": quirks.logit_noise, "scale": quirks.scale, "shift": quirks.shift, **facts},
        release=release, **rollout,
    )


def _pii_leak(world, variant, rng):
    kind = ("email", "phone" if rng.random() < 0.5 else "card", "iban")[variant]
    share = float(np.round(rng.uniform(0.05, 0.4), 3))
    column = world.other_column
    words = {"email": "e-mail addresses", "phone": "phone numbers", "card": "card numbers", "iban": "IBANs"}
    return Incident(
        "pii_leak", variant, world.anchor_us, _subject(column=column),
        f"From onset {share:.0%} of {column} values contain {words[kind]}.",
        {"kind": kind, "share": share}, (Leak(world.anchor_us, share, kind),),
    )


def _harmful_swap(world: World, rng: np.random.Generator) -> tuple[int, int]:
    """The pair of strong inputs whose swap moves a faithful model's scores the most."""
    top = _top_numeric(world, 4)
    n = 4_000
    latent = numeric_latent(world.numeric, rng.standard_normal(n), rng.uniform(0.0, 24.0, n), rng)
    values = np.column_stack([f.values(latent[:, k], rng) for k, f in enumerate(world.numeric)])
    w = world.truth.weights.numeric
    base = world.standardizer(values) @ w.T

    def harm(pair: tuple[int, int]) -> float:
        swapped = values.copy()
        swapped[:, list(pair)] = values[:, list(pair[::-1])]
        return float(((world.standardizer(swapped) @ w.T - base) ** 2).mean())

    pairs = [(a, b) for k, a in enumerate(top) for b in top[k + 1:]]
    return max(pairs, key=harm)


def _serving_bug(world, variant, rng):
    base = world.benign
    if variant == 0:
        quirks, how = Quirks(invert=True), "inverts its outputs"
        details = {"bug": "inverted"}
    else:
        i, j = _harmful_swap(world, rng)
        quirks = Quirks(swap=(i, j))
        how = f"passes {world.numeric[i].name} and {world.numeric[j].name} to the model swapped"
        details = {"bug": "swapped_inputs", "features": [world.numeric[i].name, world.numeric[j].name]}
    release = replace(base, version=world.version_names["hotfix"], serving_commit=hex_digest(rng, 40), quirks=quirks)
    rollout, facts = _rollout(rng)
    return Incident(
        "serving_bug", variant, world.anchor_us, _subject(model_version=release.version),
        f"Version {release.version} ships the same model artifact with new serving code that {how}.",
        {**details, **facts}, release=release, reuse_artifact=True, **rollout,
    )


_BUILDERS: dict[str, tuple[int, Callable]] = {
    "none": (1, _none),
    "data_drift": (2, _data_drift),
    "schema_mismatch": (4, _schema_mismatch),
    "latency_regression": (2, _latency_regression),
    "bias_regression": (2, _bias_regression),
    "third_party_change": (2, _third_party_change),
    "telemetry_loss": (2, _telemetry_loss),
    "retrain_regression": (2, _retrain_regression),
    "pii_leak": (3, _pii_leak),
    "serving_bug": (2, _serving_bug),
}

#: cause -> number of variants it can inject
CAUSES: dict[str, int] = {cause: n for cause, (n, _) in _BUILDERS.items()}


def make_incident(world: World, cause: str, variant: int, rng: np.random.Generator) -> Incident:
    """Build the incident ``cause``/``variant`` for ``world`` (arguments are validated by the caller)."""
    return _BUILDERS[cause][1](world, variant, rng)


#: causes whose onset is tied to an upstream run (it cannot be moved to another hour)
_RUN_BOUND = ("schema_mismatch",)


def coincident_pair_problem(first: tuple[str, int], second: tuple[str, int], world: World) -> str | None:
    """Why two causes cannot be injected together in one lake, or None when they can."""
    (a, _), (b, _) = first, second
    if "none" in (a, b):
        return "a coincident cause must be a real cause, not 'none'"
    if a == b:
        return f"the two causes must differ (both are {a!r})"
    with_release = {"latency_regression", "bias_regression", "retrain_regression", "serving_bug"}
    releases = sum(c in with_release or (c, v) == ("telemetry_loss", 1) for c, v in (first, second))
    if releases > 1:
        return "at most one of the two causes may roll out a model version"
    if a in _RUN_BOUND and b in _RUN_BOUND:
        return "at most one of the two causes may be an upstream schema change"
    return None


def combine_incidents(world: World, first: tuple[str, int], second: tuple[str, int],
                      rng_first: np.random.Generator, rng_second: np.random.Generator,
                      offset_us: int) -> Incident:
    """Two real causes whose onsets fall in the same hour, merged into one :class:`Incident`.

    A cause bound to an upstream run keeps its run's time; the other is rebuilt around it (its own
    random stream, so magnitudes are what that cause alone would draw), ``offset_us`` later. The
    returned incident is ``first`` (its cause, subject and details) carrying ``second`` in
    :attr:`Incident.also`; effects are concatenated in that order, so the first cause's row
    effects draw the same random numbers as when it is injected alone.
    """
    problem = coincident_pair_problem(first, second, world)
    if problem:
        raise ValueError(f"combine_incidents: {problem}")
    states = (rng_first.bit_generator.state, rng_second.bit_generator.state)
    a = make_incident(world, *first, rng_first)
    b = make_incident(world, *second, rng_second)
    if second[0] in _RUN_BOUND:
        rng_first.bit_generator.state = states[0]
        moved = replace(world, anchor_us=b.onset_us + offset_us)
        a = make_incident(moved, *first, rng_first)
    else:
        rng_second.bit_generator.state = states[1]
        moved = replace(world, anchor_us=a.onset_us + offset_us)
        b = make_incident(moved, *second, rng_second)
    if a.dependency is not None and b.dependency is not None:
        raise ValueError("combine_incidents: at most one of the two causes may bump a dependency")
    carrier = a if a.release is not None else b
    return replace(
        a,
        effects=a.effects + b.effects,
        release=carrier.release, canary_pct=carrier.canary_pct, promote_after_us=carrier.promote_after_us,
        reuse_artifact=carrier.reuse_artifact,
        release_at_us=carrier.onset_us if carrier.release is not None else None,
        schema_changes=a.schema_changes + b.schema_changes,
        dependency=a.dependency or b.dependency,
        dataset=a.dataset or b.dataset, feature=a.feature or b.feature,
        also=(b,),
    )
