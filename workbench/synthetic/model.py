"""The world's ground truth and the model versions that try to learn it.

A linear signal over standardised features, categorical effects and the embedding drives both the
true outcome (plus noise the model cannot see) and every release's output. Releases see features
*as logged*, so upstream corruption reaches the scores. Incidents are expressed as :class:`Quirks`
of a release (a noisier logit, a segment it gets wrong, swapped inputs, inverted outputs, slower
serving) rather than as edits to written rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Quirks",
    "Release",
    "SegmentQuirk",
    "Standardizer",
    "TruthModel",
    "Weights",
    "calibrate_binary",
    "logit_sd",
    "model_outputs",
    "release_logits",
    "signal",
    "sigmoid",
    "true_outcome",
]

_Z_CLIP = 5.0


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Standardizer:
    """How every model version turns logged numeric features into inputs.

    Missing values are imputed with the training median; heavy-tailed features are ``log1p``-ed;
    inputs are standardised and clipped, as a production feature pipeline would.
    """

    log: np.ndarray
    median: np.ndarray
    mean: np.ndarray
    sd: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray, log: np.ndarray) -> Standardizer:
        """Learn medians and moments from a reference sample of healthy feature values."""
        median = np.nanmedian(values, axis=0)
        t = cls._transform(np.where(np.isnan(values), median, values), log)
        return cls(log=log, median=median, mean=t.mean(axis=0), sd=np.maximum(t.std(axis=0), 1e-9))

    @staticmethod
    def _transform(x: np.ndarray, log: np.ndarray) -> np.ndarray:
        return np.where(log, np.log1p(np.maximum(x, 0.0)), x)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        x = np.where(np.isnan(values), self.median, values)
        z = (self._transform(x, self.log) - self.mean) / self.sd
        return np.clip(z, -_Z_CLIP, _Z_CLIP)


@dataclass(frozen=True)
class Weights:
    """Coefficients of one linear scorer; ``C`` outputs (1, or the number of classes)."""

    numeric: np.ndarray  # (C, p)
    categorical: tuple[np.ndarray, ...]  # (C, vocabulary size) each
    embedding: np.ndarray  # (C, d)
    intercept: np.ndarray  # (C,)

    def perturbed(self, rng: np.random.Generator, scale: float) -> Weights:
        """A retrain on fresh data: every coefficient moves by a relative ``scale``."""

        def jitter(w: np.ndarray) -> np.ndarray:
            return w * (1.0 + scale * rng.standard_normal(w.shape))

        return Weights(jitter(self.numeric), tuple(jitter(c) for c in self.categorical),
                       jitter(self.embedding), self.intercept.copy())


def signal(weights: Weights, z: np.ndarray, codes: np.ndarray, embedding: np.ndarray) -> np.ndarray:
    """Linear signal ``(n, C)``; a category code of ``-1`` (missing or unseen) contributes nothing."""
    s = z @ weights.numeric.T + embedding.astype(np.float64) @ weights.embedding.T + weights.intercept
    for j, effect in enumerate(weights.categorical):
        padded = np.concatenate([effect, np.zeros((effect.shape[0], 1))], axis=1)
        s += padded[:, codes[:, j]].T  # code -1 picks the zero column
    return s


@dataclass(frozen=True)
class TruthModel:
    """The process generating outcomes: true signal plus noise no model sees.

    ``shrink`` is the factor a well-calibrated model applies to the signal given that noise,
    ``signal_sd`` the spread of the signal over the population (so incidents can size their damage
    relative to it) and ``segment_effects`` per-segment-value shifts of the outcome the features do
    not explain.
    """

    task: str
    weights: Weights
    noise_sd: float
    shrink: float
    signal_sd: float
    segment_effects: tuple[np.ndarray, ...]
    classes: tuple[str, ...]
    target: tuple[float, float]
    threshold: float


@dataclass(frozen=True)
class SegmentQuirk:
    """A release that is wrong for one segment value: noisier, shifted, or with inputs read backwards."""

    column: int
    value: int
    noise: float = 0.0
    shift: float = 0.0
    flip: tuple[int, ...] = ()
    flip_strength: float = 2.0  # 1 ignores the flipped inputs, 2 reads them fully backwards


@dataclass(frozen=True)
class Quirks:
    """How a release departs from a faithful scorer; the defaults change nothing."""

    logit_noise: float = 0.0
    scale: float = 1.0
    shift: float = 0.0
    hidden_gain: float = 0.0
    segment: SegmentQuirk | None = None
    swap: tuple[int, int] | None = None
    invert: bool = False
    latency_median: float = 1.0
    latency_tail: float = 1.0


@dataclass(frozen=True)
class Release:
    """One model version as deployed: provenance plus the scorer it serves."""

    version: str
    training_dataset: str
    artifact_digest: str
    serving_commit: str
    weights: Weights
    quirks: Quirks = field(default_factory=Quirks)


def logit_sd(truth: TruthModel) -> float:
    """Spread of a faithful release's raw outputs: the yardstick for noise an incident adds."""
    return truth.shrink * truth.signal_sd


def release_logits(
    release: Release,
    truth: TruthModel,
    standardizer: Standardizer,
    seen: np.ndarray,
    codes: np.ndarray,
    embedding: np.ndarray,
    hidden: np.ndarray,
    draws: np.ndarray,
    segments: np.ndarray,
) -> np.ndarray:
    """Raw outputs ``(n, C)`` of one release on rows it served.

    ``hidden`` is the outcome noise (a release with ``hidden_gain`` learned part of it), ``draws``
    two independent standard normals per row and output for the release's own noise.
    """
    q = release.quirks
    x = seen
    if q.swap is not None:
        i, j = q.swap
        x = seen.copy()
        x[:, [i, j]] = seen[:, [j, i]]
    z = standardizer(x)
    raw = truth.shrink * signal(release.weights, z, codes, embedding)
    # a segment the release gets wrong does not share in what it learned better elsewhere
    gained = np.ones(raw.shape[0], dtype=bool)
    if q.segment is not None:
        gained = segments[:, q.segment.column] != q.segment.value
    if q.hidden_gain:
        raw[gained] += truth.shrink * q.hidden_gain * hidden[gained]
    if q.logit_noise:
        raw += q.logit_noise * draws[0]
    if q.segment is not None:
        s = q.segment
        rows = ~gained
        raw[rows] += s.noise * draws[1][rows]
        raw[rows, 0] += s.shift
        for j in s.flip:
            raw[rows] -= s.flip_strength * truth.shrink * np.outer(z[rows, j], release.weights.numeric[:, j])
    if q.scale != 1.0 or q.shift:
        raw = q.scale * raw
        raw[:, 0] += q.shift
    return raw


def model_outputs(truth: TruthModel, raw: np.ndarray, *, invert: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Prediction and score from raw outputs; ``invert`` is the serving bug that flips them."""
    if truth.task == "binary_classification":
        p = sigmoid(raw[:, 0])
        if invert:
            p = 1.0 - p
        return (p >= truth.threshold).astype(np.int64), p
    if truth.task == "multiclass":
        probs = _softmax(raw)
        if invert:
            probs = probs[:, ::-1]
        return np.asarray(truth.classes, dtype=object)[probs.argmax(axis=1)], probs.max(axis=1)
    median, spread = truth.target
    value = -raw[:, 0] if invert else raw[:, 0]
    # E[y | x] for a log-normal target with the noise the model cannot see
    return np.round(median * np.exp(spread * value + 0.5 * (spread * truth.noise_sd) ** 2), 4), None


def true_outcome(truth: TruthModel, true_signal: np.ndarray, hidden: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Draw ground truth from the true signal plus hidden noise."""
    latent = true_signal + hidden
    if truth.task == "binary_classification":
        return (rng.random(latent.shape[0]) < sigmoid(latent[:, 0])).astype(np.int64)
    if truth.task == "multiclass":
        gumbel = -np.log(-np.log(rng.random(latent.shape)))
        return np.asarray(truth.classes, dtype=object)[(latent + gumbel).argmax(axis=1)]
    median, spread = truth.target
    return np.round(median * np.exp(spread * latent[:, 0]), 4)


def _expected_auc(score: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(score, kind="stable")
    pos, neg = p[order], 1.0 - p[order]
    below = np.cumsum(neg) - neg  # negatives ranked strictly below each row
    return float((pos * below).sum() / (pos.sum() * neg.sum()))


def calibrate_binary(s: np.ndarray, *, auc: float, prevalence: float) -> tuple[float, float, float]:
    """Noise sd, intercept and shrink giving a target AUC and positive rate.

    Uses the probit approximation ``E[sigmoid(a + e)] ~ sigmoid(a / sqrt(1 + pi sd^2 / 8))`` on a
    reference signal ``s`` (without intercept), bisecting the noise sd and, inside, the intercept.
    """

    def intercept_for(shrink: float) -> float:
        lo, hi = -15.0, 15.0
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            if sigmoid(shrink * (mid + s)).mean() < prevalence:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def auc_for(sd: float) -> tuple[float, float, float]:
        shrink = 1.0 / np.sqrt(1.0 + np.pi * sd * sd / 8.0)
        b = intercept_for(shrink)
        return _expected_auc(s, sigmoid(shrink * (b + s))), b, shrink

    lo, hi = 0.0, 8.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if auc_for(mid)[0] > auc:
            lo = mid
        else:
            hi = mid
    sd = 0.5 * (lo + hi)
    _, b, shrink = auc_for(sd)
    return sd, b, shrink
