"""Aspect-level sentiment: the trained car_product model and seed terms for the other industries."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tiyan.text._aspect_model import load_aspect_model
from tiyan.text._aspect_training import evaluate
from tiyan.text.aspects import AspectSentiment, clause_at, find_aspects, heads_only, mentions_in
from tiyan.text.segment import split_clauses
from tiyan.text.sentiment import MODELS
from tiyan.text.taxonomy import load_taxonomy

DATA = Path(__file__).parents[3].parent / "shared" / "data"
REPORT = MODELS / "training_report.json"


def _by_name(found: list[AspectSentiment]) -> dict[str, AspectSentiment]:
    return {aspect.name: aspect for aspect in found}


def test_each_hotel_aspect_gets_the_sentiment_of_its_own_clause() -> None:
    text = "房间很干净，床也舒服，但是前台服务态度太差了"
    (found,) = find_aspects([text], ["zh"], "hotel")
    labels = {a.aspect: a.label for a in found}
    room = next(a for a in found if "房间" in a.evidence)
    service = next(a for a in found if "服务" in a.evidence)
    assert room.label == "positive"
    assert service.label == "negative"
    assert len(labels) >= 2


def test_evidence_is_a_substring_of_the_text() -> None:
    texts = ["送餐太慢了，不过味道很好，包装也很严实", "油耗有点高，动力倒是很足"]
    for industry, text in zip(["restaurant", "car_product"], texts, strict=True):
        (found,) = find_aspects([text], ["zh"], industry)
        assert found
        for aspect in found:
            assert aspect.evidence and aspect.evidence in text


def test_car_product_model_detects_and_judges_each_aspect() -> None:
    (found,) = find_aspects(
        ["油耗太高了，一箱油跑不了多远，不过动力很强，加速很快"], ["zh"], "car_product"
    )
    named = _by_name(found)
    assert "油耗" in named
    assert "动力" in named
    assert named["动力"].label == "positive"


def test_car_product_always_names_at_least_one_aspect() -> None:
    (found,) = find_aspects(["这车怎么样啊大家说说"], ["zh"], "car_product")
    assert len(found) >= 1
    assert found[0].name in {
        "动力",
        "价格",
        "内饰",
        "配置",
        "安全性",
        "外观",
        "操控",
        "油耗",
        "空间",
        "舒适性",
    }


def test_english_comments_use_the_seed_terms_and_the_english_model() -> None:
    (found,) = find_aspects(["The room was spotless. The breakfast was awful."], ["en"], "hotel")
    assert found
    assert all(a.evidence in "The room was spotless. The breakfast was awful." for a in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The room was clean and quiet. The breakfast was awful.",
            {"room": "positive", "dining": "negative"},
        ),
        (
            "The staff were rude and unhelpful, but the location is great.",
            {"service": "negative", "location": "positive"},
        ),
    ],
)
def test_english_hotel_aspects_are_read_by_the_english_model_over_their_own_span(
    text: str, expected: dict[str, str]
) -> None:
    (found,) = find_aspects([text], ["en"], "hotel")
    labels = {a.aspect: a.label for a in found}
    assert {aspect: labels.get(aspect) for aspect in expected} == expected


def test_without_an_industry_there_are_no_aspects() -> None:
    assert find_aspects(["房间很干净"], ["zh"], None) == [[]]


def test_a_text_without_any_seed_term_has_no_aspects() -> None:
    assert find_aspects(["嗯嗯"], ["zh"], "banking") == [[]]


def test_clause_at_finds_the_clause_holding_a_position() -> None:
    text = "房间很好，服务很差"
    clauses = split_clauses(text)
    assert clause_at(clauses, text.index("服务")).text == "服务很差"


def test_industries_without_a_trained_model_have_none() -> None:
    assert load_aspect_model("hotel") is None
    assert load_aspect_model("car_product") is not None


def test_shipped_car_model_reproduces_its_reported_test_figures() -> None:
    path = DATA / "car_aspects_ccf2018" / "car_aspects_ccf2018.csv"
    if not path.is_file():
        pytest.skip(f"labelled corpus not found at {path} (needs the shared data folder)")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["split"] == "test"]
    reported = json.loads(REPORT.read_text(encoding="utf-8"))["aspects_car_product"]["test"]
    model = load_aspect_model("car_product")
    assert model is not None
    measured = evaluate(model, rows)
    assert measured["pair_f1"] == pytest.approx(reported["pair_f1"], abs=0.005)
    assert measured["aspect_f1"] == pytest.approx(reported["aspect_f1"], abs=0.005)


def test_each_term_is_read_in_the_language_of_its_clause() -> None:
    # a Latin-letter term in a Chinese clause: the Chinese models read the clause
    (wifi_in_chinese,) = find_aspects(["wifi信号很差，房间很干净"], ["zh"], "hotel")
    found = {a.evidence: a for a in wifi_in_chinese}
    assert found["wifi信号很差"].label == "negative"
    # an English clause of a Chinese comment: the English model reads it (wifi is the room's
    # aspect, so the other clause is about another one: of two readings of one aspect in a
    # comment, the surer one is kept)
    (mixed,) = find_aspects(["The wifi was terrible, 但是早餐很好吃"], ["zh"], "hotel")
    found = {a.evidence: a for a in mixed}
    assert found["The wifi was terrible"].label == "negative"
    assert found["但是早餐很好吃"].label == "positive"


@pytest.mark.parametrize(
    ("text", "industry", "expected"),
    [
        # a noun compound is about its last noun: the parts' price, the rooms' service
        ("机油价格贵得吓人", "car_aftersales", {"price": "negative"}),
        ("保养费用贵得离谱", "car_aftersales", {"price": "negative"}),
        ("客房服务一直没人接", "hotel", {"service": "negative"}),
        ("早餐价格偏高", "hotel", {"price": "negative"}),
        # an adjective after a noun is its opinion, not a compound: both aspects stay
        ("房间很干净", "hotel", {"room": "positive", "cleanliness": "positive"}),
    ],
)
def test_a_compound_is_read_as_its_last_noun(
    text: str, industry: str, expected: dict[str, str]
) -> None:
    (found,) = find_aspects([text], ["zh"], industry)
    assert {a.aspect: a.label for a in found} == expected


def test_heads_only_needs_two_tagged_terms_side_by_side() -> None:
    taxonomy = load_taxonomy("hotel")
    tags = {"客房": "n", "服务": "vn", "房间": "n", "干净": "a"}
    compound = mentions_in("客房服务", taxonomy)
    assert [m.term for m in heads_only(compound, tags)] == ["服务"]
    assert [m.term for m in heads_only(compound, {})] == ["客房", "服务"]
    apart = mentions_in("客房，服务", taxonomy)
    assert [m.term for m in heads_only(apart, tags)] == ["客房", "服务"]
    adjective = mentions_in("房间干净", taxonomy)
    assert len(heads_only(adjective, tags)) == 2
