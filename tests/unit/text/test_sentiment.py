"""Document sentiment: the shipped Chinese and English models."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tiyan.text._domains import chinese_sentiment
from tiyan.text._features import FeatureSpec, hash_features, normalise
from tiyan.text.sentiment import (
    MODELS,
    NEUTRAL_BAND,
    binary_label,
    load_sentiment_model,
    predict_by_language,
)
from tiyan.text.train import binary_accuracy

DATA = Path(__file__).parents[3].parent / "shared" / "data"
REPORT = MODELS / "training_report.json"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("菜味道很棒，送餐也很及时，下次还点", "positive"),
        ("太难吃了，送了两个小时，再也不点了", "negative"),
        ("房间干净，前台服务热情，早餐丰富", "positive"),
        ("隔音太差，一晚上没睡着，空调还坏了", "negative"),
        ("质量很好，物流也快，好评", "positive"),
        ("用了两天就坏了，客服也不理人", "negative"),
    ],
)
def test_chinese_model_reads_obvious_reviews(text: str, label: str) -> None:
    (sentiment,) = load_sentiment_model("zh").predict([text])
    assert sentiment.label == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("@united thank you so much, the crew was amazing and we landed early!", "positive"),
        (
            "@AmericanAir lost my bag again and nobody at the desk will help. Worst airline ever",
            "negative",
        ),
        ("@SouthwestAir what time does the gate open for flight 1234?", "neutral"),
    ],
)
def test_english_model_has_three_classes(text: str, label: str) -> None:
    (sentiment,) = load_sentiment_model("en").predict([text])
    assert sentiment.label == label


def test_scores_lie_in_minus_one_to_one_and_match_the_labels() -> None:
    texts = ["好", "很差", "一般般吧", "还行，就是有点贵", "非常非常好吃！！！"]
    for sentiment in load_sentiment_model("zh").predict(texts):
        assert -1.0 <= sentiment.score <= 1.0
        assert sentiment.label == binary_label(sentiment.score)


def test_chinese_scores_close_to_zero_are_neutral() -> None:
    assert binary_label(NEUTRAL_BAND / 2) == "neutral"
    assert binary_label(-NEUTRAL_BAND / 2) == "neutral"
    assert binary_label(NEUTRAL_BAND) == "positive"
    assert binary_label(-0.9) == "negative"


@pytest.mark.parametrize("industry", ["restaurant", "hotel", "retail", "banking", "car_aftersales"])
def test_every_industry_reads_chinese_with_the_shared_weights(industry: str) -> None:
    # leave-one-domain-out found that industry copies did not help unseen domains of their
    # industry, and food delivery is not the restaurant industry (docs/models/text.md)
    model = load_sentiment_model("zh")
    text = ["送餐很慢，菜都凉了"]
    assert model.linear.groups == {}
    assert model.probabilities(text, industry)[0] == pytest.approx(
        model.probabilities(text, None)[0]
    )


def test_batches_route_english_to_the_english_model() -> None:
    texts = ["服务很好", "Great service, thanks!", "服务很差"]
    found = predict_by_language(texts, ["zh", "en", "zh"])
    assert [s.label for s in found] == ["positive", "positive", "negative"]
    assert found[1] == load_sentiment_model("en").predict([texts[1]])[0]


def test_empty_batch_gives_no_sentiments() -> None:
    assert load_sentiment_model("zh").predict([]) == []


def test_features_of_a_text_do_not_depend_on_its_batch() -> None:
    spec = FeatureSpec(bits=18, char_ngrams=(1, 3), word_ngrams=(1, 2))
    alone = hash_features([normalise("服务很好 great")], spec)
    batch = hash_features([normalise(t) for t in ["别的", "服务很好 great", "more text"]], spec)
    assert list(batch.buckets[batch.docs == 1]) == list(alone.buckets)


def test_normalise_folds_width_case_digits_mentions_and_links() -> None:
    assert normalise("ＡＢＣ１２３ @United see https://x.co/a") == "abc0 @ see http"
    # each fold on its own (only a text with something to fold takes the substitutions)
    assert normalise("房间１２号") == "房间0号"
    assert normalise("房间\x07干净") == "房间 干净"
    assert normalise("＠小王 你好") == "@ 你好"
    assert normalise("看ｗｗｗ．ｘ．ｃｏｍ") == "看http"
    assert normalise("很好ＯＫ") == "很好ok"


def _binary_accuracy(corpus: str, industry: str | None) -> float:
    if not DATA.is_dir():
        pytest.skip(f"labelled corpora not found at {DATA} (needs the shared data folder)")
    rows = [r for r in chinese_sentiment(DATA) if r.corpus == corpus and r.split == "test"]
    return binary_accuracy(load_sentiment_model("zh"), rows, industry)


def _test_rows(corpus: str) -> list[dict[str, str]]:
    path = DATA / corpus / f"{corpus}.csv"
    if not path.is_file():
        pytest.skip(f"labelled corpus not found at {path} (needs the shared data folder)")
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["split"] == "test"]


@pytest.mark.parametrize(
    ("corpus", "industry"),
    [
        ("waimai_10k", "restaurant"),
        ("chnsenticorp_htl", "hotel"),
        ("online_shopping_10_cats", "retail"),
        ("chinese_absa", None),
    ],
)
def test_shipped_chinese_model_reproduces_its_reported_test_accuracy(
    corpus: str, industry: str | None
) -> None:
    reported = json.loads(REPORT.read_text(encoding="utf-8"))["sentiment_zh"][corpus]["test"][
        "accuracy"
    ]
    assert _binary_accuracy(corpus, industry) == pytest.approx(reported, abs=0.005)


@pytest.mark.parametrize("corpus", ["twitter_airline", "tripadvisor_hotels_en"])
def test_shipped_english_model_reproduces_its_reported_test_accuracy(corpus: str) -> None:
    rows = _test_rows(corpus)
    reported = json.loads(REPORT.read_text(encoding="utf-8"))["sentiment_en"][corpus]["test"]
    labels = [s.label for s in load_sentiment_model("en").predict([r["text"] for r in rows])]
    accuracy = float(np.mean([p == r["label"] for p, r in zip(labels, rows, strict=True)]))
    assert accuracy == pytest.approx(reported["accuracy"], abs=0.005)


def test_the_width_shortcut_gives_exactly_nfkc() -> None:
    import random
    import unicodedata

    from tiyan.text._features import _nfkc

    # full-width forms, half-width katakana and their sound marks, combining marks, ligatures,
    # circled digits, CJK compatibility ideographs, Hangul jamo, emoji, the ideographic space
    pool = "好的，房间！？Ａｚ０９　ｶﾞﾟ\uff9e\u0301\u0308\u3099ﬁ①㈱豈\u1100\u1161😀 a.,e" + "".join(
        chr(c) for c in range(0xFF01, 0xFF5F)
    )
    generator = random.Random(18)
    for _ in range(20_000):
        text = "".join(generator.choice(pool) for _ in range(generator.randint(0, 12)))
        assert _nfkc(text) == unicodedata.normalize("NFKC", text), repr(text)
