"""How a respondent moves through a survey: display logic, skip logic, piping, progress.

Everything here is a pure function of the definition, the answers given so far and the
invitation data (`data`, e.g. {"unit": "sh-01", "vip": true}). A question is shown when all its
`show_if` conditions hold; after a page, the first skip rule (of a shown question on it) whose
conditions hold decides the next page, else the next page with a shown question follows.
Answers to hidden questions, or on pages the path skips, never count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tiyan.domain.surveys import (
    PLACEHOLDER,
    Condition,
    Option,
    Question,
    QuestionType,
    SurveyDefinition,
)

YES_NO = {"zh-CN": ("是", "否"), "en": ("Yes", "No")}


@dataclass(frozen=True)
class Walk:
    """The pages a respondent visits with these answers, and the questions shown on them."""

    pages: tuple[int, ...]
    shown: tuple[Question, ...]
    answers: Mapping[str, Any]  # only answers to shown questions on the path


# --- conditions ----------------------------------------------------------------------------

def holds(condition: Condition, answers: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    if condition.source.startswith("invitation."):
        actual = data.get(condition.source.removeprefix("invitation."))
    else:
        actual = answers.get(condition.source)
    if condition.op == "answered":
        return not is_blank(actual)
    if is_blank(actual):
        return False
    return _compare(actual, condition.op, condition.value)


def all_hold(conditions: Sequence[Condition], answers: Mapping[str, Any],
             data: Mapping[str, Any]) -> bool:
    return all(holds(c, answers, data) for c in conditions)


def is_shown(question: Question, answers: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    return all_hold(question.show_if, answers, data)


_SIZED = (str, list, dict)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, _SIZED) and len(value) == 0)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op in ("in", "not_in"):
        members = expected if isinstance(expected, list) else [expected]
        hit = any(_same(actual, m) for m in members)
        return hit if op == "in" else not hit
    if op in ("==", "!="):
        return _same(actual, expected) == (op == "==")
    try:
        a, b = float(actual), float(expected)
    except (TypeError, ValueError):
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


_YES_NO_VALUES = {"yes": 1.0, "true": 1.0, "是": 1.0, "no": 0.0, "false": 0.0, "否": 0.0}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return any(_same(x, b) for x in a)
    if isinstance(a, Mapping):  # "other" with its text counts as the option "other"
        return "other" in a and _same("other", b)
    a, b = _yes_no_number(a), _yes_no_number(b)
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def _yes_no_number(value: Any) -> Any:
    """A yes/no answer compares equal however it was written: "yes", true, 1, "是"."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        return _YES_NO_VALUES.get(value.strip().lower(), value)
    return value


# --- pages ---------------------------------------------------------------------------------

def page_numbers(definition: SurveyDefinition) -> tuple[int, ...]:
    return tuple(definition.pages)


def questions_on(definition: SurveyDefinition, page: int) -> tuple[Question, ...]:
    return definition.pages.get(page, ())


def walk(definition: SurveyDefinition, answers: Mapping[str, Any],
         data: Mapping[str, Any]) -> Walk:
    """Follow display and skip logic from the first page to the end."""
    if not definition.has_logic:  # every question shown, every page visited in order
        every = tuple(q for on_page in definition.pages.values() for q in on_page)
        return Walk(tuple(definition.pages), every,
                    {q.key: answers[q.key] for q in every if not is_blank(answers.get(q.key))})
    return _follow(definition, answers, data)


def _follow(definition: SurveyDefinition, answers: Mapping[str, Any],
            data: Mapping[str, Any]) -> Walk:
    pages: list[int] = []
    shown: list[Question] = []
    given: dict[str, Any] = {}
    page = _following(definition, 0, given, data)
    while page is not None:
        pages.append(page)
        for q in questions_on(definition, page):
            if is_shown(q, given, data):
                shown.append(q)
                if not is_blank(answers.get(q.key)):
                    given[q.key] = answers[q.key]
        page = next_page(definition, page, given, data)
    return Walk(tuple(pages), tuple(shown), given)


def first_page(definition: SurveyDefinition, data: Mapping[str, Any]) -> int | None:
    return _following(definition, 0, {}, data)


def next_page(definition: SurveyDefinition, page: int, answers: Mapping[str, Any],
              data: Mapping[str, Any]) -> int | None:
    """The page after `page` (None: the survey ends), given the answers so far."""
    for q in questions_on(definition, page):
        if not is_shown(q, answers, data):
            continue
        for rule in q.skip_to:
            if all_hold(rule.conditions, answers, data):
                return None if rule.page is None else _following(definition, rule.page - 1,
                                                                 answers, data)
    return _following(definition, page, answers, data)


def _following(definition: SurveyDefinition, after: int, answers: Mapping[str, Any],
               data: Mapping[str, Any]) -> int | None:
    """The first page after `after` with at least one shown question."""
    for page in page_numbers(definition):
        if page > after and visible_questions(definition, page, answers, data):
            return page
    return None


def visible_questions(definition: SurveyDefinition, page: int, answers: Mapping[str, Any],
                      data: Mapping[str, Any]) -> tuple[Question, ...]:
    return tuple(q for q in questions_on(definition, page) if is_shown(q, answers, data))


def previous_page(definition: SurveyDefinition, page: int, answers: Mapping[str, Any],
                  data: Mapping[str, Any]) -> int | None:
    path = walk(definition, answers, data).pages
    earlier = [p for p in path if p < page]
    return earlier[-1] if earlier else None


def progress(definition: SurveyDefinition, page: int, answers: Mapping[str, Any],
             data: Mapping[str, Any]) -> float:
    """The share of the survey behind the respondent when they see `page` (0 on the first)."""
    path = walk(definition, answers, data).pages
    done = len([p for p in path if p < page])
    ahead = len([p for p in page_numbers(definition) if p > page])
    return round(done / (done + 1 + ahead), 3)


# --- piping --------------------------------------------------------------------------------

def pipe(text: str, definition: SurveyDefinition, language: str, answers: Mapping[str, Any],
         data: Mapping[str, Any], customer: Mapping[str, Any]) -> str:
    """Fill {answer:KEY}, {customer:FIELD}, {invitation:FIELD}; a missing value gives the
    fallback after "|" (or nothing). The result is plain text: templates escape it."""
    if "{" not in text:
        return text

    def fill(match: Any) -> str:
        kind, name, fallback = match.group(1), match.group(2), match.group(3) or ""
        if kind == "answer":
            value = answer_text(definition, name, answers.get(name), language)
        else:
            source = customer if kind == "customer" else data
            raw = source.get(name)
            value = "" if is_blank(raw) or isinstance(raw, dict | list) else str(raw)
        return value or fallback

    return PLACEHOLDER.sub(fill, text)


def title_for_staff(definition: SurveyDefinition | None, language: str) -> str | None:
    """A survey's title as staff pages name the survey (a response, a case): in the reader's
    language, else the first one written, with each placeholder read as its fallback — the
    greeting a respondent saw is theirs, and a customer's name must not reach a page through
    the title past the page's masking."""
    if definition is None:
        return None
    title = definition.title.get(language) or next(iter(definition.title.values()), None)
    return None if title is None else pipe(title, definition, language, {}, {}, {})


def piping_values(invitation_data: Any, row: Mapping[Any, Any]
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """What fills the {invitation:…} and {customer:…} placeholders of a survey's title, intro
    and questions: the invitation's plain fields, and the customer's (the invitation's customer
    fields, then the customer's attributes, name and first_name; `row` has customer_public_id,
    customer_name and customer_attributes). The respondent page, the agent's phone-survey form
    and the invitation's message all use it, so a placeholder reads the same wherever the
    survey is put."""
    given = invitation_data if isinstance(invitation_data, dict) else {}
    data = {k: v for k, v in given.items() if not isinstance(v, dict | list)}
    customer = dict(given["customer"]) if isinstance(given.get("customer"), dict) else {}
    customer.update(_customer_fields(row))
    return data, customer


def _customer_fields(row: Mapping[Any, Any]) -> dict[str, Any]:
    if row.get("customer_public_id") is None:
        return {}
    attributes = row.get("customer_attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    fields = {k: v for k, v in attributes.items() if not isinstance(v, dict | list)}
    name = row.get("customer_name") or ""
    fields.setdefault("name", name)
    fields.setdefault("first_name", name.split()[0] if " " in name.strip() else name)
    return fields


def answer_text(definition: SurveyDefinition, key: str, value: Any, language: str) -> str:
    """An answer as a respondent reads it: option texts rather than codes, yes/no in words."""
    if is_blank(value):
        return ""
    question = next((q for q in definition.questions if q.key == key), None)
    if question is None or question.type == QuestionType.MATRIX:
        return ""
    if question.type == QuestionType.YESNO:
        yes, no = YES_NO.get(language, YES_NO["en"])
        return yes if str(value).strip().lower() in ("yes", "1", "true", "是") else no
    if question.options:
        texts = {o.code: o.text.get(language, "") for o in question.options}
        items = value if isinstance(value, list) else [value]
        parts = [str(i["other"]) if isinstance(i, Mapping) else texts.get(str(i), str(i))
                 for i in items]
        return "、".join(parts) if language == "zh-CN" else ", ".join(parts)
    return str(value)


# --- option order --------------------------------------------------------------------------

def option_order(question: Question, seed: str) -> tuple[Option, ...]:
    """The options in the order one respondent sees them: shuffled per session when the
    question asks for it, the same on every page view of that session."""
    if not question.randomize:
        return question.options

    def rank(option: Option) -> bytes:
        return hashlib.sha256(f"{seed}:{question.key}:{option.code}".encode()).digest()

    return tuple(sorted(question.options, key=rank))


# --- the client's copy of the display logic ------------------------------------------------

def client_logic(definition: SurveyDefinition, page: int, answers: Mapping[str, Any],
                 data: Mapping[str, Any]) -> dict[str, Any]:
    """What the page's script needs to re-evaluate show_if as the respondent answers:
    the page's conditions, and the earlier answers and invitation fields they test."""
    rules: dict[str, list[list[Any]]] = {}
    known: dict[str, Any] = {}
    on_page = {q.key for q in questions_on(definition, page)}
    for q in questions_on(definition, page):
        if not q.show_if:
            continue
        rules[q.key] = [[c.source, c.op, c.value] for c in q.show_if]
        for c in q.show_if:
            if c.source.startswith("invitation."):
                known[c.source] = data.get(c.source.removeprefix("invitation."))
            elif c.source not in on_page:
                known[c.source] = answers.get(c.source)
    return {"rules": rules, "known": known} if rules else {}
