"""An answer as a person reads it (issue 16): question texts and option labels from the survey
version; an answer without its question named by its item's text, not by its key."""

from tiyan.domain.answer_labels import needs_item_texts, read_answers
from tiyan.domain.surveys import parse_definition

SURVEY = parse_definition({
    "title": {"zh-CN": "回访", "en": "Follow-up"},
    "questions": [
        {"key": "nps", "type": "nps", "item_code": "nps",
         "text": {"zh-CN": "您有多大可能推荐我们?", "en": "How likely are you to recommend us?"}},
        {"key": "reason", "type": "single", "text": {"zh-CN": "原因", "en": "Why"},
         "options": [{"code": "price", "text": {"zh-CN": "价格", "en": "Price"}},
                     {"code": "wait", "text": {"zh-CN": "等待", "en": "Waiting"}}]},
    ],
})


def stored(key: str, item: str | None, num: float | None = None, text: str | None = None,
           picked: list[str] | None = None) -> dict[str, object]:
    return {"question_key": key, "item_code": item, "value_num": num, "value_text": text,
            "value_json": picked}


def test_answers_read_with_question_texts_option_labels_and_scales() -> None:
    read = read_answers(SURVEY, [stored("reason", "reason", text="price", picked=["price"]),
                                 stored("nps", "nps", 3.0)], "zh-CN")
    assert [(a.question, a.value) for a in read] == [("您有多大可能推荐我们?", "3 / 10"),
                                                     ("原因", "价格")]
    assert not needs_item_texts(SURVEY, [stored("nps", "nps", 3.0)])


def test_an_imported_answer_is_named_by_its_items_text_where_there_is_one() -> None:
    answers = [stored("rating_col", "nps", 6.0), stored("free_col", None, text="太贵")]
    assert needs_item_texts(None, answers)
    read = read_answers(None, answers, "en", {"nps": "How likely are you to recommend us?"})
    assert [(a.question, a.value) for a in read] == [
        ("free_col", "太贵"), ("How likely are you to recommend us?", "6")]
    assert not needs_item_texts(None, [stored("free_col", None, text="太贵")])  # nothing to name
