"""The lineage timeline: rollouts, dependency versions, feature versions and benign changes.

Every lake carries routine changes that are *not* the cause: a retrain rolled out canary-first, a
patch bump of a dependency, a field added upstream that no feature reads, a feature definition
version bump. About half the seeds place one to three of them within 6-36 h of the onset, so "what
changed near the onset" is not always the answer. The incident's own release, schema changes and
dependency version are merged in here too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from workbench.synthetic.incidents import INCIDENT_RELEASE, DependencyChange, Incident, SchemaChange
from workbench.synthetic.model import Release
from workbench.synthetic.traffic import DAY_US, HOUR_US
from workbench.synthetic.world import World, to_datetime

__all__ = ["AT_ONSET_KINDS", "CONFOUNDER_KINDS", "Timeline", "add_run", "build_timeline"]

CONFOUNDER_KINDS = ("rollout", "dependency_bump", "schema_change", "feature_version")
#: benign changes that can be placed in the onset hour itself (``generate_lake(benign_at_onset=...)``)
AT_ONSET_KINDS = ("rollout", "dependency_bump", "schema_change")
_ADDED_FIELDS = (("ingest_batch_id", "STRING"), ("_loaded_at", "TIMESTAMP"), ("source_system", "STRING"),
                 ("promo_code", "STRING"), ("record_hash", "STRING"))


@dataclass(frozen=True)
class Timeline:
    """Resolved lineage: who served which route when, and every versioned change."""

    releases: tuple[Release, ...]
    deployments: tuple[dict, ...]
    change_us: np.ndarray
    primary: np.ndarray
    canary: np.ndarray
    canary_pct: np.ndarray
    dependencies: tuple[dict, ...]
    features: tuple[dict, ...]
    feature_sets: tuple[tuple[int, str], ...]
    schema_changes: tuple[SchemaChange, ...]
    confounders: tuple[dict, ...]

    def assign(self, t_us: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Route (0 primary, 1 canary) and release index of each request, from uniform draws ``u``."""
        k = np.searchsorted(self.change_us, t_us, side="right") - 1
        on_canary = (self.canary[k] >= 0) & (u * 100.0 < self.canary_pct[k])
        release = np.where(on_canary, self.canary[k], self.primary[k]).astype(np.int16)
        return on_canary.astype(np.int8), release

    def canary_share(self, t_us: np.ndarray) -> np.ndarray:
        """Share of traffic on the canary route at ``t_us``."""
        k = np.searchsorted(self.change_us, t_us, side="right") - 1
        return np.where(self.canary[k] >= 0, self.canary_pct[k] / 100.0, 0.0)

    def feature_set_at(self, t_us: np.ndarray) -> np.ndarray:
        """Index into :attr:`feature_sets` of the feature-set version in force at ``t_us``."""
        return np.searchsorted(np.array([t for t, _ in self.feature_sets]), t_us, side="right") - 1


def _seconds(t_us: float) -> int:
    return int(t_us) // 1_000_000 * 1_000_000


def _times(world: World, incident: Incident, rng: np.random.Generator, at_onset: str | None,
           offset_us: int) -> dict[str, tuple[int, bool]]:
    """When each benign change happens, and whether it was placed near the onset.

    ``at_onset`` names one kind placed ``offset_us`` after the onset instead (the same hour); the
    draws are made as usual first, so the other changes fall where they would anyway.
    """
    centre = incident.onset_us if incident.onset_us is not None else world.anchor_us
    lo, hi = world.start_us + 12 * HOUR_US, world.end_us - 6 * HOUR_US
    n_near = int(rng.integers(1, 4)) if rng.random() < 0.5 else 0
    near = set(rng.permutation(CONFOUNDER_KINDS)[:n_near].tolist())
    out = {}
    for kind in CONFOUNDER_KINDS:
        offset = rng.uniform(6.0, 36.0) * HOUR_US
        sign = -1.0 if kind == "rollout" or rng.random() < 0.5 else 1.0
        if kind in near:
            t = centre + sign * offset
            if not lo <= t <= hi:
                t = centre - offset
            out[kind] = (_seconds(t), True)
            continue
        # far: before the onset, at least two days from it (or after, if there is room)
        first = world.start_us + (world.end_us - world.start_us) // 5 if kind == "rollout" else lo
        before = (first, centre - 48 * HOUR_US)
        after = (centre + 48 * HOUR_US, hi)
        if kind != "rollout" and after[1] > after[0] and rng.random() < 0.25:
            window = after
        elif before[1] > before[0]:
            window = before
        else:
            window = (lo, max(lo, centre - 40 * HOUR_US))
        out[kind] = (_seconds(rng.uniform(window[0], window[1] + 1)), False)
    if at_onset is not None:
        out[at_onset] = (_seconds(centre + offset_us), True)
    return out


def _snapshot(table: str, t_us: int) -> str:
    return f"{table}@{to_datetime(t_us).strftime('%Y%m%dT%H%M')}"


def _deployments(world, incident, rollout_us, rng, *, at_onset: bool = False):
    base_at = _seconds(world.start_us - rng.uniform(3.0, 30.0) * DAY_US)
    delay = rng.uniform(2.0, 24.0) * HOUR_US
    centre = incident.onset_us if incident.onset_us is not None else world.anchor_us
    if not at_onset:  # promoted before the incident begins; a retrain rolled out with it is promoted after
        delay = min(delay, centre - rollout_us - 2 * HOUR_US)
    promote_at = _seconds(rollout_us + max(delay, HOUR_US))
    # training snapshots precede their rollouts and each other, so every retrain names new data
    benign_snapshot = _seconds(rollout_us - rng.uniform(12.0, 72.0) * HOUR_US)
    baseline = replace(world.baseline, training_dataset=_snapshot(
        world.training_table, base_at - rng.uniform(1.0, 3.0) * DAY_US))
    benign = replace(world.benign, training_dataset=_snapshot(world.training_table, benign_snapshot))
    releases = [baseline, benign]
    pct = float(np.round(rng.uniform(5.0, 10.0)))
    rows = [
        (base_at, 0, "primary", 100.0, "initial production model"),
        (rollout_us, 1, "canary", pct, f"scheduled retrain: canary {pct:g}%"),
        (promote_at, 1, "primary", 100.0, "promote to 100%"),
        (promote_at, 1, "canary", 0.0, "close canary"),
    ]
    if incident.release is not None:
        release = incident.release
        if incident.reuse_artifact:
            release = replace(release, training_dataset=benign.training_dataset, artifact_digest=benign.artifact_digest)
        else:
            room = incident.release_onset_us - 2 * HOUR_US - benign_snapshot
            snapshot = _seconds(benign_snapshot + rng.uniform(0.3, 0.9) * room)
            release = replace(release, training_dataset=_snapshot(world.training_table, snapshot))
        releases.append(release)  # at index INCIDENT_RELEASE
        note = "serving image rebuild: canary" if incident.reuse_artifact else "retrain: canary"
        r = INCIDENT_RELEASE
        at = incident.release_onset_us
        rows.append((at, r, "canary", incident.canary_pct, f"{note} {incident.canary_pct:g}%"))
        if incident.promote_after_us is not None:
            at = at + incident.promote_after_us
            rows += [(at, r, "primary", 100.0, "promote to 100%"), (at, r, "canary", 0.0, "close canary")]
    deployments = tuple(
        {"model_version": releases[r].version, "deployed_at": t, "route": route, "traffic_pct": p,
         "training_dataset": releases[r].training_dataset, "artifact_digest": releases[r].artifact_digest,
         "serving_commit": releases[r].serving_commit, "artifact_uri": "", "notes": note}
        for t, r, route, p, note in sorted(rows, key=lambda row: (row[0], row[2] != "primary"))
    )
    # piecewise-constant routing state after each step
    change, primary, canary, canary_pct = [], [], [], []
    state = [0, -1, 0.0]
    for t, r, route, p, _ in sorted(rows, key=lambda row: row[0]):
        if route == "primary":
            state[0] = r
        elif p > 0:
            state[1], state[2] = r, p
        elif state[1] == r:
            state[1], state[2] = -1, 0.0
        change.append(t)
        primary.append(state[0])
        canary.append(state[1])
        canary_pct.append(state[2])
    return (tuple(releases), deployments, np.array(change, dtype=np.int64), np.array(primary),
            np.array(canary), np.array(canary_pct))


def _bump(version: str, kind: str) -> str:
    major, minor, patch = (int(x) for x in version.split("."))
    if kind == "major":
        return f"{major + 1}.0.0"
    if kind == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def _dependencies(world, incident, bump_us, rng, *, at_onset: bool = False):
    def version(majors: int) -> str:
        return f"{rng.integers(1, majors)}.{rng.integers(0, 12)}.{rng.integers(0, 5)}"

    services = {
        world.embedding_api: (version(4), world.columns["embedding"]),
        world.external_api: (version(6), world.numeric[world.external_feature].name),
    }
    initial_at = _seconds(world.start_us - rng.uniform(10.0, 60.0) * DAY_US)
    bumped = world.embedding_api if rng.random() < 0.6 else world.external_api
    bump = "patch" if rng.random() < 0.7 else "minor"
    if at_onset:  # a routine minor bump in the onset hour, of the service the incident does not touch
        bump = "minor"
        if incident.dependency is not None:
            bumped = world.external_api if incident.dependency.dependency == world.embedding_api else world.embedding_api
    events = [DependencyChange(bumped, bump_us, bump)]
    if incident.dependency is not None:
        events.append(incident.dependency)
    rows, refs = [], {}
    for name, (version, consumers) in services.items():
        rows.append({"dependency": name, "version": version, "changed_at": initial_at, "consumers": consumers})
        for event in sorted((e for e in events if e.dependency == name), key=lambda e: e.at_us):
            version = _bump(version, event.bump)
            rows.append({"dependency": name, "version": version, "changed_at": event.at_us, "consumers": consumers})
            refs[(name, event.at_us)] = f"{name}@{version}"
    return tuple(sorted(rows, key=lambda r: (r["changed_at"], r["dependency"]))), refs[(bumped, bump_us)]


def _features(world, incident, bump_us, rng):
    transforms = {"lognormal": "log1p at serving", "gamma": "passthrough", "poisson": "count over window",
                  "bounded": "passthrough", "normal": "passthrough"}
    rows = []
    since = _seconds(world.start_us - rng.uniform(30.0, 200.0) * DAY_US)
    for f in world.numeric:
        source = f"external/{world.external_api}" if f.dataset == "external" else world.dataset(f.dataset).id
        rows.append({"feature": f.name, "version": "1", "valid_from": since, "source_dataset": source,
                     "source_field": f.field, "transform": transforms[f.kind]})
    for c in world.categorical:
        rows.append({"feature": c.name, "version": "1", "valid_from": since,
                     "source_dataset": world.dataset(c.dataset).id, "source_field": c.field, "transform": "lookup"})
    candidates = [r for r in rows if r["feature"] != incident.feature]
    chosen = dict(candidates[int(rng.integers(len(candidates)))])
    chosen.update(version="2", valid_from=bump_us, transform=chosen["transform"] + "; nulls coalesced upstream")
    rows.append(chosen)
    prefix, n = world.feature_set
    sets = ((world.start_us - 400 * DAY_US, f"{prefix}{n}"), (bump_us, f"{prefix}{n + 1}"))
    return tuple(rows), sets, f"{chosen['feature']}@2"


def _benign_schema(world, incident, target_us, near, rng, *, key: str | None = None):
    centre = incident.onset_us if incident.onset_us is not None else world.anchor_us
    keys = [d.key for d in world.datasets if d.key != incident.dataset]
    drawn = keys[int(rng.integers(len(keys)))]
    runs = world.runs[key or drawn]
    if key is not None:  # the routine run placed in the onset hour (see add_run)
        i = int(np.argmin(np.abs(runs.complete_us - target_us)))
        return SchemaChange(key, int(runs.complete_us[i]), runs.run_ids[i], "add", _added_field(world, key),
                            new_type=_added_type(world, key))
    key = drawn
    ok = np.ones(runs.complete_us.size, dtype=bool)
    ok &= (runs.complete_us > world.start_us) & (runs.complete_us < world.end_us - 6 * HOUR_US)
    if near:
        gap = np.abs(runs.complete_us - centre)
        ok &= (gap >= 6 * HOUR_US) & (gap <= 36 * HOUR_US)
    else:
        ok &= np.abs(runs.complete_us - centre) >= 48 * HOUR_US
    if not ok.any():
        ok = (runs.complete_us > world.start_us) & (runs.complete_us < world.end_us)
    index = np.flatnonzero(ok)
    i = int(index[np.argmin(np.abs(runs.complete_us[index] - target_us))])
    return SchemaChange(key, int(runs.complete_us[i]), runs.run_ids[i], "add", _added_field(world, key),
                        new_type=_added_type(world, key))


def _added(world: World, key: str) -> tuple[str, str]:
    taken = {f[0] for f in world.dataset(key).fields}
    return next(f for f in _ADDED_FIELDS if f[0] not in taken)


def _added_field(world: World, key: str) -> str:
    return _added(world, key)[0]


def _added_type(world: World, key: str) -> str:
    return _added(world, key)[1]


def add_run(world: World, key: str, complete_us: int, run_id: str) -> World:
    """``world`` with one more (unscheduled) run of dataset ``key`` completing at ``complete_us``."""
    runs = world.runs[key]
    i = int(np.searchsorted(runs.complete_us, complete_us))
    start = complete_us - 30 * 60 * 1_000_000
    new = type(runs)(np.insert(runs.start_us, i, start), np.insert(runs.complete_us, i, complete_us),
                     runs.run_ids[:i] + (run_id,) + runs.run_ids[i:])
    return replace(world, runs={**world.runs, key: new})


def build_timeline(world: World, incident: Incident, rng: np.random.Generator, *, at_onset: str | None = None,
                   offset_us: int = 0, run_key: str | None = None) -> Timeline:
    """Place the benign changes around the onset and merge in the incident's own lineage.

    ``at_onset`` (one of :data:`CONFOUNDER_KINDS` but ``feature_version``) puts that benign change
    ``offset_us`` after the onset: a routine retrain rolled out canary-first in the onset hour, a
    minor bump of a dependency the incident does not touch, or a field added by an unscheduled
    upstream run of dataset ``run_key`` (which ``world`` must already hold, see :func:`add_run`).
    """
    times = _times(world, incident, rng, at_onset, offset_us)
    rollout_us, rollout_near = times["rollout"]
    releases, deployments, change, primary, canary, pct = _deployments(world, incident, rollout_us, rng,
                                                                       at_onset=at_onset == "rollout")
    dependencies, dep_ref = _dependencies(world, incident, times["dependency_bump"][0], rng,
                                          at_onset=at_onset == "dependency_bump")
    features, feature_sets, feature_ref = _features(world, incident, times["feature_version"][0], rng)
    benign_schema = _benign_schema(world, incident, *times["schema_change"], rng,
                                   key=run_key if at_onset == "schema_change" else None)
    confounders = (
        {"kind": "rollout", "at": rollout_us, "ref": releases[1].version, "near": rollout_near},
        {"kind": "dependency_bump", "at": times["dependency_bump"][0], "ref": dep_ref,
         "near": times["dependency_bump"][1]},
        {"kind": "schema_change", "at": benign_schema.at_us, "ref": benign_schema.run_id,
         "near": times["schema_change"][1]},
        {"kind": "feature_version", "at": times["feature_version"][0], "ref": feature_ref,
         "near": times["feature_version"][1]},
    )
    return Timeline(
        releases=releases, deployments=deployments, change_us=change, primary=primary, canary=canary,
        canary_pct=pct, dependencies=dependencies, features=features, feature_sets=feature_sets,
        schema_changes=tuple(sorted(incident.schema_changes + (benign_schema,), key=lambda s: s.at_us)),
        confounders=tuple(sorted(confounders, key=lambda c: c["at"])),
    )

