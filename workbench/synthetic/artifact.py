"""Model artifacts for generated lakes: each release's scorer, saved with skops.

:class:`SyntheticModel` scores rows as logged (a polars or pandas frame with the lake's feature,
segment and embedding columns) the way the generator's release does, minus what no artifact can
hold: outcome noise it "learned" (``hidden_gain``) and serving-code bugs (swapped inputs,
inverted outputs), which live in the serving commit, not the artifact. The release's own noise
(a weaker model) is a deterministic function of the inputs, so replays are reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SyntheticModel", "write_artifacts"]

_Z_CLIP = 5.0


def _frame_column(X, name: str) -> list | np.ndarray:
    col = X[name]
    if hasattr(col, "to_numpy") and not hasattr(col, "to_list"):  # pandas
        return col.to_numpy()
    return col.to_list() if hasattr(col, "dtype") and str(col.dtype).startswith(("List", "Array")) else col.to_numpy()


class SyntheticModel:
    """A linear scorer over standardised numeric inputs, categorical effects and an embedding.

    Parameters are plain arrays and lists (skops stores them without pickle). ``predict_proba``
    (classification), ``predict`` and ``decision_function`` take a frame with the columns in
    ``feature_names_in_``.
    """

    def __init__(self, *, task: str, numeric: list[str], categorical: list[str], vocab: list[list[str]],
                 embedding: str | None, log: np.ndarray, median: np.ndarray, mean: np.ndarray, sd: np.ndarray,
                 w_numeric: np.ndarray, w_categorical: list[np.ndarray], w_embedding: np.ndarray,
                 intercept: np.ndarray, shrink: float, classes: list[str], threshold: float,
                 target: list[float], noise_sd: float, logit_noise: float = 0.0, scale: float = 1.0,
                 shift: float = 0.0, segment: dict[str, Any] | None = None, version: str = "") -> None:
        self.task, self.numeric, self.categorical, self.vocab = task, numeric, categorical, vocab
        self.embedding = embedding
        self.log, self.median, self.mean, self.sd = log, median, mean, sd
        self.w_numeric, self.w_categorical, self.w_embedding = w_numeric, w_categorical, w_embedding
        self.intercept, self.shrink, self.classes, self.threshold = intercept, shrink, classes, threshold
        self.target, self.noise_sd = target, noise_sd
        self.logit_noise, self.scale, self.shift, self.segment = logit_noise, scale, shift, segment
        self.version = version
        self.feature_names_in_ = list(numeric) + list(categorical) + ([embedding] if embedding else [])

    # -- scoring ------------------------------------------------------------------------
    def _z(self, X) -> np.ndarray:
        cols = [np.asarray(_frame_column(X, n), dtype=np.float64) for n in self.numeric]
        x = np.column_stack(cols) if cols else np.zeros((len(X), 0))
        x = np.where(np.isnan(x), self.median, x)
        t = np.where(self.log, np.log1p(np.maximum(x, 0.0)), x)
        return np.clip((t - self.mean) / self.sd, -_Z_CLIP, _Z_CLIP)

    def decision_function(self, X) -> np.ndarray:
        """Raw outputs ``(n, C)``: logits (classification) or the standardised prediction."""
        n = len(X)
        z = self._z(X)
        s = z @ self.w_numeric.T + self.intercept
        for j, name in enumerate(self.categorical):
            index = {v: i for i, v in enumerate(self.vocab[j])}
            codes = np.array([index.get(v, -1) if v is not None else -1 for v in _frame_column(X, name)])
            effect = np.concatenate([self.w_categorical[j], np.zeros((self.w_categorical[j].shape[0], 1))], axis=1)
            s = s + effect[:, codes].T
        if self.embedding and self.embedding in _columns(X):
            emb = np.array([np.zeros(self.w_embedding.shape[1]) if e is None else e
                            for e in _frame_column(X, self.embedding)], dtype=np.float64)
            s = s + emb @ self.w_embedding.T
        raw = self.shrink * s
        if self.logit_noise:
            raw = raw + self.logit_noise * _pseudo_normal(z, raw.shape[1], 1)
        if self.segment is not None and self.segment["column"] in _columns(X):
            seg = self.segment
            rows = np.asarray([v == seg["value"] for v in _frame_column(X, seg["column"])])
            if rows.any():
                raw[rows] += seg["noise"] * _pseudo_normal(z[rows], raw.shape[1], 2)
                raw[rows, 0] += seg["shift"]
                for j in seg["flip"]:
                    raw[rows] -= seg["flip_strength"] * self.shrink * np.outer(z[rows, j], self.w_numeric[:, j])
        if self.scale != 1.0 or self.shift:
            raw = self.scale * raw
            raw[:, 0] += self.shift
        assert raw.shape[0] == n
        return raw

    def predict_proba(self, X) -> np.ndarray:
        raw = self.decision_function(X)
        if self.task == "binary_classification":
            p = 0.5 * (1.0 + np.tanh(0.5 * raw[:, 0]))
            return np.column_stack([1.0 - p, p])
        if self.task == "multiclass":
            e = np.exp(raw - raw.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        raise AttributeError("predict_proba: a regression model has no class probabilities")

    def predict(self, X) -> np.ndarray:
        if self.task == "binary_classification":
            return (self.predict_proba(X)[:, 1] >= self.threshold).astype(np.int64)
        if self.task == "multiclass":
            return np.asarray(self.classes, dtype=object)[self.predict_proba(X).argmax(axis=1)]
        median, spread = self.target
        v = self.decision_function(X)[:, 0]
        return median * np.exp(spread * v + 0.5 * (spread * self.noise_sd) ** 2)

    def __repr__(self) -> str:
        return f"SyntheticModel(version={self.version!r}, task={self.task!r}, inputs={len(self.feature_names_in_)})"


def _columns(X) -> list[str]:
    return list(X.columns)


def _pseudo_normal(z: np.ndarray, c: int, salt: int) -> np.ndarray:
    """Standard normals that are a fixed function of the inputs (a model's idiosyncratic error)."""
    k = z.shape[1]
    a = np.sin(np.arange(1, k + 1) * (12.9898 + salt))[:, None] * 437.5 + np.arange(1, c + 1)[None, :] * 7.31
    b = np.cos(np.arange(1, k + 1) * (78.233 + salt))[:, None] * 311.9 + np.arange(1, c + 1)[None, :] * 3.17
    u1 = np.mod(np.sin(z @ a) * 43758.5453, 1.0)
    u2 = np.mod(np.sin(z @ b) * 24634.6345, 1.0)
    return np.sqrt(-2.0 * np.log(np.clip(u1, 1e-12, 1.0))) * np.cos(2 * np.pi * u2)


def build_model(world, release) -> SyntheticModel:
    truth, st, q = world.truth, world.standardizer, release.quirks
    seg = None
    if q.segment is not None:
        s = world.segments[q.segment.column]
        seg = {"column": s.name, "value": s.values[q.segment.value], "noise": q.segment.noise,
               "shift": q.segment.shift, "flip": list(q.segment.flip), "flip_strength": q.segment.flip_strength}
    w = release.weights
    return SyntheticModel(
        task=truth.task, numeric=[f.name for f in world.numeric], categorical=[c.name for c in world.categorical],
        vocab=[list(c.vocab) for c in world.categorical], embedding="embedding",
        log=np.asarray(st.log, dtype=bool), median=np.asarray(st.median, float), mean=np.asarray(st.mean, float),
        sd=np.asarray(st.sd, float), w_numeric=np.asarray(w.numeric, float),
        w_categorical=[np.asarray(c, float) for c in w.categorical], w_embedding=np.asarray(w.embedding, float),
        intercept=np.asarray(w.intercept, float), shrink=float(truth.shrink), classes=list(truth.classes),
        threshold=float(truth.threshold), target=[float(x) for x in truth.target], noise_sd=float(truth.noise_sd),
        logit_noise=float(q.logit_noise), scale=float(q.scale), shift=float(q.shift), segment=seg,
        version=release.version)


def write_artifacts(root: Path, world, releases) -> dict[str, str]:
    """Save each distinct artifact (by digest) to ``models/`` with skops; returns digest -> URI."""
    import skops.io as sio

    (root / "models").mkdir(exist_ok=True)
    out = {}
    for r in releases:
        if r.artifact_digest in out:
            continue
        uri = f"models/{r.artifact_digest[:12]}.skops"
        sio.dump(build_model(world, r), root / uri)
        out[r.artifact_digest] = uri
    return out
