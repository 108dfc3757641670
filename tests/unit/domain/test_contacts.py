"""Phone numbers and e-mail addresses have one normal form, whatever way they were written."""

import pytest

from tiyan.domain.contacts import (
    check_region,
    contact_of,
    lookup_forms,
    normalise_email,
    normalise_identity,
    normalise_phone,
    parse_phone,
    refs_by_form,
)
from tiyan.errors import InvalidInput

SAME_NUMBER = ("13812345678", "138 1234 5678", "+86 138-1234-5678", "008613812345678",
               "0086 138 1234 5678", "8613812345678", "+86 (138) 1234 5678",
               "１３８１２３４５６７８", " 13812345678 ")


@pytest.mark.parametrize("written", SAME_NUMBER)
def test_every_way_of_writing_a_chinese_mobile_is_one_e164_number(written: str) -> None:
    assert normalise_phone(written) == "+8613812345678"


def test_the_default_region_decides_numbers_without_a_country_code() -> None:
    assert normalise_phone("020 7946 0018", "GB") == "+442079460018"
    assert normalise_phone("+86 138 1234 5678", "GB") == "+8613812345678"
    assert normalise_phone("(415) 555-2671", "US") == "+14155552671"
    assert check_region(" hk ") == "HK"
    with pytest.raises(InvalidInput) as error:
        check_region("XX")
    assert error.value.where == "phone_region"


@pytest.mark.parametrize("hostile", ["call me", "", "123", "+", "1" * 41, "138123456789999",
                                     "=HYPERLINK(\"x\")", "\x00\x00", "13812345678" * 5,
                                     "<script>1</script>"])
def test_what_is_not_a_phone_number_is_refused_naming_the_field(hostile: str) -> None:
    assert parse_phone(hostile) is None
    with pytest.raises(InvalidInput) as error:
        normalise_phone(hostile, where="phone")
    assert error.value.where == "phone"


def test_e_mail_addresses_are_trimmed_and_lower_cased() -> None:
    assert normalise_email("  Li.Lei@Example.COM ") == "li.lei@example.com"
    for hostile in ("li", "li@", "@example.com", "li lei@example.com", "a@b"):
        with pytest.raises(InvalidInput) as error:
            normalise_email(hostile)
        assert error.value.where == "customer.email"


def test_stored_identities_are_normalised_by_kind_and_other_kinds_kept() -> None:
    assert normalise_identity("phone", "138 1234 5678") == "+8613812345678"
    assert normalise_identity("mobile", "+86-138-1234-5678") == "+8613812345678"
    assert normalise_identity("email", " A@B.CN ") == "a@b.cn"
    assert normalise_identity("member", " M-0001 ") == "M-0001"
    assert normalise_identity("phone", "ask at the desk") == "ask at the desk"


def test_a_reference_matches_itself_and_its_contact_form() -> None:
    assert contact_of("Li@Example.com") == ("email", "li@example.com")
    assert contact_of("138 1234 5678") == ("phone", "+8613812345678")
    assert contact_of("C-001") is None
    assert lookup_forms("138 1234 5678") == ["138 1234 5678", "+8613812345678"]
    assert lookup_forms("+8613812345678") == ["+8613812345678"]
    assert lookup_forms("C-001") == ["C-001"]
    assert refs_by_form(["138 1234 5678", "+8613812345678", "C-1"]) == {
        "138 1234 5678": ["138 1234 5678"], "+8613812345678": ["138 1234 5678", "+8613812345678"],
        "C-1": ["C-1"]}


def test_a_stored_e164_number_is_masked_as_its_national_number() -> None:
    from tiyan.domain.privacy import mask_value

    assert mask_value("phone", "+8613812345678") == "138****5678"
    assert mask_value("phone", "13812345678") == "138****5678"
    assert mask_value("phone", "+86") == "****"
