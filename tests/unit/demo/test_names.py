"""The demo names and identifiers: realistic shapes, valid check digits, no brands."""

from __future__ import annotations

import random
import re

import pytest

from tiyan.demo.names import (
    DemoNameError,
    car_model,
    email_for,
    english_name,
    mobile_number,
    person_name,
    plate_number,
    surname_of,
    vin,
    vin_check_digit,
)

COMMON_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")


def _many(make, count: int = 2000, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [make(rng) for _ in range(count)]


def test_same_seed_gives_the_same_people() -> None:
    def person(rng: random.Random) -> str:
        name = person_name(rng)
        return f"{name} {email_for(name, rng)} {mobile_number(rng)} {plate_number(rng)} {vin(rng)}"

    assert _many(person, 200) == _many(person, 200)
    assert _many(person, 200) != _many(person, 200, seed=2)


def test_chinese_names_are_a_surname_and_one_or_two_given_characters() -> None:
    names = _many(person_name)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name) for name in names)
    assert all(1 <= len(name) - len(surname_of(name)) <= 2 for name in names)
    common = sum(surname_of(name) in COMMON_SURNAMES for name in names) / len(names)
    assert 0.5 < common < 0.85  # the 20 commonest surnames cover a bit over half of China
    assert len(set(names)) / len(names) > 0.7


def test_gendered_names_use_gendered_characters() -> None:
    women = _many(lambda rng: person_name(rng, gender="female"), 500)
    men = _many(lambda rng: person_name(rng, gender="male"), 500)
    assert sum(name[-1] in "芳娜敏静丽艳娟霞燕玲婷雪慧" for name in women) > 100
    assert not [name for name in men if name[-1] in "芳娜敏静丽艳娟霞燕玲婷雪慧"]


def test_an_unknown_gender_is_refused() -> None:
    with pytest.raises(DemoNameError, match="other"):
        person_name(random.Random(1), gender="other")  # type: ignore[arg-type]


def test_compound_surnames_are_recognised() -> None:
    assert surname_of("欧阳娜") == "欧阳"
    assert surname_of("王伟") == "王"


def test_english_names_are_first_and_last() -> None:
    assert all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", name) for name in _many(english_name, 500))


def test_mobile_numbers_have_eleven_digits_and_a_real_prefix() -> None:
    numbers = _many(mobile_number)
    assert all(
        re.fullmatch(r"1(3\d|4[57]|5[0-35-9]|66|7[0135-8]|8\d|9[135-9])\d{8}", n) for n in numbers
    )
    assert len({n[:3] for n in numbers}) > 30


def test_plates_follow_the_province_letter_serial_shape() -> None:
    plates = _many(lambda rng: plate_number(rng, province="京"))
    assert all(
        re.fullmatch(r"京[A-HJ-NP-Z]·([A-HJ-NP-Z0-9]{5}|[DF]\d{5})", plate) for plate in plates
    )
    assert not [plate for plate in plates if sum(char.isalpha() for char in plate[3:]) > 2]
    assert any(plate[3] in "DF" and len(plate) == 9 for plate in plates)  # some new-energy plates


def test_an_unknown_province_is_refused() -> None:
    with pytest.raises(DemoNameError, match="X"):
        plate_number(random.Random(1), province="X")


def test_emails_are_made_from_the_name() -> None:
    rng = random.Random(3)
    chinese = [email_for("张伟", rng) for _ in range(300)]
    english = [email_for("Emily Carter", rng) for _ in range(300)]
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z0-9]+\.[a-z]+", mail) for mail in chinese + english)
    assert sum("zhang" in mail for mail in chinese) > 150
    assert all("carter" in mail or "emily" in mail or mail.startswith("e") for mail in english)
    assert re.fullmatch(
        r"\d{8,10}@qq\.com", email_for("龘龘", rng)
    )  # no pinyin known: a QQ address


def test_the_check_digit_of_a_published_example_vin() -> None:
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert vin_check_digit("11111111111111111") == "1"


def test_every_vin_carries_a_valid_check_digit() -> None:
    vins = _many(vin)
    assert all(re.fullmatch(r"L[A-HJ-NPR-Z0-9]{16}", code) for code in vins)
    assert all(code[8] == vin_check_digit(code) for code in vins)
    assert any(code[8] == "X" for code in vins)
    assert len(set(vins)) == len(vins)


def test_a_vin_with_letters_that_vins_never_use_is_refused() -> None:
    with pytest.raises(DemoNameError, match="17 VIN characters"):
        vin_check_digit("LOQ00000000000000")


def test_car_models_name_a_segment_and_no_brand() -> None:
    models = set(_many(car_model, 500))
    brands = (
        "丰田",
        "本田",
        "大众",
        "宝马",
        "奔驰",
        "奥迪",
        "比亚迪",
        "吉利",
        "长城",
        "特斯拉",
        "日产",
        "福特",
    )
    assert len(models) > 30
    assert not [model for model in models if any(brand in model for brand in brands)]
    assert all(re.fullmatch(r"\S+ [A-Z] 型", model) for model in models)
