"""Comparing two model versions (canary vs primary, new vs old) and spotting mis-mapped outputs.

Both read one summary, restricted by the caller to comparable rows (the same time window,
e.g. the canary period, so both versions saw the same population).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence import stats as st
from workbench.evidence._scipy import stats
from workbench.evidence.stats import ALPHA, overridden
from workbench.evidence.quality import auc_difference, auc_from_counts
from workbench.exceptions import InsufficientDataError
from workbench.results import Result
from workbench.summaries import Summary
from workbench.summaries.binning import latency_bin_mid, latency_quantile
from workbench.summaries.summary import score_counts

__all__ = ["VersionComparison", "VersionThresholds", "compare_versions", "MismappingResult", "MismappingThresholds",
           "detect_output_mismapping"]


@dataclass(frozen=True)
class VersionThresholds:
    """When version b is worse than a (see :func:`compare_versions`); every check needs both a
    significant difference (p < ``alpha``) and a material one."""

    alpha: float = ALPHA
    #: accuracy or AUC lower by at least this much (absolute)
    min_effect: float = 0.01
    #: a fallback-rate rise counts from this share of ``min_effect`` (fallbacks are rarer events)
    fallback_effect_share: float = 0.5
    #: mean absolute error (regression) higher by at least this factor
    mae_ratio: float = 1.05
    #: p95 latency: the lower bound of the ratio's bootstrap interval above this factor
    latency_ratio: float = 1.1
    #: two-sided level of that bootstrap interval (0.01: a 99 % interval)
    latency_interval_alpha: float = 0.01


@dataclass(frozen=True)
class MismappingThresholds:
    """When a version's outputs read as mis-mapped (see :func:`detect_output_mismapping`)."""

    #: level of McNemar's exact test of the best class relabelling
    alpha: float = 1e-3
    #: the relabelling must raise accuracy by at least this much
    min_gain: float = 0.05
    #: label-free: the distribution must have moved this far (Jensen-Shannon) from the previous one
    min_js: float = 0.1
    #: ... and sit closer to the previous one's mirror (or relabelling) by this factor
    mirror_ratio: float = 0.5



def _row(summary: Summary, version: str, route: str | None) -> dict[str, Any] | None:
    s = summary.where(pl.col("model_version") == version)
    if route is not None:
        s = s.where(pl.col("route") == route)
    t = s.collapse().table
    return t.row(0, named=True) if t.height and t["n"][0] else None


def _abs_err_moments(r: dict) -> tuple[float, float]:
    """Mean and variance of |error| from the additive sums (sum |e|, sum e^2)."""
    n = r["labelled"]
    m = r["abs_err"] / n
    return m, max(r["sq_err"] / n - m * m, 0.0)


def _latency_hist(summary: Summary, version: str, route: str | None) -> dict[int, float]:
    lat = summary.latency.filter(pl.col("model_version") == version)
    if route is not None:
        lat = lat.filter(pl.col("route") == route)
    g = lat.filter(pl.col("bin").is_not_null()).group_by("bin").agg(pl.col("n").sum()).sort("bin")
    return dict(zip(g["bin"].to_list(), g["n"].to_list()))


@dataclass(frozen=True, repr=False)
class VersionComparison(Result):
    """Version ``b`` against version ``a`` on comparable rows; every difference is b - a.

    ``checks`` holds one entry per comparison: metric, value for a and b, difference, interval
    or p-value, and ``worse`` when b is significantly worse.
    """

    a: str
    b: str
    checks: list[dict[str, Any]]
    rows: dict[str, int]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def worse(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if c.get("worse")]

    @property
    def verdict(self) -> str:
        """``no-go`` when b is significantly worse on any check, else ``go``."""
        return "no-go" if self.worse else "go"

    def _summary(self) -> str:
        return f"{self.b!r} vs {self.a!r}: {self.verdict}, worse={[c['metric'] for c in self.worse]}"

    def _repr_html_(self) -> str:
        from workbench.tables import block, fmt_cell, kind_of, table, title

        def change(c, k):
            if c.get("difference") is not None:
                return fmt_cell(c["difference"], k)
            return f"{c['ratio']:.2f}×" if c.get("ratio") is not None else None

        rows = [{"metric": title(c["metric"]), "a": fmt_cell(c.get("a"), kind_of(c["metric"])),
                 "b": fmt_cell(c.get("b"), kind_of(c["metric"])), "change": change(c, kind_of(c["metric"])),
                 "interval": c.get("ratio_ci"), "p_value": c.get("p_value"), "test": c.get("test"),
                 "worse": bool(c.get("worse"))} for c in self.checks]
        cols = {"metric": "metric", "a": self.a, "b": self.b, "change": "change (b − a, or ratio)",
                "interval": "ratio interval", "p_value": "p-value", "test": "test", "worse": "worse"}
        if not any(r["interval"] for r in rows):
            cols.pop("interval")
        return block(f"{self.b} against {self.a}: {self.verdict.upper()}",
                     f"on {self.rows.get('b', 0):,} and {self.rows.get('a', 0):,} rows",
                     table(rows, columns=cols, units={"interval": "ci", "p_value": "p"}, highlight="worse"),
                     css="workbench-versions")


def compare_versions(summary: Summary, a: str, b: str, *, route_a: str | None = None, route_b: str | None = None,
                     alpha: float | None = None, min_effect: float | None = None, n_boot: int = 300,
                     seed: int = 0, thresholds: VersionThresholds | None = None) -> VersionComparison:
    """Compare version ``b`` with ``a``: quality, latency and prediction distribution.

    A check marks b ``worse`` when the difference is significant at ``alpha`` and at least
    ``min_effect`` (absolute, for rates and AUC) or 10 % (relative, for latency); see
    :class:`VersionThresholds`, whose fields ``alpha`` and ``min_effect`` override.
    """
    th = overridden(thresholds or VersionThresholds(), alpha=alpha, min_effect=min_effect)
    alpha, min_effect = th.alpha, th.min_effect
    ra, rb = _row(summary, a, route_a), _row(summary, b, route_b)
    if ra is None or rb is None:
        missing = a if ra is None else b
        raise InsufficientDataError(f"compare_versions: no rows of version {missing!r} in the summary",
                                    found=f"versions {sorted(set(summary.table['model_version'].to_list()))}",
                                    hint="check the version name and the summary's window and routes")
    checks: list[dict[str, Any]] = []
    # accuracy
    if ra.get("labelled") and rb.get("labelled") and "correct" in ra:
        diff, p = st.two_proportion(ra["correct"], ra["labelled"], rb["correct"], rb["labelled"])
        checks.append({"metric": "accuracy", "a": ra["correct"] / ra["labelled"], "b": rb["correct"] / rb["labelled"],
                       "difference": diff, "p_value": p, "test": "two-proportion z",
                       "worse": p < alpha and diff <= -min_effect})
    # mean absolute error (regression): Welch z on the mean |error|, whose second moment is the
    # mean squared error; worse when significant and at least 5 % higher
    if ra.get("labelled") and rb.get("labelled") and "abs_err" in ra:
        (ma, va), (mb, vb) = _abs_err_moments(ra), _abs_err_moments(rb)
        se = math.sqrt(va / ra["labelled"] + vb / rb["labelled"])
        p = float(2 * stats.norm.sf(abs(mb - ma) / se)) if se > 0 else 1.0
        checks.append({"metric": "mae", "a": ma, "b": mb, "difference": mb - ma, "ratio": mb / ma if ma else None,
                       "rmse_a": math.sqrt(ra["sq_err"] / ra["labelled"]),
                       "rmse_b": math.sqrt(rb["sq_err"] / rb["labelled"]), "p_value": p, "test": "Welch z",
                       "worse": p < alpha and mb > ma * th.mae_ratio})
    # AUC
    sa, sb = score_counts(ra), score_counts(rb)
    alla, allb = sa.all, sb.all
    if (auc := auc_difference(sa, sb)) is not None:
        d, p = auc["delta"], auc["p_value"]
        checks.append({"metric": "auc", "a": auc["a"], "b": auc["b"], "difference": d, "se": auc["se"],
                       "p_value": p, "test": "z on Hanley-McNeil errors", "worse": p < alpha and d <= -min_effect})
    # fallback rate
    if "fallback" in ra:
        diff, p = st.two_proportion(ra["fallback"], ra["n"], rb["fallback"], rb["n"])
        checks.append({"metric": "fallback_rate", "a": ra["fallback"] / ra["n"], "b": rb["fallback"] / rb["n"],
                       "difference": diff, "p_value": p, "test": "two-proportion z",
                       "worse": p < alpha and diff >= min_effect * th.fallback_effect_share})
    # latency: p95 with a bootstrap interval of the ratio, and KS on the histograms
    ha, hb = _latency_hist(summary, a, route_a), _latency_hist(summary, b, route_b)
    if ha and hb:
        rng = np.random.default_rng(seed)
        qa, qb = latency_quantile(ha, 0.95), latency_quantile(hb, 0.95)
        boot_a, boot_b = _resample_p95(ha, hb, rng, n_boot)
        inv = 1 / (boot_a / boot_b)
        tail = th.latency_interval_alpha / 2
        lo, hi = float(np.quantile(inv, tail)), float(np.quantile(inv, 1 - tail))
        bins = sorted(set(ha) | set(hb))
        d, p = st.ks_from_counts([ha.get(x, 0) for x in bins], [hb.get(x, 0) for x in bins])
        checks.append({"metric": "latency_p95_ms", "a": qa, "b": qb, "ratio": qb / qa, "ratio_ci": (lo, hi),
                       "p_value": p, "ks": d, "test": "bootstrap ratio of p95 + KS",
                       "worse": lo > th.latency_ratio and p < alpha})
    # prediction distribution
    if alla.sum() and allb.sum():
        d, p = st.ks_from_counts(alla, allb)
        checks.append({"metric": "score_distribution", "a": None, "b": None, "psi": st.psi(alla, allb),
                       "js": st.js_distance(alla, allb), "ks": d, "p_value": p, "test": "KS on score bins",
                       "worse": False})
    rows = {"a": int(ra["n"]), "b": int(rb["n"]), "labelled_a": int(ra.get("labelled") or 0),
            "labelled_b": int(rb.get("labelled") or 0)}
    return VersionComparison(a=a, b=b, checks=checks, rows=rows,
                             meta={"alpha": alpha, "min_effect": min_effect, "thresholds": dataclasses.asdict(th)})


def _resample_p95(ha: dict[int, float], hb: dict[int, float], rng, n_boot: int) -> tuple[np.ndarray, np.ndarray]:
    """The p95 (:func:`latency_quantile`) of ``n_boot`` multinomial resamples of each histogram,
    drawn a then b in turn (so the draws are reproducible), the quantiles of all at once."""
    keys = [sorted(h) for h in (ha, hb)]  # a fixed order, so the draws are reproducible
    counts = [np.array([h[k] for k in ks], float) for h, ks in zip((ha, hb), keys)]
    draws = [np.empty((n_boot, c.size)) for c in counts]
    for i in range(n_boot):
        for c, d in zip(counts, draws):
            d[i] = rng.multinomial(int(c.sum()), c / c.sum())
    return tuple(_p95_rows(np.array(ks), d) for ks, d in zip(keys, draws))


def _p95_rows(bins: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """:func:`latency_quantile` ``(…, 0.95)`` of each row of ``draws`` (counts per bin of ``bins``);
    empty bins never hold the ``ceil(q * n)``-th value, so keeping them changes nothing."""
    cum = np.cumsum(draws, axis=1)
    target = np.maximum(1.0, np.ceil(0.95 * cum[:, -1]))
    k = (cum < target[:, None]).sum(axis=1)
    return latency_bin_mid(bins[k])


@dataclass(frozen=True, repr=False)
class MismappingResult(Result):
    """Evidence that a version's outputs are mapped wrongly (inverted scores, permuted classes).

    ``inverted`` is the binary case (scores read as 1 - score); ``permutation`` the multiclass
    one: predicted class -> the label it actually stands for, for the classes that moved.
    """

    version: str
    previous: str | None
    inverted: bool
    auc: float | None
    auc_ci: tuple[float, float] | None
    previous_auc: float | None
    mirror_js: float | None
    direct_js: float | None
    detail: str
    permutation: dict[str, str] | None = None
    accuracy: float | None = None
    permuted_accuracy: float | None = None
    permutation_p: float | None = None

    @property
    def mismapped(self) -> bool:
        return self.inverted or bool(self.permutation)

    def _summary(self) -> str:
        if self.permutation is not None or self.accuracy is not None:
            return (f"{self.version!r}: permutation={self.permutation}, accuracy={self.accuracy}, "
                    f"permuted_accuracy={self.permuted_accuracy}")
        return f"{self.version!r}: inverted={self.inverted}, auc={self.auc}, previous_auc={self.previous_auc}"


def _best_permutation(m: np.ndarray) -> np.ndarray:
    """perm[i] = the label column matched to predicted class i, maximising the matches."""
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-m)
    perm = np.arange(m.shape[0])
    perm[rows] = cols
    return perm


def _permutation_test(m: np.ndarray, *, alpha: float, min_gain: float) -> tuple[np.ndarray | None, float, float, float]:
    """Best class relabelling of a confusion matrix and McNemar's exact test against identity.

    Returns (perm or None when identity wins or the gain is not significant and at least
    ``min_gain`` accuracy, accuracy, permuted accuracy, p-value). Rows that move from wrong to
    right under the relabelling are b, right to wrong c; H0: b and c are equally likely.
    """
    n = m.sum()
    if n == 0:
        return None, float("nan"), float("nan"), 1.0
    perm = _best_permutation(m)
    idx = np.arange(m.shape[0])
    acc, pacc = float(np.trace(m) / n), float(m[idx, perm].sum() / n)
    moved = perm != idx
    b, c = int(m[idx[moved], perm[moved]].sum()), int(m[idx[moved], idx[moved]].sum())
    p = float(stats.binomtest(b, b + c, 0.5, alternative="greater").pvalue) if b + c else 1.0
    ok = moved.any() and p < alpha and pacc - acc >= min_gain
    return (perm if ok else None), acc, pacc, p


def _multiclass_mismapping(summary: Summary, version: str, previous: str | None,
                           th: MismappingThresholds) -> MismappingResult:
    alpha, min_gain = th.alpha, th.min_gain
    cur = summary.where(pl.col("model_version") == version)
    classes, m = cur.confusion_matrix()
    parts: list[str] = []
    perm, acc, pacc, p = _permutation_test(m, alpha=alpha, min_gain=min_gain) if m.size else (None, None, None, None)
    prev_perm = None
    if previous is not None:
        pclasses, pm = summary.where(pl.col("model_version") == previous).confusion_matrix()
        if pm.size:
            prev_perm, *_ = _permutation_test(pm, alpha=alpha, min_gain=min_gain)
    mapping = None
    if m.size and m.sum():
        parts.append(f"accuracy {acc:.3f} on {int(m.sum())} labelled rows; best relabelling gives {pacc:.3f} "
                     f"(McNemar p={p:.2g})")
        if perm is not None and prev_perm is None:
            mapping = {classes[i]: classes[j] for i, j in enumerate(perm) if i != j}
            parts.append("predicted " + ", ".join(f"{a!r} are mostly {b!r}" for a, b in mapping.items()))
        elif perm is not None:
            parts.append(f"the previous version {previous} is relabelled the same way: a label issue, not a mapping")
    elif previous is not None:
        # label-free: is the predicted-class mix a relabelling of the previous version's?
        mix = cur.predicted_classes()
        pmix = summary.where(pl.col("model_version") == previous).predicted_classes()
        keys = sorted(set(mix) | set(pmix))
        if sum(mix.values()) and sum(pmix.values()) and len(keys) > 1:
            a = np.array([mix.get(k, 0) for k in keys], float)
            b = np.array([pmix.get(k, 0) for k in keys], float)
            pa, pb = a / a.sum(), b / b.sum()
            perm_l = _best_permutation(-np.abs(pa[:, None] - pb[None, :]))
            direct, permuted = st.js_distance(a, b), st.js_distance(a, b[perm_l])
            parts.append(f"no labels; predicted-class mix JS to {previous} {direct:.2f}, to its best relabelling "
                         f"{permuted:.2f}")
            if direct > th.min_js and permuted < direct * th.mirror_ratio:
                mapping = {keys[i]: keys[j] for i, j in enumerate(perm_l) if i != j}
    return MismappingResult(version=version, previous=previous, inverted=False, auc=None, auc_ci=None,
                            previous_auc=None, mirror_js=None, direct_js=None, detail="; ".join(parts),
                            permutation=mapping, accuracy=acc, permuted_accuracy=pacc, permutation_p=p,
                            )


def detect_output_mismapping(summary: Summary, version: str, previous: str | None = None, *,
                             alpha: float | None = None, min_gain: float | None = None,
                             thresholds: MismappingThresholds | None = None) -> MismappingResult:
    """Are ``version``'s outputs mis-mapped, judged against labels and against ``previous``?

    Binary: the score is inverted when its AUC's whole 95 % interval lies below 0.5 while the
    previous version's lies above it; without labels, when the score histogram is closer to the
    previous version's mirrored histogram (score -> 1 - score) than to the histogram itself.

    Multiclass: classes are permuted when relabelling the predictions (the assignment that
    maximises matches in the confusion matrix) raises accuracy by at least ``min_gain`` with
    McNemar's exact p below ``alpha``, and the previous version needs no such relabelling;
    without labels, when the predicted-class mix is much closer to a relabelling of the previous
    version's mix than to the mix itself. The thresholds are the fields of ``thresholds``
    (:class:`MismappingThresholds`); ``alpha`` and ``min_gain`` override.
    """
    th = overridden(thresholds or MismappingThresholds(), alpha=alpha, min_gain=min_gain)
    if summary.task == "multiclass":
        if summary.where(pl.col("model_version") == version).rows == 0:
            raise InsufficientDataError(f"detect_output_mismapping: no rows of version {version!r} in the summary")
        return _multiclass_mismapping(summary, version, previous, th)
    r = _row(summary, version, None)
    if r is None:
        raise InsufficientDataError(f"detect_output_mismapping: no rows of version {version!r} in the summary")
    sc = score_counts(r)
    pos, neg, allv = sc.positives, sc.negatives, sc.all
    auc, ci = auc_from_counts(pos, neg)
    prev_auc = mirror = direct = None
    prev_ok = True
    if previous is not None and (rp := _row(summary, previous, None)) is not None:
        sp = score_counts(rp)
        allp = sp.all
        prev_auc, prev_ci = auc_from_counts(sp.positives, sp.negatives)
        prev_ok = prev_ci is None or prev_ci[0] > 0.5
        if allv.sum() and allp.sum():
            mirror, direct = st.js_distance(allv, allp[::-1]), st.js_distance(allv, allp)
    by_labels = ci is not None and ci[1] < 0.5 and prev_ok
    by_mirror = mirror is not None and direct is not None and direct > th.min_js and mirror < direct * th.mirror_ratio
    inverted = bool(by_labels or (ci is None and by_mirror))
    parts = []
    if auc is not None:
        parts.append(f"AUC {auc:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f})")
    if prev_auc is not None:
        parts.append(f"previous version {previous} AUC {prev_auc:.3f}")
    if mirror is not None:
        parts.append(f"score histogram JS to the previous one {direct:.2f}, to its mirror {mirror:.2f}")
    return MismappingResult(version=version, previous=previous, inverted=inverted, auc=auc, auc_ci=ci,
                            previous_auc=prev_auc, mirror_js=mirror, direct_js=direct, detail="; ".join(parts))
