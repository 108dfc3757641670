"""PII redaction: what is masked, what is left alone, and the generated benchmark corpus."""

import pytest

from tiyan.text.pii_corpus import generate_pii_corpus, luhn_check_digit
from tiyan.text.redact import (
    KINDS,
    PLACEHOLDERS,
    classify_number,
    find_pii,
    id_card_check_char,
    is_id_card,
    luhn_valid,
    redact,
    strip_placeholders,
)


def kinds_of(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find_pii(text)]


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 13812345678",
        "１３８１２３４５６７８",
        "138  1234  5678",
        "１３８－１２３４－５６７８",
    ],
)
def test_mobile_numbers_in_every_usual_spelling_are_masked(phone: str) -> None:
    result = redact(f"有事打我电话{phone}，谢谢")
    assert result.text == "有事打我电话[手机号]，谢谢"
    assert [f.kind for f in result.findings] == ["mobile"]


@pytest.mark.parametrize(
    "phone",
    [
        "010-62345678",
        "(021)61234567",
        "（０７５５）２３４５６７８９",
        "0571 8765 4321",
        "02087654321",
    ],
)
def test_landlines_with_area_code_are_masked(phone: str) -> None:
    assert redact(f"座机{phone}。").text == "座机[电话]。"


def test_a_local_number_is_a_phone_only_after_a_phone_word() -> None:
    assert kinds_of("店里电话是2961120") == [("landline", "2961120")]
    assert kinds_of("一共跑了2961120米") == []


def test_north_american_numbers_are_phones_but_toll_free_lines_are_not() -> None:
    assert kinds_of("please call me at 310-795-2210.") == [("landline", "310-795-2210")]
    assert kinds_of("call 1-800-433-7300 and wait") == []
    assert kinds_of("客服热线400-820-8820") == []


@pytest.mark.parametrize(
    "text",
    [
        "订单号13812345678",
        "快递单号 2023111512345678901",
        "order #13812345678",
        "会员号202563404316",
        "条码20231115123456789012",
        "138****5678",
        "花了13800元",
    ],
)
def test_order_numbers_long_digit_strings_and_masked_numbers_are_not_phones(text: str) -> None:
    assert find_pii(text) == ()


def test_two_phones_separated_by_a_space_are_two_findings() -> None:
    assert kinds_of("13812345678 13987654321") == [
        ("mobile", "13812345678"),
        ("mobile", "13987654321"),
    ]


def test_id_cards_need_a_valid_date_and_check_character() -> None:
    first17 = "11010519491231002"
    valid = first17 + id_card_check_char(first17)
    assert valid == "11010519491231002X"
    assert is_id_card(valid) and is_id_card(valid.lower())
    assert not is_id_card(first17 + "1")
    assert not is_id_card("110105194913310021")  # month 13
    assert redact(f"身份证{valid.lower()}。").text == "身份证[身份证]。"
    assert kinds_of("身份证 110105 19491231 002X") == [("id_card", "110105 19491231 002X")]


def test_bank_cards_need_the_luhn_check() -> None:
    partial = "622202123456789012"
    card = partial + luhn_check_digit(partial)
    assert luhn_valid(card)
    assert redact(f"卡号{card}").text == "卡号[银行卡]"
    grouped = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert kinds_of(f"退款打到{grouped}") == [("bank_card", grouped)]
    wrong = partial + str((int(luhn_check_digit(partial)) + 1) % 10)
    assert find_pii(wrong) == ()


def test_emails_including_full_width_ones_are_masked() -> None:
    assert redact("邮箱zhang.san@qq.com，谢谢").text == "邮箱[邮箱]，谢谢"
    assert kinds_of("回复．ＣＨＵＮ２１９＠ＳＯＨＵ．ＣＯＭ") == [
        ("email", "ＣＨＵＮ２１９＠ＳＯＨＵ．ＣＯＭ")
    ]
    assert find_pii("微博@官方客服") == ()


@pytest.mark.parametrize(
    "plate", ["粤A12345", "京B·8K2J9", "沪A D12345", "粤BD12345", "川A12345F", "琼A-45153"]
)
def test_licence_plates_including_new_energy_ones_are_masked(plate: str) -> None:
    assert redact(f"车牌{plate}，保养").text == "车牌[车牌]，保养"


@pytest.mark.parametrize(
    "text", ["京东自营", "沪深300", "粤A牌照很难拿", "型号KFR-35GW", "粤A1234"]
)
def test_plate_look_alikes_are_left_alone(text: str) -> None:
    assert find_pii(text) == ()


def test_addresses_with_a_house_number_are_masked_without_the_words_before_them() -> None:
    assert redact("我住在北京市朝阳区建国路88号2栋301室，谢谢").text == "我住在[地址]，谢谢"
    assert redact("寄到深圳市南山区科技园路1001号").text == "寄到[地址]"
    assert redact("家在金色家园21栋164室！").text == "家在[地址]！"


@pytest.mark.parametrize(
    "text", ["在中山路附近吃饭", "坐3号线地铁", "客人说里2号线太远", "中山路那家店"]
)
def test_street_names_without_a_house_number_are_not_addresses(text: str) -> None:
    assert find_pii(text) == ()


def test_text_without_digits_or_at_sign_is_returned_unchanged_and_fast_path() -> None:
    result = redact("服务很好，下次还来")
    assert result.text == "服务很好，下次还来" and result.findings == ()


def test_every_kind_has_a_readable_placeholder() -> None:
    assert set(PLACEHOLDERS) == set(KINDS)
    assert PLACEHOLDERS["mobile"] == "[手机号]" and PLACEHOLDERS["id_card"] == "[身份证]"


def test_classify_number_uses_the_words_before_it() -> None:
    assert classify_number("13812345678") == "mobile"
    assert classify_number("13812345678", context="订单号") is None


def test_generated_corpus_is_deterministic_and_its_gold_spans_are_found() -> None:
    corpus = generate_pii_corpus(300, seed=3)
    assert corpus == generate_pii_corpus(300, seed=3)
    assert {span.kind for item in corpus for span in item.spans} == set(KINDS)
    missed = [
        (item.text, span)
        for item in corpus
        for span in item.spans
        if not any(
            f.kind == span.kind and f.start <= span.start and f.end >= span.end
            for f in find_pii(item.text)
        )
    ]
    assert len(missed) <= 3, missed


def test_strip_placeholders_blanks_every_placeholder() -> None:
    assert strip_placeholders("打[手机号]或[电话]") == "打 或 "


def test_mobiles_spelled_in_chinese_numerals_are_masked_but_numeral_phrases_are_not() -> None:
    assert redact("电话一三八一二三四五六七八谢谢").text == "电话[手机号]谢谢"
    assert find_pii("一一解答，三五成群，五一路那家店") == ()


def test_numbers_are_joined_only_in_the_shapes_people_write_them() -> None:
    assert kinds_of("手机138 12345678") == [("mobile", "138 12345678")]
    assert find_pii("数量 1 3 8 1 2 3 4 5 6 7 8") == ()
    assert find_pii("第 138 1234 56789 页") == ()
    assert kinds_of("+86 10 62345678") == [("landline", "+86 10 62345678")]
