from tiyan.domain.survey_changes import compare, history
from tiyan.domain.survey_templates import TEMPLATES

NPS = TEMPLATES["plain_nps"]


def with_questions(*questions: dict[str, object]) -> dict[str, object]:
    return {**NPS, "questions": list(questions)}


def test_the_first_version_adds_every_question() -> None:
    assert compare(None, NPS).added == ("nps", "reason")


def test_added_removed_changed_and_reordered_questions_are_named() -> None:
    nps, reason = NPS["questions"]
    why = {"key": "why", "type": "text", "text": "Why?",
           "show_if": [{"question": "nps", "op": "<=", "value": 6}]}
    changes = compare(NPS, with_questions({**reason, "required": True}, nps, why))
    assert (changes.added, changes.removed, changes.changed) == (("why",), (), ("reason",))
    assert changes.reordered and not changes.texts
    changes = compare(NPS, with_questions(nps))
    assert changes.removed == ("reason",) and not changes.reordered


def test_an_unchanged_republish_says_so_and_title_edits_count() -> None:
    assert compare(NPS, NPS).none
    retitled = {**NPS, "title": {"zh-CN": "新标题", "en": "New title"}}
    assert compare(NPS, retitled).texts and not compare(NPS, retitled).none


def test_history_compares_each_version_with_the_one_before() -> None:
    nps, reason = NPS["questions"]
    changes = history([(1, with_questions(nps)), (2, NPS), (3, NPS)])
    assert changes[1].added == ("nps",) and changes[2].added == ("reason",) and changes[3].none
