"""The survey builder's form, both ways: a stored definition ⇄ flat HTML form fields.

The editor posts every question as flat fields (`q3.text.en`, `q3.c0.op`, skip rules as
`q3.s0.target` with their conditions `q3.s0.c0.op` …). `definition_from_form`
turns them back into the stored JSON shape, which `parse_definition` then validates — so the
form never needs rules of its own. Fields the form has no control for (added to the definition
format later) travel in a hidden JSON field per question and are never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiyan.domain import json_depth
from tiyan.domain.surveys import CHOICE, LANGUAGES, QuestionType
from tiyan.errors import InvalidInput

FORM_FIELDS = frozenset({"key", "type", "text", "required", "item_code", "touchpoint", "page",
                         "scale", "options", "rows", "allow_other", "randomize", "show_if",
                         "skip_to"})
SCALE_TYPES = frozenset({QuestionType.RATING, QuestionType.MATRIX})
OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "answered")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass
class ConditionForm:
    source: str = ""
    op: str = "=="
    value: str = ""


@dataclass
class SkipForm:
    """One skip rule: after the question's page go to `target` (a page number or "end") when
    every condition holds."""

    target: str = ""
    conditions: list[ConditionForm] = field(default_factory=list)


@dataclass
class QuestionForm:
    """One question as the editor shows it (every value as the user typed it)."""

    key: str
    type: str = "text"
    text: dict[str, str] = field(default_factory=dict)
    required: bool = False
    page: str = "1"
    item_code: str = ""
    touchpoint: str = ""
    scale_min: str = ""
    scale_max: str = ""
    options: str = ""
    rows: str = ""
    allow_other: bool = False
    randomize: bool = False
    conditions: list[ConditionForm] = field(default_factory=list)
    skips: list[SkipForm] = field(default_factory=list)
    extra: str = ""  # JSON of fields the form has no control for


@dataclass
class SurveyForm:
    title: dict[str, str]
    intro: dict[str, str]
    languages: list[str]
    questions: list[QuestionForm]

    def later_pages(self, q: QuestionForm) -> list[str]:
        """The pages after `q`'s page that some question is on: where a skip rule may go (plus
        the rule's own target when it is none of them, so a wrong one is shown, not lost)."""
        here = _int(q.page, 0)
        pages = sorted({n for n in (_int(other.page, 0) for other in self.questions)
                        if isinstance(n, int) and n > here})
        out = [str(n) for n in pages]
        return out + [s.target for s in q.skips if s.target not in (*out, "end", "")]


# --- definition -> form --------------------------------------------------------------------

def form_from_definition(raw: Mapping[str, Any]) -> SurveyForm:
    languages = list(raw.get("languages") or LANGUAGES)
    return SurveyForm(title=_texts(raw.get("title"), languages),
                      intro=_texts(raw.get("intro"), languages), languages=languages,
                      questions=[question_form(q, languages) for q in raw.get("questions") or []])


def question_form(q: Mapping[str, Any], languages: Sequence[str] = LANGUAGES) -> QuestionForm:
    scale = q.get("scale") or {}
    extra = {k: v for k, v in q.items() if k not in FORM_FIELDS}
    return QuestionForm(
        key=str(q.get("key", "")), type=str(q.get("type", "text")),
        text=_texts(q.get("text"), languages), required=bool(q.get("required")),
        page=str(q.get("page", 1)), item_code=str(q.get("item_code") or ""),
        touchpoint=str(q.get("touchpoint") or ""),
        scale_min=str(scale.get("min", "")) if isinstance(scale, Mapping) else "",
        scale_max=str(scale.get("max", "")) if isinstance(scale, Mapping) else "",
        options=_lines(q.get("options"), languages), rows=_lines(q.get("rows"), languages),
        allow_other=bool(q.get("allow_other")), randomize=bool(q.get("randomize")),
        conditions=[_condition_form(c) for c in _as_list(q.get("show_if"))],
        skips=[_skip_form(r) for r in _as_list(q.get("skip_to"))],
        extra=json.dumps(extra, ensure_ascii=False) if extra else "",
    )


def _texts(raw: Any, languages: Sequence[str]) -> dict[str, str]:
    if isinstance(raw, str):
        return {lang: raw for lang in languages}
    if isinstance(raw, Mapping):
        return {lang: str(raw.get(lang) or "") for lang in languages}
    return {lang: "" for lang in languages}


def _lines(items: Any, languages: Sequence[str]) -> str:
    lines = []
    for item in items or []:
        if isinstance(item, Mapping):
            texts = _texts(item.get("text"), languages)
            lines.append(" | ".join([str(item.get("code", "")), *texts.values()]))
    return "\n".join(lines)


def _condition_form(raw: Any) -> ConditionForm:
    if not isinstance(raw, Mapping):
        return ConditionForm()
    source = f"invitation.{raw['invitation']}" if "invitation" in raw else \
        str(raw.get("question", ""))
    value = raw.get("value")
    text = ", ".join(_scalar_text(v) for v in value) if isinstance(value, list) else \
        _scalar_text(value)
    return ConditionForm(source, str(raw.get("op", "==")), text)


def _skip_form(raw: Any) -> SkipForm:
    if not isinstance(raw, Mapping):
        return SkipForm()
    target = raw.get("page")
    return SkipForm("" if target is None else str(target),
                    [_condition_form(c) for c in _as_list(raw.get("if"))])


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


# --- form -> definition --------------------------------------------------------------------

def form_from_fields(fields: Mapping[str, str]) -> SurveyForm:
    """The editor's posted fields (a flat mapping) as a SurveyForm."""
    languages = [lang for lang in fields.get("languages", ",".join(LANGUAGES)).split(",")
                 if lang in LANGUAGES] or list(LANGUAGES)
    count = _int(fields.get("count"), 0)
    questions = [_question_fields(fields, f"q{i}.", languages) for i in range(min(count, 500))]
    return SurveyForm(
        title={lang: fields.get(f"title.{lang}", "") for lang in languages},
        intro={lang: fields.get(f"intro.{lang}", "") for lang in languages},
        languages=languages, questions=questions)


def _conditions_fields(fields: Mapping[str, str], p: str) -> list[ConditionForm]:
    conditions = []
    for j in range(min(_int(fields.get(f"{p}conds"), 0), 50)):
        c = ConditionForm(fields.get(f"{p}c{j}.source", "").strip(),
                          fields.get(f"{p}c{j}.op", "=="), fields.get(f"{p}c{j}.value", ""))
        if c.source:
            conditions.append(c)
    return conditions


def _skip_fields(fields: Mapping[str, str], p: str) -> list[SkipForm]:
    """The skip rules posted for one question: a rule with a target or any condition is kept
    (a half-filled one is then refused on save, naming the rule), an empty one is not."""
    rules = []
    for k in range(min(_int(fields.get(f"{p}skips"), 0), 20)):
        rule = SkipForm(fields.get(f"{p}s{k}.target", "").strip(),
                        _conditions_fields(fields, f"{p}s{k}."))
        if rule.target or rule.conditions:
            rules.append(rule)
    return rules


def _question_fields(fields: Mapping[str, str], p: str,
                     languages: Sequence[str]) -> QuestionForm:
    return QuestionForm(
        key=fields.get(f"{p}key", "").strip(), type=fields.get(f"{p}type", "text"),
        text={lang: fields.get(f"{p}text.{lang}", "") for lang in languages},
        required=f"{p}required" in fields, page=fields.get(f"{p}page", "1").strip(),
        item_code=fields.get(f"{p}item_code", "").strip(),
        touchpoint=fields.get(f"{p}touchpoint", "").strip(),
        scale_min=fields.get(f"{p}scale_min", "").strip(),
        scale_max=fields.get(f"{p}scale_max", "").strip(),
        options=fields.get(f"{p}options", ""), rows=fields.get(f"{p}rows", ""),
        allow_other=f"{p}allow_other" in fields, randomize=f"{p}randomize" in fields,
        conditions=_conditions_fields(fields, p), skips=_skip_fields(fields, p),
        extra=fields.get(f"{p}extra", ""))


def definition_from_form(form: SurveyForm) -> dict[str, Any]:
    """The stored JSON shape of what the editor holds (validated later by parse_definition)."""
    raw: dict[str, Any] = {"title": dict(form.title), "languages": list(form.languages),
                           "questions": [question_from_form(q) for q in form.questions]}
    if any(v.strip() for v in form.intro.values()):
        raw["intro"] = dict(form.intro)
    return raw


def question_from_form(q: QuestionForm) -> dict[str, Any]:
    out: dict[str, Any] = {"key": q.key, "type": q.type, "text": dict(q.text)}
    if q.required:
        out["required"] = True
    out["page"] = _int(q.page, q.page)
    for name in ("item_code", "touchpoint"):
        if getattr(q, name):
            out[name] = getattr(q, name)
    if q.type in SCALE_TYPES:
        out["scale"] = {"min": _int(q.scale_min, q.scale_min), "max": _int(q.scale_max,
                                                                         q.scale_max)}
    if q.type in CHOICE:
        out["options"] = parse_lines(q.options)
        if q.allow_other:
            out["allow_other"] = True
    if q.type == QuestionType.MATRIX:
        out["rows"] = parse_lines(q.rows)
    if q.randomize and (q.type in CHOICE or q.type == QuestionType.MATRIX):
        out["randomize"] = True
    if q.conditions:
        out["show_if"] = [condition_from_form(c) for c in q.conditions]
    if q.skips:
        out["skip_to"] = [{"if": [condition_from_form(c) for c in rule.conditions],
                           "page": rule.target if rule.target == "end" else
                           _int(rule.target, rule.target)} for rule in q.skips]
    out.update(_extra(q.extra, q.key))
    return out


def parse_lines(text: str) -> list[dict[str, Any]]:
    """`code | 中文 | English` per line (one text alone is used for both languages)."""
    items = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        texts = parts[1:] or parts[:1]
        label: Any = texts[0] if len(texts) == 1 else dict(zip(LANGUAGES, texts, strict=False))
        items.append({"code": parts[0], "text": label})
    return items


def condition_from_form(c: ConditionForm) -> dict[str, Any]:
    source = {"invitation": c.source.removeprefix("invitation.")} \
        if c.source.startswith("invitation.") else {"question": c.source}
    if c.op == "answered":
        return {**source, "op": c.op}
    if c.op in ("in", "not_in"):
        value: Any = [_scalar(v) for v in c.value.split(",") if v.strip()]
    else:
        value = _scalar(c.value)
    return {**source, "op": c.op, "value": value}


def _scalar(text: str) -> Any:
    text = text.strip()
    if NUMBER.match(text):
        return float(text) if "." in text else int(text)
    return {"true": True, "false": False}.get(text, text)


def _extra(text: str, key: str) -> dict[str, Any]:
    """Settings the form has no control for, edited as a JSON object."""
    if not text.strip():
        return {}
    try:
        value = json_depth.loads(text)
    except ValueError as exc:
        raise InvalidInput("survey_form.other_settings_not_valid", exc=exc,
                           where=f'question "{key}".extra') from None
    if not isinstance(value, dict):
        raise InvalidInput("survey_form.other_settings_must_json",
                           where=f'question "{key}".extra')
    return {k: v for k, v in value.items() if k not in FORM_FIELDS}


def _int(text: Any, default: Any) -> Any:
    try:
        return int(str(text).strip())
    except ValueError:
        return default


# --- editing actions -----------------------------------------------------------------------

def apply_action(form: SurveyForm, action: str, new_type: str = "text") -> SurveyForm:
    """add / remove:i / up:i / down:i on the question list (anything else changes nothing)."""
    name, _, arg = action.partition(":")
    items = form.questions
    index = _int(arg, -1)
    if name == "add":
        items.append(QuestionForm(key=fresh_key(items), type=new_type, text={
            lang: "" for lang in form.languages}, page=items[-1].page if items else "1"))
    elif 0 <= index < len(items):
        if name == "remove":
            del items[index]
        elif name in ("up", "down"):
            other = index - 1 if name == "up" else index + 1
            if 0 <= other < len(items):
                items[index], items[other] = items[other], items[index]
    return form


def fresh_key(items: Sequence[QuestionForm]) -> str:
    taken = {q.key for q in items}
    n = len(items) + 1
    while f"q{n}" in taken:
        n += 1
    return f"q{n}"


QUESTION_IN_WHERE = re.compile(r'^question "([^"]+)"')
QUESTION_NUMBER = re.compile(r"^question (\d+)")


def error_question(where: str | None, form: SurveyForm) -> int | None:
    """Which question (index in the form) a validation error's `where` points at."""
    if not where:
        return None
    if m := QUESTION_IN_WHERE.match(where):
        return next((i for i, q in enumerate(form.questions) if q.key == m.group(1)), None)
    if m := QUESTION_NUMBER.match(where):
        index = int(m.group(1)) - 1
        return index if 0 <= index < len(form.questions) else None
    return None
