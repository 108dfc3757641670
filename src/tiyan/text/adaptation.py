"""An installation's adaptation of the shipped text models, fitted on its users' corrections.

The shipped models stay untouched; an adaptation sits on top of their output:

- **Sentiment** (of a comment, and of an aspect's evidence clause): a residual logistic layer.
  The shipped model's score s in [-1, 1] becomes a logit z = logit((1 + s) / 2); the adapted
  probability of "positive" is sigmoid(z · (1 + a) + b + x·w), where x are the text's hashed
  character 1–3-grams (plus, for aspects, the aspect's code) and a, b, w are fitted on the
  corrections with an L2 penalty that keeps them at zero where the corrections say nothing. So an
  adaptation fitted on no corrections changes nothing, and texts unlike any corrected one keep the
  shipped reading. The scale a lets the corrections say that the shipped scores are too sure in
  this installation (aspects people call neutral that the models read positive or negative).
  Neutral corrections are soft targets of 0.5 (the shipped Chinese model is two-class, neutral is
  its ±0.2 band). The penalty is chosen by cross-validation on the corrections themselves, by
  how many of them its labels fix net of those they break, and only when it fixes clearly more
  (`_choose_penalty`).
- **Aspects the models missed** (a person added the aspect and quoted its words): a word of
  those quotes that recurs, and that mostly goes with the aspect in the texts people reviewed,
  becomes an extra term of the aspect (`learn_terms`).
- **Aspects that were not talked about** (a person removed them): a taxonomy term that led to
  removed aspects again and again, and rarely goes with the aspect in the reviewed texts, no
  longer counts for that aspect.

`Adaptation.to_bytes()` / `from_bytes()` store it (numpy arrays, no pickle).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, sparse

FEATURE_BITS = 18
PENALTIES = (0.3, 1.0, 3.0, 10.0, 30.0)  # L2 strengths tried by cross-validation
FOLDS = 3
# a layer must fix more corrections than it breaks, at this level of a one-sided sign test (the
# usual 5%, not tuned)
SIGNIFICANCE = 0.05
MIN_TERM_SUPPORT = 2
MIN_TERM_PRECISION = 0.6
NEUTRAL_BAND = 0.2  # as the shipped models (tiyan.text.sentiment)
MIN_CHANGE = 0.05  # a logit moved less than this keeps the shipped label
_TARGET = {"positive": 1.0, "neutral": 0.5, "negative": 0.0}
_EPS = 1e-4


def _features(texts: Sequence[str], tags: Sequence[str] | None = None) -> sparse.csr_matrix:
    from sklearn.feature_extraction.text import HashingVectorizer

    chars = HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=2**FEATURE_BITS,
                              alternate_sign=False, norm="l2", lowercase=True)
    x = chars.transform(list(texts))
    if tags is None:
        return sparse.csr_matrix(x)
    tagged = HashingVectorizer(analyzer=lambda tag: [f"aspect={tag}"],
                               n_features=2**FEATURE_BITS, alternate_sign=False, norm=None)
    return sparse.csr_matrix(x + tagged.transform(list(tags)))


def _logit(scores: np.ndarray) -> np.ndarray:
    p = np.clip((1.0 + scores) / 2.0, _EPS, 1 - _EPS)
    return np.asarray(np.log(p / (1 - p)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True)
class Example:
    """One corrected reading: the text (or evidence clause), what the shipped model scored it,
    and the label a person gave; `tag` is the aspect's code for aspect sentiment; `base_label`
    the label the shipped models gave it, where that is not the score's (`label_of`): an aspect
    the opinion model reads neutral can score outside the neutral band."""

    text: str
    base_score: float
    label: str
    tag: str | None = None
    base_label: str | None = None


@dataclass(frozen=True)
class ResidualLayer:
    """Weights on top of a shipped model's logit (see the module docstring)."""

    buckets: np.ndarray  # feature buckets with a weight, ascending
    weights: np.ndarray
    bias: float
    penalty: float | None  # None: cross-validation kept the shipped model as it is
    examples: int
    scale: float = 0.0  # the shipped logit is multiplied by 1 + scale (0: as shipped)

    def adjust(self, texts: Sequence[str], base_scores: Sequence[float],
               tags: Sequence[str] | None = None) -> list[tuple[float, bool]]:
        """(adapted score, changed) for each text; `changed` is False where the layer moved the
        shipped logit by less than MIN_CHANGE."""
        if not texts:
            return []
        base = _logit(np.asarray(base_scores, dtype=np.float64))
        x = _features(texts, tags)[:, self.buckets] if len(self.buckets) else None
        delta = self.bias + self.scale * base
        if x is not None:
            delta = delta + x @ self.weights
        adapted = 2.0 * _sigmoid(base + delta) - 1.0
        return [(round(float(s), 4), bool(abs(d) >= MIN_CHANGE))
                for s, d in zip(adapted, delta, strict=True)]


def fit_layer(examples: Sequence[Example], *, seed: int = 7) -> ResidualLayer | None:
    """The residual layer for these corrected readings (None without any); its L2 penalty is
    chosen by cross-validation (`_choose_penalty`), and a layer that changes nothing when no
    penalty clearly beats the shipped labels there."""
    if not examples:
        return None
    x_all = _features([e.text for e in examples],
                      [e.tag or "" for e in examples] if any(e.tag for e in examples) else None)
    used = np.unique(x_all.indices)
    x = sparse.csr_matrix(x_all[:, used])
    base = _logit(np.array([e.base_score for e in examples], dtype=np.float64))
    y = np.array([_TARGET[e.label] for e in examples])
    shipped = np.array([_SIDE[e.base_label or label_of(e.base_score)] for e in examples])
    groups = np.array([e.text for e in examples])
    penalty = (_choose_penalty(x, base, y, shipped, groups, seed) if len(examples) >= 10
               else PENALTIES[-1])
    if penalty is None:  # cross-validation says the shipped model alone reads these better
        return ResidualLayer(np.zeros(0, dtype=np.int64), np.zeros(0), 0.0, None,
                             len(examples))
    weights, bias, scale = _fit(x, base, y, penalty)
    keep = np.abs(weights) > 1e-6
    return ResidualLayer(used[keep].astype(np.int64), weights[keep], bias, penalty,
                         len(examples), scale)


def _fit(x: sparse.csr_matrix, base: np.ndarray, y: np.ndarray,
         penalty: float) -> tuple[np.ndarray, float, float]:
    """(weights, bias, scale) of the layer z = base · (1 + scale) + bias + x · weights. The scale
    lets corrections say the shipped scores are too sure in this installation (aspects people
    call neutral where the models read them positive or negative): a bias alone can only move
    every score one way."""
    n, d = x.shape

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        # (sum of log losses + penalty / 2 · |params|²) / n
        w, b, a = params[:d], params[d], params[d + 1]
        p = np.clip(_sigmoid(base * (1.0 + a) + x @ w + b), _EPS, 1 - _EPS)
        value = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + penalty / 2 * (
            w @ w + b * b + a * a)
        residual = p - y
        grad_w = x.T @ residual + penalty * w
        grad_b = residual.sum() + penalty * b
        grad_a = residual @ base + penalty * a
        return float(value) / n, np.concatenate([grad_w, [grad_b, grad_a]]) / n

    found = optimize.minimize(loss, np.zeros(d + 2), jac=True, method="L-BFGS-B",
                              options={"maxiter": 100})
    return np.asarray(found.x[:d]), float(found.x[d]), float(found.x[d + 1])


def _choose_penalty(x: sparse.csr_matrix, base: np.ndarray, y: np.ndarray,
                    shipped: np.ndarray, groups: np.ndarray, seed: int) -> float | None:
    """The L2 strength whose cross-validated labels (positive, neutral, negative: what people see
    and correct) fix the most corrections net of those they break, or None when no strength does
    so clearly (a one-sided sign test on the fixed and the broken ones, at SIGNIFICANCE): the
    corrections then teach nothing that carries over to comments not yet read. Among strengths
    that do as well, the strongest, which moves the least. `shipped`: the shipped labels (-1 / 0
    / 1), which an adapted score changes only where it crosses to another side of the neutral band
    (`adapted_label`); `groups`: the text of each example, so that readings of one text (several
    aspects of a clause) are never on both sides of a fold.

    Not the log loss: with neutral corrections as soft targets of 0.5, moving a neutral comment's
    score across the neutral band costs almost no log loss, so the loss preferred layers that
    turned neutral readings positive or negative (car forum posts, where most aspects are only
    mentioned: pair-F1 0.366 → 0.339 after 100 corrections)."""
    _, group_index = np.unique(groups, return_inverse=True)
    folds = np.random.default_rng(seed).permutation(int(group_index.max()) + 1)[group_index] % FOLDS
    wanted = _labels(2.0 * y - 1.0)
    base_sides = _labels(2.0 * _sigmoid(base) - 1.0)
    shipped_right = shipped == wanted
    best: float | None = None
    best_gain = 0
    for penalty in sorted(PENALTIES, reverse=True):
        fixed = broken = 0
        for fold in range(FOLDS):
            train, test = folds != fold, folds == fold
            if not train.any() or not test.any():
                continue
            w, b, a = _fit(sparse.csr_matrix(x[train]), base[train], y[train], penalty)
            sides = _labels(2.0 * _sigmoid(base[test] * (1.0 + a) + x[test] @ w + b) - 1.0)
            right = np.where(sides == base_sides[test], shipped[test], sides) == wanted[test]
            fixed += int(np.sum(right & ~shipped_right[test]))
            broken += int(np.sum(~right & shipped_right[test]))
        if fixed - broken > best_gain and _sign_test(fixed, broken) < SIGNIFICANCE:
            best, best_gain = penalty, fixed - broken
    return best


def _sign_test(fixed: int, broken: int) -> float:
    """P(at least `fixed` of `fixed + broken` changes are fixes | fixes and breaks equally
    likely): the one-sided binomial test of "the layer does better than the shipped labels"."""
    from scipy.stats import binom

    return float(binom.sf(fixed - 1, fixed + broken, 0.5)) if fixed + broken else 1.0


def _labels(scores: np.ndarray) -> np.ndarray:
    """`label_of` of each score, as -1 / 0 / 1."""
    return np.where(np.abs(scores) < NEUTRAL_BAND, 0, np.sign(scores)).astype(np.int64)


_SIDE = {"negative": -1, "neutral": 0, "positive": 1}


def adapted_label(label: str, score: float, adapted: float) -> str:
    """The label of a reading (`label`, `score`) after the adaptation moved its score to
    `adapted`: the shipped label unless the score crossed to another side of the neutral band
    (the opinion model can read an aspect neutral at a score outside the band; a small move must
    not turn it positive)."""
    return label if label_of(adapted) == label_of(score) else label_of(adapted)


def label_of(score: float) -> str:
    """The label of an adapted score (the shipped two-class rule: neutral inside the band)."""
    if abs(score) < NEUTRAL_BAND:
        return "neutral"
    return "positive" if score > 0 else "negative"


@dataclass(frozen=True)
class Adaptation:
    """What one installation learned from its users' corrections (see the module docstring)."""

    sentiment: Mapping[str, ResidualLayer] = field(default_factory=dict)  # by language
    aspect_sentiment: Mapping[str, ResidualLayer] = field(default_factory=dict)  # by language
    added_terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # aspect → terms
    dropped_terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.sentiment or self.aspect_sentiment or self.added_terms
                    or self.dropped_terms)

    def summary(self) -> dict[str, Any]:
        return {
            "sentiment": {lang: {"examples": layer.examples, "weights": len(layer.weights),
                                 "penalty": layer.penalty}
                          for lang, layer in self.sentiment.items()},
            "aspect_sentiment": {lang: {"examples": layer.examples,
                                        "weights": len(layer.weights), "penalty": layer.penalty}
                                 for lang, layer in self.aspect_sentiment.items()},
            "added_terms": {k: list(v) for k, v in self.added_terms.items()},
            "dropped_terms": {k: list(v) for k, v in self.dropped_terms.items()},
        }

    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"layers": [], "added_terms": self.added_terms,
                                "dropped_terms": self.dropped_terms}
        for kind, layers in (("sentiment", self.sentiment),
                             ("aspect_sentiment", self.aspect_sentiment)):
            for language, layer in layers.items():
                name = f"{kind}.{language}"
                arrays[f"{name}.buckets"] = layer.buckets
                arrays[f"{name}.weights"] = layer.weights
                meta["layers"].append({"kind": kind, "language": language, "bias": layer.bias,
                                       "penalty": layer.penalty, "examples": layer.examples,
                                       "scale": layer.scale})
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        out = io.BytesIO()
        np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Adaptation:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            meta = json.loads(bytes(stored["meta"]).decode())
            layers: dict[str, dict[str, ResidualLayer]] = {"sentiment": {},
                                                           "aspect_sentiment": {}}
            for info in meta["layers"]:
                name = f"{info['kind']}.{info['language']}"
                layers[info["kind"]][info["language"]] = ResidualLayer(
                    stored[f"{name}.buckets"], stored[f"{name}.weights"], float(info["bias"]),
                    None if info["penalty"] is None else float(info["penalty"]),
                    int(info["examples"]), float(info.get("scale", 0.0)))
        return cls(layers["sentiment"], layers["aspect_sentiment"],
                   {k: tuple(v) for k, v in meta["added_terms"].items()},
                   {k: tuple(v) for k, v in meta["dropped_terms"].items()})


@dataclass(frozen=True)
class AspectChange:
    """A person's correction of one aspect of one text, for learning terms."""

    aspect: str
    added: bool  # True: the aspect was missing and added; False: removed
    evidence: str
    terms_found: tuple[str, ...] = ()  # taxonomy terms of this aspect in the evidence


@dataclass(frozen=True)
class Reviewed:
    """A text a person corrected, with the aspects it has after the correction: what tells how
    often a word goes with an aspect."""

    text: str
    aspects: frozenset[str]


def learn_terms(changes: Sequence[AspectChange], reviewed: Sequence[Reviewed],
                words: Any) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(added terms, dropped terms) by aspect; `words(text)` splits a quote into words.

    A word of the quotes of added aspects becomes a term of the aspect when it recurs
    (MIN_TERM_SUPPORT quotes) and, among the reviewed texts that contain it, at least
    MIN_TERM_PRECISION have the aspect. A taxonomy term is dropped for an aspect when removals
    name it MIN_TERM_SUPPORT times and, among the reviewed texts containing it, fewer than
    1 − MIN_TERM_PRECISION keep the aspect."""
    added: dict[str, Counter[str]] = {}
    removed: dict[str, Counter[str]] = {}
    for change in changes:
        if change.added:
            found = {w for w in words(change.evidence) if len(w.strip()) >= 2
                     and not w.strip().isdigit()}
            added.setdefault(change.aspect, Counter()).update(found)
        else:
            removed.setdefault(change.aspect, Counter()).update(set(change.terms_found))

    def share_with(aspect: str, word: str) -> float:
        holding = [r for r in reviewed if word in r.text]
        return sum(aspect in r.aspects for r in holding) / len(holding) if holding else 0.0

    new_terms = {aspect: tuple(sorted(w for w, n in counts.items() if n >= MIN_TERM_SUPPORT
                                      and share_with(aspect, w) >= MIN_TERM_PRECISION))
                 for aspect, counts in added.items()}
    dropped = {aspect: tuple(sorted(term for term, n in counts.items()
                                    if n >= MIN_TERM_SUPPORT
                                    and share_with(aspect, term) < 1 - MIN_TERM_PRECISION))
               for aspect, counts in removed.items()}
    return ({k: v for k, v in new_terms.items() if v}, {k: v for k, v in dropped.items() if v})
