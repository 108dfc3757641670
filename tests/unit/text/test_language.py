"""detect_language: "zh", "en" or "other" from script statistics and English stop-words."""

import pytest

from tiyan.text.language import count_scripts, detect_language


@pytest.mark.parametrize(
    "text",
    [
        "服务顾问态度很好，保养做得很仔细",
        "房间干净",
        "价格太贵了！！！",
        "4S店的APP很难用，客服也不回复",
        "好",
    ],
)
def test_chinese_comments_are_zh(text: str) -> None:
    assert detect_language(text) == "zh"


@pytest.mark.parametrize(
    "text",
    [
        "The room was clean and the staff were friendly.",
        "great service",
        "Flight delayed again, thanks a lot",
        "OK",
        "@united my bag is lost #fail",
    ],
)
def test_english_comments_are_en(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀😀👍",
        "13812345678",
        "123 456",
        "!!!???",
        "ホテルの部屋はとてもきれいでした",
        "駅から近くて便利です",
        "직원이 친절했어요",
        "Отличный сервис",
        "Le service était très lent et le personnel pas aimable",
        "Der Service war sehr gut und das Zimmer sauber",
    ],
)
def test_emoji_digits_kana_hangul_and_other_languages_are_other(text: str) -> None:
    assert detect_language(text) == "other"


def test_mixed_script_goes_to_the_script_that_carries_the_content() -> None:
    assert detect_language("这家店的service真的很差，等了很久") == "zh"
    assert detect_language("The hotel near 西湖 was lovely and the staff were kind") == "en"


def test_a_stray_kana_in_chinese_text_does_not_make_it_japanese() -> None:
    assert detect_language("我の天，这个菜太好吃了，下次还来") == "zh"


def test_script_counts_ignore_digits_punctuation_and_emoji() -> None:
    counts = count_scripts("好吃123!😀abc")
    assert (counts.han, counts.latin, counts.kana, counts.hangul, counts.other_letters) == (
        2,
        3,
        0,
        0,
        0,
    )


def test_pii_placeholders_of_redacted_text_do_not_count_as_chinese() -> None:
    assert detect_language("please call me back at [手机号] or [邮箱]") == "en"
    assert detect_language("[手机号]") == "other"
