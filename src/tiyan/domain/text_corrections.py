"""People's corrections of the text analysis, and how they override what the models said.

An analyst or CX manager who reads a comment can say "this is negative, not neutral", "the
price is talked about positively here", "this is not about the room" or "the waiting time is
talked about here and the model missed it". A correction belongs to one text of one response
(its question key) and to the comment's overall sentiment (`aspect` None) or one aspect:

- `label` positive / neutral / negative: the sentiment is this (an aspect the model missed is
  added, with `evidence`: the words that carry it);
- `label` None on an aspect: the comment does not talk about this aspect.

`apply_corrections` lays a text's corrections over the model's reading; re-analysis calls it on
every run, so a correction is never overwritten by a model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tiyan.errors import InvalidInput

SENTIMENT_LABELS = ("positive", "neutral", "negative")
# a corrected label keeps the model's score when it already lies on the label's side, else it
# gets this much in the label's direction, so means of scores move with the corrections
CORRECTED_SCORE = 0.5
MAX_EVIDENCE = 500


@dataclass(frozen=True)
class TextCorrection:
    """One person's correction of one text (see the module docstring)."""

    question_key: str
    aspect: str | None
    label: str | None
    evidence: str | None = None

    @property
    def removes_aspect(self) -> bool:
        return self.aspect is not None and self.label is None


def check_correction(correction: TextCorrection, *, known_aspects: Mapping[str, str],
                     text: str) -> TextCorrection:
    """The correction, validated and with its evidence trimmed; InvalidInput says what is
    wrong. `known_aspects` maps the codes of the text's taxonomy to their names; `text` is the
    (redacted) comment, which an added aspect's evidence must come from."""
    if correction.label is not None and correction.label not in SENTIMENT_LABELS:
        raise InvalidInput("text_corrections.sentiment_must_not",
                           sentiment_labels=', '.join(SENTIMENT_LABELS), label=correction.label,
                           where="label")
    if correction.aspect is None:
        if correction.label is None:
            raise InvalidInput("text_corrections.correction_comment_sentiment_needs",
                               where="label")
        return TextCorrection(correction.question_key, None, correction.label)
    if correction.aspect not in known_aspects:
        raise InvalidInput("text_corrections.unknown_aspect_comment_industry",
                           aspect=correction.aspect,
                           where="aspect")
    evidence = (correction.evidence or "").strip()[:MAX_EVIDENCE] or None
    if evidence is not None and evidence not in text:
        raise InvalidInput("text_corrections.evidence_must_words_quoted", where="evidence")
    return TextCorrection(correction.question_key, correction.aspect, correction.label, evidence)


def corrected_score(label: str, model_score: float) -> float:
    """The score that goes with a corrected label (see CORRECTED_SCORE)."""
    if label == "positive":
        return max(model_score, CORRECTED_SCORE)
    if label == "negative":
        return min(model_score, -CORRECTED_SCORE)
    return 0.0


@dataclass(frozen=True)
class CorrectedReading:
    """A text's sentiment and aspects after its corrections."""

    sentiment_label: str
    sentiment_score: float
    aspects: list[dict[str, Any]]
    corrected: bool


def apply_corrections(sentiment_label: str, sentiment_score: float,
                      aspects: Sequence[Mapping[str, Any]], text: str,
                      corrections: Sequence[TextCorrection],
                      aspect_names: Mapping[str, str] | None = None) -> CorrectedReading:
    """The model's reading of one text (aspects as dicts with aspect, label, score, evidence)
    with that text's corrections laid over it; each corrected aspect gets `"corrected": True`."""
    label, score = sentiment_label, sentiment_score
    by_aspect = {str(a["aspect"]): dict(a) for a in aspects}
    for correction in corrections:
        if correction.aspect is None:
            if correction.label is not None:
                label, score = correction.label, corrected_score(correction.label, score)
            continue
        if correction.label is None:
            by_aspect.pop(correction.aspect, None)
            continue
        found = by_aspect.get(correction.aspect)
        if found is None:
            found = {"aspect": correction.aspect,
                     "name": (aspect_names or {}).get(correction.aspect, correction.aspect),
                     "score": 0.0, "evidence": correction.evidence or text[:MAX_EVIDENCE]}
        elif correction.evidence:
            found["evidence"] = correction.evidence
        found["label"] = correction.label
        found["score"] = corrected_score(correction.label, float(found["score"]))
        found["corrected"] = True
        by_aspect[correction.aspect] = found
    return CorrectedReading(label, round(score, 4), list(by_aspect.values()),
                            corrected=bool(corrections))
