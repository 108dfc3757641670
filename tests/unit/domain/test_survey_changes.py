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


def test_a_question_may_not_change_the_measure_of_its_item_code_or_key() -> None:
    import pytest

    from tiyan.domain.survey_changes import Measure, check_measures
    from tiyan.domain.surveys import parse_definition
    from tiyan.errors import InvalidInput

    definition = parse_definition({"title": {"zh-CN": "t", "en": "t"}, "questions": [
        {"key": "overall", "type": "rating", "scale": {"min": 0, "max": 10},
         "item_code": "csat", "text": {"zh-CN": "满意", "en": "Satisfied"}}]})
    csat = Measure("csat", (1, 5))
    with pytest.raises(InvalidInput) as refused:
        check_measures(definition, {"csat": (csat, "survey a version 1")}, {})
    assert refused.value.where == 'question "overall".item_code'
    with pytest.raises(InvalidInput) as refused:
        check_measures(definition, {}, {"overall": csat})
    assert refused.value.where == 'question "overall".type'
    check_measures(definition, {"csat": (Measure("rating", (0, 10)), "x")},
                   {"overall": Measure("rating", (0, 10))})  # the same measure: fine


def test_the_refusal_names_the_measures_and_the_survey_in_the_readers_language() -> None:
    """It read 'csat 1–5 (survey after-sales version 1)' and 'rating 0–10' on the Chinese page."""
    import pytest

    from tiyan.domain.survey_changes import Measure, check_measures
    from tiyan.domain.surveys import parse_definition
    from tiyan.errors import InvalidInput, Phrase

    definition = parse_definition({"title": {"zh-CN": "t", "en": "t"}, "questions": [
        {"key": "overall", "type": "rating", "scale": {"min": 0, "max": 10},
         "item_code": "csat", "text": {"zh-CN": "满意", "en": "Satisfied"}}]})
    where = Phrase("survey_changes.published_in", {"survey": "售后回访", "version": 2})
    with pytest.raises(InvalidInput) as refused:
        check_measures(definition, {"csat": (Measure("csat", (1, 5)), where)}, {})
    assert refused.value.text("en").startswith(
        'item code "csat" already measures CSAT 1–5 (survey "售后回访", version 2); as rating '
        "0–10 its answers")
    assert refused.value.text("zh-CN").startswith(
        "题目代码“csat”已用于衡量 满意度 CSAT 1–5（问卷“售后回访”第 2 版）；若改为 评分 0–10，")
    with pytest.raises(InvalidInput) as refused:
        check_measures(definition, {}, {"overall": Measure("yesno", None)})
    assert "是 / 否" in refused.value.text("zh-CN") and "yes / no" in refused.value.text("en")
