"""The causes of generation lakes: ``prompt_regression``, ``provider_model_change``,
``retrieval_regression``, ``safety_regression``, ``cost_regression`` and ``routing_regression``.

Each reads :class:`~workbench.rca.llm_evidence.LLMEvidence` (``ctx.llm``): for every change it
can blame (a prompt version, an index build, a provider snapshot, a release, a router mix), the
proxies of the calls the change served just after it against those just before
(:meth:`LLMEvidence.effect`), and whether the proxies' own onset lines up with the change.

Score = strength x alignment x what competing explanations leave, where strength is the ramp of
the worst significant proxy change of the cause's family between its effect-size floor and
ceiling (Cohen's h or d), alignment is 1 when the proxy's onset is within 2.5 h of the change
(0 at 10 h), and a competitor is a family this cause cannot move (a prompt does not change
retrieval scores; a cost rise that also made answers worse is a prompt regression, not a cost
regression; refusals are a safety regression even when thumbs-down follow them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from workbench.evidence.llm_retrieval import retrieval_overlap
from workbench.evidence.strength import ramp
from workbench.rca.finding import Evidence, Finding, LineageEvent, subject
from workbench.rca.hypothesis import Hypothesis
from workbench.rca.llm_evidence import Change, Effect, LLMEvidence
from workbench.rca.llm_text_causes import LLMPIILeak, TopicShift

__all__ = ["PromptRegression", "ProviderModelChange", "RetrievalRegression", "SafetyRegression", "CostRegression",
           "RoutingRegression", "LLMLatencyRegression", "LLM_HYPOTHESES", "LLMCauseThresholds"]


@dataclass(frozen=True)
class LLMCauseThresholds:
    """Choices shared by the generation-lake causes (see docs/genai.md)."""

    #: the score of an unmistakable, aligned, uncontested change
    max_score: float = 0.95
    #: what is left of a score when the change is silent (no lineage row announced it)
    silent: float = 0.9
    #: how much of a cause's score a competing family's strength takes away
    compete: float = 0.8


LLM_CAUSE_THRESHOLDS = LLMCauseThresholds()


class _LLMCause(Hypothesis):
    kinds: ClassVar[tuple[str, ...]] = ()
    #: proxy families this cause explains, and families that, when they moved too, point elsewhere
    families: ClassVar[tuple[str, ...]] = ()
    competitors: ClassVar[tuple[str, ...]] = ()
    silent_ok: ClassVar[bool] = True  # may a change with no lineage row be blamed at full score?

    def __init__(self, thresholds: LLMCauseThresholds = LLM_CAUSE_THRESHOLDS) -> None:
        self.thresholds = thresholds

    def evaluate(self, ctx) -> list[Finding]:
        if ctx.lake.task != "generation":
            return []
        ev: LLMEvidence = ctx.llm
        out = []
        for ch in ev.changes:
            if ch.kind not in self.kinds:
                continue
            eff = ev.effect(ch)
            if eff is None:
                continue
            f = self.judge(ev, ch, eff)
            if f is not None and f.score > 0.05:
                out.append(f)
        out.sort(key=lambda f: -f.score)
        return out[:2]

    # -- shared scoring ----------------------------------------------------------------------
    def strength(self, eff: Effect) -> tuple[float, Any]:
        return eff.strength(set(self.families))

    def competing(self, ev: LLMEvidence, eff: Effect) -> float:
        return max([eff.strength(f)[0] for f in self.competitors] or [0.0])

    def judge(self, ev: LLMEvidence, ch: Change, eff: Effect) -> Finding | None:
        s, top = self.strength(eff)
        if top is None or s <= 0:
            return None
        align, onset = ev.alignment(ch, top.proxy)
        rival = self.competing(ev, eff)
        th = self.thresholds
        score = th.max_score * s * align * (1.0 - th.compete * rival) * (1.0 if ch.lineage else th.silent)
        return self.finding(ev, ch, eff, score, top, onset)

    def finding(self, ev: LLMEvidence, ch: Change, eff: Effect, score: float, top, onset) -> Finding:
        worse = sorted((c for c in eff.proxies.values() if c.worse > 0 and c.p_value <= ev.t.p_value),
                       key=lambda c: -c.worse)[:4]
        items = [Evidence(c.proxy, c.b, baseline=c.a, p_value=c.p_value, interval=c.interval,
                          detail=c.describe() + f" — calls {_served(ch)} after {_hm(ch.at)} vs before")
                 for c in worse]
        if eff.finish_mix is not None and eff.finish_mix[1] <= ev.t.p_value and any(
                c.proxy in ("truncation_rate", "content_filter_rate") for c in worse):
            chi2, p, dof = eff.finish_mix
            items.append(Evidence("finish_mix", chi2, p_value=p, detail=f"the finish-reason mix changed "
                                  f"(chi-square {chi2:,.1f}, {dof} df, p={p:.2g})"))
        if onset is not None and onset.at is not None:
            items.append(Evidence("onset", None, p_value=onset.p_value,
                                  detail=f"{top.spec.label} stepped at {_hm(onset.at)} "
                                         f"(95% interval {_hm(onset.low)} .. {_hm(onset.high)}); the change took "
                                         f"effect at {_hm(ch.at)}"))
        if not ch.lineage:
            items.append(Evidence("lineage", None, detail=f"{_served(ch)} first served calls at {_hm(ch.at)}; no "
                                                          "lineage row announced it (a silent change)"))
        lineage = tuple(LineageEvent(e["kind"], e["at"], e.get("ref"), e.get("subject"), e.get("detail"))
                        for e in ch.lineage)
        return Finding(cause=self.cause, score=float(min(max(score, 0.0), 1.0)), subject=subject(**ch.subject),
                       onset=ch.at, evidence=tuple(items), lineage=lineage,
                       next_steps=self.next_steps(ch, top),
                       onset_interval=(onset.low, onset.high) if onset is not None and onset.low else None,
                       explains=ev.explains(ch, top.proxy), summary=self.summary(ch, top))

    def summary(self, ch: Change, top) -> str:
        return f"{top.spec.label} got worse after {_served(ch)} ({top.a:.3g} -> {top.b:.3g})"

    def next_steps(self, ch: Change, top) -> tuple[str, ...]:  # pragma: no cover - overridden
        return ()


def _served(ch: Change) -> str:
    names = {"prompt": "prompt", "index": "index build", "provider_model": "model snapshot", "release": "release",
             "request_model": "model", "router": "router decision"}
    v = ch.subject.get("index") or ch.value
    return f"{names.get(ch.kind, ch.kind)} {v}"


def _hm(t) -> str:
    return "?" if t is None else t.strftime("%Y-%m-%d %H:%M UTC")


class PromptRegression(_LLMCause):
    """A new prompt template version made answers worse (feedback, groundedness, citations,
    truncations) — not retrieval (a prompt does not move retrieval scores) and not refusals
    (that is a safety regression)."""

    cause = "prompt_regression"
    chart = "llm_proxies"
    kinds = ("prompt",)
    families = ("quality",)
    competitors = ("retrieval", "safety")

    def next_steps(self, ch, top):
        prev = f"{ch.value.split('@')[0]}@{ch.previous.split('@')[-1]}" if ch.previous else "the previous version"
        return (f"Roll the prompt back to {prev} and confirm {top.spec.label} recovers.",
                f"Diff {ch.value} against {prev} (lineage/prompts.csv text_sha256) and review the instructions "
                "that changed (citations, length, tone).",
                "Add an offline check of this proxy on replayed conversations before the next prompt rollout.")


class ProviderModelChange(_LLMCause):
    """The provider started answering with another model snapshot behind the same model name
    (``response_model`` changed), and behaviour moved with it."""

    cause = "provider_model_change"
    chart = "llm_proxies"
    kinds = ("provider_model",)
    families = ("quality", "safety", "behaviour", "cost", "latency")
    competitors = ()

    def summary(self, ch, top):
        return (f"{ch.subject.get('dependency')} started answering as {ch.value} (was {ch.previous or '?'}); "
                f"{top.spec.label} {top.a:.3g} -> {top.b:.3g}")

    def next_steps(self, ch, top):
        dep = ch.subject.get("dependency") or "the provider model"
        return (f"Pin {dep} to the dated snapshot {ch.previous or 'used before'} in the client instead of the alias.",
                f"Ask the provider about {ch.value}; re-run the evaluation set against it before unpinning.",
                "Record provider snapshots in lineage/dependencies.csv so the next change is announced.")


class RetrievalRegression(_LLMCause):
    """A retrieval-index build degraded retrieval (empty results, lower scores) and the
    groundedness of answers."""

    cause = "retrieval_regression"
    chart = "llm_proxies"
    kinds = ("index",)
    families = ("retrieval", "quality")
    competitors = ("safety",)

    def judge(self, ev, ch, eff):
        s_ret, _ = eff.strength("retrieval")
        s_q, top_q = eff.strength("quality")
        ov = retrieval_overlap(ev.ctx.lake.predictions(), ch.at)
        s_ov = 0.0
        if ov is not None and ov.control is not None and ov.p_value <= ev.t.p_value:
            s_ov = ramp(ov.control - ov.after, 0.1, 0.4)
        if s_ret <= 0 and s_ov <= 0 and (top_q is None or top_q.proxy != "grounded_share"):
            return None  # an index cannot be blamed for quality moves retrieval does not show
        f = super().judge(ev, ch, eff)
        if f is None or ov is None:
            return f
        score = max(f.score, self.thresholds.max_score * s_ov * (1.0 if ch.lineage else self.thresholds.silent))
        overlap = Evidence("retrieval_overlap", ov.after, baseline=ov.control, p_value=ov.p_value,
                           interval=ov.after_ci, detail=ov.describe())
        return replace(f, score=score, evidence=(*f.evidence, overlap))

    def next_steps(self, ch, top):
        idx = ch.subject.get("index") or ch.value
        prev = ch.previous or "the previous build"
        if ch.previous and "@" not in ch.previous and "@" in idx:
            prev = f"{idx.split('@')[0]}@{ch.previous}"
        return (f"Serve {prev} again (rebuild the index from the previous snapshot) and confirm retrieval recovers.",
                f"Compare {idx} with {prev}: document counts per source, embedding model and chunking settings.",
                "Gate index promotion on recall of a fixed query set against the previous build.")


class SafetyRegression(_LLMCause):
    """Refusals, content-filter stops or blocked answers rose after a release or a prompt version."""

    cause = "safety_regression"
    chart = "llm_proxies"
    kinds = ("release", "prompt")
    families = ("safety",)
    competitors = ("retrieval",)

    def next_steps(self, ch, top):
        what = _served(ch)
        return (f"Roll back {what} or relax the rule that now {'blocks' if 'blocked' in top.proxy else 'refuses'} "
                "legitimate requests.",
                "Sample the refused or blocked calls (redacted excerpts in the report) and label which were legitimate.",
                "Track the refusal and block rates as SLIs with an alert on the next rollout.")


class CostRegression(_LLMCause):
    """Tokens or cost per call rose after a prompt version, a release or a model switch, while the
    answers did not get worse (then it is a prompt regression)."""

    cause = "cost_regression"
    chart = "llm_proxies"
    kinds = ("prompt", "release", "request_model")
    families = ("cost",)
    competitors = ("quality", "safety", "retrieval")

    def judge(self, ev, ch, eff):
        if ch.kind == "request_model" and any(c.kind == "release" and abs((c.at - ch.at).total_seconds()) <= 3600
                                              for c in ev.changes):
            return None  # the release that switched the model is the culprit
        return super().judge(ev, ch, eff)

    def next_steps(self, ch, top):
        return (f"Compare the token budget of {_served(ch)} with its predecessor ({top.spec.label} "
                f"{top.a:.3g} -> {top.b:.3g}).",
                "Trim the system prompt or cap output tokens; price the change per 1k calls before rollout.",
                "Set a cost-per-call budget alert from lineage/prices.csv.")


class RoutingRegression(_LLMCause):
    """The router's mix changed (a release moved the threshold) and quality fell with it."""

    cause = "routing_regression"
    chart = "llm_proxies"
    kinds = ("router",)
    families = ("quality",)
    competitors = ("retrieval",)

    def summary(self, ch, top):
        return (f"the share of calls routed to {ch.value} rose from {float(ch.scope['before']):.0%} to "
                f"{float(ch.scope['after']):.0%}; {top.spec.label} {top.a:.3g} -> {top.b:.3g}")

    def judge(self, ev, ch, eff):
        f = super().judge(ev, ch, eff)
        if f is None:
            return None
        mix = Evidence("router_share", float(ch.scope["after"]), baseline=float(ch.scope["before"]),
                       detail=f"share of calls routed to {ch.value}: {float(ch.scope['before']):.1%} -> "
                              f"{float(ch.scope['after']):.1%}")
        return Finding(**{**{k: getattr(f, k) for k in ("cause", "score", "subject", "onset", "lineage", "next_steps",
                                                        "onset_interval", "explains", "summary")},
                          "evidence": (mix, *f.evidence)})

    def next_steps(self, ch, top):
        rel = ch.subject.get("model_version")
        return ((f"Roll back release {rel}'s router settings" if rel else "Restore the previous router threshold")
                + f" and confirm the share routed to {ch.value} returns.",
                "Replay a sample of hard queries through both routes and compare the answers' feedback proxies.",
                "Alert on the router mix: a step in the share of a route is a change to review.")


class LLMLatencyRegression(_LLMCause):
    """Latency or time to first token rose with a release. A release that switched the requested
    model to a pricier (and slower) one is a cost regression first: its latency is evidence there."""

    cause = "latency_regression"
    chart = "llm_proxies"
    kinds = ("release",)
    families = ("latency",)
    competitors = ()

    def competing(self, ev, eff):
        switched = any(c.kind == "request_model" and abs((c.at - eff.change.at).total_seconds()) <= 3600
                       for c in ev.changes)
        return eff.strength("cost")[0] if switched else 0.0

    def next_steps(self, ch, top):
        return (f"Roll back release {ch.value} (or its canary) and confirm {top.spec.label} recovers.",
                "Split the latency into time to first token (queueing, region, provider) and generation time "
                "(output tokens) to find which grew.",
                "Check the provider's status page and the release's client settings (region, streaming, retries).")


LLM_HYPOTHESES: tuple[type[Hypothesis], ...] = (PromptRegression, ProviderModelChange, RetrievalRegression,
                                                SafetyRegression, CostRegression, RoutingRegression,
                                                LLMLatencyRegression, LLMPIILeak, TopicShift)
