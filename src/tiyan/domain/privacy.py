"""Masking personal data for roles that do not need to see it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers

PII_KEYS = frozenset({"name", "phone", "mobile", "email", "plate", "id_card", "address", "vin"})


def mask_value(kind: str, value: str) -> str:
    if not value:
        return value
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    if kind in ("phone", "mobile"):
        digits = _national(value) or value.replace(" ", "").replace("-", "")
        return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"
    if kind == "name":
        return value[:1] + "*" * max(1, len(value) - 1)
    return value[:2] + "***" if len(value) > 2 else "***"


def mask_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: mask_value(key, str(value)) if key in PII_KEYS and value else value
        for key, value in attributes.items()
    }


def _national(value: str) -> str | None:
    """The national number of an E.164 phone (+8613812345678 → 13812345678), else None."""
    if not value.startswith("+"):
        return None
    try:
        return str(phonenumbers.parse(value, None).national_number)
    except phonenumbers.NumberParseException:
        return None
