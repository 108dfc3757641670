"""One way to write a phone number or an e-mail address, so that matching never depends on how
someone typed it.

Phones are stored and compared in E.164 (`+8613812345678`), read with Google's number metadata
(the `phonenumbers` library) and a default region for numbers written without a country code
(TIYAN_PHONE_REGION, "CN"): 13812345678, 138 1234 5678, +86 138-1234-5678 and 008613812345678
are one number. E-mail addresses are trimmed and lower-cased. Opt-outs, quarantines, events,
imports, SMS replies and customer search all go through these functions, so an opt-out cannot
be bypassed by writing the same number another way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

from tiyan.errors import InvalidInput

DEFAULT_REGION = "CN"
PHONE_KINDS = frozenset({"phone", "mobile"})
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
_MAX_PHONE_LENGTH = 40


def check_region(region: str) -> str:
    """The region code (upper-cased) when the number metadata knows it, else InvalidInput."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput("contacts.not_region_code_such", region=region,
                           where="phone_region")
    return code


def parse_phone(value: str, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164, or None when `value` is not a possible phone number."""
    text = value.strip()
    if not text or len(text) > _MAX_PHONE_LENGTH or not any(c.isdigit() for c in text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The national number of a phone in E.164 (+8613812345678 → 13812345678), as older
    imports stored it; the value itself when it does not parse."""
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return e164


def display_phone(value: str, locale: str) -> str:
    """A stored (E.164) phone as people write it: in Chinese a mainland number in its national
    form (138 1234 5678), elsewhere and for other countries in the international form
    (+86 138 1234 5678); a masked or unparsable value as it is."""
    if not value.startswith("+") or "*" in value:
        return value
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    national = locale == "zh-CN" and number.country_code == 86
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL if national
                                      else phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_phone(value: str, region: str = DEFAULT_REGION, *,
                    where: str = "customer.phone") -> str:
    """The number in E.164, or InvalidInput naming the field."""
    number = parse_phone(value, region)
    if number is None:
        raise InvalidInput("contacts.not_phone_number", value=value[:60], where=where)
    return number


def normalise_email(value: str, *, where: str = "customer.email") -> str:
    """The address trimmed and lower-cased, or InvalidInput naming the field."""
    address = value.strip().lower()
    if not EMAIL.match(address):
        raise InvalidInput("common.not_mail_address", value=value[:80], where=where)
    return address


def normalise_identity(kind: str, value: str, region: str = DEFAULT_REGION) -> str:
    """An identity value as stored: phones in E.164 and e-mails lower-cased where they parse;
    any other kind (a member number), or a value that does not parse, as given (trimmed)."""
    if kind in PHONE_KINDS:
        return parse_phone(value, region) or value.strip()
    if kind == "email":
        address = value.strip().lower()
        return address if EMAIL.match(address) else value.strip()
    return value.strip()


def contact_of(value: str, region: str = DEFAULT_REGION) -> tuple[str, str] | None:
    """("email" | "phone", normalised value) for a value that is one, else None."""
    if "@" in value:
        address = value.strip().lower()
        return ("email", address) if EMAIL.match(address) else None
    number = parse_phone(value, region)
    return ("phone", number) if number is not None else None


def lookup_forms(value: str, region: str = DEFAULT_REGION) -> list[str]:
    """The forms a reference to a customer may match: itself (an external id, a member
    number) and, when it reads as a phone or an e-mail address, its normalised form."""
    forms = [value.strip()]
    found = contact_of(value, region)
    if found is not None:
        forms.append(found[1])
    return list(dict.fromkeys(f for f in forms if f))


def refs_by_form(refs: Iterable[str], region: str = DEFAULT_REGION) -> dict[str, list[str]]:
    """For matching many references at once: each form to look up (`lookup_forms`) and the
    references it stands for."""
    found: dict[str, list[str]] = {}
    for ref in refs:
        for form in lookup_forms(ref, region):
            found.setdefault(form, []).append(ref)
    return found


MENTION_SEPARATORS = re.compile(r"[,，;；\n、]+")


def split_numbers(text: str) -> list[str]:
    """Phone numbers typed in one field: one a line or separated by commas (either width),
    semicolons or 、; spaces inside a number belong to it ("138 0013 8000" is one number)."""
    return [part.strip() for part in MENTION_SEPARATORS.split(text) if part.strip()]
