"""An English polarity lexicon's reading of a text, and how it pulls the English model's output.

The English model learned from airline tweets and hotel reviews only, and its words do not carry
far beyond them ("very" is a strong positive word in hotel reviews). VADER (the `vaderSentiment`
package: word valences rated by people, with rules for negation, degree words, "but", capitals
and exclamation marks) reads polarity without any domain's habits. The lexicon is evidence of
polarity only: for its compound score v ∈ [-1, 1], it pulls the model's (negative, [neutral,]
positive) probabilities towards the pole of v's sign by the weight w = share · |v|:

    p = (1 - w) · model's probabilities + w · (1 at v's pole, 0 elsewhere)

so a text the lexicon finds no polar word in (v = 0: "the steak was overcooked") keeps the
model's reading, and the mixed score P(positive) − P(negative) is (1 - w) · the model's score +
w · sign(v). The share is chosen by leave-one-domain-out (`selection_en.json`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

# VADER's cost grows with the square of a text's length (100 KB: 12 s); a longer text is read in
# pieces of whole sentences up to this many characters, weighted by their length
LONGEST_PIECE = 1000
_SENTENCE_END = re.compile(r"(?<=[.!?;\n])\s+")


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def lexicon_polarity(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound score of each raw text, in [-1, 1] (0: no polar word)."""
    analyzer = _analyzer()
    found = np.zeros(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        pieces = _pieces(text)
        if len(pieces) == 1:  # a text of up to LONGEST_PIECE characters: read whole
            found[i] = analyzer.polarity_scores(pieces[0])["compound"]
            continue
        if not pieces:
            continue
        lengths = np.array([len(piece) for piece in pieces], dtype=np.float64)
        compounds = np.array([analyzer.polarity_scores(piece)["compound"] for piece in pieces])
        found[i] = float(np.dot(lengths, compounds) / lengths.sum())
    return found


def _pieces(text: str) -> list[str]:
    """The text itself, or whole sentences packed into pieces of at most LONGEST_PIECE
    characters (a longer sentence is cut)."""
    text = text.strip()
    if len(text) <= LONGEST_PIECE:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > LONGEST_PIECE:
            pieces.append(sentence[:LONGEST_PIECE])
            sentence = sentence[LONGEST_PIECE:]
        if current and len(current) + 1 + len(sentence) > LONGEST_PIECE:
            pieces.append(current)
            current = ""
        current = f"{current} {sentence}" if current else sentence
    if current.strip():
        pieces.append(current)
    return pieces


def mixed(probabilities: np.ndarray, polarity: np.ndarray, share: float) -> np.ndarray:
    """The model's class probabilities (columns negative, [neutral,] positive) pulled towards
    the pole of each text's lexicon `polarity` by share · |polarity|."""
    if share <= 0.0:
        return probabilities
    pole = np.zeros_like(probabilities)
    pole[polarity < 0, 0] = 1.0
    pole[polarity > 0, -1] = 1.0
    weight = (share * np.abs(polarity))[:, np.newaxis]
    return (1.0 - weight) * probabilities + weight * pole
