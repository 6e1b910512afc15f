"""The facade: :func:`generate_lake` writes a telemetry lake with one injected incident."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from workbench.synthetic.effects import Drop
from workbench.synthetic.incidents import CAUSES, Incident, combine_incidents, make_incident
from workbench.synthetic.rows import generate_day
from workbench.synthetic.timeline import AT_ONSET_KINDS, Timeline, add_run, build_timeline
from workbench.synthetic.traffic import DAY_US
from workbench.synthetic.truth import Truth
from workbench.synthetic.ids import uuid_string
from workbench.synthetic.world import World, build_world, stream, to_datetime
from workbench.synthetic.writer import (
    FORMATS, prepare_directory, write_day, write_lineage, write_manifest, write_traffic,
)

__all__ = ["TASKS", "generate_lake"]

#: tasks a lake can be generated for
TASKS = ("binary_classification", "multiclass", "regression")


def _check(cause, variant, rows, seed, days, task, n_numeric, n_categorical, embedding_dim, fmt,
           also=None, benign_at_onset=None) -> None:
    def fail(msg: str) -> None:
        raise ValueError(msg)

    if also is not None:
        if not (isinstance(also, (tuple, list)) and len(also) == 2 and also[0] in CAUSES
                and isinstance(also[1], (int, np.integer)) and 0 <= also[1] < CAUSES[also[0]]):
            fail(f"generate_lake: also must be a (cause, variant) pair of a real cause, got {also!r}\n\n"
                 f"Valid causes: {', '.join(c for c in CAUSES if c != 'none')}")
    if benign_at_onset is not None:
        if benign_at_onset not in AT_ONSET_KINDS:
            fail(f"generate_lake: unknown benign_at_onset {benign_at_onset!r}\n\n"
                 f"Valid kinds: {', '.join(AT_ONSET_KINDS)}")
        if cause == "none":
            fail("generate_lake: benign_at_onset needs a real cause (its onset is the hour the change lands in)")
        if also is not None:
            fail("generate_lake: give either also (a second real cause) or benign_at_onset, not both")

    if cause not in CAUSES:
        fail(f"generate_lake: unknown cause {cause!r}\n\nValid causes: {', '.join(CAUSES)}")
    if not isinstance(variant, (int, np.integer)) or not 0 <= variant < CAUSES[cause]:
        fail(f"generate_lake: variant must be an int in [0, {CAUSES[cause] - 1}] for cause {cause!r}, got {variant!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        fail(f"generate_lake: seed must be a non-negative int, got {seed!r}")
    if not isinstance(rows, (int, np.integer)) or rows < 1_000:
        fail(f"generate_lake: rows must be an int of at least 1000, got {rows!r}")
    if not isinstance(days, (int, np.integer)) or not 7 <= days <= 366:
        fail(f"generate_lake: days must be an int in [7, 366], got {days!r}\n\n"
             "A week is the least that leaves a baseline before the incident and time for labels.")
    if task not in TASKS:
        fail(f"generate_lake: unknown task {task!r}\n\nValid tasks: {', '.join(TASKS)}")
    if n_numeric is not None and not (isinstance(n_numeric, (int, np.integer)) and 2 <= n_numeric <= 60):
        fail(f"generate_lake: n_numeric must be None or an int in [2, 60], got {n_numeric!r}")
    if n_categorical is not None and not (isinstance(n_categorical, (int, np.integer)) and 0 <= n_categorical <= 4):
        fail(f"generate_lake: n_categorical must be None or an int in [0, 4], got {n_categorical!r}")
    if embedding_dim is not None and not (isinstance(embedding_dim, (int, np.integer)) and 2 <= embedding_dim <= 256):
        fail(f"generate_lake: embedding_dim must be None or an int in [2, 256], got {embedding_dim!r}")
    if fmt not in FORMATS:
        fail(f"generate_lake: unknown fmt {fmt!r}\n\nValid formats: {', '.join(FORMATS)}")


def _seconds(t_us: int) -> int:
    return int(t_us) // 1_000_000 * 1_000_000


def _calibrate_volume(world: World, timeline: Timeline, incident: Incident, rows: int) -> World:
    """Scale the request rate so the expected number of *logged* rows is ``rows``."""
    bins = world.traffic.bins()
    capture = np.full(bins.size, 1.0 - world.natural_loss)
    for effect in incident.effects:
        if isinstance(effect, Drop):
            hit = bins >= effect.onset_us
            share = 1.0 if effect.release is None else timeline.canary_share(bins)
            capture = capture * np.where(hit, 1.0 - effect.rate * share, 1.0)
    expected = float((world.traffic.shape(bins) * capture).sum())
    return replace(world, traffic=replace(world.traffic, base=rows / expected))


def _also(incident: Incident) -> tuple[dict, ...]:
    return tuple({"cause": b.cause, "variant": b.variant, "onset": to_datetime(b.onset_us), "subject": b.subject,
                  "description": b.description, "details": b.details} for b in incident.also)


def _truth(world: World, timeline: Timeline, incident: Incident, rows: int, params: dict) -> Truth:
    versions = {"baseline": timeline.releases[0].version, "benign": timeline.releases[1].version,
                "incident": timeline.releases[2].version if len(timeline.releases) > 2 else None}
    return Truth(
        cause=incident.cause, variant=incident.variant, seed=world.seed, rows=rows,
        start=to_datetime(world.start_us), end=to_datetime(world.end_us),
        onset=None if incident.onset_us is None else to_datetime(incident.onset_us),
        subject=incident.subject, description=incident.description,
        name=world.name, theme=world.theme, task=world.task, versions=versions,
        confounders=tuple({**c, "at": to_datetime(c["at"])} for c in timeline.confounders),
        details=incident.details, params=params, also=_also(incident),
    )


def generate_lake(
    out_dir: str | Path,
    *,
    cause: str = "none",
    variant: int = 0,
    rows: int = 200_000,
    seed: int = 0,
    days: int = 21,
    task: str = "binary_classification",
    n_numeric: int | None = None,
    n_categorical: int | None = None,
    embedding_dim: int | None = None,
    fmt: str = "parquet",
    artifacts: bool = False,
    overwrite: bool = False,
    also: tuple[str, int] | None = None,
    benign_at_onset: str | None = None,
    ingress_by_route: bool = True,
) -> Truth:
    """Write a synthetic telemetry lake with one injected incident and return its ground truth.

    The lake follows the telemetry-lake contract (manifest, predictions, labels, lineage, ingress
    traffic) and ``truth.json`` is written beside ``workbench.yaml``. The seed decides the theme,
    names, magnitudes, onset and where benign changes fall; the same arguments give byte-identical
    files.

    Parameters
    ----------
    out_dir : str or Path
        Lake root to create. An existing non-empty directory is only replaced with ``overwrite``.
    cause : str, default "none"
        A key of :data:`CAUSES`.
    variant : int, default 0
        Which variant of the cause, in ``range(CAUSES[cause])``.
    rows : int, default 200_000
        Approximate number of prediction rows logged (within about 10%).
    seed : int, default 0
        Seed of every random choice.
    days : int, default 21
        Span of the data in days (at least 7); the onset falls in the last third.
    task : {"binary_classification", "multiclass", "regression"}
        Model task.
    n_numeric, n_categorical, embedding_dim : int, optional
        Numbers of numeric (2-60) and categorical (0-4) features, embedding width (2-256); drawn
        from the seed when None.
    fmt : {"parquet", "csv", "ndjson"}
        File format of predictions and labels. CSV lakes omit the embedding column.
    artifacts : bool, default False
        Also save each release's model to ``models/<digest>.skops`` (a
        :class:`~workbench.synthetic.artifact.SyntheticModel`) and name it in the deployments'
        ``artifact_uri``, so replays and explanations can score rows.
    overwrite : bool, default False
        Replace an existing lake at ``out_dir`` (refused if it holds no ``workbench.yaml``).
    also : (cause, variant), optional
        A second real cause whose onset falls in the same hour as ``cause``'s (coincident changes,
        e.g. a retrain rollout in the hour an upstream unit change lands). At most one of the two
        may roll out a model version, bump a dependency or change an upstream schema. The truth
        lists it in ``Truth.also``.
    benign_at_onset : {"rollout", "dependency_bump", "schema_change"}, optional
        Put one routine change in the onset hour: a routine retrain rolled out canary-first (only
        with causes that roll out no version), a minor bump of a dependency the incident does not
        touch, or a field added by an unscheduled run of an upstream dataset the incident does not
        touch. Nothing about it is harmful: a diagnosis must not name it.
    ingress_by_route : bool, default True
        Write ``metrics/traffic.csv`` per route; False writes only the total per interval (as
        many gateways count), so a loss confined to one route must be inferred from rollout shares.

    Returns
    -------
    Truth
        What was injected, when, and the subject a correct diagnosis must name.

    Raises
    ------
    ValueError
        If an argument is out of range or the cause cannot be injected in this world.
    FileExistsError
        If ``out_dir`` exists and may not be replaced.

    Examples
    --------
    >>> from workbench.synthetic import generate_lake
    >>> truth = generate_lake("/tmp/fraud-lake", cause="schema_mismatch", seed=3)  # doctest: +SKIP
    >>> truth.subject["feature"], truth.onset  # doctest: +SKIP
    ('amount', datetime.datetime(2026, 3, 19, 2, 41, 7, tzinfo=datetime.timezone.utc))
    """
    _check(cause, variant, rows, seed, days, task, n_numeric, n_categorical, embedding_dim, fmt, also,
           benign_at_onset)
    seed, variant, rows, days = int(seed), int(variant), int(rows), int(days)
    world = build_world(seed, task=task, days=days, rows=rows, n_numeric=n_numeric,
                        n_categorical=n_categorical, embedding_dim=embedding_dim)
    coincide = stream(seed, "coincide")
    offset_us = int(coincide.uniform(1.0, 40.0) * 60) * 1_000_000  # minutes after the onset, same hour
    if also is not None:
        if cause == "none":
            raise ValueError("generate_lake: also needs a real cause as the first cause, not 'none'")
        also = (str(also[0]), int(also[1]))
        incident = combine_incidents(world, (cause, variant), also, stream(seed, "incident", cause, variant),
                                     stream(seed, "incident", *also), offset_us)
    else:
        incident = make_incident(world, cause, variant, stream(seed, "incident", cause, variant))
    run_key = None
    if benign_at_onset == "rollout" and incident.release is not None:
        raise ValueError(f"generate_lake: benign_at_onset='rollout' needs a cause that rolls out no model "
                         f"version; {cause!r} does")
    if benign_at_onset == "schema_change":
        keys = [d.key for d in world.datasets if d.key != incident.dataset]
        run_key = keys[int(coincide.integers(len(keys)))]
        world = add_run(world, run_key, _seconds(incident.onset_us + offset_us), uuid_string(coincide))
    timeline = build_timeline(world, incident, stream(seed, "timeline"), at_onset=benign_at_onset,
                              offset_us=offset_us, run_key=run_key)
    world = _calibrate_volume(world, timeline, incident, rows)

    root = Path(out_dir)
    prepare_directory(root, overwrite=overwrite)
    ingress, logged = [], 0
    for day in range(days):
        generated = generate_day(world, timeline, incident, day)
        write_day(root, to_datetime(world.start_us + day * DAY_US).date().isoformat(), generated, fmt)
        ingress.append(generated.ingress)
        logged += generated.predictions.height
    if artifacts:
        from dataclasses import replace

        from workbench.synthetic.artifact import write_artifacts

        uris = write_artifacts(root, world, timeline.releases)
        timeline = replace(timeline, deployments=tuple({**d, "artifact_uri": uris[d["artifact_digest"]]}
                                                       for d in timeline.deployments))
    write_lineage(root, world, timeline)
    write_traffic(root, world, np.concatenate(ingress), by_route=ingress_by_route)
    write_manifest(root, world, fmt)
    params = {"rows": rows, "days": days, "task": task, "n_numeric": len(world.numeric),
              "n_categorical": len(world.categorical), "embedding_dim": world.embedding_dim, "fmt": fmt}
    if also is not None:
        params["also"] = list(also)
    if benign_at_onset is not None:
        params["benign_at_onset"] = benign_at_onset
    if not ingress_by_route:
        params["ingress_by_route"] = False
    truth = _truth(world, timeline, incident, logged, params)
    truth.to_json(root / "truth.json")
    return truth
