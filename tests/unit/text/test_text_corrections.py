"""Corrections laid over a text's reading (tiyan.domain.text_corrections) and the adaptation
fitted on them (tiyan.text.adaptation): what they change, what they leave alone."""

from __future__ import annotations

import numpy as np
import pytest

from tiyan.domain.text_corrections import TextCorrection, apply_corrections, check_correction
from tiyan.errors import InvalidInput
from tiyan.text.adaptation import (
    SIGNIFICANCE,
    Adaptation,
    AspectChange,
    Example,
    ResidualLayer,
    Reviewed,
    _sign_test,
    adapted_label,
    fit_layer,
    learn_terms,
)
from tiyan.text.adapted import adapt_sentiments
from tiyan.text.sentiment import Sentiment

ASPECTS = [{"aspect": "price", "name": "价格", "label": "negative", "score": -0.8,
            "evidence": "收费透明"},
           {"aspect": "waiting", "name": "等待", "label": "neutral", "score": 0.1,
            "evidence": "等了一会儿"}]
TEXT = "收费透明，等了一会儿，服务热情"


def test_corrections_change_remove_and_add_aspects_and_the_sentiment() -> None:
    reading = apply_corrections("neutral", 0.1, ASPECTS, TEXT, [
        TextCorrection("c", None, "positive"),
        TextCorrection("c", "price", "positive"),
        TextCorrection("c", "waiting", None),
        TextCorrection("c", "staff", "positive", "服务热情"),
    ], {"staff": "员工"})
    assert (reading.sentiment_label, reading.sentiment_score) == ("positive", 0.5)
    by_code = {a["aspect"]: a for a in reading.aspects}
    assert set(by_code) == {"price", "staff"}
    assert by_code["price"]["label"] == "positive" and by_code["price"]["score"] == 0.5
    assert by_code["staff"] == {"aspect": "staff", "name": "员工", "score": 0.5,
                                "evidence": "服务热情", "label": "positive", "corrected": True}


def test_a_score_already_on_the_corrected_side_is_kept() -> None:
    reading = apply_corrections("neutral", -0.9, [], TEXT, [TextCorrection("c", None,
                                                                           "negative")])
    assert reading.sentiment_score == -0.9


@pytest.mark.parametrize(("correction", "where"), [
    (TextCorrection("c", None, "good"), "label"),
    (TextCorrection("c", None, None), "label"),
    (TextCorrection("c", "nope", "positive"), "aspect"),
    (TextCorrection("c", "price", "positive", "不在评论里"), "evidence"),
])
def test_a_wrong_correction_names_its_field(correction: TextCorrection, where: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_correction(correction, known_aspects={"price": "价格"}, text=TEXT)
    assert raised.value.where == where


def test_a_residual_layer_learns_a_domain_word_and_leaves_other_texts_alone() -> None:
    # people say "甜" (sweet) is praise here, while the shipped model read it as neutral
    examples = [Example(f"奶茶{i}号很甜", 0.0, "positive") for i in range(12)]
    examples += [Example(f"奶茶{i}号很苦", 0.0, "negative") for i in range(12)]
    layer = fit_layer(examples)
    assert layer is not None
    (sweet, changed), (other, unchanged) = layer.adjust(["这杯奶茶很甜", "快递到了"],
                                                       [0.0, 0.6])
    assert changed and sweet > 0.2
    assert abs(other - 0.6) < 0.15
    stored = Adaptation({"zh": layer})
    again = Adaptation.from_bytes(stored.to_bytes())
    assert again.sentiment["zh"].adjust(["这杯奶茶很甜"], [0.0]) == layer.adjust(["这杯奶茶很甜"],
                                                                                  [0.0])


def test_no_corrections_fit_nothing() -> None:
    assert fit_layer([]) is None
    assert Adaptation().is_empty


def test_terms_are_learned_only_when_they_recur_and_go_with_the_aspect() -> None:
    changes = [AspectChange("waiting", True, "排队排了好久"),
               AspectChange("waiting", True, "排队的人太多"),
               AspectChange("waiting", True, "人太多了"),
               AspectChange("waiting", True, "人太多"),
               AspectChange("price", False, "等候区环境", ("环境",)),
               AspectChange("price", False, "环境不错", ("环境",)),
               AspectChange("room", False, "room for improvement", ("room",))]
    reviewed = [Reviewed("排队排了好久", frozenset({"waiting"})),
                Reviewed("排队的人太多", frozenset({"waiting"})),
                Reviewed("人太多了", frozenset({"waiting"})),
                Reviewed("人太多", frozenset({"waiting"})),
                Reviewed("店里人太多，价格也贵", frozenset({"price"})),
                Reviewed("人太多，菜也咸", frozenset({"taste"})),
                Reviewed("人太多，服务慢", frozenset({"service"})),
                Reviewed("等候区环境", frozenset()), Reviewed("环境不错", frozenset())]
    words = {"排队排了好久": ["排队", "排", "了", "好久"], "排队的人太多": ["排队", "的", "人太多"],
             "人太多了": ["人太多", "了"], "人太多": ["人太多"]}
    added, dropped = learn_terms(changes, reviewed, lambda text: words.get(text, []))
    assert added == {"waiting": ("排队",)}  # "人太多" goes with other aspects as often
    assert dropped == {"price": ("环境",)}  # "room" was removed once only


def test_a_small_move_keeps_the_shipped_label_and_a_crossing_changes_it() -> None:
    # the opinion model read this aspect neutral at a score outside the neutral band
    assert adapted_label("neutral", 0.3, 0.35) == "neutral"
    assert adapted_label("neutral", 0.3, 0.1) == "neutral"
    assert adapted_label("neutral", 0.3, -0.4) == "negative"
    assert adapted_label("positive", 0.5, 0.1) == "neutral"


def test_a_layer_is_kept_only_when_it_fixes_clearly_more_than_it_breaks() -> None:
    assert _sign_test(12, 1) < SIGNIFICANCE
    assert _sign_test(3, 2) > SIGNIFICANCE
    assert _sign_test(0, 0) == 1.0


def test_corrections_that_call_sure_readings_neutral_teach_the_layer_to_be_less_sure() -> None:
    # an installation whose people call most aspects "neutral" where the models read them
    # positive or negative: the layer learns a scale below 1 on the shipped logit (a bias alone
    # could only move every score one way)
    rows = [(f"评论{i}提到了{thing}", score)
            for i, (thing, score) in enumerate(
                [("外观", 0.7), ("内饰", -0.7), ("座椅", 0.6), ("方向盘", -0.6)] * 15)]
    layer = fit_layer([Example(text, score, "neutral", "look") for text, score in rows])
    assert layer is not None and layer.penalty is not None
    assert layer.scale < 0
    (up, changed_up), (down, changed_down) = layer.adjust(
        ["评论99提到了车灯", "评论98提到了中控"], [0.7, -0.7], ["look", "look"])
    assert changed_up and changed_down and abs(up) < 0.2 and abs(down) < 0.2
    again = Adaptation({}, {"zh": layer}).to_bytes()
    assert Adaptation.from_bytes(again).aspect_sentiment["zh"].scale == layer.scale


def test_an_adapted_document_sentiment_keeps_a_neutral_the_score_does_not_cross_from() -> None:
    # the English model reads some comments neutral (its own class) at a score outside the band
    nudge = ResidualLayer(np.zeros(0, dtype=np.int64), np.zeros(0), 0.1, 1.0, 20)
    (kept,) = adapt_sentiments(Adaptation({"en": nudge}), ["ok I guess"], ["en"],
                               [Sentiment("neutral", 0.3)])
    assert kept.label == "neutral" and kept.score > 0.3
