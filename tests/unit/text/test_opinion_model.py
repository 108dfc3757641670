"""The shipped opinion model reproduces the figures of its training report (full test splits)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiyan.text._aspect_model import load_aspect_model
from tiyan.text._opinion import CLASSES, Target, load_opinion_model
from tiyan.text._opinion_training import absa_figures, car_figures
from tiyan.text.sentiment import MODELS, load_sentiment_model

DATA = Path(__file__).parents[3].parent / "shared" / "data"
REPORT = MODELS / "training_report.json"


def _documents(texts: list[str]) -> list[str]:
    return [found.label for found in load_sentiment_model("zh").predict(texts)]


def _reported() -> dict:
    if not DATA.is_dir():
        pytest.skip(f"labelled corpora not found at {DATA} (needs the shared data folder)")
    report: dict = json.loads(REPORT.read_text(encoding="utf-8"))["opinion_zh"]["test"]
    return report


def test_opinion_model_reproduces_its_chinese_absa_test_figures() -> None:
    reported = _reported()["chinese_absa"]
    zh = load_sentiment_model("zh")
    measured = absa_figures(load_opinion_model(), DATA, "test", _documents, zh.probabilities)
    assert measured["n"] == reported["n"]
    for method in ("model", "blended", "document_label", "all_positive"):
        assert measured[method]["accuracy"] == pytest.approx(
            reported[method]["accuracy"], abs=0.005
        )
    # the model beats both trivial baselines by a clear margin
    assert measured["model"]["accuracy"] > measured["all_positive"]["accuracy"] + 0.05
    assert measured["model"]["accuracy"] > measured["document_label"]["accuracy"] + 0.03
    # so does the blend the seed-term aspects use, on accuracy and on macro-F1
    for baseline in ("document_label", "all_positive"):
        assert measured["blended"]["accuracy"] > measured[baseline]["accuracy"] + 0.03
        assert measured["blended"]["macro_f1"] > measured[baseline]["macro_f1"] + 0.05


def test_car_pair_f1_with_each_sentiment_reproduces_the_report() -> None:
    reported = _reported()["car_aspects_ccf2018"]
    car = load_aspect_model("car_product")
    assert car is not None
    measured = car_figures(load_opinion_model(), car, DATA, "test", _documents)
    for method in ("car_model", "opinion_model", "document_label", "all_positive"):
        assert measured[method] == pytest.approx(reported[method], abs=0.005)
    assert measured["car_model"] > max(measured["document_label"], measured["all_positive"]) + 0.1


def test_probabilities_have_one_row_per_target_and_sum_to_one() -> None:
    model = load_opinion_model()
    rows = model.probabilities([Target("房间很干净", 0, 2), Target("价格太贵了", 0, 2)])
    assert rows.shape == (2, len(CLASSES))
    assert rows.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert model.probabilities([]).shape == (0, len(CLASSES))
