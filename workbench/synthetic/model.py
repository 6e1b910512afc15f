"""The world's ground truth and the model versions that try to learn it.

A linear signal over standardised features, categorical effects and the embedding drives both the
true outcome (plus noise a linear model cannot see) and every release's output. Releases see
features *as logged*, so upstream corruption reaches the scores. Incidents are expressed as
:class:`Quirks` of a release (a noisier logit, a segment it gets wrong, swapped inputs, inverted
outputs, slower serving) rather than as edits to written rows.

A release's output is a fixed function of the inputs it was given: its own noise (a weaker
model's idiosyncratic error) and what it learned beyond the linear signal are
:func:`pseudo_normal` hashes of its standardised inputs, never fresh random draws. So the model
artifact of a release (:mod:`workbench.synthetic.artifact`) reproduces what the release logged,
row by row, except for the serving-code bugs (swapped inputs, inverted outputs), which live in the
serving commit and not in the artifact.
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
    "LEARNABLE",
    "hidden_noise",
    "learned_weight",
    "model_outputs",
    "pseudo_normal",
    "release_logits",
    "signal",
    "sigmoid",
    "true_outcome",
]

_Z_CLIP = 5.0

#: Share of the outcome noise's variance that is a fixed nonlinear function of the inputs: no linear
#: release sees it, a release with ``hidden_gain`` learned part of it. The rest is pure chance.
LEARNABLE = 0.85
# salts of the pseudo-normal streams: a release's own noise, its segment noise, the learnable noise
_SALT_NOISE, _SALT_SEGMENT, _SALT_HIDDEN = 1, 2, 3


def pseudo_normal(z: np.ndarray, c: int, salt: int) -> np.ndarray:
    """Standard normals ``(n, c)`` that are a fixed function of the inputs ``z`` ``(n, k)``.

    A hash of each row (sines of random projections, as in shader noise) fed through Box-Muller:
    rows with the same inputs get the same values, rows with different inputs look independent,
    and the values do not correlate with any linear function of ``z``. ``salt`` gives independent
    streams.
    """
    z = np.asarray(z, dtype=np.float64)
    k = z.shape[1]
    a = np.sin(np.arange(1, k + 1) * (12.9898 + salt))[:, None] * 437.5 + np.arange(1, c + 1)[None, :] * 7.31
    b = np.cos(np.arange(1, k + 1) * (78.233 + salt))[:, None] * 311.9 + np.arange(1, c + 1)[None, :] * 3.17
    u1 = np.mod(np.sin(z @ a) * 43758.5453, 1.0)
    u2 = np.mod(np.sin(z @ b) * 24634.6345, 1.0)
    return np.sqrt(-2.0 * np.log(np.clip(u1, 1e-12, 1.0))) * np.cos(2 * np.pi * u2)


def hidden_noise(noise_sd: float, z_true: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """Outcome noise ``(n, C)`` of sd ``noise_sd``: a learnable part (a fixed function of the true
    standardised inputs ``z_true``) plus ``chance`` (standard normals drawn per row)."""
    learnable = pseudo_normal(z_true, chance.shape[1], _SALT_HIDDEN)
    return noise_sd * (np.sqrt(LEARNABLE) * learnable + np.sqrt(1.0 - LEARNABLE) * chance)


def learned_weight(hidden_gain: float) -> float:
    """Weight on the learnable noise that leaves a residual outcome noise of ``(1 - hidden_gain)``
    times its sd (capped at learning all of it)."""
    if hidden_gain <= 0:
        return 0.0
    residual = (1.0 - hidden_gain) ** 2 - (1.0 - LEARNABLE)  # what the learnable part may keep
    return float(1.0 - np.sqrt(max(residual, 0.0) / LEARNABLE))


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
    """How a release departs from a faithful scorer; the defaults change nothing.

    ``hidden_gain`` is a release that learned part of the outcome noise: its residual noise sd is
    ``1 - hidden_gain`` times the truth's (see :func:`learned_weight`). ``swap`` and ``invert`` are
    serving-code bugs: they are not part of the release's artifact.
    """

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
    standardizer: Standardizer,
    seen: np.ndarray,
    codes: np.ndarray,
    embedding: np.ndarray,
    in_segment: np.ndarray | None = None,
    *,
    shrink: float,
    noise_sd: float,
    serving: bool = True,
) -> np.ndarray:
    """Raw outputs ``(n, C)`` of one release on rows it served, a fixed function of its inputs.

    ``seen``, ``codes`` and ``embedding`` are the inputs as logged; ``in_segment`` marks the rows
    of the segment a :class:`SegmentQuirk` gets wrong (by the logged segment value); ``shrink``
    and ``noise_sd`` come from the :class:`TruthModel` the release was trained on. With
    ``serving=False`` the serving-code bugs (``swap``) are left out: what the artifact computes.
    """
    q = release.quirks
    x = seen
    if serving and q.swap is not None:
        i, j = q.swap
        x = seen.copy()
        x[:, [i, j]] = seen[:, [j, i]]
    z = standardizer(x)
    raw = shrink * signal(release.weights, z, codes, embedding)
    c = raw.shape[1]
    # a segment the release gets wrong does not share in what it learned better elsewhere
    rows = np.zeros(raw.shape[0], dtype=bool)
    if q.segment is not None and in_segment is not None:
        rows = np.asarray(in_segment, dtype=bool)
    gained = ~rows
    if q.hidden_gain and gained.any():
        learned = pseudo_normal(z[gained], c, _SALT_HIDDEN)
        raw[gained] += shrink * learned_weight(q.hidden_gain) * noise_sd * np.sqrt(LEARNABLE) * learned
    if q.logit_noise:
        raw += q.logit_noise * pseudo_normal(z, c, _SALT_NOISE)
    if q.segment is not None and rows.any():
        s = q.segment
        raw[rows] += s.noise * pseudo_normal(z[rows], c, _SALT_SEGMENT)
        raw[rows, 0] += s.shift
        for j in s.flip:
            raw[rows] -= s.flip_strength * shrink * np.outer(z[rows, j], release.weights.numeric[:, j])
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
