"""An installation's adaptation of the shipped text models, fitted on its users' corrections.

The shipped models stay untouched; an adaptation sits on top of their output:

- **Sentiment** (of a comment, and of an aspect's evidence clause): a residual logistic layer.
  The shipped model's score s in [-1, 1] becomes a logit z = logit((1 + s) / 2); the adapted
  probability of "positive" is sigmoid(z + b + x·w), where x are the text's hashed character
  1–3-grams (plus, for aspects, the aspect's code) and w, b are fitted on the corrections with an
  L2 penalty that keeps them at zero where the corrections say nothing. So an adaptation fitted
  on no corrections changes nothing, and texts unlike any corrected one keep the shipped reading.
  Neutral corrections are soft targets of 0.5 (the shipped Chinese model is two-class, neutral is
  its ±0.2 band). The penalty is chosen by cross-validation on the corrections themselves.
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
    and the label a person gave; `tag` is the aspect's code for aspect sentiment."""

    text: str
    base_score: float
    label: str
    tag: str | None = None


@dataclass(frozen=True)
class ResidualLayer:
    """Weights on top of a shipped model's logit (see the module docstring)."""

    buckets: np.ndarray  # feature buckets with a weight, ascending
    weights: np.ndarray
    bias: float
    penalty: float | None  # None: cross-validation kept the shipped model as it is
    examples: int

    def adjust(self, texts: Sequence[str], base_scores: Sequence[float],
               tags: Sequence[str] | None = None) -> list[tuple[float, bool]]:
        """(adapted score, changed) for each text; `changed` is False where the layer moved the
        shipped logit by less than MIN_CHANGE."""
        if not texts:
            return []
        base = _logit(np.asarray(base_scores, dtype=np.float64))
        x = _features(texts, tags)[:, self.buckets] if len(self.buckets) else None
        delta = np.full(len(texts), self.bias)
        if x is not None:
            delta = delta + x @ self.weights
        adapted = 2.0 * _sigmoid(base + delta) - 1.0
        return [(round(float(s), 4), bool(abs(d) >= MIN_CHANGE))
                for s, d in zip(adapted, delta, strict=True)]


def fit_layer(examples: Sequence[Example], *, seed: int = 7) -> ResidualLayer | None:
    """The residual layer for these corrected readings (None without any); the L2 penalty is
    the one with the lowest cross-validated log loss, and a layer that changes nothing when no
    penalty beats the shipped model in that cross-validation."""
    if not examples:
        return None
    x_all = _features([e.text for e in examples],
                      [e.tag or "" for e in examples] if any(e.tag for e in examples) else None)
    used = np.unique(x_all.indices)
    x = sparse.csr_matrix(x_all[:, used])
    base = _logit(np.array([e.base_score for e in examples], dtype=np.float64))
    y = np.array([_TARGET[e.label] for e in examples])
    penalty = _choose_penalty(x, base, y, seed) if len(examples) >= 10 else PENALTIES[-1]
    if penalty is None:  # cross-validation says the shipped model alone reads these better
        return ResidualLayer(np.zeros(0, dtype=np.int64), np.zeros(0), 0.0, None,
                             len(examples))
    weights, bias = _fit(x, base, y, penalty)
    keep = np.abs(weights) > 1e-6
    return ResidualLayer(used[keep].astype(np.int64), weights[keep], bias, penalty,
                         len(examples))


def _fit(x: sparse.csr_matrix, base: np.ndarray, y: np.ndarray,
         penalty: float) -> tuple[np.ndarray, float]:
    n, d = x.shape

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        # (sum of log losses + penalty / 2 · |params|²) / n
        w, b = params[:d], params[d]
        p = np.clip(_sigmoid(base + x @ w + b), _EPS, 1 - _EPS)
        value = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) + penalty / 2 * (w @ w + b * b)
        residual = p - y
        grad_w = x.T @ residual + penalty * w
        grad_b = residual.sum() + penalty * b
        return float(value) / n, np.concatenate([grad_w, [grad_b]]) / n

    found = optimize.minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                              options={"maxiter": 100})
    return np.asarray(found.x[:d]), float(found.x[d])


def _choose_penalty(x: sparse.csr_matrix, base: np.ndarray, y: np.ndarray,
                    seed: int) -> float | None:
    """The L2 strength with the lowest cross-validated log loss, or None when no strength does
    better than the shipped model alone (the corrections then teach nothing that carries over
    to comments not yet read)."""
    folds = np.random.default_rng(seed).permutation(len(y)) % FOLDS
    p_base = np.clip(_sigmoid(base), _EPS, 1 - _EPS)
    best: float | None = None
    best_loss = -float(np.sum(y * np.log(p_base) + (1 - y) * np.log(1 - p_base)))
    for penalty in PENALTIES:
        total = 0.0
        for fold in range(FOLDS):
            train, test = folds != fold, folds == fold
            w, b = _fit(sparse.csr_matrix(x[train]), base[train], y[train], penalty)
            p = np.clip(_sigmoid(base[test] + x[test] @ w + b), _EPS, 1 - _EPS)
            total -= float(np.sum(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p)))
        if total < best_loss:
            best, best_loss = penalty, total
    return best


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
                                       "penalty": layer.penalty, "examples": layer.examples})
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
                    int(info["examples"]))
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
