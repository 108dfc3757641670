"""The shipped text models reproduce the figures their model card (docs/models/text.md) states.

The figures are read from the card's own tables, so a card that drifts from the shipped files
fails here as surely as a model file that drifts from the card. Every figure is measured on the
full test split it names (a few seconds each): within 0.5 point of what the card says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tiyan.text._aspect_model import load_aspect_model
from tiyan.text._domains import EN_CLASSES, chinese_sentiment, english_sentiment
from tiyan.text._english import english_candidate, lodo
from tiyan.text._opinion import load_opinion_model
from tiyan.text._opinion_training import absa_figures, car_figures
from tiyan.text.sentiment import MODELS, load_sentiment_model
from tiyan.text.train import EN_CHOSEN, EN_REPORTED, ZH_REPORTED, binary_accuracy, macro_f1

ROOT = Path(__file__).parents[3]
CARD = ROOT / "docs" / "models" / "text.md"
DATA = ROOT.parent / "shared" / "data"
HALF_A_POINT = 0.005


@pytest.fixture(autouse=True)
def _needs_the_corpora() -> None:
    if not DATA.is_dir():
        pytest.skip(f"labelled corpora not found at {DATA} (needs the shared data folder)")


def _section(title: str) -> list[str]:
    """The lines of the card after the heading or bold line starting with `title`, up to the
    next heading (a section under a bold line also ends at the next bold line)."""
    lines = CARD.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.lstrip("#* ").startswith(title)]
    assert len(starts) == 1, f"the model card should have one section {title!r}"
    under_bold = lines[starts[0]].startswith("**")
    found = []
    for line in lines[starts[0] + 1 :]:
        if line.startswith("#") or (under_bold and line.startswith("**")):
            break
        found.append(line)
    return found


def _rows(lines: list[str]) -> Iterator[list[str]]:
    for line in lines:
        if line.startswith("|") and not set(line) <= set("|-: "):
            yield [cell.strip().strip("*").strip() for cell in line.strip().strip("|").split("|")]


def _row(lines: list[str], first_cell: str) -> list[str]:
    matches = [cells for cells in _rows(lines) if cells[0].strip("*").startswith(first_cell)]
    assert len(matches) == 1, f"expected one card row starting {first_cell!r}, got {matches}"
    return matches[0]


def _number(cell: str) -> float:
    """'89.3%' → 0.893, '0.610' → 0.61 (the first number of the cell)."""
    found = re.search(r"(\d+(?:\.\d+)?)(%?)", cell)
    assert found, f"no number in card cell {cell!r}"
    value = float(found.group(1))
    return value / 100 if found.group(2) else value


IN_DOMAIN = "In-domain test figures"
ENGLISH = "2. English sentiment"
ENGLISH_DEV = "Choosing the English model"
ENGLISH_TEST = "Every English candidate with one domain left out, on test"
ABSA = "chinese_absa test, sentiment of a given term"
CAR = "car_aspects_ccf2018 test, (aspect, sentiment) pair micro-F1"


@pytest.mark.parametrize("corpus", list(ZH_REPORTED))
def test_chinese_in_domain_accuracy_is_the_cards(corpus: str) -> None:
    cells = _row(_section(IN_DOMAIN), corpus)
    rows = [r for r in _chinese() if r.corpus == corpus and r.split == "test"]
    assert int(cells[1]) == len(rows)
    measured = binary_accuracy(load_sentiment_model("zh"), rows, ZH_REPORTED[corpus])
    assert measured == pytest.approx(_number(cells[2]), abs=HALF_A_POINT)


@pytest.mark.parametrize("corpus", EN_REPORTED)
def test_english_in_domain_accuracy_and_macro_f1_are_the_cards(corpus: str) -> None:
    cells = _row(_section(ENGLISH), corpus)
    rows = [r for r in english_sentiment(DATA) if r.corpus == corpus and r.split == "test"]
    assert int(cells[1]) == len(rows)
    labels = [s.label for s in load_sentiment_model("en").predict([r.text for r in rows])]
    gold = [EN_CLASSES[r.label] for r in rows]
    accuracy = float(np.mean([p == g for p, g in zip(labels, gold, strict=True)]))
    assert accuracy == pytest.approx(_number(cells[2]), abs=HALF_A_POINT)
    assert macro_f1(gold, labels) == pytest.approx(_number(cells[3]), abs=HALF_A_POINT)


@pytest.mark.parametrize(
    ("first_cell", "method"),
    [
        ("opinion model", "model"),
        ("blend: opinion model weighted by its confidence", "blended"),
        ("document label per term", "document_label"),
        ("every term positive", "all_positive"),
    ],
)
def test_term_sentiment_on_chinese_absa_is_the_cards(first_cell: str, method: str) -> None:
    cells = _row(_section(ABSA), first_cell)
    measured = _absa()[method]
    assert measured["accuracy"] == pytest.approx(_number(cells[1]), abs=HALF_A_POINT)
    assert measured["macro_f1"] == pytest.approx(_number(cells[2]), abs=HALF_A_POINT)


@pytest.mark.parametrize(
    ("first_cell", "method"),
    [
        ("car model's own sentiment part", "car_model"),
        ("opinion model (car source copy)", "opinion_model"),
        ("document label per aspect", "document_label"),
        ("every aspect positive", "all_positive"),
    ],
)
def test_car_pair_f1_is_the_cards(first_cell: str, method: str) -> None:
    cells = _row(_section(CAR), first_cell)
    assert _car()[method] == pytest.approx(_number(cells[1]), abs=HALF_A_POINT)


def _numbers(cell: str) -> list[float]:
    """'61.3% / 47.4%' → [0.613, 0.474]."""
    return [float(value) / 100 for value in re.findall(r"(\d+(?:\.\d+)?)%", cell)]


def _candidate_row(title: str, name: str) -> list[str]:
    """The row of candidate `name` (its first cell, less any note in brackets, is the name)."""
    matches = [
        cells for cells in _rows(_section(title)) if cells[0].split(" (")[0].strip("*") == name
    ]
    assert len(matches) == 1, f"expected one card row for candidate {name!r} in {title!r}"
    return matches[0]


def _lodo_cells(figures: dict) -> list[float]:
    """Mean accuracy / balanced accuracy, three classes then two."""
    return [
        figures[kind]["mean"][metric]
        for kind in ("3_classes", "2_classes")
        for metric in ("accuracy", "balanced_accuracy")
    ]


def test_every_english_candidate_is_in_the_dev_table_with_its_training_report_figures() -> None:
    selection = json.loads((MODELS / "training_report.json").read_text(encoding="utf-8"))[
        "selection_en"
    ]
    for record in selection["candidates"]:
        cells = _candidate_row(ENGLISH_DEV, record["name"])
        stated = _numbers(cells[1]) + _numbers(cells[2]) + _numbers(cells[3])
        expected = _lodo_cells(record["lodo_dev"]) + [
            record["in_domain"][corpus]["dev"]["accuracy"] for corpus in EN_REPORTED
        ]
        assert stated == pytest.approx(expected, abs=HALF_A_POINT)
    assert "shipped" in _candidate_row(ENGLISH_DEV, selection["chosen"])[0]


def test_the_shipped_english_recipe_reproduces_its_left_out_domain_figures() -> None:
    """Fitted again on one domain's train split: the other's test figures (three classes and
    two, each fold and the mean) are the card's."""
    found = lodo(english_candidate(EN_CHOSEN), english_sentiment(DATA), "test", seed=0)
    cells = _candidate_row(ENGLISH_TEST, EN_CHOSEN)
    stated = [value for cell in cells[1:] for value in _numbers(cell)]
    expected = []
    for kind in ("3_classes", "2_classes"):
        by_domain = {fold["domain"]: fold["shared"] for fold in found[kind]["folds"]}
        for figures in (by_domain["airline"], by_domain["hotel"], found[kind]["mean"]):
            expected += [figures["accuracy"], figures["balanced_accuracy"]]
    assert stated == pytest.approx(expected, abs=HALF_A_POINT)


def test_the_card_states_each_figure_once_per_table() -> None:
    """A renamed row would make the tests above read another one: each is found exactly once."""
    for title, first_cells in (
        (IN_DOMAIN, list(ZH_REPORTED)),
        (ENGLISH, list(EN_REPORTED)),
        (ABSA, ["every term positive", "document label per term"]),
        (CAR, ["every aspect positive", "document label per aspect"]),
    ):
        for first_cell in first_cells:
            _row(_section(title), first_cell)


@cache
def _chinese() -> list:
    return chinese_sentiment(DATA)


def _document_labels(texts: list[str]) -> list[str]:
    return [found.label for found in load_sentiment_model("zh").predict(texts)]


@cache
def _absa() -> dict:
    zh = load_sentiment_model("zh")
    figures: dict = absa_figures(
        load_opinion_model(), DATA, "test", _document_labels, zh.probabilities
    )
    return figures


@cache
def _car() -> dict:
    detector = load_aspect_model("car_product")
    assert detector is not None
    figures: dict = car_figures(load_opinion_model(), detector, DATA, "test", _document_labels)
    return figures
