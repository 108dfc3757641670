"""An answer as a person reads it: the question's text in their language and the value in
words (an option's label rather than its code, a score with its scale), from the survey
version the response was given on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tiyan.domain.surveys import CHOICE, Question, QuestionType, SurveyDefinition

YES_NO = {"zh-CN": ("否", "是"), "en": ("No", "Yes")}


@dataclass(frozen=True)
class ReadAnswer:
    key: str
    question: str  # the question's text (its key when the version no longer has it)
    value: str  # the answer in words
    score: float | None = None  # the number, for scaled questions
    low: int | None = None  # the scale's ends, when the question has a scale
    high: int | None = None
    is_comment: bool = False


def _text(texts: Mapping[str, str], locale: str, fallback: str) -> str:
    return texts.get(locale) or next((v for v in texts.values() if v), fallback)


def _number(value: float) -> str:
    return f"{value:g}"


def read_answer(question: Question | None, key: str, answer: Mapping[str, Any],
                locale: str, item_texts: Mapping[str, str] | None = None) -> ReadAnswer:
    """One stored answer (value_num / value_text / value_json) in words. An answer without
    its question (an imported review, a question since removed) is named by its item's text
    in `item_texts` (item code -> question text) where it has an item, else by its key."""
    num, text, picked = answer.get("value_num"), answer.get("value_text"), answer.get("value_json")
    if question is None:
        shown = _number(num) if num is not None else (text or _joined(picked))
        title = (item_texts or {}).get(str(answer.get("item_code") or ""), key)
        return ReadAnswer(key, title, shown, num, is_comment=bool(text) and num is None)
    title = _text(question.text, locale, question.key)
    if question.type == QuestionType.MATRIX and "." in key:
        row_code = key.split(".", 1)[1]
        row = next((r for r in question.rows if r.code == row_code), None)
        title = f"{title} · {_text(row.text, locale, row_code) if row else row_code}"
    if question.type in CHOICE:
        labels = {o.code: _text(o.text, locale, o.code) for o in question.options}
        codes = picked if isinstance(picked, list) else ([text] if text else [])
        words = [labels.get(str(c), str(c)) for c in codes if c != "other"]
        if text and (question.type == QuestionType.MULTI or text not in labels):
            words.append(text)  # the "other" text the customer wrote
        return ReadAnswer(key, title, "、".join(words) if locale == "zh-CN" else ", ".join(words))
    if question.type == QuestionType.YESNO and num is not None:
        return ReadAnswer(key, title, YES_NO.get(locale, YES_NO["en"])[int(num) == 1])
    if question.type == QuestionType.TEXT:
        return ReadAnswer(key, title, text or "", is_comment=True)
    if num is not None:
        bounds = question.bounds()
        if bounds is None:
            return ReadAnswer(key, title, _number(num), num)
        return ReadAnswer(key, title, f"{_number(num)} / {bounds[1]}", num, bounds[0], bounds[1])
    return ReadAnswer(key, title, text or _joined(picked))


def read_answers(definition: SurveyDefinition | None, answers: Sequence[Mapping[str, Any]],
                 locale: str, item_texts: Mapping[str, str] | None = None) -> list[ReadAnswer]:
    """A response's answers in the survey's order (answers to unknown questions last, named
    by `item_texts` where their item has a text: see read_answer)."""
    questions = {q.key: q for q in definition.questions} if definition else {}
    order = {key: index for index, key in enumerate(questions)}

    def question_of(key: str) -> Question | None:
        return questions.get(key) or questions.get(key.split(".", 1)[0])

    ranked = sorted(answers, key=lambda a: (order.get(str(a["question_key"]).split(".", 1)[0],
                                                      len(order)), str(a["question_key"])))
    return [read_answer(question_of(str(a["question_key"])), str(a["question_key"]), a, locale,
                        item_texts) for a in ranked]


def needs_item_texts(definition: SurveyDefinition | None,
                     answers: Sequence[Mapping[str, Any]]) -> bool:
    """Whether some answer has no question in the definition but an item code to be named by."""
    keys = {q.key for q in definition.questions} if definition else set()
    return any(a.get("item_code") and str(a["question_key"]).split(".", 1)[0] not in keys
               for a in answers)


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)
