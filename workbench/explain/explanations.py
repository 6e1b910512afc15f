"""Explanations backed by alibi 0.9.4 (the ``explain`` extra), imported only when called.

Models are explained over the lake's tabular features: numeric columns as they are, categorical
columns as codes of their baseline vocabulary (alibi works on numeric arrays); an embedding
column, when the model reads one, is held at its baseline mean.

- :func:`importance_shift` — permutation importance on baseline rows and on window rows: which
  feature's importance moved.
- :func:`ale_curves` — accumulated local effects per model version, on the same rows.
- :func:`anchors_for_errors` — anchor rules for a sample of wrong predictions.

Same rows, same answer: rows are sampled by a seeded hash of the request id
(:func:`~workbench.lake.sampling.stable_sample`), never by position, and alibi's draws from
numpy's global generator are seeded for the call and the caller's generator state restored after.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench.exceptions import MissingDependencyError, UsageError
from workbench.lake.labels import positive_mask
from workbench.lake.sampling import stable_sample, stable_sample_expr
from workbench.results import Result

__all__ = ["AleCurves", "Anchors", "ImportanceShift", "TabularView", "ale_curves", "anchors_for_errors",
           "importance_shift"]


def _alibi():
    # alibi 0.9.4 calls numpy APIs that newer numpy deprecates; that is the pinned library's
    # business, not the analyst's: silence those warnings for alibi's own modules only
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"alibi(\.|$)")
    try:
        import alibi.explainers as ex
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI
        raise MissingDependencyError(
            f"explanations need alibi 0.9.4, which is not installed ({exc})",
            hint="pip install 'alibi==0.9.4' (the `explain` extra of ml-incident-workbench; "
                 "0.9.4 is the last Apache-2.0 release)") from None
    return ex


@contextlib.contextmanager
def _global_seed(seed: int):
    """alibi draws from numpy's global generator: seed it for the call, then put the caller's back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


@dataclass
class TabularView:
    """Turns lake rows into the numeric array alibi needs, and back into frames for the model."""

    numeric: list[str]
    categorical: list[str]
    vocab: dict[str, list[str]]
    embedding: list[float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # constant columns (e.g. a segment)

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, numeric, categorical) -> "TabularView":
        vocab = {c: sorted(frame[c].drop_nulls().cast(pl.String).unique().to_list()) for c in categorical}
        emb = None
        if "embedding" in frame.columns:
            vals = [e for e in frame["embedding"].to_list() if e is not None]
            if vals:
                # sorted first: the mean must not depend on the order the rows came in
                emb = np.sort(np.asarray(vals, dtype=float), axis=0).mean(axis=0).tolist()
        return cls(list(numeric), list(categorical), vocab, emb)

    @property
    def names(self) -> list[str]:
        return self.numeric + self.categorical

    @property
    def categorical_names(self) -> dict[int, list[str]]:
        return {len(self.numeric) + j: self.vocab[c] for j, c in enumerate(self.categorical)}

    def to_array(self, frame: pl.DataFrame) -> np.ndarray:
        cols = [frame[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in self.numeric]
        for c in self.categorical:
            index = {v: i for i, v in enumerate(self.vocab[c])}
            cols.append(np.array([index.get(v, -1) for v in frame[c].cast(pl.String).to_list()], dtype=float))
        return np.column_stack(cols) if cols else np.zeros((frame.height, 0))

    def to_frame(self, x: np.ndarray) -> pl.DataFrame:
        data: dict[str, Any] = {c: x[:, i].astype(float) for i, c in enumerate(self.numeric)}
        for j, c in enumerate(self.categorical):
            codes = np.rint(x[:, len(self.numeric) + j]).astype(int)
            vocab = self.vocab[c]
            data[c] = [vocab[k] if 0 <= k < len(vocab) else None for k in codes]
        frame = pl.DataFrame(data)
        if self.embedding is not None:
            frame = frame.with_columns(pl.Series("embedding", [self.embedding] * len(x)))
        return frame


def _predictor(model, view: TabularView, task: str, *, proba: bool):
    def f(x: np.ndarray) -> np.ndarray:
        frame = view.to_frame(np.asarray(x, dtype=float))
        if proba and task != "regression":
            return np.asarray(model.predict_proba(frame))
        out = np.asarray(model.predict(frame))
        if task == "multiclass":  # alibi needs numbers: class index
            classes = list(getattr(model, "classes", []) or sorted(set(out)))
            return np.array([classes.index(v) if v in classes else -1 for v in out])
        return out.astype(float)
    return f


@dataclass(frozen=True, repr=False)
class ImportanceShift(Result):
    """Permutation importance (drop in the score when a feature is shuffled) on baseline and window."""

    metric: str
    features: tuple[dict[str, Any], ...]  # feature, baseline, window, delta, std_baseline, std_window
    rows: tuple[int, int]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def moved(self) -> tuple[dict[str, Any], ...]:
        """Features whose importance changed by more than twice its noise, largest first."""
        return tuple(f for f in self.features if abs(f["delta"]) > 2 * np.hypot(f["std_baseline"], f["std_window"]))

    def _summary(self) -> str:
        top = self.features[0] if self.features else None
        return (f"metric={self.metric}, moved={[f['feature'] for f in self.moved]}"
                + (f", largest: {top['feature']} {top['baseline']:.3f} -> {top['window']:.3f}" if top else ""))


def importance_shift(model, baseline: pl.DataFrame, window: pl.DataFrame, *, numeric, categorical, task: str,
                     n_repeats: int = 5, max_rows: int = 2000, seed: int = 0) -> ImportanceShift:
    """Permutation importance of each feature on labelled baseline rows and on window rows."""
    ex = _alibi()
    view = TabularView.from_frame(baseline, numeric, categorical)
    metric = {"binary_classification": "roc_auc", "multiclass": "accuracy"}.get(task)
    out = {}
    rows = []
    for name, frame in (("baseline", baseline), ("window", window)):
        frame = frame.filter(pl.col("label").is_not_null())
        frame = stable_sample(frame, max_rows, seed=seed)
        rows.append(frame.height)
        x = view.to_array(frame)
        y = _y(frame, task, model)
        if metric == "roc_auc":
            proba = _predictor(model, view, task, proba=True)
            pi = ex.PermutationImportance(lambda a, f=proba: f(a)[:, 1], score_fns=["roc_auc"],
                                          feature_names=view.names)
        elif metric == "accuracy":
            pi = ex.PermutationImportance(_predictor(model, view, task, proba=False), score_fns=["accuracy"],
                                          feature_names=view.names)
        else:
            pi = ex.PermutationImportance(_predictor(model, view, task, proba=False),
                                          loss_fns=["mean_absolute_error"], feature_names=view.names)
        with _global_seed(seed):  # alibi shuffles with numpy's global generator
            exp = pi.explain(x, y, kind="difference", n_repeats=n_repeats)
        out[name] = {f: (d["mean"], d["std"]) for f, d in zip(exp.data["feature_names"],
                                                             exp.data["feature_importance"][0])}
    feats = []
    for f in view.names:
        (b, sb), (w, sw) = out["baseline"][f], out["window"][f]
        feats.append({"feature": f, "baseline": float(b), "window": float(w), "delta": float(w - b),
                      "std_baseline": float(sb), "std_window": float(sw)})
    feats.sort(key=lambda r: -abs(r["delta"]))
    return ImportanceShift(metric=metric or "mean_absolute_error", features=tuple(feats), rows=tuple(rows),
                           meta={"n_repeats": n_repeats, "kind": "difference", "library": "alibi"})


def _y(frame: pl.DataFrame, task: str, model) -> np.ndarray:
    y = frame["label"]
    if task == "binary_classification":
        return positive_mask(y).astype(int)
    if task == "multiclass":
        classes = list(getattr(model, "classes", []) or sorted(y.cast(pl.String).unique().to_list()))
        return np.array([classes.index(v) if v in classes else -1 for v in y.cast(pl.String).to_list()])
    return y.cast(pl.Float64).to_numpy()


@dataclass(frozen=True, repr=False)
class AleCurves(Result):
    """Accumulated local effects of numeric features, per model version, on the same rows."""

    curves: tuple[dict[str, Any], ...]  # version, feature, x, ale (first output)
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        return f"curves={len(self.curves)}, versions={sorted({c['version'] for c in self.curves})}"


def ale_curves(models: dict[str, Any], rows: pl.DataFrame, *, numeric, categorical, task: str,
               features: list[str] | None = None, max_rows: int = 2000, seed: int = 0) -> AleCurves:
    """ALE of each numeric feature for each model (``{version: model}``), on ``rows``."""
    ex = _alibi()
    view = TabularView.from_frame(rows, numeric, categorical)
    rows = stable_sample(rows, max_rows, seed=seed)
    x = view.to_array(rows)
    idx = [view.names.index(f) for f in (features or list(numeric))]
    curves = []
    for version, model in models.items():
        f = _predictor(model, view, task, proba=True)
        pred = (lambda a, f=f: f(a)[:, 1:2]) if task == "binary_classification" else \
            (lambda a, f=f: np.asarray(f(a), float).reshape(len(a), -1))
        exp = ex.ALE(pred, feature_names=view.names).explain(x, features=idx)
        for k, i in enumerate(idx):
            curves.append({"version": version, "feature": view.names[i],
                           "x": [float(v) for v in exp.data["feature_values"][k]],
                           "ale": [float(v) for v in np.asarray(exp.data["ale_values"][k])[:, 0]]})
    return AleCurves(curves=tuple(curves), meta={"rows": rows.height, "library": "alibi",
                                                 "output": "P(positive)" if task == "binary_classification"
                                                 else "prediction"})


@dataclass(frozen=True, repr=False)
class Anchors(Result):
    """Anchor rules (if-then conditions that pin the model's output) for sampled wrong predictions."""

    anchors: tuple[dict[str, Any], ...]  # request_id (or row), prediction, label, rule, precision, coverage
    meta: dict[str, Any] = field(default_factory=dict)

    def _summary(self) -> str:
        return f"anchors={len(self.anchors)}"


def anchors_for_errors(model, train: pl.DataFrame, rows: pl.DataFrame, *, numeric, categorical, task: str,
                       n: int = 3, seed: int = 0, threshold: float = 0.9) -> Anchors:
    """Anchors for up to ``n`` wrong predictions of ``model`` among labelled ``rows``."""
    if task == "regression":
        raise UsageError("anchors_for_errors explains classifications; a regression has no wrong class",
                         column="task", found=repr(task))
    ex = _alibi()
    view = TabularView.from_frame(train, numeric, categorical)
    f = _predictor(model, view, task, proba=False)
    lab = rows.filter(pl.col("label").is_not_null()).with_row_index("__row")
    x = view.to_array(lab)
    wrong = lab.filter(pl.Series(f(x) != _y(lab, task, model)))
    # the wrong rows to explain: chosen by a hash of the request id, not by position
    h = stable_sample_expr(wrong.drop("__row"), seed=seed)
    pick = wrong.with_columns(h.alias("__h")).sort(["__h", "__row"]).head(n)["__row"].to_list()
    xt = view.to_array(stable_sample(train, 2000, seed=seed))
    with _global_seed(seed):
        explainer = ex.AnchorTabular(f, feature_names=view.names, categorical_names=view.categorical_names,
                                     seed=seed)
        explainer.fit(np.nan_to_num(xt, nan=0.0))
    out = []
    for i in pick:
        with _global_seed(seed):  # each anchor is searched from the same state, whichever came before
            e = explainer.explain(np.nan_to_num(x[i], nan=0.0), threshold=threshold)
        row = {"prediction": int(f(x[i:i + 1])[0]), "label": int(_y(lab.slice(int(i), 1), task, model)[0]),
               "rule": " AND ".join(e.data["anchor"]) or "(any)", "precision": float(np.ravel(e.data["precision"])[0]),
               "coverage": float(np.ravel(e.data["coverage"])[0])}
        # the request id names the row; a position would depend on the order the rows came in
        row = ({"request_id": lab["request_id"][int(i)]} if "request_id" in lab.columns else {"row": int(i)}) | row
        out.append(row)
    return Anchors(anchors=tuple(out), meta={"threshold": threshold, "wrong_rows": wrong.height,
                                             "library": "alibi"})
