"""Conditions on table `response` that only its answers, its comments' analysis or its customer
can answer: the slices shared by the dashboards (analytics/cube) and the responses list and its
exports (store/responses).

Each is an IN on the matching rows' responses, not a correlated EXISTS: the database reads the
matches once and then the responses they name (at 1 M responses, a year sliced by one NPS
answer: 1.2 s against 4.7 s probing each response of the range on SQLite).
"""

from __future__ import annotations

import math

import sqlalchemy as sa

from tiyan.store import tables as t

R = t.response
# the score groups of the responses list: (item code, lowest, highest score)
SCORE_GROUPS: dict[str, tuple[str, float, float]] = {
    "promoter": ("nps", 9, 10), "passive": ("nps", 7, 8), "detractor": ("nps", 0, 6),
    "satisfied": ("csat", 4, 5), "neutral": ("csat", 3, 3), "dissatisfied": ("csat", 1, 2),
}
SENTIMENTS = ("negative", "neutral", "positive")


def answered(key: str, value: str) -> sa.ColumnElement[bool]:
    """A response's answer to question `key` equals `value`: the number for a numeric answer
    (a score, a yes/no as 1/0), the text for a text or choice answer."""
    a = t.answer.alias("answer_slice")  # the outer query may read answer too
    match: sa.ColumnElement[bool] = a.c.value_text == value
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None and math.isfinite(number):
        match = sa.or_(a.c.value_num == number, match)
    return R.c.id.in_(sa.select(a.c.response_id).where(a.c.question_key == key, match))


def mentions_aspect(aspect: str, label: str | None = None) -> sa.ColumnElement[bool]:
    """A comment of the response talks about `aspect` (with this sentiment `label`, if given)."""
    x = t.text_aspect.alias("aspect_slice")  # the outer query may read text_aspect too
    mention = [x.c.aspect_code == aspect]
    if label is not None:
        mention.append(x.c.label == label)
    return R.c.id.in_(sa.select(x.c.response_id).where(*mention))


def customer_attribute(key: str, value: str) -> sa.ColumnElement[bool]:
    """The response's customer has attribute `key` equal to `value`."""
    c = t.customer.alias("attr_slice")
    return R.c.customer_id.in_(sa.select(c.c.id).where(
        sa.cast(c.c.attributes[key].as_string(), sa.Text) == value))


def in_score_group(group: str) -> sa.ColumnElement[bool]:
    """The response's NPS or CSAT score is in `group` (of SCORE_GROUPS)."""
    item, low, high = SCORE_GROUPS[group]
    a = t.answer.alias("score_slice")
    return R.c.id.in_(sa.select(a.c.response_id).where(
        a.c.item_code == item, a.c.value_num >= low, a.c.value_num <= high))


def comment_sentiment(label: str) -> sa.ColumnElement[bool]:
    """A comment of the response reads `label` (negative, neutral, positive) as a whole."""
    x = t.text_analysis.alias("sentiment_slice")
    return R.c.id.in_(sa.select(x.c.response_id).where(x.c.sentiment_label == label))


def has_comment(yes: bool) -> sa.ColumnElement[bool]:
    """The response holds a comment (every comment is analysed as it arrives; a text answer,
    not a choice's code or a number)."""
    with_text = R.c.id.in_(sa.select(t.text_analysis.c.response_id))
    return with_text if yes else sa.not_(with_text)


def comment_contains(words: str, *, masked: bool) -> sa.ColumnElement[bool]:
    """A comment of the response contains `words` (any case). Where the reader may not see
    personal data (`masked`), only the masked copy of the comment is searched, so a phone
    number or name that the page would hide cannot be found by guessing it."""
    needle = words.lower()
    if masked:
        x = t.text_analysis.alias("words_slice")
        return R.c.id.in_(sa.select(x.c.response_id).where(
            sa.func.lower(x.c.redacted_text).contains(needle, autoescape=True)))
    a = t.answer.alias("words_slice")
    return R.c.id.in_(sa.select(a.c.response_id).where(
        a.c.value_text.is_not(None),
        sa.func.lower(a.c.value_text).contains(needle, autoescape=True)))
