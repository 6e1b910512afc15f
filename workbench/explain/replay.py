"""Replay: score the window's inputs with the previous model and compare.

Two checks. The serving check recomputes the new version's output with its own artifact on the
rows it served and compares it with what it logged, row by row: if a material share of rows
disagree, the serving code (not the model) produced the logged outputs. Then the model check, on
labelled rows: if the old model would have been fine on the same rows, the new model is the
cause; if both fail, the data is. Rows are chosen by a seeded hash of the request id
(:func:`~workbench.lake.sampling.stable_sample`), so a rerun sees the same rows and gives the
same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.exceptions import ArtifactError
from workbench.evidence.quality import wilson
from workbench.explain.artifacts import load_artifact
from workbench.lake import Lake
from workbench.lake.labels import positive_mask
from workbench.lake.sampling import stable_sample
from workbench.lake.timestamps import parse_time
from workbench.results import Result

__all__ = ["SERVING_SHARE", "TOLERANCE", "ReplayResult", "agreement", "replay", "score_rows"]

#: How close a recomputed output must be to the logged one to agree, per task.
TOLERANCE = {
    "binary_classification": "|recomputed P(positive) - logged score| <= 0.001",
    "binary_classification_confidence": "same predicted class and |recomputed confidence - logged score| <= 0.001",
    "binary_classification_no_score": "same predicted class",
    "multiclass": "same predicted class",
    "regression": "|recomputed - logged| <= 0.001 x |recomputed| + 0.0001",
}
#: The serving code is blamed when the 95% Wilson lower bound of the disagreeing share exceeds this.
SERVING_SHARE = 0.01


@dataclass(frozen=True, repr=False)
class ReplayResult(Result):
    """Quality of logged outputs and of both artifacts on the same rows, with a verdict.

    ``metric`` is AUC (binary), accuracy (multiclass) or MAE (regression, lower is better);
    differences are oriented so that negative means worse, with 95 % paired-bootstrap intervals.
    ``disagreement`` is the share of served rows whose logged output the new version's artifact
    does not reproduce (within ``tolerance``), with its 95 % Wilson interval, over
    ``served_rows`` rows; None when the lake lacks inputs the artifact reads.
    """

    version: str
    previous: str
    metric: str
    rows: int
    baseline_rows: int
    logged: float
    new: float
    old: float
    old_baseline: float
    new_vs_old: tuple[float, float, float]  # estimate, low, high
    logged_vs_new: tuple[float, float, float]
    old_window_vs_baseline: tuple[float, float, float]
    verdict: str  # "model" | "data" | "serving" | "none"
    detail: str
    disagreement: tuple[float, float, float] | None = None  # share, low, high
    served_rows: int = 0
    tolerance: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        dis = "n/a" if self.disagreement is None else f"{self.disagreement[0]:.1%}"
        return (f"{self.version} vs {self.previous}: {self.metric} logged={self.logged:.3f} new={self.new:.3f} "
                f"old={self.old:.3f} (baseline {self.old_baseline:.3f}), rows not reproduced {dis} "
                f"-> {self.verdict}")


def _metric(task: str):
    from sklearn.metrics import roc_auc_score

    if task == "binary_classification":
        return "auc", lambda y, s: float(roc_auc_score(y, s)) if 0 < y.mean() < 1 else float("nan")
    if task == "multiclass":
        return "accuracy", lambda y, s: float(np.mean(y == s))
    return "mae", lambda y, s: float(np.mean(np.abs(y - s)))


def score_rows(model, frame: pl.DataFrame, task: str) -> np.ndarray:
    """The artifact's output on rows: P(positive) (binary), class (multiclass), value (regression)."""
    try:
        if task == "binary_classification":
            return np.asarray(model.predict_proba(frame))[:, 1]
        return np.asarray(model.predict(frame))
    except Exception as exc:
        raise ArtifactError(f"the artifact could not score the lake's rows: {type(exc).__name__}: {exc}",
                            hint="an artifact must take a frame with the lake's feature columns") from None


def _labels(frame: pl.DataFrame, task: str) -> np.ndarray:
    y = frame["label"]
    if task == "binary_classification":
        return positive_mask(y).astype(int)
    if task == "multiclass":
        return y.cast(pl.String).to_numpy()
    return y.cast(pl.Float64).to_numpy()


def _logged(frame: pl.DataFrame, task: str) -> np.ndarray:
    if task == "binary_classification":
        return frame["score"].cast(pl.Float64).to_numpy()
    if task == "multiclass":
        return frame["prediction"].cast(pl.String).to_numpy()
    return frame["prediction"].cast(pl.Float64).to_numpy()


def _window(lf: pl.LazyFrame, version: str | None, start, end) -> pl.LazyFrame:
    if version is not None:
        lf = lf.filter(pl.col("model_version") == version)
    if start is not None:
        lf = lf.filter(pl.col("timestamp") >= parse_time(start))
    if end is not None:
        lf = lf.filter(pl.col("timestamp") < parse_time(end))
    if "fallback" in lf.collect_schema().names():  # the fallback answers with a prior, not the model
        lf = lf.filter(~pl.col("fallback").fill_null(False).cast(pl.Boolean))
    return lf


def _sample(lake: Lake, version: str | None, start, end, n: int, seed: int) -> pl.DataFrame:
    if getattr(lake, "engine", "polars") == "spark":  # a bounded sample taken by Spark
        from workbench.spark.samples import window_sample_spark

        return window_sample_spark(lake, n, start=start, end=end, version=version, with_labels=True,
                                   labelled=True, served=True, seed=seed)
    lf = _window(lake.predictions(with_labels=True).filter(pl.col("label").is_not_null()), version, start, end)
    return stable_sample(lf, n, seed=seed)


def agreement(model, frame: pl.DataFrame, task: str) -> tuple[np.ndarray, str]:
    """Whether ``model`` reproduces each row's logged output (see :data:`TOLERANCE`); rows whose
    logged output is missing are left out. Returns the boolean array and the tolerance used."""
    if task == "binary_classification" and "score" in frame.columns:
        frame = frame.filter(pl.col("score").is_not_null() & pl.col("score").is_not_nan())
        p, logged = score_rows(model, frame, task), frame["score"].cast(pl.Float64).to_numpy()
        if logged.size and logged.min() >= 0.5 and "prediction" in frame.columns:
            # scores logged as the confidence of the predicted class: compare that, and the class
            close = np.abs(np.maximum(p, 1.0 - p) - logged) <= 1e-3
            return _same_class(model, frame) & close, TOLERANCE["binary_classification_confidence"]
        return np.abs(p - logged) <= 1e-3, TOLERANCE[task]
    frame = frame.filter(pl.col("prediction").is_not_null())
    if task == "regression":
        frame = frame.filter(pl.col("prediction").cast(pl.Float64).is_not_nan())
        new = score_rows(model, frame, task).astype(float)
        logged = frame["prediction"].cast(pl.Float64).to_numpy()
        return np.abs(new - logged) <= 1e-3 * np.abs(new) + 1e-4, TOLERANCE[task]
    key = "binary_classification_no_score" if task == "binary_classification" else task
    return _same_class(model, frame), TOLERANCE[key]


def _same_class(model, frame: pl.DataFrame) -> np.ndarray:
    try:
        predicted = np.asarray(model.predict(frame))
    except Exception as exc:
        raise ArtifactError(f"the artifact could not score the lake's rows: {type(exc).__name__}: {exc}",
                            hint="an artifact must take a frame with the lake's feature columns") from None
    logged = frame["prediction"].cast(pl.String).to_list()
    if predicted.dtype.kind in "biuf":  # binary: 0/1 (or booleans) against whatever spelling was logged
        return positive_mask(frame["prediction"]) == positive_mask(predicted)
    return np.array([str(q) == v for q, v in zip(predicted, logged)])


def _serving_check(model, lake: Lake, version: str, start, end, n: int, seed: int):
    """Share of the version's served rows its artifact does not reproduce, with a Wilson interval."""
    if getattr(lake, "engine", "polars") == "spark":  # a bounded sample taken by Spark
        from workbench.spark.samples import window_sample_spark

        frame = window_sample_spark(lake, n, start=start, end=end, version=version, served=True, seed=seed)
    else:
        frame = stable_sample(_window(lake.predictions(), version, start, end), n, seed=seed)
    missing = [c for c in getattr(model, "feature_names_in_", []) if c not in frame.columns]
    if missing:
        return None, 0, "", f"the lake does not log {', '.join(missing)}, which the artifact reads"
    if frame.height == 0:
        return None, 0, "", "no served rows to recompute"
    ok, tol = agreement(model, frame, lake.task)
    k, m = int((~ok).sum()), int(ok.size)
    if m == 0:
        return None, 0, tol, "no logged outputs to compare"
    lo, hi = wilson(k, m)
    return (k / m, lo if k else 0.0, hi), m, tol, ""


def _boot(fn, idx_sets, rng, n_boot) -> tuple[float, float]:
    vals = [fn(*[rng.choice(k, k) for k in idx_sets]) for _ in range(n_boot)]
    vals = np.array([v for v in vals if np.isfinite(v)])
    return (float(np.quantile(vals, 0.025)), float(np.quantile(vals, 0.975))) if vals.size else (np.nan, np.nan)


def replay(lake: Lake, version: str, previous: str, *, start=None, end=None, baseline_start=None,
           baseline_end=None, n: int = 4000, seed: int = 0, n_boot: int = 200, margin: float = 0.02,
           serving_share: float = SERVING_SHARE, trust_artifacts: bool = False) -> ReplayResult:
    """Score ``version``'s labelled rows in ``[start, end)`` with both versions' artifacts.

    Parameters
    ----------
    lake : Lake
    version, previous : str
        The suspect release and the version it replaced (both need an ``artifact_uri``).
    start, end : optional
        The window whose rows ``version`` served.
    baseline_start, baseline_end : optional
        Rows on which ``previous``'s model gives its reference quality (default: before ``start``).
    n : int
        Rows per sample (window, baseline, served rows), chosen by a seeded hash of the request id.
    margin : float
        Smallest difference that counts (AUC/accuracy points; relative for MAE).
    serving_share : float
        The verdict is ``"serving"`` when the 95 % lower bound of the share of served rows whose
        logged output the new artifact does not reproduce (see :data:`TOLERANCE`) exceeds this.
    trust_artifacts : bool
        See :func:`~workbench.explain.load_artifact`.
    """
    uris = _artifact_uris(lake, version, previous)
    new_m = load_artifact(uris[version], root=lake.root, trust_artifacts=trust_artifacts)
    old_m = load_artifact(uris[previous], root=lake.root, trust_artifacts=trust_artifacts)
    task = lake.task
    name, fn = _metric(task)
    win, base = _samples(lake, version, start, end, baseline_start, baseline_end, n, seed)
    y, yb = _labels(win, task), _labels(base, task)
    logged, s_new, s_old = _logged(win, task), score_rows(new_m, win, task), score_rows(old_m, win, task)
    s_ref = score_rows(old_m, base, task)
    metrics = fn(y, logged), fn(y, s_new), fn(y, s_old), fn(yb, s_ref)
    nv, lv, ov = _differences(name, fn, y, yb, logged, s_new, s_old, s_ref, metrics,
                              np.random.default_rng(seed), n_boot)
    dis, served, tol, why = _serving_check(new_m, lake, version, start, end, n, seed + 2)
    verdict, detail = _verdict(name, metrics, nv, ov, dis, served, tol, version=version, previous=previous,
                               rows=len(y), margin=margin, serving_share=serving_share)
    m_logged, m_new, m_old, m_ref = metrics
    return ReplayResult(version=version, previous=previous, metric=name, rows=len(y), baseline_rows=len(yb),
                        logged=m_logged, new=m_new, old=m_old, old_baseline=m_ref, new_vs_old=nv,
                        logged_vs_new=lv, old_window_vs_baseline=ov, verdict=verdict, detail=detail,
                        disagreement=dis, served_rows=served, tolerance=tol,
                        meta={"margin": margin, "n_boot": n_boot, "interval": "95% paired bootstrap",
                              "serving_share": serving_share, "disagreement_interval": "95% Wilson",
                              "sample": "seeded hash of request_id", "artifacts": uris,
                              **({"serving_check": f"not made: {why}"} if why else {})})


def _artifact_uris(lake: Lake, version: str, previous: str) -> dict[str, str]:
    """Each version's first ``artifact_uri`` in the deployments; an error naming the one without."""
    d = lake.lineage.deployments
    uris = {}
    for v in (version, previous):
        rows = d.filter(pl.col("model_version") == v)
        uri = rows["artifact_uri"].drop_nulls()
        uri = [u for u in uri.to_list() if u]
        if not uri:
            raise ArtifactError(f"version {v!r} names no artifact_uri in the deployments",
                                file=lake.manifest.lineage.deployments,
                                hint="replay needs both versions' model files")
        uris[v] = uri[0]
    return uris


def _samples(lake: Lake, version: str, start, end, baseline_start, baseline_end, n: int,
             seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Labelled rows ``version`` served in the window, and baseline rows (by default those before
    ``start``) of whichever version served them; an error when either has fewer than 50."""
    win = _sample(lake, version, start, end, n, seed)
    if baseline_end is None and start is not None:
        baseline_end = start
    # the reference: the old model on baseline inputs, whichever version served them
    base = _sample(lake, None, baseline_start, baseline_end, n, seed + 1)
    if win.height < 50 or base.height < 50:
        raise ArtifactError(f"too few labelled rows to replay ({win.height} of {version} in the window, "
                            f"{base.height} in the baseline; need 50 each)", hint="widen the window or wait for labels")
    return win, base


def _differences(name: str, fn, y, yb, logged, s_new, s_old, s_ref, metrics, rng, n_boot: int):
    """New vs old and logged vs new on the window's rows, and the old model on the window vs on the
    baseline, each as (estimate, low, high) with a 95 % bootstrap interval; negative means worse
    (MAE differences are relative to the old model's baseline MAE)."""
    _, _, m_old, m_ref = metrics
    sign = -1.0 if name == "mae" else 1.0
    scale = abs(m_ref) if name == "mae" and m_ref else 1.0  # MAE differences are relative
    k, kb = len(y), len(yb)

    def paired(a, b):
        def f(i):
            return sign * (fn(y[i], a[i]) - fn(y[i], b[i])) / scale
        lo, hi = _boot(f, [k], rng, n_boot)
        return sign * (fn(y, a) - fn(y, b)) / scale, lo, hi

    nv = paired(s_new, s_old)
    lv = paired(logged, s_new)

    def drift_f(i, j):
        return sign * (fn(y[i], s_old[i]) - fn(yb[j], s_ref[j])) / scale
    lo, hi = _boot(drift_f, [k, kb], rng, n_boot)
    return nv, lv, (sign * (m_old - m_ref) / scale, lo, hi)


def _verdict(name: str, metrics, nv, ov, dis, served: int, tol: str, *, version: str, previous: str,
             rows: int, margin: float, serving_share: float) -> tuple[str, str]:
    """``"serving"``, ``"data"``, ``"model"`` or ``"none"``, and the sentence that explains it."""
    m_logged, m_new, m_old, m_ref = metrics

    def worse(x):  # significantly and materially negative
        return x[2] < 0 and x[0] <= -margin

    data = (f"{previous}'s artifact falls from {name} {m_ref:.3f} on baseline rows to {m_old:.3f} on this "
            f"window, as does {version}'s ({m_new:.3f}): both fail, the data changed")
    if dis is not None and dis[1] > serving_share:
        return "serving", (
            f"{version}'s own artifact does not reproduce what it logged on {dis[0]:.1%} of {served:,} "
            f"served rows (95% CI {dis[1]:.1%}-{dis[2]:.1%}; agreement: {tol}); {name} of the logged "
            f"outputs {m_logged:.3f}, of the artifact {m_new:.3f}: the serving code, not the model")
    if worse(ov) and abs(nv[0]) < 0.5 * abs(ov[0]):
        return "data", data
    if worse(nv):
        return "model", (f"on the same {rows:,} rows {previous}'s artifact scores {name} {m_old:.3f} and "
                         f"{version}'s {m_new:.3f}: the old model would have been fine, the new model is the cause")
    if worse(ov):
        return "data", data
    return "none", f"{name}: logged {m_logged:.3f}, {version} {m_new:.3f}, {previous} {m_old:.3f} (baseline {m_ref:.3f})"
