"""Laying an installation's adaptation (tiyan.text.adaptation) over the shipped models' reading.

`adapt_readings` takes what `analyze_many` found for a batch and returns it adapted: the
comment's sentiment and each aspect's sentiment through the residual layers, aspects whose only
terms in their evidence were dropped taken out, and aspects found by their added terms put in
(their sentiment read from the clause around the term, like the seed-term aspects).
"""

from __future__ import annotations

from collections.abc import Sequence

from tiyan.text.adaptation import Adaptation, adapted_label
from tiyan.text.aspects import AspectSentiment, clause_at
from tiyan.text.segment import split_clauses
from tiyan.text.sentiment import Sentiment, predict_by_language
from tiyan.text.taxonomy import Taxonomy


def adapt_sentiments(adaptation: Adaptation, texts: Sequence[str], languages: Sequence[str],
                     sentiments: Sequence[Sentiment]) -> list[Sentiment]:
    """Each comment's sentiment after the adaptation's sentiment layer of its language."""
    out = list(sentiments)
    for language, layer in adaptation.sentiment.items():
        positions = [i for i, lang in enumerate(languages) if _model_language(lang) == language]
        adjusted = layer.adjust([texts[i] for i in positions],
                                [sentiments[i].score for i in positions])
        for i, (score, changed) in zip(positions, adjusted, strict=True):
            if changed:
                out[i] = Sentiment(adapted_label(sentiments[i].label, sentiments[i].score, score),
                                   score)
    return out


def adapt_aspects(adaptation: Adaptation, texts: Sequence[str], languages: Sequence[str],
                  found: Sequence[list[AspectSentiment]],
                  taxonomy: Taxonomy | None) -> list[list[AspectSentiment]]:
    """Each comment's aspects after the adaptation (see the module docstring)."""
    if taxonomy is None:
        return [list(f) for f in found]
    result = [_without_dropped(adaptation, taxonomy, aspects) for aspects in found]
    _add_by_terms(adaptation, texts, languages, taxonomy, result)
    for language, layer in adaptation.aspect_sentiment.items():
        spots = [(i, k) for i, aspects in enumerate(result) for k in range(len(aspects))
                 if _model_language(languages[i]) == language]
        adjusted = layer.adjust([result[i][k].evidence for i, k in spots],
                                [result[i][k].score for i, k in spots],
                                [result[i][k].aspect for i, k in spots])
        for (i, k), (score, changed) in zip(spots, adjusted, strict=True):
            a = result[i][k]
            if changed:
                result[i][k] = AspectSentiment(a.aspect, a.name,
                                               adapted_label(a.label, a.score, score), score,
                                               a.evidence)
    return result


def _model_language(language: str) -> str:
    return "en" if language == "en" else "zh"  # as predict_by_language routes texts


def _without_dropped(adaptation: Adaptation, taxonomy: Taxonomy,
                     aspects: Sequence[AspectSentiment]) -> list[AspectSentiment]:
    kept = []
    for a in aspects:
        dropped = adaptation.dropped_terms.get(a.aspect)
        if dropped:
            terms = {m.term for m in taxonomy.find_mentions(a.evidence)
                     if m.aspect.code == a.aspect}
            if terms and terms <= set(dropped):
                continue
        kept.append(a)
    return kept


def _add_by_terms(adaptation: Adaptation, texts: Sequence[str], languages: Sequence[str],
                  taxonomy: Taxonomy, result: list[list[AspectSentiment]]) -> None:
    wanted: list[tuple[int, str, str]] = []  # (text, aspect, clause)
    for i, text in enumerate(texts):
        have = {a.aspect for a in result[i]}
        for code, terms in adaptation.added_terms.items():
            if code in have:
                continue
            at = next((text.find(term) for term in terms if term in text), -1)
            if at < 0:
                continue
            around = clause_at(split_clauses(text), at)
            if around is not None:
                wanted.append((i, code, around.text))
    if not wanted:
        return
    scored = predict_by_language([c for _, _, c in wanted], [languages[i] for i, _, _ in wanted])
    for (i, code, clause), sentiment in zip(wanted, scored, strict=True):
        try:
            name = taxonomy.aspect(code).name_zh
        except KeyError:
            continue
        result[i].append(AspectSentiment(code, name, sentiment.label, sentiment.score, clause))
