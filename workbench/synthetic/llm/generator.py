"""The facade: :func:`generate_llm_lake` writes an LLM telemetry lake with one injected incident."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.synthetic.llm.rows import simulate
from workbench.synthetic.llm.scenario import APPS_FORCED, LLM_CAUSES, Scenario, build_scenario
from workbench.synthetic.truth import Truth
from workbench.synthetic.world import to_datetime
from workbench.synthetic.writer import prepare_directory

__all__ = ["APPS", "generate_llm_lake"]

#: the applications a lake can be generated for
APPS = ("support_rag", "search_router")
_KIND_NAMES = {"snapshot": "dependency_bump"}


def _check(cause, variant, rows, seed, days, app) -> None:
    def fail(msg: str) -> None:
        raise ValueError(msg)

    if cause not in LLM_CAUSES:
        fail(f"generate_llm_lake: unknown cause {cause!r}\n\nValid causes: {', '.join(LLM_CAUSES)}")
    if not isinstance(variant, (int, np.integer)) or not 0 <= variant < LLM_CAUSES[cause]:
        fail(f"generate_llm_lake: variant must be an int in [0, {LLM_CAUSES[cause] - 1}] for cause {cause!r}, "
             f"got {variant!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        fail(f"generate_llm_lake: seed must be a non-negative int, got {seed!r}")
    if not isinstance(rows, (int, np.integer)) or rows < 1_000:
        fail(f"generate_llm_lake: rows must be an int of at least 1000, got {rows!r}")
    if not isinstance(days, (int, np.integer)) or not 7 <= days <= 366:
        fail(f"generate_llm_lake: days must be an int in [7, 366], got {days!r}\n\n"
             "A week is the least that leaves a baseline before the incident and time for feedback.")
    if app is not None and app not in APPS:
        fail(f"generate_llm_lake: unknown app {app!r}\n\nValid apps: {', '.join(APPS)} (or None: chosen by the seed)")
    forced = APPS_FORCED.get(cause)
    if app is not None and forced and app != forced:
        fail(f"generate_llm_lake: cause {cause!r} needs app {forced!r}, got {app!r}\n\n"
             f"Pass app={forced!r} or app=None.")


def _truth(sc: Scenario, logged: int, params: dict) -> Truth:
    releases = [r.version for r in sc.releases]
    incident = None
    if sc.onset_us is not None:
        incident = next((r.version for r in sc.releases if r.at_us == sc.onset_us), None)
    benign = next((c["ref"] for c in sc.confounders if c["kind"] == "rollout"), None)
    return Truth(
        cause=sc.cause, variant=sc.variant, seed=sc.seed, rows=logged, start=to_datetime(sc.start_us),
        end=to_datetime(sc.end_us), onset=None if sc.onset_us is None else to_datetime(sc.onset_us),
        subject=sc.subject, description=sc.description, name=sc.name, theme=sc.app, task="generation",
        versions={"baseline": releases[0], "benign": benign, "incident": incident},
        confounders=tuple({"kind": _KIND_NAMES.get(c["kind"], c["kind"]), "at": to_datetime(c["at"]),
                           "ref": c["ref"], "near": c["near"]} for c in sc.confounders),
        details=sc.details, params=params,
    )


def generate_llm_lake(
    out_dir: str | Path,
    *,
    cause: str = "none",
    variant: int = 0,
    rows: int = 40_000,
    seed: int = 0,
    days: int = 14,
    app: str | None = None,
    overwrite: bool = False,
) -> Truth:
    """Write a synthetic LLM telemetry lake (``task: generation``) with one injected incident.

    One row per LLM call of a support assistant with retrieval (``support_rag``) or a search-answer
    service with a big and a small model behind a router (``search_router``): prompt, response and
    retrieved-context text built from per-topic vocabularies, conversations with re-asks, token
    usage, cost, latency and time to first token, finish reasons, policy-gate outcomes, delayed
    feedback and escalations in labels/, and the lineage (releases, prompt versions, index builds,
    prices, announced provider snapshots). ``truth.json`` is written beside ``workbench.yaml``.
    The same arguments give byte-identical files.

    Parameters
    ----------
    out_dir : str or Path
        Lake root to create. An existing non-empty directory is only replaced with ``overwrite``.
    cause : str, default "none"
        A key of :data:`LLM_CAUSES`; ``"none"`` still carries benign changes (a prompt version, an
        index build adding documents, a release, an announced provider snapshot).
    variant : int, default 0
        Which variant of the cause, in ``range(LLM_CAUSES[cause])``.
    rows : int, default 40_000
        Approximate number of logged calls (within about 10%).
    seed : int, default 0
        Seed of every random choice (app when ``app`` is None, names, magnitudes, onset, ...).
    days : int, default 14
        Span of the data in days (at least 7); the onset falls in the last third.
    app : {"support_rag", "search_router"}, optional
        The application; chosen by the seed when None. ``routing_regression`` needs
        ``search_router`` and ``pii_leak`` ``support_rag`` (forced when None).
    overwrite : bool, default False
        Replace an existing lake at ``out_dir`` (refused if it holds no ``workbench.yaml``).

    Returns
    -------
    Truth
        What was injected (``task="generation"``, ``theme`` = the app), when, and the subject a
        correct diagnosis must name.

    Raises
    ------
    ValueError
        If an argument is out of range or the cause needs the other app.
    FileExistsError
        If ``out_dir`` exists and may not be replaced.

    Examples
    --------
    >>> from workbench.synthetic import generate_llm_lake
    >>> truth = generate_llm_lake("/tmp/llm-lake", cause="prompt_regression", seed=3)  # doctest: +SKIP
    >>> truth.subject["prompt"]  # doctest: +SKIP
    'support_answer@8'
    """
    _check(cause, variant, rows, seed, days, app)
    seed, variant, rows, days = int(seed), int(variant), int(rows), int(days)
    sc = build_scenario(seed, cause, variant, app, days)
    calls = simulate(sc, rows)
    root = Path(out_dir)
    prepare_directory(root, overwrite=overwrite)
    from workbench.synthetic.llm.writer import write_lake

    write_lake(root, sc, calls)
    params = {"rows": rows, "days": days, "app": sc.app, "columns": dict(sc.columns), "cost_logged": sc.has_cost,
              "embedding_dim": sc.embedding_dim}
    truth = _truth(sc, calls.predictions.height, params)
    truth.to_json(root / "truth.json")
    return truth
