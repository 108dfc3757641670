"""Survey definitions: typed questions, parsed and validated from their stored JSON form.

A definition is immutable once published: every response stores the version it answered, so
editing a survey creates a new version and old responses keep their meaning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

from tiyan.errors import InvalidInput

LANGUAGES = ("zh-CN", "en")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class QuestionType(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    RATING = "rating"
    LIKERT = "likert"
    MATRIX = "matrix"
    SINGLE = "single"
    MULTI = "multi"
    YESNO = "yesno"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"


FIXED_SCALES: Mapping[QuestionType, tuple[int, int]] = {
    QuestionType.NPS: (0, 10),
    QuestionType.CSAT: (1, 5),
    QuestionType.CES: (1, 7),
    QuestionType.LIKERT: (1, 5),
}
SCALED = frozenset({*FIXED_SCALES, QuestionType.RATING, QuestionType.MATRIX})
CHOICE = frozenset({QuestionType.SINGLE, QuestionType.MULTI})
CONDITION_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "answered")
# Piping: {answer:KEY}, {customer:FIELD} or {invitation:FIELD}, optionally {…|fallback text}.
PLACEHOLDER = re.compile(r"\{(answer|customer|invitation):([a-z][a-z0-9_]*)(?:\|([^{}]*))?\}")
END = "end"

Text = Mapping[str, str]


@dataclass(frozen=True)
class Option:
    code: str
    text: Text


@dataclass(frozen=True)
class Condition:
    """Show a question only when an earlier answer (or invitation field) meets this test."""

    source: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class SkipRule:
    """After the question's page, jump to `page` (None: to the end) when all conditions hold."""

    conditions: tuple[Condition, ...]
    page: int | None


@dataclass(frozen=True)
class Question:
    key: str
    type: QuestionType
    text: Text
    required: bool = False
    item_code: str | None = None
    touchpoint: str | None = None
    page: int = 1
    scale: tuple[int, int] | None = None
    options: tuple[Option, ...] = ()
    rows: tuple[Option, ...] = ()
    allow_other: bool = False
    randomize: bool = False
    show_if: tuple[Condition, ...] = ()
    max_length: int = 5000
    skip_to: tuple[SkipRule, ...] = ()

    def bounds(self) -> tuple[int, int] | None:
        return FIXED_SCALES.get(self.type, self.scale)


@dataclass(frozen=True)
class SurveyDefinition:
    title: Text
    questions: tuple[Question, ...]
    languages: tuple[str, ...] = LANGUAGES
    intro: Text = field(default_factory=dict)

    def question(self, key: str) -> Question:
        for q in self.questions:
            if q.key == key:
                return q
        raise InvalidInput("surveys.survey_no_question", v_key=key, where=f"question {key}")

    def keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions)

    @cached_property
    def pages(self) -> Mapping[int, tuple[Question, ...]]:
        """The questions of each page, pages in order (computed once per definition)."""
        by_page: dict[int, list[Question]] = {}
        for q in self.questions:
            by_page.setdefault(q.page, []).append(q)
        return {page: tuple(by_page[page]) for page in sorted(by_page)}

    @cached_property
    def key_set(self) -> frozenset[str]:
        """The question keys, as a set (computed once per definition)."""
        return frozenset(q.key for q in self.questions)

    @cached_property
    def has_logic(self) -> bool:
        """Whether any question has display or skip logic; without it every respondent sees
        every question, page after page."""
        return any(q.show_if or q.skip_to for q in self.questions)


def parse_definition(raw: Mapping[str, Any]) -> SurveyDefinition:
    """Parse and validate a stored or submitted definition; errors name the question and rule."""
    _reject_unknown(raw, {"title", "questions", "languages", "intro"}, "survey")
    languages = tuple(raw.get("languages") or LANGUAGES)
    for lang in languages:
        if lang not in LANGUAGES:
            raise InvalidInput("surveys.language_not_supported", lang=lang,
                               where="survey.languages")
    title = _text(raw.get("title"), languages, "survey.title")
    raw_questions = raw.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise InvalidInput("surveys.survey_needs_least_question", where="survey.questions")
    questions: list[Question] = []
    for index, item in enumerate(raw_questions):
        questions.append(_question(item, index, languages, questions))
    intro = _text(raw["intro"], languages, "survey.intro") if raw.get("intro") else {}
    _check_skip_targets(questions)
    _check_piping(intro, [], 1, "survey.intro")
    for question in questions:
        _check_piping(question.text, questions, question.page, f'question "{question.key}".text')
    return SurveyDefinition(title, tuple(questions), languages, intro)


def definition_to_dict(definition: SurveyDefinition) -> dict[str, Any]:
    return {
        "title": dict(definition.title),
        "languages": list(definition.languages),
        **({"intro": dict(definition.intro)} if definition.intro else {}),
        "questions": [_question_to_dict(q) for q in definition.questions],
    }


def _question(
    raw: Any, index: int, languages: Sequence[str], earlier: Sequence[Question]
) -> Question:
    where = f"question {index + 1}"
    if not isinstance(raw, Mapping):
        raise InvalidInput("surveys.each_question_must_object", where=where)
    key = raw.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidInput(
            "surveys.key_must_lower_case", where=where
        )
    where = f'question "{key}"'
    _reject_unknown(raw, _QUESTION_FIELDS, where)
    if any(q.key == key for q in earlier):
        raise InvalidInput("surveys.key_used_earlier_question", where=where)
    try:
        qtype = QuestionType(str(raw.get("type")))
    except ValueError:
        raise InvalidInput("surveys.unknown_question_type", raw=raw.get("type"),
                           where=where) from None
    question = Question(
        key=key,
        type=qtype,
        text=_text(raw.get("text"), languages, f"{where}.text"),
        required=_bool(raw.get("required", False), f"{where}.required"),
        item_code=_optional_key(raw.get("item_code"), f"{where}.item_code"),
        touchpoint=_optional_str(raw.get("touchpoint"), f"{where}.touchpoint"),
        page=_page(raw.get("page", 1), where),
        scale=_scale(qtype, raw.get("scale"), where),
        options=_options(raw.get("options"), languages, f"{where}.options"),
        rows=_options(raw.get("rows"), languages, f"{where}.rows"),
        allow_other=_bool(raw.get("allow_other", False), f"{where}.allow_other"),
        randomize=_bool(raw.get("randomize", False), f"{where}.randomize"),
        show_if=_conditions(raw.get("show_if"), earlier, f"{where}.show_if", "show_if"),
        max_length=_max_length(raw.get("max_length", 5000), where),
    )
    question = replace(question, skip_to=_skip_rules(raw.get("skip_to"), question, earlier, where))
    _check_shape(question, where)
    return question


_QUESTION_FIELDS = frozenset(
    {"key", "type", "text", "required", "item_code", "touchpoint", "page", "scale", "options",
     "rows", "allow_other", "randomize", "show_if", "max_length", "skip_to"}
)


def _max_length(raw: Any, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 100_000:
        raise InvalidInput("surveys.max_length_must_whole",
                           where=f"{where}.max_length")
    return raw


def _skip_rules(raw: Any, question: Question, earlier: Sequence[Question],
                where: str) -> tuple[SkipRule, ...]:
    """`skip_to: [{"if": [condition…], "page": N | "end"}]`; conditions may test this question."""
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    rules = []
    for i, item in enumerate(items):
        spot = f"{where}.skip_to[{i + 1}]"
        if not isinstance(item, Mapping):
            raise InvalidInput("surveys.skip_rule_if_conditions",
                               where=spot)
        _reject_unknown(item, {"if", "page"}, spot)
        target = item.get("page")
        if target == END:
            page = None
        elif isinstance(target, int) and not isinstance(target, bool):
            if target <= question.page:
                raise InvalidInput("surveys.page_not_after_question", target=target,
                                   page=question.page, where=spot)
            page = target
        else:
            raise InvalidInput("surveys.page_must_later_page", where=spot)
        conditions = _conditions(item.get("if"), [*earlier, question], spot, "if")
        if not conditions:
            raise InvalidInput("surveys.skip_rule_needs_least", where=spot)
        rules.append(SkipRule(conditions, page))
    return tuple(rules)


def _check_skip_targets(questions: Sequence[Question]) -> None:
    last = max(q.page for q in questions)
    for q in questions:
        for i, rule in enumerate(q.skip_to):
            if rule.page is not None and rule.page > last:
                raise InvalidInput("surveys.page_does_not_exist", page=rule.page, last=last,
                                   where=f'question "{q.key}".skip_to[{i + 1}]')


def _check_piping(text: Text, questions: Sequence[Question], page: int, where: str) -> None:
    """{answer:KEY} may only name a question on an earlier page (its answer is known by then)."""
    by_key = {q.key: q for q in questions}
    for value in text.values():
        for match in re.finditer(r"\{(\w+):([^{}|]*)[^{}]*\}", value):
            if not PLACEHOLDER.fullmatch(match.group(0)):
                raise InvalidInput("surveys.not_placeholder_answer_key", match=match.group(0),
                                   where=where)
            kind, name = match.group(1), match.group(2)
            if kind != "answer":
                continue
            source = by_key.get(name)
            if source is None or source.page >= page:
                raise InvalidInput("surveys.must_name_question_earlier", match=match.group(0),
                                   where=where)


def _check_shape(q: Question, where: str) -> None:
    if q.type in CHOICE and len(q.options) < 2:
        raise InvalidInput("surveys.choice_question_needs_least", where=where)
    if q.type not in CHOICE and q.options:
        raise InvalidInput("surveys.question_takes_no_options", type=q.type, where=where)
    if q.type == QuestionType.MATRIX and not q.rows:
        raise InvalidInput("surveys.matrix_question_needs_rows", where=where)
    if q.type != QuestionType.MATRIX and q.rows:
        raise InvalidInput("surveys.question_takes_no_rows", type=q.type, where=where)
    if q.type in {QuestionType.RATING, QuestionType.MATRIX} and q.scale is None:
        raise InvalidInput("surveys.rating_matrix_question_needs", where=where)


def _scale(qtype: QuestionType, raw: Any, where: str) -> tuple[int, int] | None:
    if raw is None:
        return None
    if qtype in FIXED_SCALES:
        raise InvalidInput("surveys.question_fixed_scale", qtype=qtype, where=f"{where}.scale")
    if not isinstance(raw, Mapping) or not all(isinstance(raw.get(k), int) for k in ("min", "max")):
        raise InvalidInput("surveys.scale_must_min_int", where=f"{where}.scale")
    low, high = raw["min"], raw["max"]
    if not 0 <= low < high <= 100:
        raise InvalidInput("surveys.scale_needs_min_max", where=f"{where}.scale")
    return (low, high)


def _options(raw: Any, languages: Sequence[str], where: str) -> tuple[Option, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInput("surveys.must_list", where=where)
    options: list[Option] = []
    for i, item in enumerate(raw):
        spot = f"{where}[{i + 1}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("code"), str):
            raise InvalidInput("surveys.each_entry_needs_code", where=spot)
        if any(o.code == item["code"] for o in options):
            raise InvalidInput("surveys.code_appears_twice", code=item["code"], where=spot)
        options.append(Option(item["code"], _text(item.get("text"), languages, f"{spot}.text")))
    return tuple(options)


def _conditions(raw: Any, earlier: Sequence[Question], where: str,
                name: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    known = {q.key for q in earlier}
    result = []
    for item in items:
        if not isinstance(item, Mapping):
            raise InvalidInput("surveys.must_condition_object", name=name, where=where)
        source, op = item.get("question") or item.get("invitation"), item.get("op")
        if op not in CONDITION_OPS:
            raise InvalidInput("surveys.unknown_operator", op=op, where=where)
        if not isinstance(source, str) or not source:
            raise InvalidInput("surveys.condition_names_question_invitation",
                               where=where)
        if "question" in item and source not in known:
            raise InvalidInput(
                "surveys.refers_which_not_earlier", name=name, source=source, where=where)
        prefix = "" if "question" in item else "invitation."
        result.append(Condition(f"{prefix}{source}", op, item.get("value")))
    return tuple(result)


def _text(raw: Any, languages: Sequence[str], where: str) -> Text:
    if isinstance(raw, str):
        raw = {lang: raw for lang in languages}
    if not isinstance(raw, Mapping):
        raise InvalidInput("surveys.text_must_string_language", where=where)
    for lang in languages:
        value = raw.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput("surveys.missing_text", lang=lang, where=where)
    return {lang: str(raw[lang]) for lang in languages}


def _reject_unknown(raw: Mapping[str, Any], allowed: frozenset[str] | set[str], where: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise InvalidInput("surveys.unknown_field", unknown=', '.join(unknown), where=where)


def _bool(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise InvalidInput("common.must_true_false", where=where)
    return raw


def _page(raw: Any, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise InvalidInput("surveys.page_must_whole_number", where=f"{where}.page")
    return raw


def _optional_key(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not KEY_PATTERN.match(raw):
        raise InvalidInput("surveys.must_lower_case_letters", where=where)
    return raw


def _optional_str(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("surveys.must_non_empty_string", where=where)
    return raw


def _question_to_dict(q: Question) -> dict[str, Any]:
    out: dict[str, Any] = {"key": q.key, "type": str(q.type), "text": dict(q.text)}
    if q.required:
        out["required"] = True
    for name in ("item_code", "touchpoint"):
        if getattr(q, name):
            out[name] = getattr(q, name)
    if q.page != 1:
        out["page"] = q.page
    if q.scale and q.type not in FIXED_SCALES:
        out["scale"] = {"min": q.scale[0], "max": q.scale[1]}
    for name in ("options", "rows"):
        if getattr(q, name):
            out[name] = [{"code": o.code, "text": dict(o.text)} for o in getattr(q, name)]
    for name in ("allow_other", "randomize"):
        if getattr(q, name):
            out[name] = True
    if q.show_if:
        out["show_if"] = [_condition_to_dict(c) for c in q.show_if]
    if q.max_length != 5000:
        out["max_length"] = q.max_length
    if q.skip_to:
        out["skip_to"] = [{"if": [_condition_to_dict(c) for c in rule.conditions],
                           "page": END if rule.page is None else rule.page}
                          for rule in q.skip_to]
    return out


def _condition_to_dict(c: Condition) -> dict[str, Any]:
    if c.source.startswith("invitation."):
        return {"invitation": c.source.removeprefix("invitation."), "op": c.op, "value": c.value}
    return {"question": c.source, "op": c.op, "value": c.value}
