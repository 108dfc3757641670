"""The whole comment's document reading as evidence about its aspects (`_opinion.towards_comment`):
a comment of one opinion pulls its terms' readings towards its pole; one that turns, or whose
clauses read both ways, does not."""

from __future__ import annotations

import numpy as np
import pytest

from tiyan.text import _opinion
from tiyan.text._opinion import (
    CLASSES,
    COMMENT_PULL,
    TURN_COMMENT_PULL,
    Target,
    comment_readings,
    towards_comment,
)
from tiyan.text.aspects import find_aspects

NEGATIVE, NEUTRAL, POSITIVE = (CLASSES.index(c) for c in ("negative", "neutral", "positive"))


def _readings(table: dict[str, float]):  # noqa: ANN202 - a fake document model
    """A document model that reads each text as `table` says: P(positive) − P(negative)."""

    def probabilities(texts: list[str]) -> np.ndarray:
        margins = np.array([table[text] for text in texts])
        return np.column_stack([(1 - margins) / 2, (1 + margins) / 2])

    return probabilities


def test_the_pull_moves_towards_the_comments_pole_by_its_strength() -> None:
    mixed = np.array([[0.3, 0.3, 0.4], [0.3, 0.3, 0.4], [0.1, 0.2, 0.7]])
    opinions = np.array([[0.2, 0.1, 0.7]] * 3)
    margins = np.array([-0.9, 0.0, 0.5])
    pulls = np.array([0.8, 0.8, 0.8])
    pulled = towards_comment(mixed, opinions, margins, pulls, np.zeros(3, dtype=bool))
    weight = 0.8 * 0.9
    assert pulled[0] == pytest.approx((1 - weight) * mixed[0] + weight * np.array([1, 0, 0]))
    assert pulled[1] == pytest.approx(mixed[1])  # a comment read in the middle pulls nothing
    weight = 0.8 * 0.5
    assert pulled[2] == pytest.approx((1 - weight) * mixed[2] + weight * np.array([0, 0, 1]))
    assert pulled.sum(axis=1) == pytest.approx(np.ones(3))
    # never towards neutral
    assert (pulled[:, NEUTRAL] <= mixed[:, NEUTRAL] + 1e-12).all()


def test_neutral_terms_and_kept_rows_are_left_alone() -> None:
    mixed = np.array([[0.2, 0.6, 0.2], [0.1, 0.1, 0.8]])
    opinions = np.array([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    margins = np.array([-1.0, -1.0])
    kept = np.array([False, True])
    pulled = towards_comment(mixed, opinions, margins, np.array([1.0, 1.0]), kept)
    assert pulled == pytest.approx(mixed)


def test_a_comment_of_one_opinion_gets_the_pull_and_one_of_two_does_not() -> None:
    one = "菜很好吃，分量也足"
    turning = "菜很好吃，但是上菜太慢了"
    both_ways = "菜很好吃，服务员态度很差"
    table = {
        one: 0.9, "菜很好吃": 0.8, "分量也足": 0.6,
        turning: -0.4, "但是上菜太慢了": -0.9,
        both_ways: -0.7, "服务员态度很差": -0.95,
    }
    targets = [Target(one, 0, 1), Target(one, 5, 7), Target(turning, 0, 1), Target(both_ways, 0, 1)]
    margins, pulls = comment_readings(targets, _readings(table))
    assert list(pulls) == [COMMENT_PULL, COMMENT_PULL, TURN_COMMENT_PULL, TURN_COMMENT_PULL]
    assert margins[[0, 1, 3]] == pytest.approx([0.9, 0.9, -0.7])
    # while a turn's pull is 0, a comment that turns is not even read
    assert TURN_COMMENT_PULL > 0 or margins[2] == 0.0


def test_a_comment_that_turns_is_read_when_its_pull_is_not_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_opinion, "TURN_COMMENT_PULL", 0.2)
    text = "菜很好吃，但是上菜太慢了"
    table = {text: -0.4}
    margins, pulls = comment_readings([Target(text, 0, 1)], _readings(table))
    assert margins == pytest.approx([-0.4])
    assert list(pulls) == [0.2]


def test_a_clause_read_weakly_the_other_way_leaves_one_opinion() -> None:
    text = "房间很干净，早餐一般"
    table = {text: 0.8, "房间很干净": 0.9, "早餐一般": -(_opinion.AGAINST_COMMENT - 0.1)}
    _, pulls = comment_readings([Target(text, 0, 2)], _readings(table))
    assert list(pulls) == [COMMENT_PULL]


@pytest.mark.parametrize(
    ("text", "industry", "expected"),
    [
        # two opinions and no contrast word: each aspect keeps its own
        ("菜很好吃，服务员态度很差", "restaurant", {"taste": "positive", "service": "negative"}),
        ("送餐太慢了，菜都凉了", "restaurant", {"delivery_speed": "negative", "taste": "negative"}),
        ("味道不错，分量足", "restaurant", {"taste": "positive", "portion": "positive"}),
    ],
)
def test_aspects_of_real_comments(text: str, industry: str, expected: dict[str, str]) -> None:
    (found,) = find_aspects([text], ["zh"], industry)
    assert {a.aspect: a.label for a in found if a.aspect in expected} == expected


def test_remembered_readings_are_the_readings() -> None:
    from tiyan.text import sentiment
    from tiyan.text.sentiment import SentimentModel, load_sentiment_model

    shipped = load_sentiment_model("zh")
    fresh = SentimentModel("zh", shipped.linear, shipped.classes, shipped.lexicon_share)
    texts = ["菜很好吃", "服务员态度很差", "菜很好吃", "x" * (sentiment.READINGS_TEXT_LIMIT + 1)]
    first = fresh.probabilities(texts[:2])
    again = fresh.probabilities(texts)  # two remembered, one repeated, one too long to keep
    assert again[:2] == pytest.approx(first)
    assert again[2] == pytest.approx(first[0])
    alone = SentimentModel("zh", shipped.linear, shipped.classes).probabilities(texts[3:])
    assert again[3] == pytest.approx(alone[0])
    assert ("", texts[3]) not in fresh._recent
    assert fresh.probabilities([]).shape == (0, 2)


def test_the_remembered_readings_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from tiyan.text import sentiment
    from tiyan.text.sentiment import SentimentModel, load_sentiment_model

    monkeypatch.setattr(sentiment, "READINGS_KEPT", 10)
    shipped = load_sentiment_model("zh")
    model = SentimentModel("zh", shipped.linear, shipped.classes)
    for start in range(0, 40, 4):
        model.probabilities([f"第{k}条评论很好" for k in range(start, start + 4)])
        assert len(model._recent) <= 10
    big = [f"第{k}条" for k in range(11)]  # a batch larger than what is kept: not kept
    assert model.probabilities(big).shape == (11, 2)
    assert not any(text in big for _, text in model._recent)
