"""The English polarity lexicon's reading and how it is mixed into the model's probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from tiyan.text._polarity_lexicon import LONGEST_PIECE, _pieces, lexicon_polarity, mixed
from tiyan.text.sentiment import load_sentiment_model


def test_the_lexicon_reads_polar_words_negation_and_plain_information() -> None:
    found = lexicon_polarity(
        [
            "The staff were rude and unhelpful.",
            "The food was delicious.",
            "The food was not good.",
            "We checked in at 3 pm.",
            "",
        ]
    )
    assert found[0] < -0.3
    assert found[1] > 0.5
    assert found[2] < 0
    assert found[3] == 0.0
    assert found[4] == 0.0


@pytest.mark.parametrize("share", [0.0, 0.25, 0.5, 1.0])
def test_the_lexicon_pulls_towards_its_pole_by_share_times_its_strength(share: float) -> None:
    rng = np.random.default_rng(0)
    three = rng.dirichlet(np.ones(3), size=20)
    two = rng.dirichlet(np.ones(2), size=20)
    polarity = rng.uniform(-1, 1, size=20)
    for probabilities in (three, two):
        result = mixed(probabilities, polarity, share)
        assert result.sum(axis=1) == pytest.approx(np.ones(20))
        assert (result >= 0).all()
        score = result[:, -1] - result[:, 0]
        weight = share * np.abs(polarity)
        model_score = probabilities[:, -1] - probabilities[:, 0]
        expected = (1 - weight) * model_score + weight * np.sign(polarity)
        assert score == pytest.approx(expected)


def test_a_text_without_a_polar_word_keeps_the_models_reading() -> None:
    probabilities = np.array([[0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    assert mixed(probabilities, np.array([0.0, 0.0]), 0.5) == pytest.approx(probabilities)
    # the lexicon never adds to the neutral class
    pulled = mixed(probabilities, np.array([0.9, -0.9]), 0.5)
    assert (pulled[:, 1] <= probabilities[:, 1]).all()


def test_a_share_of_zero_leaves_the_model_alone() -> None:
    probabilities = np.array([[0.2, 0.3, 0.5]])
    assert mixed(probabilities, np.array([-1.0]), 0.0) is probabilities


def test_a_long_text_is_read_in_pieces_of_whole_sentences() -> None:
    sentence = "The room was clean but the breakfast was awful. "
    text = sentence * 2_000  # about 100 KB: read whole, the lexicon would take many seconds
    pieces = _pieces(text)
    assert len(pieces) > 1
    assert all(len(piece) <= LONGEST_PIECE for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert all(piece.rstrip().endswith(".") for piece in pieces)
    # every piece says the same, so the whole reads as one piece does
    assert lexicon_polarity([text])[0] == pytest.approx(lexicon_polarity([pieces[0]])[0])


def test_a_sentence_longer_than_a_piece_is_cut() -> None:
    pieces = _pieces("bad " * 1_000)
    assert all(len(piece) <= LONGEST_PIECE for piece in pieces)
    assert lexicon_polarity(["bad " * 1_000])[0] < 0


def test_the_shipped_english_model_mixes_the_lexicon_by_its_stored_share() -> None:
    model = load_sentiment_model("en")
    assert 0.0 < model.lexicon_share < 1.0
    texts = ["The waiter was rude and ignored us.", "The food was delicious and generous."]
    alone = type(model)("en", model.linear, model.classes).probabilities(texts)
    with_lexicon = model.probabilities(texts)
    share = model.lexicon_share
    expected = mixed(alone, lexicon_polarity(texts), share)
    assert with_lexicon == pytest.approx(expected)
    assert [s.label for s in model.predict(texts)] == ["negative", "positive"]
