"""How `tiyan text train` chooses the English sentiment model (selection_en.json, issue 18).

The rule: best leave-one-domain-out mean balanced accuracy on dev (airline tweets ↔ hotel
reviews), among the candidates whose in-domain dev accuracy stays within the guard of the model
shipped before; test figures are never used. Also the two candidate ingredients: negation scope
in the word n-grams and class-balanced fitting.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tiyan.text._english import (
    SELECTION_EN,
    candidate_from,
    english_candidates,
    guard_shortfalls,
    select_english,
)
from tiyan.text._features import FeatureSpec, hash_features, normalise, words
from tiyan.text._fitting import balanced_weights
from tiyan.text._linear import load_linear
from tiyan.text.sentiment import MODEL_FILES, MODELS
from tiyan.text.train import EN_CANDIDATE, EN_CHOSEN, EN_REPORTED

RULE = json.loads(SELECTION_EN.read_text(encoding="utf-8"))
PREVIOUS = {k: v for k, v in RULE["previous"].items() if isinstance(v, dict)}
REPORT = json.loads((MODELS / "training_report.json").read_text(encoding="utf-8"))


def test_words_after_a_negator_are_marked_up_to_the_next_punctuation_or_but() -> None:
    text = normalise("The room wasn’t clean, staff were not rude but slow. Never again!")
    assert words(text, negation=True) == [
        "the", "room", "wasn't", "not_clean",
        "staff", "were", "not", "not_rude", "but", "slow",
        "never", "not_again", "!",
    ]
    assert "not_clean" not in words(text)


def test_a_spec_without_negation_is_stored_as_before_and_one_with_it_reads_back() -> None:
    plain = FeatureSpec(bits=18, char_ngrams=(2, 5), word_ngrams=(1, 3))
    assert plain.as_array().tolist() == [18, 2, 5, 1, 3]
    marked = FeatureSpec(bits=18, char_ngrams=(0, -1), word_ngrams=(1, 2), negation=True)
    assert FeatureSpec.from_array(marked.as_array()) == marked
    assert FeatureSpec.from_array(plain.as_array()) == plain


def test_a_word_only_spec_has_no_character_ngrams() -> None:
    spec = FeatureSpec(bits=18, char_ngrams=(0, -1), word_ngrams=(1, 1))
    features = hash_features([normalise("good hotel")], spec)
    assert len(features.buckets) == 4  # <s>, good, hotel, </s>


def test_balanced_weights_give_every_class_the_same_total() -> None:
    labels = np.array([0, 0, 0, 0, 1, 2, 2, 0])
    weights = balanced_weights(labels)
    totals = [weights[labels == c].sum() for c in (0, 1, 2)]
    assert totals == pytest.approx([len(labels) / 3] * 3)


def _record(name: str, lodo3: float, dev_drop: dict[str, float], test_drop: float = 0.0) -> dict:
    """A candidate whose dev accuracy is the previous model's minus `dev_drop` points."""
    in_domain = {
        corpus: {
            "dev": {"accuracy": round(PREVIOUS[corpus]["dev"] - dev_drop.get(corpus, 0) / 100, 4)},
            "test": {"accuracy": round(PREVIOUS[corpus]["test"] - test_drop / 100, 4)},
        }
        for corpus in EN_REPORTED
    }
    lodo_dev = {
        "3_classes": {"mean": {"accuracy": lodo3, "balanced_accuracy": lodo3}},
        "2_classes": {"mean": {"accuracy": 0.6, "balanced_accuracy": 0.6}},
    }
    return {"name": name, "lodo_dev": lodo_dev, "in_domain": in_domain}


def test_the_reference_is_both_english_domains_and_the_guard_is_one_point() -> None:
    assert set(PREVIOUS) == set(EN_REPORTED)
    assert 0 <= RULE["margin_points"] < RULE["guard_points"] == 1.0


def test_the_best_lodo_candidate_within_the_guard_wins_and_test_never_decides() -> None:
    records = [
        _record("a", 0.44, {}),
        _record("b", 0.47, {"twitter_airline": 0.9}, test_drop=3.0),
        _record("c", 0.50, {"tripadvisor_hotels_en": 1.5}),
    ]
    selection = select_english(records, RULE)
    assert selection["chosen"] == "b"
    assert selection["eligible"] == ["a", "b"]
    by_name = {c["name"]: c for c in selection["candidates"]}
    assert by_name["c"]["dev_shortfall"]["tripadvisor_hotels_en"] == pytest.approx(0.5)
    assert by_name["b"]["test_shortfall"]["twitter_airline"] == pytest.approx(2.0)


def test_when_none_holds_the_guard_the_closest_is_chosen() -> None:
    records = [
        _record("a", 0.50, {"twitter_airline": 2.0}),
        _record("b", 0.45, {"twitter_airline": 1.4}),
    ]
    selection = select_english(records, RULE)
    assert selection["chosen"] == "b"
    assert "no candidate" in selection["why"]
    assert guard_shortfalls(records[1]["in_domain"], RULE)["twitter_airline"] == pytest.approx(0.4)


def test_candidates_are_read_from_the_rule() -> None:
    candidates = english_candidates(RULE)
    assert [c.name for c in candidates] == [entry["name"] for entry in RULE["candidates"]]
    assert len({c.name for c in candidates}) == len(candidates)
    assert candidate_from(RULE["candidates"][0]) == candidates[0]


def test_the_shipped_model_is_the_one_the_rule_chose_and_its_report_shows_the_choice() -> None:
    selection = REPORT["selection_en"]
    assert [c["name"] for c in selection["candidates"]] == [e["name"] for e in RULE["candidates"]]
    records = [
        {k: c[k] for k in ("name", "lodo_dev", "in_domain")} for c in selection["candidates"]
    ]
    assert select_english(records, RULE)["chosen"] == selection["chosen"] == EN_CHOSEN
    chosen = next(c for c in selection["candidates"] if c["name"] == EN_CHOSEN)
    assert chosen["in_domain"] == REPORT["sentiment_en"]
    shipped, _ = load_linear(MODEL_FILES["en"])
    assert shipped.spec == EN_CANDIDATE.spec
