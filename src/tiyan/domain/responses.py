"""Responses: one per submission, with answers in a tidy long shape (one row per question).

`check_answers` turns raw answers into typed `AnswerValue`s against the survey version the
respondent answered; every error names the question and says what is wrong.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tiyan.domain.survey_flow import walk
from tiyan.domain.surveys import (
    CHOICE,
    Question,
    QuestionType,
    SurveyDefinition,
)
from tiyan.errors import InvalidInput

MAX_TEXT = 100_000


class Channel(StrEnum):
    LINK = "link"
    QR = "qr"
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    API = "api"
    KIOSK = "kiosk"
    IMPORT = "import"


class Source(StrEnum):
    """Where a record comes from: our own surveys or feedback gathered elsewhere."""

    SURVEY = "survey"
    REVIEW = "review"
    HOTLINE = "hotline"
    SOCIAL = "social"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class AnswerValue:
    question_key: str
    item_code: str | None
    value_num: float | None = None
    value_text: str | None = None
    value_json: Any = None


@dataclass(frozen=True)
class Submission:
    """A validated response ready to store."""

    survey_id: int
    survey_version_id: int
    unit_id: int
    answers: tuple[AnswerValue, ...]
    channel: Channel
    language: str
    submitted_at: dt.datetime
    started_at: dt.datetime | None = None
    touchpoint_id: int | None = None
    staff_id: int | None = None
    customer_id: int | None = None
    agent_user_id: int | None = None
    idempotency_key: str | None = None
    customer_snapshot: Mapping[str, Any] = field(default_factory=dict)
    invitation_id: int | None = None


def check_answers(
    definition: SurveyDefinition,
    raw: Mapping[str, Any],
    invitation: Mapping[str, Any] | None = None,
) -> tuple[AnswerValue, ...]:
    """Validate raw answers: hidden questions and pages the skip logic passes over are dropped,
    required ones on the respondent's path enforced."""
    unknown = sorted(set(raw) - definition.key_set)
    if unknown:
        raise InvalidInput(
            "common.survey_no_question", unknown=unknown[0], where=f"answers.{unknown[0]}"
        )
    values: list[AnswerValue] = []
    path = walk(definition, raw, invitation or {})
    given = path.answers  # the non-blank answers to the questions shown
    for question in path.shown:
        if question.key not in given:
            if question.required:
                raise InvalidInput("responses.question_needs_answer",
                                   where=f"answers.{question.key}")
            continue
        values.extend(check_answer(question, given[question.key]))
    return tuple(values)


def check_answer(question: Question, value: Any) -> list[AnswerValue]:
    where = f"answers.{question.key}"
    kind = question.type
    if kind == QuestionType.MATRIX:
        return _matrix(question, value, where)
    if kind in CHOICE:
        return [_choice(question, value, where)]
    if kind == QuestionType.YESNO:
        return [AnswerValue(question.key, question.item_code, value_num=_yes_no(value, where))]
    if kind == QuestionType.TEXT:
        return [
            AnswerValue(question.key, question.item_code, value_text=_text(question, value, where))
        ]
    if kind == QuestionType.NUMBER:
        return [AnswerValue(question.key, question.item_code, value_num=_number(value, where))]
    if kind == QuestionType.DATE:
        return [AnswerValue(question.key, question.item_code, value_text=_date(value, where))]
    low, high = question.bounds() or (0, 10)
    score = _whole_number(value, low, high, where)
    return [AnswerValue(question.key, question.item_code, value_num=float(score))]


def _whole_number(value: Any, low: int, high: int, where: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput("responses.not_whole_number", value=value, low=low, high=high,
                           where=where)
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            "responses.not_whole_number", value=value, low=low, high=high, where=where
        ) from None
    if not math.isfinite(number) or number != int(number) or not low <= number <= high:
        raise InvalidInput("responses.not_whole_number", value=value, low=low, high=high,
                           where=where)
    return int(number)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise InvalidInput("common.not_number", value=value, where=where)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput("common.not_number", value=value, where=where) from None
    if not math.isfinite(number) or abs(number) > 1e15:
        raise InvalidInput("responses.not_finite_number", value=value, where=where)
    return number


def _yes_no(value: Any, where: str) -> float:
    lookup = {
        True: 1.0,
        False: 0.0,
        "yes": 1.0,
        "no": 0.0,
        "true": 1.0,
        "false": 0.0,
        "1": 1.0,
        "0": 0.0,
        "是": 1.0,
        "否": 0.0,
    }
    key = value.strip().lower() if isinstance(value, str) else value
    if isinstance(key, int | float) and not isinstance(key, bool) and key in (0, 1):
        return float(key)
    if isinstance(key, bool | str) and key in lookup:
        return lookup[key]
    raise InvalidInput("responses.not_yes_no", value=value, where=where)


def _text(question: Question, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("responses.must_text", where=where)
    limit = min(question.max_length, MAX_TEXT)
    if len(value) > limit:
        raise InvalidInput("responses.text_characters_limit", n_value=len(value), limit=limit,
                           where=where)
    if "\x00" in value:
        raise InvalidInput("responses.text_contains_nul_character", where=where)
    return value


def _date(value: Any, where: str) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InvalidInput("responses.not_date_yyyy_mm", value=value, where=where) from None


def _choice(question: Question, value: Any, where: str) -> AnswerValue:
    codes = {o.code for o in question.options}
    chosen = value if isinstance(value, list) else [value]
    if question.type == QuestionType.SINGLE and len(chosen) != 1:
        raise InvalidInput("responses.choose_exactly_option", where=where)
    other: str | None = None
    picked: list[str] = []
    for item in chosen:
        if isinstance(item, Mapping) and question.allow_other and "other" in item:
            other = _text(question, item["other"], where)
            picked.append("other")
        elif isinstance(item, str) and item in codes:
            picked.append(item)
        else:
            raise InvalidInput("responses.not_options", item=item, where=where)
    if question.type == QuestionType.SINGLE:
        return AnswerValue(
            question.key, question.item_code, value_text=other or picked[0], value_json=picked
        )
    return AnswerValue(question.key, question.item_code, value_text=other, value_json=picked)


def _matrix(question: Question, value: Any, where: str) -> list[AnswerValue]:
    if not isinstance(value, Mapping):
        raise InvalidInput("responses.matrix_answer_row_code", where=where)
    rows = {r.code for r in question.rows}
    low, high = question.bounds() or (1, 5)
    result = []
    for row, score in value.items():
        if row not in rows:
            raise InvalidInput("responses.not_row_matrix", row=row, where=where)
        number = _whole_number(score, low, high, f"{where}.{row}")
        result.append(AnswerValue(f"{question.key}.{row}", question.item_code, float(number)))
    return result

