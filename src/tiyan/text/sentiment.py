"""Document and clause sentiment: positive / neutral / negative with a score in [-1, 1].

Two shipped models (see docs/models/text.md), both linear models over hashed n-grams, chosen by
how they hold on a domain left out of training:

- Chinese: character 1–3-grams, logistic regression, trained on the train splits of every Chinese
  domain (food delivery, hotel, ten e-commerce categories, six product-review sets) with the same
  weights for every industry (industry-specific copies did not help unseen domains).
- English: word 1–2-grams, three classes, class-balanced, trained on airline tweets and hotel
  reviews, its probabilities pulled towards a polarity lexicon's reading (`_polarity_lexicon`;
  the recipe and the lexicon's share chosen among the candidates of selection_en.json).

The score is P(positive) − P(negative). Chinese training data has two classes only, so a Chinese
text is "neutral" when its score lies inside ±NEUTRAL_BAND.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from tiyan.text._features import hash_features, normalise
from tiyan.text._linear import LinearModel, ModelFileError, class_probabilities, load_linear
from tiyan.text._polarity_lexicon import lexicon_polarity, mixed
from tiyan.text._questions import only_asks

MODELS = Path(__file__).parent / "models"
MODEL_FILES = {"zh": MODELS / "sentiment_zh.npz", "en": MODELS / "sentiment_en.npz"}
POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"
NEUTRAL_BAND = 0.2
# how many recent readings a model keeps, of texts up to how many characters (`probabilities`)
READINGS_KEPT = 8192
READINGS_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Sentiment:
    """A label and a score in [-1, 1] (−1 very negative, +1 very positive)."""

    label: str
    score: float


@dataclass(frozen=True)
class SentimentModel:
    """A shipped sentiment model for one language."""

    language: str
    linear: LinearModel
    classes: tuple[str, ...]
    # how far the polarity lexicon's reading pulls the probabilities (0: the model alone)
    lexicon_share: float = 0.0
    # recent readings, (industry or "", text) -> probabilities (`probabilities`)
    _recent: dict[tuple[str, str], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def predict(self, texts: Sequence[str], industry: str | None = None) -> list[Sentiment]:
        """Sentiment of each text (raw text: normalisation happens here)."""
        if not texts:
            return []
        probabilities = self.probabilities(texts, industry)
        return [self._label(row) for row in probabilities]

    def probabilities(self, texts: Sequence[str], industry: str | None = None) -> np.ndarray:
        """Class probabilities, shape (len(texts), len(classes)). A text's reading depends on
        nothing but the text (and the industry), and the analysis asks for the same texts more
        than once (a comment for its own sentiment, then as the context of its aspects; the same
        terms in many comments): the readings of recent short texts are remembered."""
        if len(texts) > READINGS_KEPT:
            return self._read(texts, industry)
        # an industry without weights of its own reads as no industry
        memo, group = self._recent, industry if industry in self.linear.groups else ""
        known: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for text in dict.fromkeys(texts):
            row = memo.get((group, text))
            if row is None:
                missing.append(text)
            else:
                known[text] = row
        if missing:
            if len(memo) + len(missing) > READINGS_KEPT:
                memo.clear()
            for text, row in zip(missing, self._read(missing, industry), strict=True):
                known[text] = row
                if len(text) <= READINGS_TEXT_LIMIT:
                    memo[(group, text)] = row
        return np.array([known[text] for text in texts]).reshape(len(texts), len(self.classes))

    def _read(self, texts: Sequence[str], industry: str | None) -> np.ndarray:
        features = hash_features([normalise(text) for text in texts], self.linear.spec)
        probabilities = class_probabilities(self.linear.decision(features, industry))
        if self.lexicon_share > 0.0:
            return mixed(probabilities, lexicon_polarity(texts), self.lexicon_share)
        return probabilities

    def _label(self, probabilities: np.ndarray) -> Sentiment:
        by_class = dict(zip(self.classes, probabilities.tolist(), strict=True))
        score = round(by_class.get(POSITIVE, 0.0) - by_class.get(NEGATIVE, 0.0), 4)
        if NEUTRAL in by_class:
            return Sentiment(max(by_class, key=by_class.__getitem__), score)
        return Sentiment(binary_label(score), score)


def binary_label(score: float) -> str:
    """Label of a two-class score: neutral when neither pole is ahead by NEUTRAL_BAND."""
    if abs(score) < NEUTRAL_BAND:
        return NEUTRAL
    return POSITIVE if score > 0 else NEGATIVE


@cache
def load_sentiment_model(language: str) -> SentimentModel:
    """The shipped model for "zh" or "en", loaded once per process."""
    path = MODEL_FILES.get(language)
    if path is None:
        raise ValueError(f"no sentiment model for language {language!r}; expected one of zh, en")
    linear, extra = load_linear(path)
    if "classes" not in extra:
        raise ModelFileError(path, "no classes array")
    # files written before the lexicon mix have no share: the model alone
    share = float(extra["lexicon_share"]) if "lexicon_share" in extra else 0.0
    return SentimentModel(language, linear, tuple(str(c) for c in extra["classes"]), share)


def predict_by_language(
    texts: Sequence[str], languages: Sequence[str], industry: str | None = None
) -> list[Sentiment]:
    """Sentiment of each text: English texts go to the English model, all others to the Chinese
    one, each language as one batch; results keep the order of `texts`. A text without a letter
    of any script (emoji, punctuation, digits only) has no words to read: neutral, score 0. So
    is a Chinese text that only asks, for information or for a service (`_questions.only_asks`:
    "请问酒店有停车场吗？", "请帮我查一下话费"): that model learned no neutral class, and reads
    such a text as the reviews' complaints put as questions. (The English model learned
    questions as neutral from its tweets.)"""
    results: list[Sentiment] = [Sentiment(NEUTRAL, 0.0)] * len(texts)
    readable = [
        lang != "other" or any(char.isalpha() for char in text)
        for text, lang in zip(texts, languages, strict=True)
    ]
    for model_language in ("zh", "en"):
        positions = [
            i
            for i, lang in enumerate(languages)
            if readable[i] and (lang == "en") == (model_language == "en")
        ]
        if not positions:
            continue
        predicted = load_sentiment_model(model_language).predict(
            [texts[i] for i in positions], industry
        )
        for position, sentiment in zip(positions, predicted, strict=True):
            asking = model_language == "zh" and only_asks(texts[position])
            results[position] = Sentiment(NEUTRAL, 0.0) if asking else sentiment
    return results
