"""Questions that only ask, for information or for a service, hold no opinion (`_questions`);
questions and demands that complain keep the models' reading. And how many kinds of a thing there
are (`_negation.variety`; its aspect readings and the defects' are in test_opinion.py)."""

from __future__ import annotations

import pytest

from tiyan.text._negation import variety
from tiyan.text._questions import asking_clauses, only_asks
from tiyan.text.aspects import find_aspects
from tiyan.text.pipeline import analyze
from tiyan.text.sentiment import predict_by_language

ASKING = [
    "请问酒店有停车场吗？",
    "你们店周末营业吗？",
    "早餐几点开始？",
    "保养周期是多久？",
    "网银转账限额是多少？",
    "请问可以开发票吗",
    "休息区有没有wifi？",
    "套餐资费怎么算的？",
    "你好，请问宽带怎么办理？谢谢",
    "请问什么时候可以提车？",
    "宽带安装一般要几天",
    "几点关门",
    "信用卡额度怎么提升？",
]
COMPLAINING = [
    "上菜怎么这么慢？",
    "为什么每次保养都要等这么久？",
    "怎么还没到？？",
    "不是说好送王老吉吗？",
    "这也能叫四星酒店？",
    "能不能快点",
    "上菜能不能快点？",
    "可以便宜一点吗",
    "我的粥呢？",
    "锅底怎么是13？",
    "这是新鲜的？",
    "没货吗？",
    "什么时候能修好？？？",
    "还能比这速度更慢吗？",
    "凭什么收我两次钱？",
    "难道就没人管吗？",
    "让老子怎么保修？",
    "可否包装好一些？",
]
STATEMENTS = [
    "试用几天再来评价",
    "吃好几次了挺好的",
    "什么都差",
    "再加点菜啥的就更好了",
    "开单时就告诉我大概多少钱",
    "修完还专门打电话问车况怎么样",
    "小赠品也送了好几个",
    "一直用这款洗发水回购了几次",
    "课件中能不能把动态的分割画面去掉啊",
    "Is there parking?",
]


REQUESTS = [
    "请帮我查一下话费",
    "帮我查一下这个月的流量",
    "我要办理停机",
    "我想改一下套餐",
    "麻烦帮我看一下",
    "我想取消这个业务",
    "你好，麻烦帮我转人工",
]
DEMANDS = [
    "我要投诉",
    "赶紧帮我处理一下",
    "帮我退款",
    "请尽快处理",
    "给我送错了",
    "麻烦下次多放点辣",
]


@pytest.mark.parametrize("text", ASKING + REQUESTS)
def test_a_question_for_information_or_a_request_for_a_service_only_asks(text: str) -> None:
    assert only_asks(text)


@pytest.mark.parametrize("text", DEMANDS)
def test_a_complaint_or_an_impatient_demand_does_not(text: str) -> None:
    assert not only_asks(text)


@pytest.mark.parametrize("text", COMPLAINING + STATEMENTS)
def test_a_complaint_put_as_a_question_or_a_statement_does_not(text: str) -> None:
    assert not only_asks(text)


def test_a_comment_that_praises_and_asks_asks_in_one_clause_only() -> None:
    text = "房间很干净，请问早餐几点开始？"
    assert asking_clauses(text) == [False, True]
    assert not only_asks(text)


def test_a_question_reads_neutral_where_the_model_read_a_complaint() -> None:
    [question, complaint] = predict_by_language(
        ["请问酒店有停车场吗？", "上菜怎么这么慢？"], ["zh", "zh"]
    )
    assert (question.label, question.score) == ("neutral", 0.0)
    assert complaint.label == "negative"


def test_an_aspect_asked_about_is_neutral_and_its_neighbour_keeps_its_opinion() -> None:
    [found] = find_aspects(["房间很干净，请问早餐几点开始？"], ["zh"], "hotel")
    by_code = {a.aspect: a for a in found}
    assert (by_code["dining"].label, by_code["dining"].score) == ("neutral", 0.0)
    assert by_code["room"].label == "positive"


def test_an_aspect_in_a_rhetorical_question_keeps_the_complaint() -> None:
    [found] = find_aspects(["上菜怎么这么慢？"], ["zh"], "restaurant")
    assert [a.label for a in found] == ["negative"]


def test_the_whole_analysis_of_a_question_is_neutral() -> None:
    result = analyze("休息区有没有wifi？", industry="car_aftersales").to_dict()
    assert result["sentiment"] == {"label": "neutral", "score": 0.0}
    assert [(a["aspect"], a["label"]) for a in result["aspects"]] == [("lounge", "neutral")]


@pytest.mark.parametrize(
    ("text", "term", "expected"),
    [
        ("早餐种类少", "早餐", -1),
        ("早餐的种类很丰富", "早餐", 1),
        ("品种太少了", "品种", -1),
        ("菜品的选择不多", "菜品", -1),
        ("款式不够多", "款式", -1),
        ("早餐品种不少", "早餐", 1),
        ("早餐种类比较单一", "早餐", -1),
        ("早餐少", "早餐", 0),  # no kind word: a quantity, which the aspect's direction reads
        ("价格很多", "价格", 0),
        ("早餐种类少，但是味道好", "早餐", 0),  # the words after it say more than that
    ],
)
def test_how_many_kinds_there_are(text: str, term: str, expected: int) -> None:
    assert variety(text, len(term), len(text)) == expected
