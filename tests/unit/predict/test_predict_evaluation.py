"""Evaluation figures, the calibration table and the reliability plot."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

from tiyan.predict import InvalidDataset, evaluate_probabilities, reliability_svg
from tiyan.predict.evaluation import calibration_table

SVG = "{http://www.w3.org/2000/svg}"


def test_brier_of_the_base_rate_uses_the_training_rate() -> None:
    churned = np.array([True, False, False, False])
    figures = evaluate_probabilities(
        np.array([0.9, 0.1, 0.2, 0.3]), churned, training_base_rate=0.5
    )
    assert figures.brier == pytest.approx((0.1**2 + 0.1**2 + 0.2**2 + 0.3**2) / 4)
    assert figures.brier_base_rate == pytest.approx(0.25)
    assert figures.roc_auc == 1.0
    assert figures.base_rate == 0.25
    assert (figures.n, figures.n_churners) == (4, 1)


def test_calibration_table_cuts_sorted_predictions_into_equal_groups() -> None:
    probability = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.7])
    churned = np.array([True, False, True, False, True, False])
    table = calibration_table(probability, churned, bins=3)
    assert [group.n for group in table] == [2, 2, 2]
    assert table[0].mean_predicted == pytest.approx(0.15)
    assert table[0].observed_rate == 0.0
    assert table[1].mean_predicted == pytest.approx(0.5)
    assert table[1].observed_rate == 0.5
    assert table[2].observed_rate == 1.0


def test_evaluation_needs_both_classes() -> None:
    with pytest.raises(InvalidDataset, match="need churners and stayers; got 0 churned of 3"):
        evaluate_probabilities(np.full(3, 0.2), np.zeros(3, dtype=bool), training_base_rate=0.2)


def test_reliability_plot_is_an_svg_with_one_point_per_decile() -> None:
    generator = np.random.default_rng(0)
    probability = generator.random(500)
    churned = generator.random(500) < probability
    table = calibration_table(probability, churned)
    document = ElementTree.fromstring(reliability_svg(table, title="test <split>"))
    circles = document.findall(f"{SVG}circle")
    assert document.tag == f"{SVG}svg"
    assert len(circles) == 10
    assert "test <split>" in [element.text for element in document.iter(f"{SVG}text")]
    # the lowest decile sits lower-left of the highest (y grows downwards in SVG)
    assert float(circles[0].get("cx", "0")) < float(circles[-1].get("cx", "0"))
    assert float(circles[0].get("cy", "0")) > float(circles[-1].get("cy", "0"))


def test_predict_imports_no_web_or_database_library() -> None:
    check = (
        "import sys, tiyan.predict, tiyan.predict.training;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'fastapi', 'starlette', 'sqlalchemy'});"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
