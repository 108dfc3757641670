"""Typed errors as text in the reader's language, for the pages that translate them."""

from __future__ import annotations

from tiyan.errors import TiyanError
from tiyan.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from tiyan.web.i18n import Translator, catalogue

LIMITS = {"min": MIN_PASSWORD_LENGTH, "max": MAX_PASSWORD_LENGTH}


def error_text(t: Translator, exc: TiyanError, family: str, **values: object) -> str:
    """`{family}{where}.{code}`, else `{family}{code}`, from the catalogue (filled with the
    password limits and `values`); the error's own text in the reader's language when neither
    exists."""
    known = catalogue(t.locale)
    for key in (f"{family}{exc.where}.{exc.code}", f"{family}{exc.code}"):
        if key in known:
            return t(key, **LIMITS, **values)
    return exc.text(t.locale)
