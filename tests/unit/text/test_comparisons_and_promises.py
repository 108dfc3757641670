"""The comparison and timing readings (`_negation`), broken promises (`_promise`) and services
nobody gave (`_unattended`)."""

from __future__ import annotations

import pytest

from tiyan.text._negation import quantity, timing
from tiyan.text._opinion import Target, decided_rows
from tiyan.text._promise import broken_promise
from tiyan.text._unattended import unattended
from tiyan.text.aspects import find_aspects
from tiyan.text.segment import split_clauses


def _after(text: str, term: str) -> tuple[str, int, int]:
    return text, text.index(term) + len(term), len(text)


@pytest.mark.parametrize(
    ("text", "term", "more"),
    [
        ("收费还比报价贵", "收费", 1),
        ("价格比别家便宜一点", "价格", -1),
        ("工时费比上次贵了200块", "工时费", 1),
        ("价格不比别家贵", "价格", -1),
        ("价格没有别家贵", "价格", -1),
        ("价格比较高", "价格", 1),  # 比较 is a degree word, not a comparison
        ("价格比上次好很多", "价格", 0),  # 好 is no quantity: "很多" is not read apart
        ("交车比约定的时间还早", "交车", 0),  # a time: see `timing`
    ],
)
def test_a_comparison_says_more_or_less(text: str, term: str, more: int) -> None:
    assert quantity(*_after(text, term)) == more


@pytest.mark.parametrize(
    ("text", "term", "good"),
    [
        ("交车比约定的时间还早", "交车", 1),
        ("装机比预约的时间晚了两天", "装机", -1),
        ("速度比以前快多了", "速度", 1),
        ("速度比以前慢", "速度", -1),
        ("价格比别家便宜", "价格", 0),
    ],
)
def test_a_time_compared_is_good_or_bad_news(text: str, term: str, good: int) -> None:
    assert timing(*_after(text, term)) == good


@pytest.mark.parametrize(
    ("text", "clause", "broken"),
    [
        ("说好下午四点交车，拖到了晚上七点", 0, True),
        ("说好下午四点，交车拖到了晚上七点", 1, True),
        ("约好的上门时间是周六，师傅迟迟没来", 0, True),
        ("说好的优惠都兑现了", 0, False),
        ("答应的赠品都送了，交车也很准时", 1, False),
        ("主人公信守承诺，有才华", 0, False),
        ("质量有保证，用到现在还没坏", 0, False),
        ("承诺的保修，至今没出过问题", 0, False),
        ("客服答应退款，到现在也没到账", 0, True),
        ("交车拖到了晚上七点", 0, False),  # a delay with no promise is read by the model
    ],
)
def test_a_promise_then_a_delay_is_broken(text: str, clause: int, broken: bool) -> None:
    assert broken_promise(split_clauses(text), clause) is broken


@pytest.mark.parametrize(
    ("text", "nobody"),
    [
        ("前台也没人理", True),
        ("打了三次电话都没有人接", True),
        ("报修后一直没人来", True),
        ("线上预约无人处理", True),
        ("晚上很安静，没人打扰", False),  # an absence that is good news
        ("没人推销，很自在", False),
        ("一进门就有人接待", False),
    ],
)
def test_nobody_attending_is_read_from_what_staff_are_there_to_do(text: str, nobody: bool) -> None:
    assert unattended(text) is nobody


@pytest.mark.parametrize(
    ("text", "term", "decided"),
    [
        ("前台根本没人理", "前台", -1),
        ("回访电话打了好几次都没人接", "回访", -1),
        ("空调坏了，报修后一直没人来修", "报修", -1),
        ("投诉后一直没有人跟进", "投诉", -1),
        ("叫了客房服务，一直没人来", "服务", -1),  # in the clause the span reaches into
        ("空调坏了，报修后一直没人来修", "空调", 0),  # not in the air conditioner's span
        ("晚上很安静，没人打扰", "安静", 0),
    ],
)
def test_a_service_nobody_gave_decides_the_terms_reading(
    text: str, term: str, decided: int
) -> None:
    start = text.index(term)
    assert decided_rows([Target(text, start, start + len(term))]).tolist() == [decided]


@pytest.mark.parametrize(
    ("text", "industry", "aspect"),
    [  # the models alone read these neutral (-0.09, -0.10, -0.37); the last two are demo phrases
        ("回访电话打了好几次都没人接", "car_aftersales", "follow_up"),
        ("叫了客房服务，一直没人来", "hotel", "service"),
        ("线上预约没人处理，到了店里也查不到", "car_aftersales", "follow_up"),
    ],
)
def test_a_service_nobody_gave_is_bad_news(text: str, industry: str, aspect: str) -> None:
    (found,) = find_aspects([text], ["zh"], industry)
    assert {a.aspect: a.label for a in found}[aspect] == "negative"
