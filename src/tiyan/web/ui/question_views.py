"""Questions as a form shows them: texts piped and localised, options in the respondent's
order, the current values and the error to show next to each.

`question_views` feeds the macros in templates/_questions.html; any page that lets someone
answer questions (respondent pages, an agent filling a phone survey) uses both, and parses the
post with `tiyan.domain.answer_forms`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiyan.domain.answer_forms import OTHER, FieldError
from tiyan.domain.survey_flow import option_order, pipe
from tiyan.domain.surveys import FIXED_SCALES, Question, QuestionType, SurveyDefinition
from tiyan.web.i18n import Translator


@dataclass
class QuestionView:
    key: str
    type: str
    text: str
    required: bool
    hidden: bool = False
    error: str = ""
    scale: list[int] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)
    allow_other: bool = False
    checked: set[str] = field(default_factory=set)  # chosen codes or the scale value
    other_text: str = ""
    value: str = ""  # text, number, date
    row_values: dict[str, str] = field(default_factory=dict)
    max_length: int = 5000
    anchors: tuple[str, str] = ("", "")


def question_views(definition: SurveyDefinition, questions: Sequence[Question], *, lang: str,
                   t: Translator, values: Mapping[str, Any],
                   errors: Mapping[str, FieldError] | None = None, seed: str = "",
                   answers: Mapping[str, Any] | None = None,
                   data: Mapping[str, Any] | None = None,
                   customer: Mapping[str, Any] | None = None,
                   hidden: frozenset[str] = frozenset()) -> list[QuestionView]:
    """`values` are the answers to show in the inputs; `answers`/`data`/`customer` fill piped
    placeholders."""
    views = []
    for q in questions:
        text = pipe(q.text.get(lang) or next(iter(q.text.values())), definition, lang,
                    answers or {}, data or {}, customer or {})
        view = QuestionView(key=q.key, type=str(q.type), text=text, required=q.required,
                            hidden=q.key in hidden, max_length=q.max_length)
        _fill_shape(view, q, lang, t, seed)
        _fill_value(view, q, values.get(q.key))
        error = (errors or {}).get(q.key)
        if error is not None:
            view.error = error_text(q, error, t)
        views.append(view)
    return views


def _fill_shape(view: QuestionView, q: Question, lang: str, t: Translator, seed: str) -> None:
    bounds = q.bounds()
    if bounds is not None:
        view.scale = list(range(bounds[0], bounds[1] + 1))
        if q.type in FIXED_SCALES or q.type == QuestionType.RATING:
            view.anchors = (t(f"respond.low.{q.type}"), t(f"respond.high.{q.type}"))
    view.options = [(o.code, _local(o.text, lang)) for o in option_order(q, seed)]
    view.rows = [(r.code, _local(r.text, lang)) for r in q.rows]
    view.allow_other = q.allow_other


def _fill_value(view: QuestionView, q: Question, value: Any) -> None:
    if value is None:
        return
    if q.type == QuestionType.MATRIX and isinstance(value, Mapping):
        view.row_values = {str(k): str(v) for k, v in value.items()}
    elif q.options:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Mapping):
                view.checked.add(OTHER)
                view.other_text = str(item.get("other") or "")
            else:
                view.checked.add(str(item))
    elif q.type in (QuestionType.TEXT, QuestionType.NUMBER, QuestionType.DATE):
        view.value = str(value)
    elif q.type == QuestionType.YESNO:
        view.checked.add("yes" if str(value).lower() in ("yes", "1", "true", "是") else "no")
    else:
        view.checked.add(str(value).strip())


def error_text(q: Question, error: FieldError, t: Translator) -> str:
    if error.code in ("required", "other_missing"):
        return t(f"respond.error.{error.code}")
    if error.code == "too_long":
        return t("respond.error.too_long", limit=error.limit)
    bounds = q.bounds()
    if bounds is not None:
        return t("respond.error.scale", low=bounds[0], high=bounds[1])
    kind = {QuestionType.NUMBER: "number", QuestionType.DATE: "date",
            QuestionType.SINGLE: "choice", QuestionType.MULTI: "choice",
            QuestionType.YESNO: "choice"}.get(q.type, "invalid")
    return t(f"respond.error.{kind}")


def _local(text: Mapping[str, str], lang: str) -> str:
    return text.get(lang) or next(iter(text.values()))
