"""The text analysis of one comment: language, sentiment, aspects, keywords and a redacted copy.

`analyze(text, industry)` is the pure API; `analyze_many(texts, industry)` does the same for a batch
and is much faster per text (features and models run once per batch). PII is masked first and every
later step reads the masked text, so no phone number or ID ends up in evidence or keywords;
`evidence` is therefore a substring of `redacted` (the original text whenever nothing was masked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tiyan.text.aspects import AspectSentiment, find_aspects
from tiyan.text.keywords import extract_keywords
from tiyan.text.language import detect_language
from tiyan.text.redact import redact
from tiyan.text.sentiment import Sentiment, predict_by_language
from tiyan.text.taxonomy import INDUSTRIES, load_taxonomy

if TYPE_CHECKING:
    from tiyan.text.adaptation import Adaptation

KEYWORDS_PER_TEXT = 5


class UnknownIndustry(ValueError):
    """The industry asked for has no taxonomy."""

    def __init__(self, industry: str) -> None:
        super().__init__(f"unknown industry {industry!r}; expected one of {', '.join(INDUSTRIES)}")
        self.industry = industry


@dataclass(frozen=True)
class TextAnalysis:
    """Everything tiyan reads out of one comment; what the product stores and the CLI writes."""

    language: str
    sentiment: Sentiment
    aspects: tuple[AspectSentiment, ...]
    keywords: tuple[str, ...]
    redacted: str
    pii_kinds: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the `tiyan text analyze` output (without the id)."""
        return {
            "language": self.language,
            "sentiment": {"label": self.sentiment.label, "score": self.sentiment.score},
            "aspects": [aspect.to_dict() for aspect in self.aspects],
            "keywords": list(self.keywords),
            "redacted": self.redacted,
        }


def analyze(text: str, industry: str | None = None,
            adaptation: Adaptation | None = None) -> TextAnalysis:
    """Analyse one comment; `industry` picks the aspect taxonomy (None: no aspects)."""
    return analyze_many([text], industry, adaptation)[0]


def analyze_many(texts: Sequence[str], industry: str | None = None,
                 adaptation: Adaptation | None = None) -> list[TextAnalysis]:
    """Analyse a batch of comments; the result is in the order of `texts`. An `adaptation`
    (fitted on an installation's corrections, tiyan.text.adaptation) adjusts the shipped
    models' reading."""
    check_industry(industry)
    redactions = [redact(text) for text in texts]
    masked = [redaction.text for redaction in redactions]
    languages = [detect_language(text) for text in masked]
    sentiments = predict_by_language(masked, languages, industry)
    aspects = find_aspects(masked, languages, industry)
    if adaptation is not None and not adaptation.is_empty:
        from tiyan.text.adapted import adapt_aspects, adapt_sentiments

        sentiments = adapt_sentiments(adaptation, masked, languages, sentiments)
        aspects = adapt_aspects(adaptation, masked, languages, aspects,
                                load_taxonomy(industry) if industry else None)
    return [
        TextAnalysis(
            language=language,
            sentiment=sentiment,
            aspects=tuple(found),
            keywords=tuple(extract_keywords(text, industry, KEYWORDS_PER_TEXT, language)),
            redacted=text,
            pii_kinds=tuple(sorted({finding.kind for finding in redaction.findings})),
        )
        for text, language, sentiment, found, redaction in zip(
            masked, languages, sentiments, aspects, redactions, strict=True
        )
    ]


def check_industry(industry: str | None) -> None:
    """Raise UnknownIndustry unless `industry` is None or one of INDUSTRIES."""
    if industry is not None and industry not in INDUSTRIES:
        raise UnknownIndustry(industry)
