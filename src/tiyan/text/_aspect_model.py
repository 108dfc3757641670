"""The trained aspect model (car_product): aspect detection plus per-aspect three-class sentiment.

Detection: one logistic regression per aspect over character n-grams of the whole comment, each with
a threshold chosen on the dev split; a comment always gets at least its most likely aspect (every
comment of the corpus names one).

Sentiment of a detected aspect: one three-class model whose features are the comment's n-grams,
an aspect-specific copy of them, and n-grams of the *window* — the clauses where the aspect's
taxonomy terms occur (plus the clause after each) — shared and aspect-specific. So an aspect's
sentiment comes from the text around it, with the whole comment as context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from tiyan.text._features import Features, FeatureSpec, combine, hash_features, normalise, salted
from tiyan.text._linear import (
    LinearModel,
    ModelFileError,
    load_linear,
    save_linear,
    sigmoid,
    softmax,
)
from tiyan.text.segment import Clause, split_clauses
from tiyan.text.taxonomy import Aspect, Taxonomy, load_taxonomy

MODELS = Path(__file__).parent / "models"
SENTIMENT_CLASSES = ("negative", "neutral", "positive")
ASPECT_SALT, WINDOW_SALT, WINDOW_ASPECT_SALT = 100, 500, 600
CORPUS = "car_aspects_ccf2018"


def model_path(industry: str, models: Path = MODELS) -> Path:
    return models / f"aspects_{industry}.npz"


@dataclass(frozen=True)
class AspectModel:
    """A trained detector + sentiment model over one taxonomy's aspects (in taxonomy order)."""

    taxonomy: Taxonomy
    detector: LinearModel
    thresholds: np.ndarray
    sentiment: LinearModel

    def detect(self, texts: Sequence[str]) -> list[list[int]]:
        """Indices (into taxonomy.aspects) of the aspects each text talks about."""
        probabilities = self.detection_probabilities(texts)
        return [_detected(row, self.thresholds) for row in probabilities]

    def detection_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        features = hash_features([normalise(t) for t in texts], self.detector.spec)
        return sigmoid(self.detector.decision(features))

    def sentiments(self, texts: Sequence[str], aspects: Sequence[int]) -> np.ndarray:
        """Class probabilities (SENTIMENT_CLASSES order) of aspect `aspects[i]` in `texts[i]`."""
        features = pair_features(texts, aspects, self.taxonomy, self.sentiment.spec)
        return softmax(self.sentiment.decision(features))

    def predict(self, texts: Sequence[str]) -> list[list[AspectFinding]]:
        """Aspects of each text with their sentiment and evidence clause."""
        detected = self.detect(texts)
        docs = [doc for doc, found in enumerate(detected) for _ in found]
        aspects = [k for found in detected for k in found]
        results: list[list[AspectFinding]] = [[] for _ in texts]
        if not docs:
            return results
        probabilities = self.sentiments([texts[d] for d in docs], aspects)
        for doc, k, row in zip(docs, aspects, probabilities, strict=True):
            evidence = evidence_clause(texts[doc], self.taxonomy.aspects[k], self.taxonomy)
            results[doc].append(AspectFinding(self.taxonomy.aspects[k], row, evidence))
        return results


@dataclass(frozen=True)
class AspectFinding:
    """One detected aspect: its class probabilities and the clause it was read from."""

    aspect: Aspect
    probabilities: np.ndarray
    evidence: str

    @property
    def label(self) -> str:
        return SENTIMENT_CLASSES[int(np.argmax(self.probabilities))]

    @property
    def score(self) -> float:
        return round(float(self.probabilities[2] - self.probabilities[0]), 4)


def _detected(probabilities: np.ndarray, thresholds: np.ndarray) -> list[int]:
    found = [int(k) for k in np.flatnonzero(probabilities >= thresholds)]
    return found or [int(np.argmax(probabilities))]


def aspect_clauses(text: str, aspect: Aspect, taxonomy: Taxonomy) -> list[Clause]:
    """The clauses of `text` that mention one of `aspect`'s terms, each with the clause after it."""
    mentions = [m for m in taxonomy.find_mentions(text) if m.aspect.code == aspect.code]
    if not mentions:
        return []
    clauses = split_clauses(text)
    windows: dict[int, Clause] = {}
    for mention in mentions:
        for index, clause in enumerate(clauses):
            if clause.start <= mention.start < clause.end:
                last = clauses[min(index + 1, len(clauses) - 1)]
                windows[clause.start] = Clause(
                    text[clause.start : last.end], clause.start, last.end
                )
    return list(windows.values())


def evidence_clause(text: str, aspect: Aspect, taxonomy: Taxonomy) -> str:
    """Where the aspect is mentioned: the first clause holding one of its terms, else the text."""
    mentions = [m for m in taxonomy.find_mentions(text) if m.aspect.code == aspect.code]
    if mentions:
        for clause in split_clauses(text):
            if clause.start <= mentions[0].start < clause.end:
                return clause.text
    return text.strip()


def pair_features(
    texts: Sequence[str], aspects: Sequence[int], taxonomy: Taxonomy, spec: FeatureSpec
) -> Features:
    """Features of (text, aspect) pairs for the sentiment model (see the module docstring)."""
    whole = hash_features([normalise(t) for t in texts], spec)
    windows = [
        _window_text(t, taxonomy.aspects[k], taxonomy) for t, k in zip(texts, aspects, strict=True)
    ]
    window = hash_features([normalise(w) for w in windows], spec)
    per_doc = np.asarray(aspects, dtype=np.int64)
    parts = [whole, salted(window, WINDOW_SALT, spec.bits)]
    parts += _per_aspect(whole, per_doc, ASPECT_SALT, spec.bits)
    parts += _per_aspect(window, per_doc, WINDOW_ASPECT_SALT, spec.bits)
    return combine(parts, spec.bits)


def _window_text(text: str, aspect: Aspect, taxonomy: Taxonomy) -> str:
    clauses = aspect_clauses(text, aspect, taxonomy)
    return " ".join(c.text for c in clauses) if clauses else text


def _per_aspect(
    features: Features, aspect_of_doc: np.ndarray, base_salt: int, bits: int
) -> list[Features]:
    parts = []
    for k in np.unique(aspect_of_doc):
        keep = aspect_of_doc[features.docs] == k
        subset = Features(features.docs[keep], features.buckets[keep], features.n_docs)
        parts.append(salted(subset, base_salt + int(k), bits))
    return parts


@cache
def load_aspect_model(industry: str) -> AspectModel | None:
    """The trained model of `industry`, or None when the industry has none (seed terms only)."""
    return read_aspect_model(industry, MODELS)


def read_aspect_model(industry: str, models: Path) -> AspectModel | None:
    """The model of `industry` in the folder `models` (not cached), or None when there is none."""
    path = model_path(industry, models)
    if not path.is_file():
        return None
    detector, extra = load_linear(path)
    sentiment, _ = load_linear(path.with_suffix(".sentiment.npz"))
    if "thresholds" not in extra:
        raise ModelFileError(path, "no thresholds array")
    return AspectModel(load_taxonomy(industry), detector, extra["thresholds"], sentiment)


# --- training (only `tiyan text train` calls this; it imports scikit-learn) ----------------------

DETECT_SPEC = FeatureSpec(bits=20, char_ngrams=(1, 3))
SENTIMENT_SPEC = FeatureSpec(bits=20, char_ngrams=(1, 4))
DETECT_C, SENTIMENT_C = 10.0, 10.0
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 17))


def train_car_aspects(data: Path, output: Path, seed: int, log: Callable[[str], None]) -> dict:
    """Fit the car_product aspect model on the corpus' train split, thresholds on dev."""
    from tiyan.text._aspect_training import fit_aspect_model

    model, report = fit_aspect_model(data, load_taxonomy("car_product"), seed, log)
    path = model_path("car_product", output)
    save_linear(path, model.detector, thresholds=model.thresholds)
    save_linear(path.with_suffix(".sentiment.npz"), model.sentiment)
    return report
