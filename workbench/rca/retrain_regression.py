"""``retrain_regression``: a newly trained model version performs worse overall."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.rca._versions import quality_drop, replay_evidence
from workbench.evidence.strength import ramp
from workbench.rca.finding import Evidence, Finding, subject
from workbench.rca.hypothesis import Hypothesis, rollout_events

__all__ = ["RetrainRegression", "RetrainThresholds"]


@dataclass(frozen=True)
class RetrainThresholds:
    """Choices of :class:`RetrainRegression` (see docs/triage.md)."""

    #: the score of an unmistakable quality drop of a new artifact
    max_score: float = 0.95
    #: a replay where the old model does better on the same rows: its AUC/accuracy advantage's
    #: lower bound mapped to strength, 1 point -> 0 ...
    replay_lo: float = 0.01
    #: ... 5 points -> 1
    replay_hi: float = 0.05
    #: what is left of the quality drop when the replay says the data or the serving did it
    replay_elsewhere: float = 0.3
    #: what is left of the score without deployment lineage (a retrain cannot be told from a
    #: serving change)
    unknown_lineage: float = 0.7


RETRAIN_THRESHOLDS = RetrainThresholds()


class RetrainRegression(Hypothesis):
    """Lineage first: a new artifact trained on new data. Then quality worse than the predecessor
    (on shared hours when there are enough labels, else before/after discounted by input drift),
    minus the share of the drop one segment explains (that is a bias regression)."""

    cause = "retrain_regression"
    chart = "quality_by_version"

    def __init__(self, thresholds: RetrainThresholds = RETRAIN_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        th = self.thresholds
        out = []
        for r in ctx.releases:
            if r.same_artifact is True:
                continue
            q, ev, how = quality_drop(ctx, r)
            rep = ctx.replay(r)
            if rep is not None:
                # the old model on the same rows: decisive when it would have done better
                if rep.verdict == "model":
                    q, how = max(q, ramp(-rep.new_vs_old[0], th.replay_lo, th.replay_hi)), "replayed on the same rows"
                elif rep.verdict in ("data", "serving"):
                    q *= th.replay_elsewhere
                ev = [replay_evidence(rep)] + list(ev)
            if q <= 0:
                continue
            seg = ctx.segment_regression(r)
            explained = seg.explains if seg else 0.0
            # without deployment lineage a retrain cannot be told from a serving change: less sure
            known = r.same_artifact is False or r.same_training is False
            score = th.max_score * q * (1.0 - explained) * (1.0 if known else th.unknown_lineage)
            info, pinfo = r.info or {}, r.previous_info or {}
            items = list(ev)
            if known:
                items.append(Evidence("lineage", None, detail=(
                    f"{r.version} is a new artifact {str(info.get('artifact_digest'))[:12]} trained on "
                    f"{info.get('training_dataset')} (was {pinfo.get('training_dataset')})")))
            else:
                items.append(Evidence("lineage", None, detail=(
                    f"no deployment lineage for {r.version}: whether it is a new model or new serving code is "
                    "unknown (fill lineage/deployments.csv)")))
            if seg:
                items.append(Evidence("segment_share", explained, detail=(
                    f"{seg.column}={seg.value} explains {explained:.0%} of the drop")))
            prev = r.previous or "the previous version"
            out.append(Finding(
                cause=self.cause, score=round(score, 4), subject=subject(model_version=r.version),
                onset=r.first_deployed, evidence=tuple(items), lineage=rollout_events(r.lineage),
                explains=_share(ctx.drop_explained_by_version(r.version), explained),
                summary=f"{r.version} performs worse than {prev} overall ({how})",
                next_steps=(f"roll back {r.version} to {prev}",
                            f"compare training data {info.get('training_dataset')} with "
                            f"{pinfo.get('training_dataset')} (labels, time range, filters)" if known else
                            f"find out what changed between {prev} and {r.version}: model, features or serving code",
                            "gate promotions on the canary's AUC/accuracy against the current version"),
                hypothesis=self.name))
        return out


def _share(by_version: float | None, by_segment: float) -> float | None:
    """The share of the window's drop confined to the version, less what one segment explains."""
    return None if by_version is None else round(by_version * (1.0 - by_segment), 4)
