"""Aspect-level sentiment: which aspects of an industry's taxonomy a comment talks about, and how.

Two ways, chosen per industry and language:

- **Trained** (car_product, Chinese): a shipped model (`models/aspects_car_product.npz`, see
  docs/models/text.md) detects the aspects of the whole comment and gives each its own sentiment
  from the comment plus the clauses around the aspect's words.
- **Seed terms** (every other industry, and English comments): an aspect is mentioned where one of
  its taxonomy terms occurs; its sentiment is that of the clause around the term, read by the
  language's sentiment model. An aspect mentioned in several clauses keeps the most opinionated one.

Every result carries `evidence`: the clause of the text the aspect was read from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tiyan.text._aspect_model import load_aspect_model
from tiyan.text.language import EN
from tiyan.text.segment import Clause, split_clauses
from tiyan.text.sentiment import predict_by_language
from tiyan.text.taxonomy import Aspect, Taxonomy, load_taxonomy


@dataclass(frozen=True)
class AspectSentiment:
    """An aspect found in a comment, with its own sentiment and the clause it came from."""

    aspect: str
    name: str
    label: str
    score: float
    evidence: str

    def to_dict(self) -> dict[str, str | float]:
        return {
            "aspect": self.aspect,
            "name": self.name,
            "label": self.label,
            "score": self.score,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class _Candidate:
    """A clause of text number `doc` that mentions `aspect`."""

    doc: int
    aspect: Aspect
    clause: Clause


def find_aspects(
    texts: Sequence[str], languages: Sequence[str], industry: str | None
) -> list[list[AspectSentiment]]:
    """Aspects of each text, against `industry`'s taxonomy (none when industry is None)."""
    results: list[list[AspectSentiment]] = [[] for _ in texts]
    if industry is None or not texts:
        return results
    model = load_aspect_model(industry)
    trained = [i for i, lang in enumerate(languages) if model is not None and lang != EN]
    if model is not None and trained:
        findings = model.predict([texts[i] for i in trained])
        for position, per_text in zip(trained, findings, strict=True):
            results[position] = [
                AspectSentiment(f.aspect.code, f.aspect.name_zh, f.label, f.score, f.evidence)
                for f in per_text
            ]
    taken = set(trained)
    rest = [i for i in range(len(texts)) if i not in taken]
    by_terms = _by_seed_terms(texts, languages, rest, industry)
    for position, found in zip(rest, by_terms, strict=True):
        results[position] = found
    return results


def _by_seed_terms(
    texts: Sequence[str], languages: Sequence[str], positions: Sequence[int], industry: str
) -> list[list[AspectSentiment]]:
    taxonomy = load_taxonomy(industry)
    candidates = [_mentions(k, texts[i], taxonomy) for k, i in enumerate(positions)]
    flat = [candidate for per_text in candidates for candidate in per_text]
    scored = _clause_sentiments(flat, [languages[positions[c.doc]] for c in flat], industry)
    best: list[dict[str, AspectSentiment]] = [{} for _ in positions]
    for candidate, found in zip(flat, scored, strict=True):
        current = best[candidate.doc].get(found.aspect)
        if current is None or abs(found.score) > abs(current.score):
            best[candidate.doc][found.aspect] = found
    return [list(per_text.values()) for per_text in best]


def _mentions(doc: int, text: str, taxonomy: Taxonomy) -> list[_Candidate]:
    mentions = taxonomy.find_mentions(text)
    if not mentions:
        return []
    clauses = split_clauses(text)
    found: dict[tuple[str, int], _Candidate] = {}
    for mention in mentions:
        clause = clause_at(clauses, mention.start)
        if clause is not None:
            found.setdefault(
                (mention.aspect.code, clause.start), _Candidate(doc, mention.aspect, clause)
            )
    return list(found.values())


def clause_at(clauses: Sequence[Clause], position: int) -> Clause | None:
    """The clause holding character `position`, else the nearest one before it."""
    before = None
    for clause in clauses:
        if clause.start <= position < clause.end:
            return clause
        if clause.start <= position:
            before = clause
    return before


def _clause_sentiments(
    candidates: Sequence[_Candidate], languages: Sequence[str], industry: str
) -> list[AspectSentiment]:
    clauses = [candidate.clause.text for candidate in candidates]
    sentiments = predict_by_language(clauses, languages, industry)
    return [
        AspectSentiment(c.aspect.code, c.aspect.name_zh, s.label, s.score, c.clause.text)
        for c, s in zip(candidates, sentiments, strict=True)
    ]
