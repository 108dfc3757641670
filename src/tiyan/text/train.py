"""`tiyan text train`: rebuild every shipped text model from the labelled corpora.

Fits on the `train` split only, makes its choices (thresholds) on `dev`, and reports `dev` and
`test` figures (test is never used for a choice). The recipes below were chosen by
leave-one-domain-out on the train/dev splits (`_selection`; docs/models/text.md records the
candidates and figures). Deterministic for a seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tiyan.text._aspect_model import train_car_aspects
from tiyan.text._domains import (
    EN_CLASSES,
    Labelled,
    TrainingDataError,
    chinese_sentiment,
    english_sentiment,
    read_csv,
)
from tiyan.text._features import FeatureSpec
from tiyan.text._linear import save_linear
from tiyan.text._selection import Candidate, fit_candidate
from tiyan.text.sentiment import MODEL_FILES, MODELS, SentimentModel

__all__ = ["TrainingDataError", "train_all"]

# Chosen by leave-one-domain-out on the train/dev splits (docs/models/text.md, "Choosing by
# generalisation"); bench/text_generalisation.py measures them again.
ZH_CANDIDATE = Candidate(
    "char 1-3, plain LR C=10, no copies",
    FeatureSpec(bits=22, char_ngrams=(1, 3)),
    nb=False,
    c_plain=10.0,
    c_nb=0.0,
    copies="none",
)
EN_CANDIDATE = Candidate(
    "char 2-5 + word 1-3, one-vs-rest LR C=10",
    FeatureSpec(bits=20, char_ngrams=(2, 5), word_ngrams=(1, 3)),
    nb=False,
    c_plain=10.0,
    c_nb=0.0,
    copies="none",
)
# the corpus of each in-domain figure and the industry a product text of it is analysed as
ZH_REPORTED = {
    "waimai_10k": None,  # food delivery: no product industry is food delivery
    "chnsenticorp_htl": "hotel",
    "online_shopping_10_cats": "retail",
    "chinese_absa": None,
}
EN_REPORTED = ("twitter_airline", "tripadvisor_hotels_en")
SPLITS = ("train", "dev", "test")

Log = Callable[[str], None]


@dataclass(frozen=True)
class Corpus:
    """The rows of one labelled corpus file."""

    name: str
    rows: list[dict[str, str]]

    def split(self, name: str) -> list[dict[str, str]]:
        return [row for row in self.rows if row["split"] == name]


def load_corpus(data: Path, name: str, columns: tuple[str, ...]) -> Corpus:
    """Read `data/<name>/<name>.csv`, checking that `columns` (and `split`) are there."""
    return Corpus(name, read_csv(data, name, columns))


def train_all(data: Path, output: Path | None = None, seed: int = 0, log: Log = print) -> dict:
    """Train and write all models; returns the dev/test figures per model."""
    from tiyan.text._opinion_training import train_opinion

    output = output or MODELS
    output.mkdir(parents=True, exist_ok=True)
    report = {
        "sentiment_zh": train_chinese_sentiment(data, output, seed, log),
        "sentiment_en": train_english_sentiment(data, output, seed, log),
        "aspects_car_product": train_car_aspects(data, output, seed, log),
    }
    report["opinion_zh"] = train_opinion(data, output, seed, log)
    # ends in a newline, as the shipped file does: a rerun reproduces it byte for byte
    text = json.dumps(report, indent=1) + "\n"
    (output / "training_report.json").write_text(text, encoding="utf-8")
    return report


def train_chinese_sentiment(data: Path, output: Path, seed: int, log: Log) -> dict:
    """One binary model on the train splits of every Chinese domain (ZH_CANDIDATE)."""
    rows = chinese_sentiment(data)
    train = [row for row in rows if row.split == "train"]
    log(f"sentiment_zh: fitting on {len(train)} train texts")
    linear = fit_candidate(ZH_CANDIDATE, train, seed)
    model = SentimentModel("zh", linear, ("negative", "positive"))
    save_linear(output / MODEL_FILES["zh"].name, linear, classes=np.array(model.classes))
    report = {
        corpus: _binary_figures(model, [r for r in rows if r.corpus == corpus], industry)
        for corpus, industry in ZH_REPORTED.items()
    }
    log(f"sentiment_zh: {json.dumps(report)}")
    return report


def train_english_sentiment(data: Path, output: Path, seed: int, log: Log) -> dict:
    """Three classes (negative / neutral / positive) on airline tweets and hotel reviews."""
    rows = english_sentiment(data)
    train = [row for row in rows if row.split == "train"]
    log(f"sentiment_en: fitting on {len(train)} train texts")
    linear = fit_candidate(EN_CANDIDATE, train, seed, n_classes=len(EN_CLASSES))
    model = SentimentModel("en", linear, EN_CLASSES)
    save_linear(output / MODEL_FILES["en"].name, linear, classes=np.array(EN_CLASSES))
    report = {
        corpus: _ternary_figures(model, [r for r in rows if r.corpus == corpus])
        for corpus in EN_REPORTED
    }
    log(f"sentiment_en: {json.dumps(report)}")
    return report


def binary_accuracy(model: SentimentModel, rows: list[Labelled], industry: str | None) -> float:
    """Accuracy of P(positive) > 0.5 on `rows` analysed as `industry`."""
    scores = model.probabilities([row.text for row in rows], industry)[:, 1]
    gold = np.array([row.label for row in rows])
    return round(float(np.mean((scores > 0.5).astype(int) == gold)), 4)


def _binary_figures(model: SentimentModel, rows: list[Labelled], industry: str | None) -> dict:
    figures: dict = {"industry": industry}
    for split in ("dev", "test"):
        part = [row for row in rows if row.split == split]
        figures[split] = {"n": len(part), "accuracy": binary_accuracy(model, part, industry)}
    return figures


def _ternary_figures(model: SentimentModel, rows: list[Labelled]) -> dict:
    figures = {}
    for split in ("dev", "test"):
        part = [row for row in rows if row.split == split]
        labels = [s.label for s in model.predict([row.text for row in part])]
        gold = [EN_CLASSES[row.label] for row in part]
        figures[split] = {
            "n": len(part),
            "accuracy": round(
                float(np.mean([p == g for p, g in zip(labels, gold, strict=True)])), 4
            ),
            "macro_f1": round(macro_f1(gold, labels), 4),
        }
    return figures


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    """Mean F1 over the gold classes."""
    scores = []
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)
