"""Held-out sentences for costs, comparisons and broken promises (issue 18).

Written before the comparison and broken-promise readings were built, and not looked at while
they were tuned (the sentences tuned on are in `test_opinion.py`): how many of these read right
is the check that the readings generalise. Each class has controls of the other direction.
"""

from __future__ import annotations

from tiyan.text.aspects import find_aspects

HELD_OUT = [
    # a high cost, in words the tuning list does not use
    ("维修费用很高", "car_aftersales", "price", "negative"),
    ("年费很高", "banking", "fees", "negative"),
    ("房价很高", "hotel", "price", "negative"),
    ("月租很高", "telecom", "fees", "negative"),
    ("价格很高", "restaurant", "price", "negative"),
    ("手续费不高", "banking", "fees", "positive"),
    ("资费很低", "telecom", "fees", "positive"),
    # comparisons
    ("工时费比别的店贵了不少", "car_aftersales", "price", "negative"),
    ("房价比去年贵多了", "hotel", "price", "negative"),
    ("价格比别家便宜", "restaurant", "price", "positive"),
    ("手续费比其他银行低", "banking", "fees", "positive"),
    ("话费比以前多了一倍", "telecom", "fees", "negative"),
    ("等待时间比上次长了很多", "car_aftersales", "waiting", "negative"),
    ("办理效率比以前高多了", "banking", "queue_wait", "positive"),
    ("性价比比别的酒店高", "hotel", "price", "positive"),
    ("交车比约定的时间还早", "car_aftersales", "timeliness", "positive"),
    ("装机比预约的时间晚了两天", "telecom", "queue_wait", "negative"),
    # broken promises, and promises kept
    ("承诺当天取车，结果推迟了两天", "car_aftersales", "timeliness", "negative"),
    ("说好的免费升级房间，到了却没有", "hotel", "room", "negative"),
    ("约好的上门时间是周六，师傅迟迟没来", "telecom", "queue_wait", "negative"),
    ("客服答应三天内退款，到现在还没到账", "restaurant", "service", "negative"),
    ("保证下午交车，一直拖到第二天", "car_aftersales", "timeliness", "negative"),
    ("答应的赠品都送了，交车也很准时", "car_aftersales", "timeliness", "positive"),
    ("承诺的折扣都给了", "hotel", "price", "positive"),
    ("约好十点取车，九点半就弄好了", "car_aftersales", "timeliness", "positive"),
]
# how many of HELD_OUT read right with the shipped models: 12 before the comparison, timing and
# broken-promise readings, 25 after, 24 with the class-balanced opinion model chosen by
# leave-one-domain-out ("承诺的折扣都给了" reads neutral, +0.11; docs/models/text.md, section 3)
READ_RIGHT = 24


def read_right() -> list[tuple[str, str, str, str]]:
    """The held-out sentences whose aspect gets the expected label."""
    right = []
    for text, industry, aspect, label in HELD_OUT:
        (found,) = find_aspects([text], ["zh"], industry)
        by_code = {a.aspect: a.label for a in found}
        if by_code.get(aspect) == label:
            right.append((text, industry, aspect, label))
    return right


def test_every_held_out_sentence_names_its_aspect() -> None:
    for text, industry, aspect, _ in HELD_OUT:
        (found,) = find_aspects([text], ["zh"], industry)
        assert aspect in {a.aspect for a in found}, text


def test_the_held_out_sentences_read_right() -> None:
    assert len(read_right()) >= READ_RIGHT
