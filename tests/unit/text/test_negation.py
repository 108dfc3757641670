"""Negation around a target term (`_negation`) and the examples derived from it."""

from __future__ import annotations

import numpy as np
import pytest

from tiyan.text._derived_examples import mirrored_quantity, negated_degree
from tiyan.text._negation import absent, negated_predicate, quantity
from tiyan.text._opinion import CLASSES, Target, negation_read, quantity_read, reversing

NEGATIVE, POSITIVE = CLASSES.index("negative"), CLASSES.index("positive")


def _target(text: str, term: str) -> Target:
    start = text.index(term)
    return Target(text, start, start + len(term))


@pytest.mark.parametrize(
    ("text", "term", "predicate"),
    [
        ("价格不贵", "价格", "贵"),
        ("收费一点也不贵", "收费", "贵"),
        ("费用不算高啊", "费用", "高"),
        ("服务态度并不差", "服务态度", "差"),
        ("客服不满意", "客服", "满意"),
        ("价格很贵", "价格", ""),
        ("异响没有了", "异响", ""),
        ("不贵的价格", "价格", ""),
    ],
)
def test_the_predicate_negated_right_after_the_term(text: str, term: str, predicate: str) -> None:
    target = _target(text, term)
    assert negated_predicate(text, target.end, len(text)) == predicate


@pytest.mark.parametrize(
    ("text", "term", "expected"),
    [
        ("没有异响了", "异响", True),
        ("无任何异味", "异味", True),
        ("异响没有了", "异响", True),
        ("抖动已经消失了", "抖动", True),
        ("有异响", "异响", False),
        ("没有异响，但是漏油", "异响", True),
        ("没有异响的原因找到了", "异响", False),
        ("异响没有解决", "异响", False),
    ],
)
def test_a_term_said_to_be_absent(text: str, term: str, expected: bool) -> None:
    target = _target(text, term)
    clause_end = text.find("，") if "，" in text else len(text)
    assert absent(text, 0, clause_end, target.start, target.end) is expected


def test_negation_read_marks_the_rows_the_document_model_cannot_read() -> None:
    assert negation_read(_target("价格不贵", "价格"))
    assert negation_read(_target("费用一点也不高", "费用"))
    assert not negation_read(_target("价格太贵了", "价格"))
    assert not negation_read(_target("没有异响了", "异响"))  # absence: see `reversing`
    assert not negation_read(Target("价格不贵", 0, 0))


def test_an_absent_complaint_is_reversed_and_an_absent_feature_is_not() -> None:
    texts = (("没有异响了", "异响"), ("异响没有了", "异响"), ("没有宽带", "宽带"))
    targets = [_target(text, term) for text, term in texts]
    readings = {"异响": 0.9, "宽带": 0.2}
    reversed_rows = reversing(targets, lambda terms: np.array([readings[t] for t in terms]))
    assert reversed_rows.tolist() == [True, True, False]


def test_a_graded_opinion_gives_itself_and_its_negation_with_the_opposite_label() -> None:
    text = "外观漂亮，价格太贵了"
    derived = negated_degree(_target(text, "价格"), NEGATIVE)
    assert [(d.target.text, d.label) for d in derived] == [
        ("价格太贵了", NEGATIVE),
        ("价格不贵了", POSITIVE),
    ]
    assert all(d.target.text[d.target.start : d.target.end] == "价格" for d in derived)


def test_a_short_review_is_negated_at_its_degree_word() -> None:
    derived = negated_degree(Target("送餐非常快", 0, 0), POSITIVE)
    assert [(d.target.text, d.label) for d in derived] == [
        ("送餐非常快", POSITIVE),
        ("送餐不快", NEGATIVE),
    ]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("价格太贵了", CLASSES.index("neutral")),  # a neutral mention negates to nothing
        ("价格很不错", POSITIVE),  # already negated
        ("价格贵", NEGATIVE),  # no degree word to negate
    ],
)
def test_what_derives_no_negation(text: str, label: int) -> None:
    assert negated_degree(_target(text, "价格"), label) == []


@pytest.mark.parametrize(
    ("text", "term", "expected"),
    [
        ("价格偏高", "价格", 1),
        ("房费也太贵了", "房费", 1),
        # a limit: the negations read are 不 / 不算 / 并不 / 不太 / 不是很 / 没那么, so not 一点也不
        ("噪音一点也不小", "噪音", 0),
        ("噪音也不小", "噪音", 1),
        ("油耗不高", "油耗", -1),
        ("等的时间太长了", "等", 1),
        ("排队的人不多", "排队", -1),
        ("价格便宜", "价格", -1),
        ("价格很合理", "价格", 0),
        ("空间很大，但是后备箱小", "空间", 0),  # the words after the term say more than a quantity
        # a complement that says only how far it goes
        ("工时费贵得离谱", "工时费", 1),
        ("房价高得吓人", "房价", 1),
        ("早餐品种少得可怜", "品种", -1),
        ("房价贵死了", "房价", 1),
        ("价格便宜得很", "价格", -1),
        ("价格贵得有道理", "价格", 0),  # a complement that says more than how far
    ],
)
def test_the_quantity_said_right_after_the_term(text: str, term: str, expected: int) -> None:
    target = _target(text, term)
    assert quantity(text, target.end, len(text)) == expected


def test_the_direction_of_the_term_decides_whether_a_quantity_is_good_news() -> None:
    worse = Target("工时费偏高", 0, 3, more_is="worse")
    better = Target("效率偏高", 0, 2, more_is="better")
    assert quantity_read(worse) and quantity_read(better)
    assert not quantity_read(Target("工时费偏高", 0, 3))  # no direction: the n-grams decide
    assert not quantity_read(Target("工时费很合理", 0, 3, more_is="worse"))


def test_a_quantity_about_a_term_with_a_direction_gives_a_mirrored_pair() -> None:
    target = Target("油耗有点高，不过能接受", 0, 2, more_is="worse")
    same, mirrored = mirrored_quantity(target, NEGATIVE)
    assert same.target.text == mirrored.target.text == "\ue000有点高"
    assert (same.target.more_is, same.label) == ("worse", NEGATIVE)
    assert (mirrored.target.more_is, mirrored.label) == ("better", POSITIVE)
    assert mirrored_quantity(Target("油耗有点高", 0, 2), NEGATIVE) == []  # no direction
    assert mirrored_quantity(Target("油耗很合理", 0, 2, more_is="worse"), POSITIVE) == []
    neutral = CLASSES.index("neutral")
    assert mirrored_quantity(target, neutral) == []
