"""Typed errors: each has a code, a message key with its values, and an HTTP status.

Lower layers raise these with a key of the error catalogue (`error_messages/<locale>.json`)
and the values its template names, e.g. `InvalidInput("surveys.code_taken", code=code,
where="code")`. `message` is the English text (logs, the command line); the web layer shows
`text(locale)` in the reader's language and maps the error to one JSON error shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

ERROR_LOCALES = ("zh-CN", "en")
CATALOGUE_DIR = Path(__file__).parent / "error_messages"


@lru_cache(maxsize=len(ERROR_LOCALES))
def error_catalogue(locale: str) -> Mapping[str, str]:
    """The error templates of one language: key -> str.format template."""
    name = locale if locale in ERROR_LOCALES else "en"
    return json.loads((CATALOGUE_DIR / f"{name}.json").read_text(encoding="utf-8"))


class Phrase(NamedTuple):
    """A value of a message that is itself words of the catalogue, e.g. why an address is
    refused: shown in the message's language."""

    key: str
    params: Mapping[str, object] = {}


def error_text(key: str, locale: str, params: Mapping[str, object]) -> str:
    """The template of `key` in `locale` (English where that language lacks it), filled."""
    template = error_catalogue(locale).get(key)
    if template is None:
        template = error_catalogue("en")[key]
    return template.format(**{name: _said(value, locale) for name, value in params.items()})


def _said(value: object, locale: str) -> object:
    """A Phrase in `locale`; a tuple of Phrases as a list in `locale` (顿号 in Chinese)."""
    if isinstance(value, Phrase):
        return error_text(value.key, locale, value.params)
    if isinstance(value, tuple) and value and all(isinstance(v, Phrase) for v in value):
        return ("、" if locale == "zh-CN" else ", ").join(str(_said(v, locale)) for v in value)
    return value


def params_json(params: Mapping[str, object]) -> dict[str, object]:
    """A message's values as JSON (e.g. stored with an import's rejected rows): a Phrase
    becomes {"phrase": key, "params": …}, a tuple of Phrases a list of them, anything else
    that JSON cannot hold its text."""
    return {name: _value_json(value) for name, value in params.items()}


def _value_json(value: object) -> object:
    if isinstance(value, Phrase):
        return {"phrase": value.key, "params": params_json(value.params)}
    if isinstance(value, tuple) and value and all(isinstance(v, Phrase) for v in value):
        return [_value_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def params_from_json(params: Mapping[str, object]) -> dict[str, object]:
    """The values `params_json` stored, with their Phrases back."""
    return {name: _value_from_json(value) for name, value in params.items()}


def _value_from_json(value: object) -> object:
    if isinstance(value, dict) and isinstance(value.get("phrase"), str):
        return Phrase(value["phrase"], params_from_json(value.get("params") or {}))
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return tuple(_value_from_json(v) for v in value)
    return value


def stored_text(entry: Mapping[str, object], locale: str, *, text: str = "reason") -> str:
    """A stored message in `locale`: its key and values where it has them (and the key is
    still in the catalogue), else the English text kept beside them (older rows)."""
    key, params = entry.get("key"), entry.get("params")
    if isinstance(key, str) and key in error_catalogue("en"):
        try:
            return error_text(key, locale, params_from_json(
                params if isinstance(params, Mapping) else {}))
        except (KeyError, IndexError, ValueError):
            pass  # values stored for an older template: fall back to the text
    return str(entry.get(text) or "")


def placed_text(entry: Mapping[str, object], locale: str) -> str:
    """A rejected row's problem in `locale`, its line and column named in words
    ("line 3, column rating: …", "第 3 行“rating”列：…")."""
    reason, line, column = stored_text(entry, locale), entry.get("line"), entry.get("column")
    if line is None:
        return reason
    if column:
        return error_text("import_rows.placed", locale,
                          {"line": line, "column": column, "reason": reason})
    return error_text("import_rows.placed_line", locale, {"line": line, "reason": reason})


class TiyanError(Exception):
    code = "error"
    status = 400

    def __init__(self, key: str, /, *, where: str | None = None, **params: object) -> None:
        if key in error_catalogue("en"):
            self.key: str | None = key
            message = error_text(key, "en", params)
        else:  # a text built elsewhere (e.g. a library's message): shown as it is
            self.key, message = None, key
        super().__init__(message)
        self.message = message
        self.params = params
        self.where = where

    def phrase(self) -> Phrase | None:
        """The message as a value of another one (e.g. a job's reason), None for raw text."""
        return Phrase(self.key, self.params) if self.key else None

    def text(self, locale: str) -> str:
        """The message in `locale` (zh-CN or en)."""
        if self.key is None:
            return self.message
        return error_text(self.key, locale, self.params)

    def to_dict(self, locale: str = "en") -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "key": self.key,
                                   "message": self.text(locale)}
        if self.where:
            body["where"] = self.where
        return body


class InvalidInput(TiyanError):
    code = "invalid_input"
    status = 422


class NotFound(TiyanError):
    code = "not_found"
    status = 404


class Forbidden(TiyanError):
    code = "forbidden"
    status = 403


class NotAuthenticated(TiyanError):
    code = "not_authenticated"
    status = 401


class Conflict(TiyanError):
    code = "conflict"
    status = 409


class TooManyRequests(TiyanError):
    code = "rate_limited"
    status = 429


class DatabaseError(TiyanError):
    """The database cannot be reached or is not at a schema version this tiyan understands."""

    code = "database"
    status = 503
