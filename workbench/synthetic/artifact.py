"""Model artifacts for generated lakes: each release's scorer, saved with skops.

:class:`SyntheticModel` scores rows as logged (a polars or pandas frame with the lake's feature,
segment and embedding columns) with the very function the generator's release used
(:func:`~workbench.synthetic.model.release_logits`), so on the rows a release served its artifact
reproduces the logged output row by row (up to the rounding of logged scores). Only the
serving-code bugs (swapped inputs, inverted outputs) are left out: they live in the serving
commit, not in the artifact. A release's own noise and what it learned beyond the linear signal
are fixed functions of its inputs, so replays are reproducible.

Files are written byte for byte the same for the same release (:func:`write_artifacts`).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from workbench.synthetic.model import Quirks, Release, SegmentQuirk, Standardizer, Weights, release_logits

__all__ = ["SyntheticModel", "dump_deterministic", "write_artifacts"]


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
                 shift: float = 0.0, hidden_gain: float = 0.0, segment: dict[str, Any] | None = None,
                 version: str = "") -> None:
        self.task, self.numeric, self.categorical, self.vocab = task, numeric, categorical, vocab
        self.embedding = embedding
        self.log, self.median, self.mean, self.sd = log, median, mean, sd
        self.w_numeric, self.w_categorical, self.w_embedding = w_numeric, w_categorical, w_embedding
        self.intercept, self.shrink, self.classes, self.threshold = intercept, shrink, classes, threshold
        self.target, self.noise_sd = target, noise_sd
        self.logit_noise, self.scale, self.shift, self.segment = logit_noise, scale, shift, segment
        self.hidden_gain = hidden_gain
        self.version = version
        self.feature_names_in_ = list(numeric) + list(categorical) + ([embedding] if embedding else [])

    # -- scoring ------------------------------------------------------------------------
    def _release(self) -> Release:
        seg = self.segment
        quirk = None if seg is None else SegmentQuirk(0, 0, noise=seg["noise"], shift=seg["shift"],
                                                      flip=tuple(seg["flip"]), flip_strength=seg["flip_strength"])
        weights = Weights(np.asarray(self.w_numeric, float), tuple(np.asarray(w, float) for w in self.w_categorical),
                          np.asarray(self.w_embedding, float), np.asarray(self.intercept, float))
        quirks = Quirks(logit_noise=self.logit_noise, scale=self.scale, shift=self.shift,
                        hidden_gain=self.hidden_gain, segment=quirk)
        return Release(self.version, "", "", "", weights, quirks)

    def decision_function(self, X) -> np.ndarray:
        """Raw outputs ``(n, C)``: logits (classification) or the standardised prediction."""
        n = len(X)
        cols = [np.asarray(_frame_column(X, name), dtype=np.float64) for name in self.numeric]
        x = np.column_stack(cols) if cols else np.zeros((n, 0))
        codes = np.full((n, len(self.categorical)), -1, dtype=np.int64)
        for j, name in enumerate(self.categorical):
            index = {v: i for i, v in enumerate(self.vocab[j])}
            codes[:, j] = [index.get(v, -1) if v is not None else -1 for v in _frame_column(X, name)]
        emb = np.zeros((n, self.w_embedding.shape[1]))
        if self.embedding and self.embedding in _columns(X):
            emb = np.array([np.zeros(self.w_embedding.shape[1]) if e is None else e
                            for e in _frame_column(X, self.embedding)], dtype=np.float64).reshape(n, -1)
        in_segment = None
        if self.segment is not None and self.segment["column"] in _columns(X):
            value = self.segment["value"]
            in_segment = np.asarray([v == value for v in _frame_column(X, self.segment["column"])], dtype=bool)
        st = Standardizer(np.asarray(self.log, bool), np.asarray(self.median, float), np.asarray(self.mean, float),
                          np.asarray(self.sd, float))
        return release_logits(self._release(), st, x, codes, emb, in_segment, shrink=self.shrink,
                              noise_sd=self.noise_sd, serving=False)

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
        logit_noise=float(q.logit_noise), scale=float(q.scale), shift=float(q.shift),
        hidden_gain=float(q.hidden_gain), segment=seg,
        version=release.version)


def dump_deterministic(obj: Any, path: str | Path) -> None:
    """Save ``obj`` with skops so that the same object gives the same bytes in every process.

    skops names arrays and memoised objects after their ``id()`` (a memory address) and stamps zip
    entries with the current time; both are rewritten here: ids are renumbered in the order the
    schema first names them, entries are sorted and dated 1980-01-01.
    """
    import skops.io as sio

    src = zipfile.ZipFile(io.BytesIO(sio.dumps(obj)))
    schema = json.loads(src.read("schema.json"))
    ids: dict[int, int] = {}

    def renumber(node):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "__id__" and isinstance(v, int):
                    v = ids.setdefault(v, len(ids) + 1)
                elif k == "file" and isinstance(v, str) and v.endswith(".npy"):
                    v = f"{ids.setdefault(int(v[:-4]), len(ids) + 1)}.npy"
                out[k] = renumber(v)
            return out
        if isinstance(node, list):
            return [renumber(v) for v in node]
        return node

    schema = renumber(schema)
    files = {"schema.json": json.dumps(schema, indent=2).encode()}
    for name in src.namelist():
        if name.endswith(".npy"):
            files[f"{ids[int(name[:-4])]}.npy"] = src.read(name)
        elif name != "schema.json":
            msg = f"dump_deterministic: unexpected skops entry {name!r} (only arrays and the schema are renamed)"
            raise ValueError(msg)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as out:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            out.writestr(info, files[name])


def write_artifacts(root: Path, world, releases) -> dict[str, str]:
    """Save each distinct artifact (by digest) to ``models/`` with skops; returns digest -> URI."""
    (root / "models").mkdir(exist_ok=True)
    out = {}
    for r in releases:
        if r.artifact_digest in out:
            continue
        uri = f"models/{r.artifact_digest[:12]}.skops"
        dump_deterministic(build_model(world, r), root / uri)
        out[r.artifact_digest] = uri
    return out
