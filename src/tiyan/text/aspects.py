"""Aspect-level sentiment: which aspects of an industry's taxonomy a comment talks about, and how.

Two ways, chosen per industry and language:

- **Trained** (car_product, Chinese): a shipped model (`models/aspects_car_product.npz`, see
  docs/models/text.md) detects the aspects of the whole comment and gives each its own sentiment
  from the comment plus the clauses around the aspect's words.
- **Seed terms** (every other industry, and English comments): an aspect is mentioned where one
  of its taxonomy terms occurs as a word (Chinese terms must start and end on word boundaries of
  the segmented text; phrases an aspect lists under `not_in` do not count). Its sentiment is the
  opinion about that term: for Chinese the opinion model (`_opinion`) reads the opinion span
  around the term; for English the English sentiment model reads the same span. An aspect
  mentioned several times keeps its most opinionated mention.

Every result carries `evidence`: the span of the text the aspect was read from — the clause of
the term, and the clause after it when that is where the opinion is ("说好下午四点交车，拖到了
晚上七点").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from tiyan.text._aspect_model import load_aspect_model
from tiyan.text._opinion import (
    NEUTRAL_BAND,
    Target,
    blend_of,
    label_and_score,
    load_opinion_model,
    opinion_span,
)
from tiyan.text.language import EN
from tiyan.text.segment import Clause, split_clauses, word_bounds
from tiyan.text.sentiment import binary_label, load_sentiment_model
from tiyan.text.taxonomy import Aspect, Mention, Taxonomy, load_taxonomy, term_tags


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


_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class _Candidate:
    """A mention of `aspect` in text number `doc`; `others` are other aspects' mention starts."""

    doc: int
    aspect: Aspect
    target: Target
    others: tuple[int, ...]
    english: bool


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


def mentions_in(text: str, taxonomy: Taxonomy) -> list[Mention]:
    """The taxonomy terms `text` mentions as words (see the module docstring)."""
    if not taxonomy.may_mention(text):  # one regex search: no character a term starts with
        return []
    # With a text's word bounds, terms match at fewer places than without, never more: a text
    # that mentions nothing mentions nothing either way, so there is no scan without bounds
    # first. A Chinese comment is segmented for its keywords anyway (the words are cached).
    bounds = word_bounds(text, taxonomy.industry) if _HAN.search(text) else None
    return taxonomy.find_mentions(text, bounds)


def _by_seed_terms(
    texts: Sequence[str], languages: Sequence[str], positions: Sequence[int], industry: str
) -> list[list[AspectSentiment]]:
    taxonomy = load_taxonomy(industry)
    flat: list[_Candidate] = []
    for k, i in enumerate(positions):
        mentions = mentions_in(texts[i], taxonomy)
        if any(a.end == b.start for a, b in zip(mentions, mentions[1:], strict=False)):
            mentions = heads_only(mentions, term_tags(industry))
        if mentions:
            flat += _candidates(k, texts[i], mentions)
    best: list[dict[str, AspectSentiment]] = [{} for _ in positions]
    for candidate, found in zip(flat, _opinions(flat), strict=True):
        current = best[candidate.doc].get(found.aspect)
        if current is None or abs(found.score) > abs(current.score):
            best[candidate.doc][found.aspect] = found
    return [list(per_text.values()) for per_text in best]


# jieba's part-of-speech tags (its dictionary's) of a compound's parts: the modifier a noun or a
# verb ("配件价格", "保养费用"), the head a noun or a verbal noun ("客房服务"). Proper names (nr)
# are left out: the dictionary tags 安静 as one.
_HEAD_TAGS = frozenset({"n", "ng", "ns", "nt", "nz", "vn"})
_MODIFIER_TAGS = _HEAD_TAGS | {"v"}


def heads_only(mentions: Sequence[Mention], tags: dict[str, str]) -> list[Mention]:
    """`mentions` without the Chinese terms that modify the next term: a Chinese noun compound
    is about its last noun, so "配件价格贵得离谱" is about the price, not the parts' quality, and
    "客房服务很周到" about the service, not the room. `tags`: the terms' parts of speech; a term
    the dictionary does not tag, an adjective (房间干净: room and cleanliness both praised) or a
    plain verb as the head (预约提醒) makes no compound."""
    kept = []
    for k, mention in enumerate(mentions):
        following = mentions[k + 1] if k + 1 < len(mentions) else None
        modifies = (
            following is not None
            and following.start == mention.end
            and following.aspect.code != mention.aspect.code
            and tags.get(mention.term) in _MODIFIER_TAGS
            and tags.get(following.term) in _HEAD_TAGS
        )
        if not modifies:
            kept.append(mention)
    return kept


def _candidates(doc: int, text: str, mentions: Sequence[Mention]) -> list[_Candidate]:
    """One candidate per mention; `others` holds the mentions of other aspects in the clause
    after the mention's own (the only place the opinion span looks for them)."""
    clauses = tuple(split_clauses(text))
    starts = [clause.start for clause in clauses]
    in_clause: dict[int, list[Mention]] = {}
    for mention in mentions:
        in_clause.setdefault(bisect_right(starts, mention.start) - 1, []).append(mention)
    found = []
    for mention in mentions:
        index = bisect_right(starts, mention.start) - 1  # the clause holding the term
        after = in_clause.get(index + 1, [])
        others = tuple(m.start for m in after if m.aspect.code != mention.aspect.code)
        direction = mention.aspect.direction(mention.term)
        defect = mention.aspect.is_defect(mention.term)
        target = Target(text, mention.start, mention.end, clauses, direction, defect)
        # read in the language of the clause that holds the term: an English clause of a
        # Chinese comment by the English model (the Chinese models read "The room was clean" as
        # noise), "wifi信号很差" by the Chinese ones
        own = clauses[max(index, 0)] if clauses else None
        in_english = own is not None and not _HAN.search(own.text)
        found.append(_Candidate(doc, mention.aspect, target, others, in_english))
    return found


def _opinions(candidates: Sequence[_Candidate]) -> list[AspectSentiment]:
    """The opinion about each candidate's term: Chinese by the opinion model, English by the
    English sentiment model over the same span. Either is labelled by its score (P(positive) −
    P(negative)) with the neutral band: the English model's own neutral class (learned from
    questions and plain information in tweets) takes in short opinion clauses."""
    spans = [opinion_span(c.target, c.others)[0] for c in candidates]
    results: dict[int, AspectSentiment] = {}
    chinese = [k for k, c in enumerate(candidates) if not c.english]
    if chinese:
        targets = [candidates[k].target for k in chinese]
        others = [candidates[k].others for k in chinese]
        opinions = load_opinion_model().probabilities(targets, others)
        zh = load_sentiment_model("zh")
        mixed, decided = blend_of(targets, others, opinions, zh.probabilities)
        for k, row, rule in zip(chinese, mixed, decided, strict=True):
            label, score = label_and_score(row, NEUTRAL_BAND, int(rule))
            results[k] = _found(candidates[k], label, score, spans[k])
    english = [k for k, c in enumerate(candidates) if c.english]
    if english:
        sentiments = load_sentiment_model("en").predict([spans[k].text for k in english])
        for k, sentiment in zip(english, sentiments, strict=True):
            label = binary_label(sentiment.score)
            results[k] = _found(candidates[k], label, sentiment.score, spans[k])
    return [results[k] for k in range(len(candidates))]


def _found(candidate: _Candidate, label: str, score: float, span: Clause) -> AspectSentiment:
    aspect = candidate.aspect
    return AspectSentiment(aspect.code, aspect.name_zh, label, score, span.text)


def clause_at(clauses: Sequence[Clause], position: int) -> Clause | None:
    """The clause holding character `position`, else the nearest one before it."""
    before = None
    for clause in clauses:
        if clause.start <= position < clause.end:
            return clause
        if clause.start <= position:
            before = clause
    return before
