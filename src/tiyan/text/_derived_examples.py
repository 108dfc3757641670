"""Training examples derived from labelled ones by negating them (see `_negation`).

The corpora rarely negate a predicate right after a term ("价格不贵"), so the opinion model's
negated-predicate feature would have little to learn from. From train-split examples only, a
labelled opinion whose words after the term are a degree word and a predicate ("价格太贵"
negative, "屏幕很大" positive, "送餐很快" positive) gives a pair: that clause alone with its label,
and the same clause with the degree word replaced by 不 ("价格不贵", "屏幕不大", "送餐不快") and
the opposite label. The pair differs only in the negation, so that is what it teaches (one
negated copy alone also moved the term's own weights, and cost 0.5 point of chinese_absa dev
accuracy). Neutral examples derive nothing (the negation of a mention says nothing either).

A labelled opinion about a term with a direction that says only how much of it there is
("性价比很高" positive) also gives a mirrored pair (`mirrored_quantity`), so that the good- and
bad-quantity features of `_opinion` learn from every aspect with training text what a quantity
means for one of either direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tiyan.text._opinion import CLASSES, PLACEHOLDER, Target, opinion_span

# 好 / 真 / 超 / 特 are left out: they are as often the predicate (好吃, 真实) as a degree word
_DEGREE = r"(?:非常|特别|十分|相当|超级|极其|比较|有点|有些|很|太|挺|蛮|忒)"
_PREDICATE = r"(?P<predicate>[\u4e00-\u9fff]{1,2})"
_TAIL = r"(?P<tail>[的了啊呀吧呢哦哈嘛啦!！~～。.]*)"
# after a term: "太贵了", "也很好"; a whole short review: "送餐很快", "房间非常干净"
_GRADED_AFTER = re.compile(r"(?P<lead>(?:也|都|还|就|真的|实在)*)" + _DEGREE + _PREDICATE + _TAIL)
_GRADED_TEXT = re.compile(r"(?P<lead>[^不没无非别未很太]{1,8}?)" + _DEGREE + _PREDICATE + _TAIL)
_NEGATORS = "不没无非别未"
NEGATIVE, POSITIVE = CLASSES.index("negative"), CLASSES.index("positive")


@dataclass(frozen=True)
class Derived:
    """A derived target and its label."""

    target: Target
    label: int


def negated_degree(target: Target, label: int) -> list[Derived]:
    """The clause of `target` as it is and with its degree word negated (label reversed), if
    it has the form "<term> [也/都] <degree> <predicate>"; for a target without a term (a whole
    short review), "<words> <degree> <predicate>"."""
    if label not in (NEGATIVE, POSITIVE):
        return []
    if target.end <= target.start:
        text = target.text.strip()
        found = _GRADED_TEXT.fullmatch(text)
        if found is None or _starts_negated(found.group("predicate")):
            return []
        negated = found.group("lead") + "不" + found.group("predicate") + found.group("tail")
        reversed_label = _reversed(label)
        return [Derived(Target(text, 0, 0), label), Derived(Target(negated, 0, 0), reversed_label)]
    own = opinion_span(target)[1]
    found = _GRADED_AFTER.fullmatch(target.text, target.end, own.end)
    if found is None or _starts_negated(found.group("predicate")):
        return []
    head = target.text[own.start : target.end]
    start, end = target.start - own.start, target.end - own.start
    negated = head + found.group("lead") + "不" + found.group("predicate") + found.group("tail")
    more_is = target.more_is
    return [
        Derived(Target(target.text[own.start : own.end], start, end, more_is=more_is), label),
        Derived(Target(negated, start, end, more_is=more_is), _reversed(label)),
    ]


_QUANTITY_AFTER = re.compile(
    r"(?:也|都|还|就|真的|实在|确实|的确)*(?:" + _DEGREE + r"|不|不算|并不|不太|不是很)?"
    r"(?:高|低|多|少|大|小|长|短|贵|便宜)" + _TAIL
)
_FLIPPED = {"worse": "better", "better": "worse"}


def mirrored_quantity(target: Target, label: int) -> list[Derived]:
    """A pair that differs only in the term's direction: a labelled opinion about a term with a
    direction (`taxonomy.Aspect.direction`) whose words after the term are a quantity ("性价比很高"
    positive, "油耗偏高" negative) gives that opinion about an anonymous term of the same
    direction with its label, and about one of the other direction with the other label
    ("很高" is good news where more is better, bad news where more is worse)."""
    if label not in (NEGATIVE, POSITIVE) or not target.more_is or target.end <= target.start:
        return []
    own = opinion_span(target)[1]
    if _QUANTITY_AFTER.fullmatch(target.text, target.end, own.end) is None:
        return []
    text = PLACEHOLDER + target.text[target.end : own.end]
    return [
        Derived(Target(text, 0, 1, more_is=target.more_is), label),
        Derived(Target(text, 0, 1, more_is=_FLIPPED[target.more_is]), _reversed(label)),
    ]


def derivations(target: Target, label: int) -> list[Derived]:
    """Every example derived from one labelled target (see the module docstring)."""
    return negated_degree(target, label) + mirrored_quantity(target, label)


def _starts_negated(predicate: str) -> bool:
    return predicate[0] in _NEGATORS


def _reversed(label: int) -> int:
    return POSITIVE if label == NEGATIVE else NEGATIVE
