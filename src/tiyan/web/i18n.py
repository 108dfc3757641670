"""The UI message catalogue (zh-CN and English) and locale negotiation.

Every piece of UI text is a key in `i18n/<locale>.json`; a test checks that both catalogues
hold the same keys and that every key used by a template exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES = ("zh-CN", "en")
CATALOGUE_DIR = Path(__file__).parent / "i18n"


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> Mapping[str, str]:
    return json.loads((CATALOGUE_DIR / f"{locale}.json").read_text(encoding="utf-8"))


class Translator:
    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else LOCALES[0]
        self._messages = catalogue(self.locale)

    def __call__(self, key: str, **values: Any) -> str:
        text = self._messages.get(key)
        if text is None:
            raise KeyError(f"message {key!r} is missing from the {self.locale} catalogue")
        return text.format(**values) if values else text

    def word(self, family: str, code: object) -> str:
        """The word for a stored code, e.g. word("cases.status.", "new"); a code the catalogue
        does not know (None, one an older version stored) is shown as itself, never an error:
        a page that fails on one row's code would fail for good."""
        text = self._messages.get(f"{family}{code}")
        if text is not None:
            return text
        return "" if code is None else str(code)

    def place(self, where: str | None) -> str | None:
        """Where an error is, in words: a program's locator ("tasks, line 2", "events",
        "items, line 3") read part by part through the catalogue's where.* words; None when
        any part is not one the catalogue knows, so a page never shows a code for a place."""
        if not where:
            return None
        words = []
        for part in where.split(", "):
            line = re.fullmatch(r"line (\d+)(?::\s*)?", part)
            if line:
                words.append(self("where.line", n=int(line.group(1))))
                continue
            known = self._messages.get(f"where.{part}")
            if known is None:
                return None
            words.append(known)
        return self("where.joined", first=words[0], rest=self("where.then").join(words[1:])) \
            if len(words) > 1 else words[0]

    def name(self, row: Mapping[str, Any]) -> str:
        """The localised name of a row that has name_zh and name_en."""
        return str(row["name_zh"] if self.locale == "zh-CN" else row["name_en"])


def negotiate(query: str | None, cookie: str | None, user_locale: str | None,
              accept_language: str | None, default: str) -> str:
    for candidate in (query, cookie, user_locale):
        if candidate in LOCALES:
            return candidate  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return default if default in LOCALES else LOCALES[0]
