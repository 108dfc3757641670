"""The analysis of one comment as the product stores it."""

from __future__ import annotations

import pytest

from tiyan.text.pipeline import TextAnalysis, UnknownIndustry, analyze, analyze_many


def test_a_chinese_hotel_comment_gets_every_part_of_the_analysis() -> None:
    result = analyze("房间很干净，但是前台服务态度很差，隔音也不好", "hotel")
    assert isinstance(result, TextAnalysis)
    assert result.language == "zh"
    assert result.sentiment.label == "negative"
    assert -1.0 <= result.sentiment.score <= 1.0
    assert result.aspects
    assert 0 < len(result.keywords) <= 5
    assert result.redacted == "房间很干净，但是前台服务态度很差，隔音也不好"


def test_english_comments_are_read_by_the_english_model() -> None:
    result = analyze("Thank you, the crew was wonderful and the flight was on time!", "retail")
    assert result.language == "en"
    assert result.sentiment.label == "positive"


def test_personal_data_is_masked_before_anything_else_reads_the_text() -> None:
    result = analyze("服务顾问态度很差，我的电话13812345678一直没人回", "car_aftersales")
    assert "13812345678" not in result.redacted
    assert "[手机号]" in result.redacted
    assert "mobile" in result.pii_kinds
    for aspect in result.aspects:
        assert "13812345678" not in aspect.evidence
        assert aspect.evidence in result.redacted
    assert not any("1381234" in keyword for keyword in result.keywords)


def test_to_dict_has_the_cli_shape() -> None:
    record = analyze("菜很好吃，送餐很快", "restaurant").to_dict()
    assert set(record) == {"language", "sentiment", "aspects", "keywords", "redacted"}
    assert set(record["sentiment"]) == {"label", "score"}
    for aspect in record["aspects"]:
        assert set(aspect) == {"aspect", "name", "label", "score", "evidence"}
        assert aspect["label"] in {"positive", "neutral", "negative"}


def test_a_batch_gives_the_same_results_as_one_by_one() -> None:
    texts = ["菜很好吃", "Terrible service.", "油耗太高", "😀😀"]
    assert analyze_many(texts, "car_product") == [analyze(text, "car_product") for text in texts]


def test_text_in_no_known_language_is_other_and_still_analysed() -> None:
    result = analyze("😀😀😀 123", "retail")
    assert result.language == "other"
    assert result.sentiment.label in {"positive", "neutral", "negative"}


def test_unknown_industry_is_refused_with_the_known_ones_named() -> None:
    with pytest.raises(UnknownIndustry, match="car_aftersales"):
        analyze("很好", "airline")


def test_without_an_industry_there_are_no_aspects() -> None:
    assert analyze("房间很干净").aspects == ()
