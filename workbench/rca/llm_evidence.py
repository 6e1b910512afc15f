"""The evidence triage of a generation lake shares: one summary of the LLM calls, the proxies that
moved, when they moved, and the changes that could have moved them.

A *change* is something an LLM application's calls depend on taking a new value: a prompt
template version, a retrieval-index build, the model snapshot a provider answers with, an
application release, the requested model, or the router's mix of routes. Changes are found in the
data (a value that carries calls in the window and almost none in the baseline; a router mix
that stepped) and tied to the lineage row that announced them when there is one (prompts,
indexes, dependencies, deployments). For each change, :meth:`LLMEvidence.effect` compares the
calls it served just after it against the calls just before it, in a local window that stops at
the neighbouring changes so that two changes a day apart are not blamed for each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from workbench.evidence.llm_compare import PROXIES, ProxyChange, compare_proxies, finish_mix, proxy_onset
from workbench.evidence.onset import OnsetResult, detect_onset
from workbench.evidence.overlap import floor_hour
from workbench.evidence.llm_calls import summarize_llm
from workbench.summaries.generation import LLMSummary

__all__ = ["Change", "LLMEvidence", "LLM_THRESHOLDS", "LLMThresholds"]

HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class LLMThresholds:
    """The statistical choices of generation-lake triage (see docs/genai.md).

    new_share: a value is *new* when it carries at least this share of some hour's calls in the
    window; baseline_share: ... and at most this share of the baseline's calls.
    mix_shift: the least change of a router decision's share that counts as a change of mix.
    p_value: the largest p-value of a proxy change that counts (many proxies x changes are tried).
    local_hours: the longest stretch either side of a change compared (shortened by neighbours).
    min_calls: the fewest calls a side of a comparison needs.
    align_hours / misalign_hours: a data onset this close to a change supports it fully / not at all.
    """

    new_share: float = 0.2
    baseline_share: float = 0.01
    mix_shift: float = 0.08
    p_value: float = 1e-4
    local_hours: float = 48.0
    min_hours: float = 2.0
    min_calls: int = 60
    align_hours: float = 2.5
    misalign_hours: float = 10.0


LLM_THRESHOLDS = LLMThresholds()


@dataclass(frozen=True)
class Change:
    """Something the calls depend on that took a new value at ``at``.

    ``kind``: prompt | index | provider_model | release | request_model | router.
    ``key``: the summary's group key (prompt, index_version, response_model, model_version,
    request_model, router_decision); ``value``/``previous``: the new and the replaced value;
    ``subject``: the culprit as the findings contract names it; ``lineage``: the rows that
    announced it (kind, at, ref, subject, detail), empty for a silent change.
    """

    kind: str
    key: str
    value: str
    previous: str | None
    at: dt.datetime
    subject: dict[str, Any]
    lineage: tuple[dict[str, Any], ...] = ()
    scope: dict[str, str] = field(default_factory=dict)  # e.g. provider/request_model of a snapshot change

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Effect:
    """A change's effect: proxies of the calls it served after it against the calls before it."""

    change: Change
    before: tuple[dt.datetime, dt.datetime]
    after: tuple[dt.datetime, dt.datetime]
    proxies: dict[str, ProxyChange]
    control: dict[str, ProxyChange]  # calls in the "after" stretch the change did not serve
    calls_after: int
    finish_mix: tuple[float, float, int] | None = None  # chi-square of the finish-reason mix (stat, p, dof)

    def strength(self, family: str | set[str], *, p_value: float = LLM_THRESHOLDS.p_value) -> tuple[float, ProxyChange | None]:
        """The strongest change for the worse among ``family``'s proxies (a ramp of the effect
        size between the proxy's floor and ceiling), discounted by what the control calls show."""
        from workbench.evidence.strength import ramp

        fams = {family} if isinstance(family, str) else set(family)
        best, arg = 0.0, None
        for name, c in self.proxies.items():
            if c.spec.family not in fams or c.p_value > p_value or c.worse <= 0:
                continue
            s = ramp(c.worse, c.spec.lo, c.spec.hi)
            ctl = self.control.get(name)
            if ctl is not None and ctl.worse > 0:
                s *= max(0.0, 1.0 - ctl.worse / c.worse)
            if (s, c.worse) > (best, arg.worse if arg is not None else 0.0):
                best, arg = s, c
        return best, arg


class LLMEvidence:
    """Evidence of one triage of a generation lake (built lazily by ``ctx.llm``)."""

    def __init__(self, ctx, thresholds: LLMThresholds = LLM_THRESHOLDS) -> None:
        self.ctx = ctx
        self.t = thresholds
        lake = ctx.lake
        self.lo = min(ctx.baseline_start, ctx.start)
        ctx.progress("summarising LLM calls (one pass)")
        self.summary: LLMSummary = summarize_llm(lake, self.lo, ctx.end)
        self.b_lo, self.b_hi = floor_hour(ctx.baseline_start), floor_hour(ctx.baseline_end)
        self.w_lo = floor_hour(ctx.start)
        self.baseline = self.summary.where((pl.col("bucket") >= self.b_lo) & (pl.col("bucket") < self.b_hi))
        self.window = self.summary.where(pl.col("bucket") >= self.w_lo)

    # -- what moved -----------------------------------------------------------------------
    @cached_property
    def overall(self) -> dict[str, ProxyChange]:
        """Every proxy, window against baseline."""
        return compare_proxies(_row(self.baseline.totals()), _row(self.window.totals()), min_n=self.t.min_calls)

    def onset(self, proxy: str) -> OnsetResult | None:
        """When a proxy's series stepped (baseline + window), or None."""
        if proxy not in self._onsets:  # computed once per proxy (every change and cause asks)
            self._onsets[proxy] = proxy_onset(self.summary, proxy)
        return self._onsets[proxy]

    @cached_property
    def _onsets(self) -> dict[str, OnsetResult | None]:
        return {}

    # -- what changed ---------------------------------------------------------------------
    @cached_property
    def changes(self) -> tuple[Change, ...]:
        """Changes that took effect in the window (or in the last hours before it), by time."""
        out: list[Change] = []
        for key, kind in (("prompt", "prompt"), ("index_version", "index"), ("model_version", "release"),
                          ("request_model", "request_model")):
            out += self._new_values(key, kind)
        out += self._snapshot_changes()
        out += self._router_changes()
        return tuple(sorted(out, key=lambda c: (c.at, c.kind, c.value)))

    def _hourly_shares(self, key: str, scope: pl.Expr | None = None) -> pl.DataFrame:
        s = self.summary if scope is None else self.summary.where(scope)
        t = s.totals(("bucket", key))
        tot = t.group_by("bucket").agg(pl.col("calls").sum().alias("all"))
        return t.join(tot, on="bucket").with_columns((pl.col("calls") / pl.col("all")).alias("share"))

    def _new_values(self, key: str, kind: str, scope: pl.Expr | None = None,
                    scope_names: dict[str, str] | None = None) -> list[Change]:
        sh = self._hourly_shares(key, scope).filter(pl.col(key).is_not_null())
        if sh.is_empty():
            return []
        base = sh.filter((pl.col("bucket") >= self.b_lo) & (pl.col("bucket") < self.b_hi))
        b_calls = float(base["calls"].sum() or 0)
        b_share = {r[key]: r["calls"] / b_calls for r in base.group_by(key).agg(pl.col("calls").sum())
                   .iter_rows(named=True)} if b_calls else {}
        win = sh.filter(pl.col("bucket") >= self.w_lo - self.t.local_hours * HOUR / 4)
        out = []
        for v in win[key].unique().sort().to_list():
            if b_share.get(v, 0.0) > self.t.baseline_share:
                continue
            rows = win.filter((pl.col(key) == v) & (pl.col("share") >= self.t.new_share)).sort("bucket")
            if rows.is_empty():
                continue
            first = win.filter(pl.col(key) == v).sort("bucket")
            at = first["bucket"][0]
            prev = _previous(sh, key, v, at)
            lineage = self._announced(kind, v, at, scope_names or {})
            if lineage:
                at = min(lineage, key=lambda e: abs((e["at"] - at).total_seconds()))["at"]
            out.append(Change(kind, key, v, prev, at, _subject(kind, v, scope_names or {}, self.ctx.lake),
                              tuple(lineage), dict(scope_names or {})))
        return out

    def _snapshot_changes(self) -> list[Change]:
        """A new answering model snapshot behind the same provider and requested model."""
        t = self.summary.totals(("provider", "request_model"))
        out = []
        for r in t.iter_rows(named=True):
            if r["request_model"] is None:
                continue
            scope = (pl.col("request_model") == r["request_model"])
            if r["provider"] is not None:
                scope = scope & (pl.col("provider") == r["provider"])
            names = {"provider": r["provider"] or "provider", "request_model": r["request_model"]}
            out += self._new_values("response_model", "provider_model", scope, names)
        return out

    def _router_changes(self) -> list[Change]:
        """A router decision whose share of calls stepped (a new threshold, a new router version)."""
        sh = self._hourly_shares("router_decision").filter(pl.col("router_decision").is_not_null())
        if sh.is_empty() or sh["router_decision"].n_unique() < 2:
            return []
        out = []
        for v in sorted(sh["router_decision"].unique().to_list()):
            s = sh.filter(pl.col("router_decision") == v).sort("bucket")
            o = detect_onset(s["bucket"].to_list(), n=s["all"].to_numpy(), events=s["calls"].to_numpy())
            if o.at is None or o.before is None or o.after is None or o.after - o.before < self.t.mix_shift:
                continue
            if o.at < self.w_lo - self.t.local_hours * HOUR / 4 or o.p_value > self.t.p_value:
                continue
            at = o.at
            rel = self._releases_near(at)
            if rel:
                # the release that moved the mix started with its first rollout step (a canary)
                tl = self.ctx.timeline
                steps = tl.filter((pl.col("kind") == "rollout") & (pl.col("subject") == rel[0]["subject"])
                                  & (pl.col("at") <= at) & (pl.col("at") >= at - 12 * HOUR)).sort("at")
                if steps.height:
                    rel = list(steps.iter_rows(named=True))[:3]
                    at = rel[0]["at"]
            subj = {"route": v, "model_version": rel[0]["subject"] if rel else None}
            out.append(Change("router", "router_decision", v, None, at, subj, tuple(rel),
                              {"before": f"{o.before:.3f}", "after": f"{o.after:.3f}"}))
        return out

    def _releases_near(self, at: dt.datetime) -> list[dict[str, Any]]:
        tl = self.ctx.timeline
        if tl.is_empty():
            return []
        near = tl.filter((pl.col("kind") == "rollout") & ((pl.col("at") - at).abs() <= self.t.align_hours * HOUR))
        return list(near.iter_rows(named=True))[:3]

    def _announced(self, kind: str, value: str, at: dt.datetime, scope: dict[str, str]) -> list[dict[str, Any]]:
        """Lineage rows announcing ``value`` (within a day of its first calls)."""
        tl = self.ctx.timeline
        if tl.is_empty():
            return []
        if kind == "prompt":
            m = tl.filter((pl.col("kind") == "prompt_version") & (pl.col("subject") == value))
        elif kind == "index":
            m = tl.filter((pl.col("kind") == "index_build")
                          & ((pl.col("subject") == value) | pl.col("subject").str.ends_with("@" + value)))
        elif kind == "release":
            m = tl.filter((pl.col("kind") == "rollout") & (pl.col("subject") == value))
        elif kind == "provider_model":
            dep = f"{scope.get('provider')}:{scope.get('request_model')}"
            m = tl.filter((pl.col("kind") == "dependency_change")
                          & (((pl.col("subject") == dep) & pl.col("detail").str.contains(value, literal=True))))
        else:
            return []
        m = m.filter((pl.col("at") - at).abs() <= dt.timedelta(days=1))
        return list(m.iter_rows(named=True))[:3]

    # -- what a change did -------------------------------------------------------------------
    def effect(self, change: Change) -> Effect | None:
        """Calls the change served after it against calls before it, each side at most
        ``local_hours`` long and stopping short of the neighbouring changes that did something
        (a neighbour whose own stretch moved no proxy for the worse is no boundary: a routine prompt
        update the night before must not cut the comparison of a release down to a few hours)."""
        key = change.name + change.at.isoformat()
        if key not in self._effects:
            active = [c for c in self._neighbours(change) if _moved(self._effect(c, self._neighbours(c)))]
            self._effects[key] = self._effect(change, active)
        return self._effects[key]

    def _neighbours(self, change: Change) -> list[Change]:
        return [c for c in self.changes if c is not change and abs((c.at - change.at).total_seconds()) > 3600
                and not _same_rollout(c, change)]

    def _effect(self, change: Change, neighbours: list[Change]) -> Effect | None:
        others = [c.at for c in neighbours]
        span = self.t.local_hours * HOUR
        lo = max([change.at - span, self.summary.start] + [t for t in others if t < change.at])
        hi = min([change.at + span, self.ctx.end] + [t for t in others if t > change.at])
        if hi - change.at < self.t.min_hours * HOUR or change.at - lo < self.t.min_hours * HOUR:
            lo, hi = max(change.at - span, self.summary.start), min(change.at + span, self.ctx.end)
        at_h = floor_hour(change.at) + (HOUR if change.at != floor_hour(change.at) else dt.timedelta(0))
        scope = _scope_expr(change.scope)
        before = self.summary.where((pl.col("bucket") >= floor_hour(lo)) & (pl.col("bucket") < floor_hour(change.at))
                                    & scope)
        after_all = self.summary.where((pl.col("bucket") >= at_h) & (pl.col("bucket") < hi) & scope)
        if change.kind == "router":
            after, control = after_all, None
        else:
            after = after_all.where(pl.col(change.key) == change.value)
            control = after_all.where(pl.col(change.key) != change.value)
        a, b = _row(before.totals()), _row(after.totals())
        if not a or not b:
            return None
        prox = compare_proxies(a, b, min_n=self.t.min_calls)
        ctl = compare_proxies(a, _row(control.totals()), min_n=max(self.t.min_calls, 200)) \
            if control is not None and control.calls else {}
        return Effect(change, (lo, change.at), (change.at, hi), prox, ctl, after.calls, finish_mix(a, b))

    @cached_property
    def _effects(self) -> dict[str, Effect]:
        return {}

    def alignment(self, change: Change, proxy: str) -> tuple[float, OnsetResult | None]:
        """1 when the proxy's own onset falls within ``align_hours`` of the change, falling to 0 at
        ``misalign_hours``; the onset itself."""
        o = self.onset(proxy)
        if o is None or o.at is None:
            return 0.5, o
        # a release ramps (canary, then promotion): its proxy steps when most calls move over
        times = [change.at, *(e["at"] for e in change.lineage if e.get("at") is not None)]
        d = min(abs((o.at - t).total_seconds()) for t in times) / 3600
        if d <= self.t.align_hours:
            return 1.0, o
        return max(0.0, 1.0 - (d - self.t.align_hours) / (self.t.misalign_hours - self.t.align_hours)), o

    def explains(self, change: Change, proxy: str) -> float | None:
        """The share of the window's change of ``proxy`` (against the baseline) carried by the
        calls the change served: their count times their own change, over all window calls
        times the window's change."""
        whole = self.overall.get(proxy)
        if whole is None or not whole.difference:
            return None
        served = self.window.where(pl.col("bucket") >= floor_hour(change.at))
        if change.kind != "router":
            served = served.where(pl.col(change.key) == change.value)
        c = compare_proxies(_row(self.baseline.totals()), _row(served.totals()), min_n=1, proxies=(proxy,)).get(proxy)
        if c is None or c.difference is None:
            return None
        share = c.n_b / whole.n_b if whole.n_b else 0.0
        return float(min(1.0, max(0.0, share * c.difference / whole.difference)))


def _moved(eff: Effect | None) -> bool:
    """Did a change move any proxy for the worse (significantly, past the proxy's floor)?"""
    families = {p.family for p in PROXIES}
    return eff is not None and eff.strength(families)[0] > 0


def _same_rollout(a: Change, b: Change) -> bool:
    """A router mix that a release moved, and that release, are one change rolling out (canary,
    then promotion): neither is the other's neighbour."""
    for r, o in ((a, b), (b, a)):
        if r.kind == "router" and o.kind == "release" and r.subject.get("model_version") == o.value:
            return True
    return False


def _row(t: pl.DataFrame) -> dict[str, Any]:
    return t.row(0, named=True) if t.height else {}


def _previous(sh: pl.DataFrame, key: str, value: str, at: dt.datetime) -> str | None:
    before = sh.filter((pl.col("bucket") < at) & (pl.col(key) != value))
    if before.is_empty():
        return None
    last = before.filter(pl.col("bucket") >= before["bucket"].max() - 6 * HOUR)
    return last.group_by(key).agg(pl.col("calls").sum()).sort("calls", descending=True)[key][0]


def _scope_expr(scope: dict[str, str]) -> pl.Expr:
    e = pl.lit(True)
    for k in ("provider", "request_model"):
        if k in scope and scope[k] not in (None, "provider"):
            e = e & (pl.col(k) == scope[k])
    return e


def _subject(kind: str, value: str, scope: dict[str, str], lake) -> dict[str, Any]:
    if kind == "prompt":
        return {"prompt": value}
    if kind == "index":
        return {"index": value if "@" in value else _index_name(lake, value)}
    if kind == "provider_model":
        return {"dependency": f"{scope.get('provider')}:{scope.get('request_model')}"}
    if kind in ("release", "request_model"):
        return {"model_version": value} if kind == "release" else {"dependency": value}
    return {}


def _index_name(lake, version: str) -> str:
    ix = lake.lineage.indexes
    if ix.height:
        m = ix.filter(pl.col("version") == version)
        if m.height:
            return f"{m['index'][0]}@{version}"
        names = ix["index"].unique().to_list()
        if len(names) == 1:
            return f"{names[0]}@{version}"
    return f"index@{version}"


__all__ += ["Effect", "PROXIES"]
