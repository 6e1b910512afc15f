"""``serving_bug``: the serving code changed (same artifact) and the outputs are wrong."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.rca._versions import quality_drop, replay_evidence
from workbench.rca.finding import Evidence, Finding, subject
from workbench.rca.hypothesis import Hypothesis, rollout_events

__all__ = ["ServingBug", "ServingThresholds"]


@dataclass(frozen=True)
class ServingThresholds:
    """Choices of :class:`ServingBug` (see docs/triage.md)."""

    #: same artifact, new serving code, and mis-mapped outputs or a replay that does not
    #: reproduce the served rows: as sure as triage gets
    decisive: float = 0.97
    #: same artifact, new serving code, worse quality: at most this (times the quality drop)
    quality: float = 0.92
    #: a new model whose served rows a replay does not reproduce
    replayed_new_model: float = 0.9
    #: a new model with mis-mapped outputs (a bad retrain could do the same): below the threshold
    mismapped_new_model: float = 0.45


SERVING_THRESHOLDS = ServingThresholds()


class ServingBug(Hypothesis):
    """Lineage first: the release keeps its predecessor's artifact digest and training data but
    ships a new serving commit. Then the outputs: mis-mapping (inverted scores, permuted classes)
    scores highest; otherwise a quality drop against the predecessor."""

    cause = "serving_bug"
    chart = "output_mix"

    def __init__(self, thresholds: ServingThresholds = SERVING_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        th = self.thresholds
        out = []
        for r in ctx.releases:
            same = r.same_artifact is True or (r.same_artifact is None and r.same_training is True)
            mm = ctx.mismapping(r)
            mapped = mm is not None and mm.mismapped
            q, ev, how = quality_drop(ctx, r)
            rep = ctx.replay(r)
            replayed = rep is not None and rep.verdict == "serving"
            if same and r.new_commit is not False:
                score = th.decisive if mapped or replayed else th.quality * q
            else:
                # a new model: mis-mapped outputs could be either; a replay can tell
                score = th.replayed_new_model if replayed else (th.mismapped_new_model if mapped else 0.0)
            if score <= 0:
                continue
            items = []
            if mm is not None and mm.detail:
                items.append(Evidence("output_mapping", mm.auc if mm.auc is not None else mm.accuracy,
                                      baseline=mm.previous_auc, interval=mm.auc_ci, p_value=mm.permutation_p,
                                      detail=("outputs mis-mapped: " if mapped else "") + mm.detail))
            info, pinfo = r.info or {}, r.previous_info or {}
            if same:
                items.append(Evidence("lineage", None, detail=(
                    f"{r.version} reuses {r.previous}'s artifact {str(info.get('artifact_digest'))[:12]} and training "
                    f"data; serving commit {str(pinfo.get('serving_commit'))[:10]} -> "
                    f"{str(info.get('serving_commit'))[:10]}")))
            if rep is not None:
                items.append(replay_evidence(rep))
            items += ev
            prev = r.previous or "the previous version"
            out.append(Finding(
                cause=self.cause, score=round(score, 4), subject=subject(model_version=r.version),
                onset=r.first_deployed, evidence=tuple(items), lineage=rollout_events(r.lineage),
                explains=ctx.drop_explained_by_version(r.version),
                summary=(f"{r.version} serves the same model with new code and its outputs are "
                         + ("mis-mapped" if mapped else f"worse ({how})")),
                next_steps=(f"roll back {r.version} to {prev}",
                            f"diff the serving code {str(pinfo.get('serving_commit'))[:10]}.."
                            f"{str(info.get('serving_commit'))[:10]} (output order, score orientation, "
                            "feature order)",
                            "add an output-contract test (class order, score direction) to the serving CI"),
                hypothesis=self.name))
        return out
