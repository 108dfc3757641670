"""Answers as an HTML form posts them, parsed and checked one page at a time.

The question macros in web/templates/_questions.html name their fields like this:
    a.KEY            the value (repeated for multiple choice); the "other" option's value is
                     OTHER, its text travels in a.KEY.other
    a.KEY.ROW        one row of a matrix
Every page that shows questions (respondent pages, an agent's phone survey) posts these names,
so `answers_from_form` and `check_page` serve them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiyan.domain.responses import MAX_TEXT, check_answer
from tiyan.domain.survey_flow import is_blank
from tiyan.domain.surveys import CHOICE, Question, QuestionType
from tiyan.errors import InvalidInput

PREFIX = "a."
OTHER = "other"


@dataclass(frozen=True)
class FieldError:
    """Why an answer was refused: `code` is required | too_long | invalid | unknown."""

    code: str
    detail: str = ""
    limit: int | None = None


@dataclass
class PageCheck:
    answers: dict[str, Any] = field(default_factory=dict)  # valid answers in stored raw shape
    errors: dict[str, FieldError] = field(default_factory=dict)  # by question key
    unknown: list[str] = field(default_factory=list)  # posted keys that are no question here

    @property
    def ok(self) -> bool:
        return not self.errors and not self.unknown


def form_values(items: Iterable[tuple[str, Any]]) -> dict[str, list[str]]:
    """Group a posted form's (name, value) pairs by name, keeping only answer fields."""
    grouped: dict[str, list[str]] = {}
    for name, value in items:
        if name.startswith(PREFIX) and isinstance(value, str):
            grouped.setdefault(name, []).append(value)
    return grouped


def answers_from_form(questions: Sequence[Question],
                      form: Mapping[str, list[str]]) -> tuple[dict[str, Any], list[str]]:
    """The raw answers to `questions` in the shape `check_answer` takes, and the posted keys
    that name no question of the page."""
    raw: dict[str, Any] = {}
    for q in questions:
        value = _one_answer(q, form)
        if not is_blank(value):
            raw[q.key] = value
    keys = {q.key for q in questions}
    unknown = sorted({name[len(PREFIX):].split(".")[0] for name in form} - keys)
    return raw, unknown


def _one_answer(q: Question, form: Mapping[str, list[str]]) -> Any:
    name = PREFIX + q.key
    values = [v for v in form.get(name, []) if v.strip()]
    if q.type == QuestionType.MATRIX:
        rows = {r.code: _first(form.get(f"{name}.{r.code}")) for r in q.rows}
        return {code: value for code, value in rows.items() if value}
    if q.type in CHOICE:
        other_text = _first(form.get(f"{name}.other"))
        items: list[Any] = [{"other": other_text} if v == OTHER and q.allow_other else v
                            for v in values]
        if q.type == QuestionType.SINGLE:
            return items[0] if len(items) == 1 else (items or None)
        return items
    if q.type == QuestionType.TEXT:
        text = (form.get(name) or [""])[0]
        return text if text.strip() else None
    return values[0].strip() if len(values) == 1 else (values or None)


def _first(values: list[str] | None) -> str:
    return values[0].strip() if values else ""


def check_page(questions: Sequence[Question], raw: Mapping[str, Any],
               unknown: Sequence[str] = ()) -> PageCheck:
    """Check the answers to the shown questions of one page; every problem is kept by key."""
    result = PageCheck(unknown=list(unknown))
    for q in questions:
        value = raw.get(q.key)
        if is_blank(value):
            if q.required:
                result.errors[q.key] = FieldError("required")
            continue
        if q.type in CHOICE and _other_without_text(value):
            result.errors[q.key] = FieldError("other_missing")
            continue
        try:
            check_answer(q, value)
        except InvalidInput as exc:
            result.errors[q.key] = _explain(q, value, exc)
            continue
        result.answers[q.key] = value
    return result


def _other_without_text(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(i, Mapping) and is_blank(i.get("other")) for i in items)


def _explain(q: Question, value: Any, exc: InvalidInput) -> FieldError:
    limit = min(q.max_length, MAX_TEXT)
    texts = [value] if isinstance(value, str) else [
        i["other"] for i in (value if isinstance(value, list) else [value])
        if isinstance(i, Mapping) and isinstance(i.get("other"), str)]
    if any(len(t) > limit for t in texts):
        return FieldError("too_long", exc.message, limit)
    return FieldError("invalid", exc.message)
