"""Segments: per-segment quality deltas between two versions (or two windows), and the worst
slices over combinations of segment and categorical columns.

Deltas use the accuracy tallies of a summary made with ``segment=...``; each delta has a 95 %
interval (normal approximation of the difference of two proportions) and a p-value, adjusted
across segments (Benjamini-Hochberg). A segment regresses when its adjusted p-value is below
``alpha``, its drop is at least ``min_effect``, and the drop is larger than the whole's.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from workbench.evidence import stats as st
from workbench.evidence._scipy import stats
from workbench.evidence.stats import ALPHA, Z95, overridden
from workbench.evidence.quality import auc_difference, wilson
from workbench.exceptions import InsufficientDataError, UsageError
from workbench.lake.labels import positive_expr
from workbench.results import Result
from workbench.summaries import Summary
from workbench.summaries.summary import score_counts

__all__ = ["SegmentDeltas", "SegmentThresholds", "SliceThresholds", "segment_deltas", "SliceResult", "worst_slices"]


@dataclass(frozen=True)
class SegmentThresholds:
    """When a segment regressed against the whole (see :func:`segment_deltas`)."""

    #: level of the gap test, after Benjamini-Hochberg across segments and metrics
    alpha: float = ALPHA
    #: the segment's delta must be at least this far below the whole's (accuracy or AUC points;
    #: relative for MAE)
    min_effect: float = 0.03
    #: segments with fewer labelled rows on either side are not tested
    min_labelled: int = 50


@dataclass(frozen=True)
class SliceThresholds:
    """When a slice is reported as worse than the whole (see :func:`worst_slices`)."""

    #: family-wise level across all the slices tested (Holm)
    alpha: float = ALPHA
    #: slices with fewer labelled rows are not tested
    min_rows: int = 200


@dataclass(frozen=True, repr=False)
class SegmentDeltas(Result):
    """Accuracy per value of one segment column, for ``a`` and ``b``; delta = b - a."""

    segment: str
    a: str
    b: str
    overall: dict[str, Any]
    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def regressed(self) -> list[dict[str, Any]]:
        """Regressed segments, the largest gap to the whole first."""
        return sorted((r for r in self.rows if r["regressed"]),
                      key=lambda r: min(r["metrics"][m]["gap"] for m in r["regressed_on"]))

    def _summary(self) -> str:
        return (f"{self.segment!r}: {self.b} vs {self.a}, overall delta {self.overall.get('delta')}, "
                f"regressed={[r['value'] for r in self.regressed]}")

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        def m(r, metric, key):
            v = r["metrics"].get(metric)
            return None if v is None else v.get(key)

        rows = [{"value": str(r["value"]), "rows": r["n_b"], "acc_a": m(r, "accuracy", "a"),
                 "acc_b": m(r, "accuracy", "b"), "acc_d": m(r, "accuracy", "delta"), "auc_a": m(r, "auc", "a"),
                 "auc_b": m(r, "auc", "b"), "regressed_on": r["regressed_on"], "regressed": r["regressed"]}
                for r in self.rows]
        cols = {"value": self.segment, "rows": f"rows ({self.b})", "acc_a": f"accuracy {self.a}",
                "acc_b": f"accuracy {self.b}", "acc_d": "change", "auc_a": f"AUC {self.a}", "auc_b": f"AUC {self.b}",
                "regressed_on": "regressed on"}
        if not any(r["auc_a"] is not None for r in rows):
            cols = {k: v for k, v in cols.items() if k not in ("auc_a", "auc_b")}
        return block(self.segment, f"{self.b} against {self.a}; {len(self.regressed)} value(s) regressed",
                     table(rows, columns=cols, highlight="regressed"), css="workbench-segments")


def _diff_ci(k1, n1, k2, n2) -> tuple[float, tuple[float, float]]:
    p1, p2 = k1 / n1, k2 / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    d = p2 - p1
    return d, (d - Z95 * se, d + Z95 * se)


def _metric_deltas(ra: dict, rb: dict) -> dict[str, dict[str, Any]]:
    """accuracy and AUC of a and b, the delta b - a, its 95 % interval and p-value."""
    out = {}
    if ra["labelled"] and rb["labelled"] and "correct" in ra:
        d, ci = _diff_ci(ra["correct"], ra["labelled"], rb["correct"], rb["labelled"])
        _, p = st.two_proportion(ra["correct"], ra["labelled"], rb["correct"], rb["labelled"])
        se = (ci[1] - ci[0]) / (2 * Z95)
        out["accuracy"] = {"a": ra["correct"] / ra["labelled"], "b": rb["correct"] / rb["labelled"],
                           "delta": d, "se": se, "ci": ci, "p_value": p}
    if ra["labelled"] and rb["labelled"] and "abs_err" in ra and "correct" not in ra:
        # regression: MAE relative to a's, negated so that, as for accuracy, negative is worse
        ma, mb = ra["abs_err"] / ra["labelled"], rb["abs_err"] / rb["labelled"]
        va = max(ra["sq_err"] / ra["labelled"] - ma * ma, 0.0)
        vb = max(rb["sq_err"] / rb["labelled"] - mb * mb, 0.0)
        if ma > 0:
            d = -(mb - ma) / ma
            se = math.sqrt(va / ra["labelled"] + vb / rb["labelled"]) / ma
            p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else 1.0
            out["mae"] = {"a": ma, "b": mb, "delta": d, "se": se, "ci": (d - Z95 * se, d + Z95 * se), "p_value": p}
    sa, sb = score_counts(ra), score_counts(rb)
    if sa.has_labels and sb.has_labels and (auc := auc_difference(sa, sb)) is not None:
        out["auc"] = auc
    return out


def segment_deltas(summary: Summary, segment: str, *, a: str, b: str, by: str = "model_version",
                   alpha: float | None = None, min_effect: float | None = None, min_labelled: int | None = None,
                   thresholds: SegmentThresholds | None = None) -> SegmentDeltas:
    """Accuracy and AUC deltas per value of ``segment`` between ``a`` and ``b`` of the key ``by``.

    For regression the metric is ``mae``: the change in mean absolute error relative to ``a``'s,
    negated so that, as for accuracy, a negative delta is worse (``min_effect`` is then relative).

    ``by`` is ``"model_version"`` (two versions) or another key of the summary (e.g. a column
    you added that tells two windows apart). A segment regresses on a metric when, after
    Benjamini-Hochberg across segments and metrics, its delta is significantly below the whole's
    delta (the gap's interval excludes zero) and at least ``min_effect`` below it. ``alpha``,
    ``min_effect`` and ``min_labelled`` override the fields of ``thresholds``
    (:class:`SegmentThresholds`).
    """
    th = overridden(thresholds or SegmentThresholds(), alpha=alpha, min_effect=min_effect, min_labelled=min_labelled)
    alpha, min_effect, min_labelled = th.alpha, th.min_effect, th.min_labelled
    if segment not in summary.keys:
        msg = f"segment_deltas: the summary has no key {segment!r}"
        raise UsageError(msg, expected=f"one of {list(summary.keys)}", hint=f"summarize with segment={segment!r}")
    t = summary.collapse((by, segment)).table
    if "correct" not in t.columns and "abs_err" not in t.columns:
        raise InsufficientDataError("segment_deltas needs labels: the summary has no `labelled` and `correct` "
                                    "or `abs_err` tallies", hint="summarize a lake with labels/, or wait for labels")
    tot = summary.collapse((by,)).table
    ta = tot.filter(pl.col(by) == a).row(0, named=True)
    tb = tot.filter(pl.col(by) == b).row(0, named=True)
    whole = _metric_deltas(ta, tb)
    overall = {m: {k: v[k] for k in ("a", "b", "delta", "ci")} for m, v in whole.items()}
    overall["delta"] = whole["accuracy"]["delta"] if "accuracy" in whole else (
        whole["mae"]["delta"] if "mae" in whole else None)
    rows, tests = [], []
    for value in sorted(set(t[segment].to_list()), key=str):
        ra = t.filter((pl.col(by) == a) & (pl.col(segment) == value))
        rb = t.filter((pl.col(by) == b) & (pl.col(segment) == value))
        if ra.is_empty() or rb.is_empty():
            continue
        ra, rb = ra.row(0, named=True), rb.row(0, named=True)
        if ra["labelled"] < min_labelled or rb["labelled"] < min_labelled:
            continue
        metrics = _metric_deltas(ra, rb)
        for m, v in metrics.items():
            # the segment's delta against the whole's: the bias question
            gap = v["delta"] - whole[m]["delta"]
            se = math.hypot(v["se"], whole[m]["se"])
            v["gap"] = gap
            v["gap_ci"] = (gap - Z95 * se, gap + Z95 * se)
            v["gap_p"] = float(stats.norm.cdf(gap / se)) if se > 0 else 1.0  # one-sided: worse
            tests.append((len(rows), m, v["gap_p"]))
        acc = metrics.get("accuracy", {})
        rows.append({"value": value, "n_a": ra["labelled"], "n_b": rb["labelled"],
                     "acc_a": acc.get("a"), "acc_b": acc.get("b"), "delta": acc.get("delta"),
                     "ci": acc.get("ci"), "metrics": metrics,
                     "share_b": rb["n"] / tb["n"] if tb["n"] else None, "regressed_on": []})
    qs = st.benjamini_hochberg([p for *_, p in tests])
    for (i, m, _), q in zip(tests, qs):
        v = rows[i]["metrics"][m]
        v["q_value"] = float(q)
        if q < alpha and v["gap"] <= -min_effect and v["gap_ci"][1] < 0:
            rows[i]["regressed_on"].append(m)
    for r in rows:
        r["regressed"] = bool(r["regressed_on"])
    return SegmentDeltas(segment=segment, a=a, b=b, overall=overall, rows=rows,
                         meta={"metrics": ["accuracy", "auc"], "alpha": alpha, "min_effect": min_effect})


@dataclass(frozen=True, repr=False)
class SliceResult(Result):
    """The slices (combinations of column values) where accuracy is lowest against the whole."""

    overall: dict[str, Any]
    slices: list[dict[str, Any]]
    columns: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        return f"overall={self.overall['accuracy']:.3f}, worst={[s['slice'] for s in self.slices[:3]]}"

    def _repr_html_(self) -> str:
        from workbench.tables import block, table

        rows = [{"slice": s["slice"], "rows": s["rows"], "accuracy": s["accuracy"], "accuracy_ci": s.get("ci"),
                 "gap": s["gap"], "excess_errors": s["excess_errors"], "p_adjusted": s["p_adjusted"]}
                for s in self.slices]
        text = (f"whole: accuracy {self.overall['accuracy']:.3f} over {self.overall['rows']:,} labelled rows; "
                f"{len(self.slices)} of {self.overall.get('tested', 0):,} slices tested are worse")
        return block("Worst slices", text, table(rows, columns={"slice": "slice", "rows": "rows",
                                                                "accuracy": "accuracy", "accuracy_ci": "95% CI",
                                                                "gap": "gap to the whole",
                                                                "excess_errors": "excess errors",
                                                                "p_adjusted": "adjusted p"},
                                                 units={"accuracy_ci": "ci", "p_adjusted": "p",
                                                        "excess_errors": "rows"}), css="workbench-slices")


def worst_slices(frame: pl.LazyFrame, columns: list[str], *, max_order: int = 2, min_rows: int | None = None,
                 top: int = 10, alpha: float | None = None, thresholds: SliceThresholds | None = None,
                 task: str | None = None) -> SliceResult:
    """Rank slices by how far their accuracy falls below the whole's (labelled rows only).

    Every single column and (with ``max_order=2``) every pair is grouped in one pass each.
    Each slice of at least ``min_rows`` labelled rows is tested (one-sided exact binomial test:
    are its errors more than the whole's accuracy predicts?), and the p-values are adjusted with
    Holm's method across all the slices tested, so on healthy data the chance that any slice is
    reported is at most ``alpha``. A slice is reported when its adjusted p-value is below
    ``alpha``; reported slices are ordered by the errors they explain beyond the whole's rate
    (rows x accuracy gap). Each carries its Wilson interval at level ``1 - alpha`` (not adjusted),
    its ``p_value`` and ``p_adjusted``; ``overall["tested"]`` says how many slices were tested.
    ``alpha`` and ``min_rows`` override the fields of ``thresholds`` (:class:`SliceThresholds`).
    With ``task="binary_classification"`` a prediction is right when it and the label are both
    positive or both not (:mod:`workbench.lake.labels`: ``1``, ``"yes"`` and ``"pos"`` agree), as in
    the summaries; otherwise when their text is equal.
    """
    th = overridden(thresholds or SliceThresholds(), alpha=alpha, min_rows=min_rows)
    alpha, min_rows = th.alpha, th.min_rows
    columns = list(dict.fromkeys(columns))  # segments may overlap features
    if task == "binary_classification":
        same = positive_expr("prediction") == positive_expr("label")
    else:
        same = pl.col("prediction").cast(pl.String) == pl.col("label").cast(pl.String)
    lab = frame.filter(pl.col("label").is_not_null()).with_columns(same.alias("__ok"))
    combos = [c for k in range(1, max_order + 1) for c in itertools.combinations(columns, k)]
    queries = [lab.select(pl.len().alias("n"), pl.col("__ok").sum().alias("ok"))]
    queries += [lab.group_by([pl.col(c).cast(pl.String) for c in combo]).agg(pl.len().alias("n"),
                                                                             pl.col("__ok").sum().alias("ok"))
                for combo in combos]
    res = pl.collect_all(queries, engine="streaming")
    n_all, ok_all = res[0]["n"][0], res[0]["ok"][0]
    acc = ok_all / n_all if n_all else 0.0
    tested = []
    for combo, df in zip(combos, res[1:]):
        for r in df.filter(pl.col("n") >= min_rows).iter_rows(named=True):
            # P(at most this many correct | the whole's accuracy): small when the slice is worse
            p = float(stats.binom.cdf(r["ok"], r["n"], acc)) if 0 < acc else 1.0
            tested.append(({c: r[c] for c in combo}, r["n"], r["ok"], p))
    adjusted = st.holm([t[3] for t in tested])
    z = float(stats.norm.isf(alpha / 2))
    found = []
    for (sl, n, ok, p), q in zip(tested, adjusted):
        if q < alpha and ok / n < acc:
            found.append({"slice": sl, "rows": n, "accuracy": ok / n, "ci": wilson(ok, n, z=z),
                          "gap": acc - ok / n, "excess_errors": (acc - ok / n) * n, "p_value": p,
                          "p_adjusted": float(q)})
    # ties broken by the slice itself: group_by yields groups in no fixed order
    found.sort(key=lambda s: (-s["excess_errors"], sorted((k, str(v)) for k, v in s["slice"].items())))
    return SliceResult(overall={"rows": n_all, "accuracy": acc, "tested": len(tested)}, slices=found[:top],
                       columns=tuple(columns),
                       meta={"test": "one-sided exact binomial against the whole's accuracy",
                             "adjustment": "Holm across the slices tested", "alpha": alpha})
