"""Feature drift between a baseline and a window, from summaries.

For each numeric feature: PSI, Kolmogorov-Smirnov (binned) with its p-value, Jensen-Shannon
distance, a normalised Wasserstein distance, the null-rate change with a two-proportion test
(a NaN is a missing value, like null), the change of the share of ±inf values (invalid values,
tested the same way when a side has any), and a unit/scale test (the window's mean and RMS a power of ten times the baseline's). For each
categorical feature: PSI, chi-squared, Jensen-Shannon, the share of unseen categories and the
null-rate change. p-values are adjusted across features (Benjamini-Hochberg); a feature is
flagged only when its adjusted p-value is below ``alpha`` *and* an effect size passes its
threshold, so big samples do not flag everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.evidence import stats as st
from workbench.evidence.stats import ALPHA
from workbench.exceptions import FeatureNotFoundError, SummaryMismatchError
from workbench.results import Result
from workbench.summaries import Summary

__all__ = ["DriftThresholds", "FeatureDrift", "DriftResult", "detect_drift"]


@dataclass(frozen=True)
class DriftThresholds:
    """Effect sizes that count as drift (the defaults follow common practice).

    PSI 0.2 is the usual "significant shift" line; JS 0.1 and a normalised Wasserstein of 0.1
    baseline standard deviations are moderate shifts; a null-rate change of 5 points (the same for
    the share of infinite values); unseen categories on 5 % of rows.
    """

    alpha: float = ALPHA
    psi: float = 0.2
    js: float = 0.1
    wasserstein: float = 0.1
    null_rate: float = 0.05
    unseen_share: float = 0.05
    #: how far (in log10) the window's RMS may sit from a power of ten times the baseline's and
    #: still read as a unit change; the mean ratio may sit twice as far (means are noisier)
    scale_tolerance: float = 0.1
    #: unseen categories count only once the window has this many rows
    unseen_min_rows: int = 30


@dataclass(frozen=True, repr=False)
class FeatureDrift(Result):
    """Drift statistics of one feature.

    ``n_baseline`` and ``n_window`` count rows, missing and invalid values included; the
    distribution statistics (PSI, JS, KS or chi-squared, Wasserstein) compare the finite, present
    values only, and the null (null or NaN) and infinite shares say how many rows those leave out.
    """

    feature: str
    kind: str  # "numeric" | "categorical"
    n_baseline: int
    n_window: int
    psi: float
    js: float
    p_value: float
    q_value: float
    test: str  # "ks" | "chi2"
    statistic: float
    null_rate_baseline: float
    null_rate_window: float
    null_rate_p_value: float
    wasserstein: float | None = None
    unseen_share: float | None = None
    scale_ratio: float | None = None
    scale_power: int | None = None
    inf_rate_baseline: float = 0.0
    inf_rate_window: float = 0.0
    inf_rate_p_value: float | None = None  # BH-adjusted, when a side has any infinite value
    drifted: bool = False
    reasons: tuple[str, ...] = ()

    def _summary(self) -> str:
        return (f"{self.feature!r}, psi={self.psi:.3f}, js={self.js:.3f}, q={self.q_value:.2g}, "
                f"drifted={self.drifted}")


@dataclass(frozen=True, repr=False)
class DriftResult(Result):
    """Per-feature drift between a baseline and a window (see :func:`detect_drift`)."""

    features: tuple[FeatureDrift, ...]
    baseline_rows: int
    window_rows: int
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def drifted(self) -> tuple[FeatureDrift, ...]:
        """Flagged features, largest PSI first."""
        return tuple(sorted((f for f in self.features if f.drifted), key=lambda f: -f.psi))

    def feature(self, name: str) -> FeatureDrift:
        for f in self.features:
            if f.feature == name:
                return f
        raise FeatureNotFoundError(f"no drift statistics for feature {name!r}",
                                   expected=f"one of {[f.feature for f in self.features]}")

    def to_frame(self) -> pl.DataFrame:
        """One row per feature."""
        rows = [{k: v for k, v in f.to_dict().items() if k != "reasons"} | {"reasons": "; ".join(f.reasons)}
                for f in self.features]
        return pl.DataFrame(rows)

    def _summary(self) -> str:
        return (f"features={len(self.features)}, drifted={[f.feature for f in self.drifted]}, "
                f"baseline_rows={self.baseline_rows}, window_rows={self.window_rows}")

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        rows = [{"feature": f.feature, "drifted": f.drifted, "psi": f.psi, "js": f.js, "test": f.test,
                 "statistic": f.statistic, "q_value": f.q_value, "baseline_null_rate": f.null_rate_baseline,
                 "window_null_rate": f.null_rate_window, "reasons": "; ".join(f.reasons)}
                for f in sorted(self.features, key=lambda f: -f.psi)]
        return block("Drift", f"{len(self.drifted)} of {len(self.features)} features drifted; baseline "
                     f"{self.baseline_rows:,} rows, window {self.window_rows:,} rows",
                     table(rows, highlight="drifted"), css="workbench-drift")


def _totals(s: Summary) -> dict[str, Any]:
    t = s.collapse().table
    return t.row(0, named=True) if t.height else {}


def detect_drift(baseline: Summary, window: Summary, *, thresholds: DriftThresholds | None = None,
                 features: list[str] | None = None) -> DriftResult:
    """Compare the feature distributions of two summaries made on the same binning.

    Parameters
    ----------
    baseline, window : Summary
        Summaries of the reference rows and of the rows under suspicion.
    thresholds : DriftThresholds, optional
    features : list of str, optional
        Restrict to these features (all binned features by default).

    Examples
    --------
    >>> b = fit_lake_binning(lake, end="2026-03-08")                        # doctest: +SKIP
    >>> detect_drift(summarize(lake, b, end="2026-03-08"),
    ...              summarize(lake, b, start="2026-03-08"))                 # doctest: +SKIP
    """
    th = thresholds or DriftThresholds()
    if baseline.binning != window.binning:
        raise SummaryMismatchError("detect_drift needs two summaries made with the same binning",
                                   hint="fit one binning and pass it to both summarize() calls")
    bz, wz = _totals(baseline), _totals(window)
    nb, nw = int(bz.get("n", 0)), int(wz.get("n", 0))
    binning = baseline.binning
    high_cardinality = (binning.meta or {}).get("high_cardinality", {})
    partial = [_numeric_tests(f, edges, bz, wz, th) for f, edges in binning.numeric.items()
               if features is None or f in features]
    partial += [_categorical_tests(c, vocab, bz, wz, c in high_cardinality)
                for c, vocab in binning.categorical.items() if features is None or c in features]
    qs, q_nulls, q_inf = _adjust(partial, nb, nw)
    out = tuple(_feature_drift(x, nb, nw, qs[i], q_nulls[i], q_inf.get(i), th) for i, x in enumerate(partial))
    return DriftResult(features=out, baseline_rows=nb, window_rows=nw, thresholds=th,
                       meta={"baseline_bucket": baseline.bucket, "binning_rows": binning.rows})


def _numeric_tests(f: str, edges, bz: dict, wz: dict, th: DriftThresholds) -> dict[str, Any]:
    """Binned counts, KS test, normalised Wasserstein distance and unit-scale test of one numeric
    feature, with its null and infinite counts on each side."""
    k = len(edges) + 1
    a = np.array([bz.get(f"{f}|h{i}", 0) for i in range(k)], dtype=float)
    b = np.array([wz.get(f"{f}|h{i}", 0) for i in range(k)], dtype=float)
    d, p = st.ks_from_counts(a, b)
    lo = min((v for v in (bz.get(f"{f}|min"), wz.get(f"{f}|min")) if v is not None), default=0.0)
    hi = max((v for v in (bz.get(f"{f}|max"), wz.get(f"{f}|max")) if v is not None), default=0.0)
    sd = _std(bz, f)
    w = st.wasserstein_from_counts(a, b, edges, lo, hi) / sd if sd > 0 else 0.0
    ratio, power = _scale(bz, wz, f, th.scale_tolerance)
    return dict(feature=f, kind="numeric", a=a, b=b, test="ks", statistic=d, p=p,
                wasserstein=w, scale_ratio=ratio, scale_power=power,
                nulls=(bz.get(f"{f}|null") or 0, wz.get(f"{f}|null") or 0),
                infs=(bz.get(f"{f}|inf") or 0, wz.get(f"{f}|inf") or 0))


def _categorical_tests(c: str, vocab, bz: dict, wz: dict, high_cardinality: bool) -> dict[str, Any]:
    """Counts per category, chi-squared test and share of unseen categories of one categorical
    feature, with its null counts on each side."""
    cols = [f"{c}|v{i}" for i in range(len(vocab))] + [f"{c}|other"]
    a = np.array([bz.get(x, 0) for x in cols], dtype=float)
    b = np.array([wz.get(x, 0) for x in cols], dtype=float)
    chi, p, _ = st.chi2_counts(a, b)
    nonnull_w = b.sum()
    unseen = wz.get(f"{c}|unseen", 0) / nonnull_w if nonnull_w else 0.0
    if high_cardinality:
        unseen = None  # id-like column: every value is new by construction (see fit_binning)
    return dict(feature=c, kind="categorical", a=a, b=b, test="chi2", statistic=chi, p=p,
                unseen_share=unseen, nulls=(bz.get(f"{c}|null", 0), wz.get(f"{c}|null", 0)))


def _adjust(partial: list[dict[str, Any]], nb: int, nw: int) -> tuple[list[float], list[float], dict[int, float]]:
    """Benjamini-Hochberg q-values, adjusted as one family, of each feature's distribution test,
    its null-rate test and (keyed by position, only where a side has any) its infinite-share test."""
    null_ps = [st.two_proportion(x["nulls"][0], nb, x["nulls"][1], nw)[1] for x in partial]
    # the infinite share is tested only where a side has any, so clean features do not widen
    # the family the other tests are adjusted over
    with_inf = [i for i, x in enumerate(partial) if any(x.get("infs", (0, 0)))]
    inf_ps = [st.two_proportion(partial[i]["infs"][0], nb, partial[i]["infs"][1], nw)[1] for i in with_inf]
    qs = st.benjamini_hochberg([x["p"] for x in partial] + null_ps + inf_ps)
    q_inf = {i: float(qs[2 * len(partial) + k]) for k, i in enumerate(with_inf)}
    n = len(partial)
    return [float(qs[i]) for i in range(n)], [float(qs[n + i]) for i in range(n)], q_inf


def _feature_drift(x: dict[str, Any], nb: int, nw: int, q: float, q_null: float, q_inf: float | None,
                   th: DriftThresholds) -> FeatureDrift:
    """One feature's drift statistics from its tests and q-values, flagged when a reason applies."""
    nr_b = x["nulls"][0] / nb if nb else 0.0
    nr_w = x["nulls"][1] / nw if nw else 0.0
    infs = x.get("infs", (0, 0))
    ir_b = infs[0] / nb if nb else 0.0
    ir_w = infs[1] / nw if nw else 0.0
    # a side without one present, finite value has no distribution to compare: its null or
    # infinite share says what happened
    empty = not x["a"].sum() or not x["b"].sum()
    psi = 0.0 if empty else st.psi(x["a"], x["b"])
    js = 0.0 if empty else st.js_distance(x["a"], x["b"])
    reasons = _reasons(x, psi, js, q, q_null, q_inf, (nr_b, nr_w), (ir_b, ir_w), nw, th)
    return FeatureDrift(
        feature=x["feature"], kind=x["kind"], n_baseline=nb, n_window=nw,
        psi=psi, js=js, p_value=x["p"], q_value=q, test=x["test"], statistic=x["statistic"],
        null_rate_baseline=nr_b, null_rate_window=nr_w, null_rate_p_value=q_null,
        wasserstein=x.get("wasserstein"), unseen_share=x.get("unseen_share"),
        scale_ratio=x.get("scale_ratio"), scale_power=x.get("scale_power"),
        inf_rate_baseline=ir_b, inf_rate_window=ir_w, inf_rate_p_value=q_inf,
        drifted=bool(reasons), reasons=tuple(reasons))


def _reasons(x: dict[str, Any], psi: float, js: float, q: float, q_null: float, q_inf: float | None,
             null_rates: tuple[float, float], inf_rates: tuple[float, float], nw: int,
             th: DriftThresholds) -> list[str]:
    """Why a feature counts as drifted: each test significant *and* its effect size past its threshold."""
    (nr_b, nr_w), (ir_b, ir_w) = null_rates, inf_rates
    reasons = []
    if q < th.alpha and psi >= th.psi:
        reasons.append(f"PSI {psi:.2f} >= {th.psi}")
    if q < th.alpha and js >= th.js:
        reasons.append(f"JS distance {js:.2f} >= {th.js}")
    if x["kind"] == "numeric" and q < th.alpha and (x["wasserstein"] or 0) >= th.wasserstein \
            and psi >= th.psi / 2:
        reasons.append(f"Wasserstein {x['wasserstein']:.2f} sd")
    if q_null < th.alpha and abs(nr_w - nr_b) >= th.null_rate:
        reasons.append(f"null rate {nr_b:.1%} -> {nr_w:.1%}")
    if q_inf is not None and q_inf < th.alpha and abs(ir_w - ir_b) >= th.null_rate:
        reasons.append(f"infinite values {ir_b:.1%} -> {ir_w:.1%}")
    if x.get("unseen_share") is not None and x["unseen_share"] >= th.unseen_share and nw >= th.unseen_min_rows:
        reasons.append(f"unseen categories on {x['unseen_share']:.1%} of rows")
    if x.get("scale_power"):
        reasons.append(f"scale x{x['scale_ratio']:.3g} (~10^{x['scale_power']}): a unit change?")
    return reasons


def _present(t: dict, f: str) -> int:
    """Rows with a finite value of ``f`` (neither null, NaN nor ±inf)."""
    return t.get("n", 0) - (t.get(f"{f}|null") or 0) - (t.get(f"{f}|inf") or 0)


def _std(t: dict, f: str) -> float:
    n = _present(t, f)
    s, ss = t.get(f"{f}|sum"), t.get(f"{f}|sumsq")
    if not n or s is None or ss is None:
        return 0.0
    m = s / n
    var = ss / n - m * m  # finite values so large their squares overflow give inf or NaN here
    return math.sqrt(var) if math.isfinite(var) and var > 0 else 0.0


def _scale(bz: dict, wz: dict, f: str, tol: float) -> tuple[float | None, int | None]:
    """Ratio of window to baseline mean and RMS; a power of ten when both agree on one, within
    ``tol`` (see :attr:`DriftThresholds.scale_tolerance`)."""
    def moments(t):
        n = _present(t, f)
        s, ss = t.get(f"{f}|sum"), t.get(f"{f}|sumsq")
        if not n or s is None or ss is None:
            return None, None
        return s / n, math.sqrt(max(ss / n, 0.0))

    mb, rb = moments(bz)
    mw, rw = moments(wz)
    if None in (mb, rb, mw, rw) or rb == 0 or rw == 0 or not all(map(math.isfinite, (mb, rb, mw, rw))):
        return None, None
    ratio_rms = rw / rb
    if not math.isfinite(ratio_rms) or ratio_rms == 0:
        return None, None
    ratio_mean = mw / mb if mb not in (0, None) and mw is not None and mw * mb > 0 else None
    lr = math.log10(ratio_rms)
    power = round(lr)
    if power == 0 or abs(lr - power) > tol:
        return ratio_rms, None
    if ratio_mean is not None and abs(math.log10(ratio_mean) - power) > tol * 2:
        return ratio_rms, None
    return ratio_rms, int(power)
