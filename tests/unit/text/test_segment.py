"""segment(): jieba with an industry dictionary; split_clauses(): clauses with offsets."""

import pytest

from tiyan.text import segment as segment_module
from tiyan.text.segment import (
    UnknownIndustryDictionary,
    available_industries,
    segment,
    split_clauses,
    tokenizer_for,
)
from tiyan.text.taxonomy import INDUSTRIES


def test_car_aftersales_dictionary_keeps_domain_terms_whole() -> None:
    words = segment("服务顾问很专业，4S店的工时费太贵，钣金喷漆做得不错", "car_aftersales")
    for term in ("服务顾问", "4S店", "工时费", "钣金", "喷漆"):
        assert term in words


def test_without_industry_jieba_alone_splits_domain_terms() -> None:
    assert "钣金" not in segment("钣金喷漆做得不错")


def test_whitespace_is_dropped_and_punctuation_kept() -> None:
    assert segment("The room was dirty, but OK") == [
        "The",
        "room",
        "was",
        "dirty",
        ",",
        "but",
        "OK",
    ]


def test_every_industry_ships_a_dictionary() -> None:
    assert available_industries() == INDUSTRIES


def test_tokenizers_are_built_once_per_industry_and_timed() -> None:
    first = tokenizer_for("hotel")
    assert tokenizer_for("hotel") is first
    assert "hotel" in segment_module.init_seconds
    assert tokenizer_for(None) is tokenizer_for(None)


def test_industry_tokenizers_do_not_leak_terms_into_each_other() -> None:
    tokenizer_for("car_aftersales")
    assert "钣金" not in segment("钣金喷漆做得不错", "hotel")


def test_unknown_industry_names_the_expected_file() -> None:
    with pytest.raises(UnknownIndustryDictionary, match="aviation.txt"):
        segment("你好", "aviation")


def test_clauses_split_on_punctuation_and_contrast_markers_with_offsets() -> None:
    text = "房间很干净，但是隔音不好。早餐一般!The staff was nice but slow."
    clauses = split_clauses(text)
    assert [c.text for c in clauses] == [
        "房间很干净",
        "但是隔音不好",
        "早餐一般",
        "The staff was nice",
        "but slow",
    ]
    for clause in clauses:
        assert text[clause.start : clause.end] == clause.text


def test_contrast_split_keeps_budan_and_decimal_numbers_together() -> None:
    assert [c.text for c in split_clauses("不但便宜而且好吃")] == ["不但便宜而且好吃"]
    assert [c.text for c in split_clauses("评分3.5分，价格1,000元")] == ["评分3.5分", "价格1,000元"]


def test_contrast_marker_inside_a_clause_splits_it() -> None:
    assert [c.text for c in split_clauses("味道不错不过分量太少")] == ["味道不错", "不过分量太少"]
    assert [c.text for c in split_clauses("价格不过如此")] == ["价格不过如此"]


def test_empty_and_punctuation_only_text_has_no_clauses() -> None:
    assert split_clauses("") == []
    assert split_clauses("。。！！  ") == []


def test_spaces_between_chinese_words_separate_clauses_but_enumeration_commas_do_not() -> None:
    assert [c.text for c in split_clauses("很快 好吃 味道足")] == ["很快", "好吃", "味道足"]
    assert [c.text for c in split_clauses("服务、环境都很好")] == ["服务、环境都很好"]


def test_runs_of_dots_and_commas_split_except_between_digits() -> None:
    assert [c.text for c in split_clauses("好吃..下次再来,,3..5 分")] == [
        "好吃",
        "下次再来",
        "3",
        "5 分",
    ]
    assert [c.text for c in split_clauses("a.b 1,000. 好 　 吃")] == ["a", "b 1,000", "好", "吃"]


def test_english_contrast_markers_are_found_in_any_case() -> None:
    assert [c.text for c in split_clauses("Great food BUT slow")] == ["Great food", "BUT slow"]
    assert [c.text for c in split_clauses("butter is great")] == ["butter is great"]
