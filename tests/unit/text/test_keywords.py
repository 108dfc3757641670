"""extract_keywords: TF-IDF against the shipped background IDF, Chinese and English."""

from pathlib import Path

import pytest

from tiyan.text._lexicon import cached_table
from tiyan.text.keywords import (
    IdfTableError,
    content_words,
    document_frequencies,
    extract_keywords,
    idf_lines,
    load_idf,
    parse_idf,
)


def test_domain_terms_outrank_common_words() -> None:
    text = "服务顾问态度很差，保养等了三个小时，工时费还特别贵"
    keywords = extract_keywords(text, "car_aftersales", k=3)
    assert "服务顾问" in keywords and "工时费" in keywords
    assert len(keywords) == 3


def test_stop_words_punctuation_and_numbers_are_never_keywords() -> None:
    keywords = extract_keywords("我们的的了，，，123 这个 那个 非常 好的", k=10)
    assert not set(keywords) & {"我们", "的", "了", "，", "123", "这个", "那个", "非常"}


def test_english_keywords_skip_stop_words_handles_and_links() -> None:
    keywords = extract_keywords(
        "@united The flight was delayed and they lost my luggage http://t.co/x", k=5
    )
    assert set(keywords) == {"flight", "delayed", "lost", "luggage"}


def test_k_limits_and_empty_text_gives_nothing() -> None:
    assert (
        extract_keywords("房间隔音太差，晚上很吵，早餐品种少", "hotel", k=1) == ["隔音"]
        or len(extract_keywords("房间隔音太差，晚上很吵，早餐品种少", "hotel", k=1)) == 1
    )
    assert extract_keywords("", k=5) == []
    assert extract_keywords("房间很好", k=0) == []


def test_repeated_words_score_higher() -> None:
    assert extract_keywords("空调坏了，空调不制冷，空调还漏水，前台不管", "hotel", k=1) == ["空调"]


def test_shipped_idf_gives_rare_words_more_weight_than_common_ones() -> None:
    idf = load_idf("zh")
    assert idf["钣金"] > idf["房间"] > 0
    assert idf["一个从没见过的词"] == idf.default


def test_idf_lines_are_smoothed_and_drop_rare_words() -> None:
    frequencies, total = document_frequencies([["a", "b"], ["a"], ["a", "c"]])
    lines = idf_lines(frequencies, total, min_df=2)
    assert lines == ["a 1.0000"]


def test_content_words_lower_case_english_inside_chinese_text() -> None:
    assert "app" in content_words("这个APP太难用了")


def test_pii_placeholders_are_not_keywords() -> None:
    keywords = extract_keywords("客服不回电话，打[手机号]，发到[邮箱]，寄到[地址]", k=10)
    assert not set(keywords) & {"手机号", "邮箱", "地址"}


def test_a_bad_idf_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "idf.txt"
    path.write_text("# header\n好 1.5\n坏 not-a-number\n", encoding="utf-8")
    with pytest.raises(IdfTableError, match=r"line 3: 'not-a-number'"):
        parse_idf(path)
    path.write_text("# only a header\n", encoding="utf-8")
    with pytest.raises(IdfTableError, match="no entries"):
        parse_idf(path)


def test_parsed_tables_are_cached_until_the_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIYAN_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "idf.txt"
    source.write_text("好 1.5\n", encoding="utf-8")
    calls: list[int] = []

    def build() -> dict[str, float]:
        calls.append(1)
        return parse_idf(source)

    assert cached_table("idf-test", source, build) == {"好": 1.5}
    assert cached_table("idf-test", source, build) == {"好": 1.5}
    source.write_text("好 2.5\n", encoding="utf-8")
    assert cached_table("idf-test", source, build) == {"好": 2.5}
    assert len(calls) == 2
    assert len(list((tmp_path / "cache").glob("idf-test-*.marshal"))) == 1
