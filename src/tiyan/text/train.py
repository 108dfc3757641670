"""`tiyan text train`: rebuild every shipped text model from the labelled corpora.

Fits on the `train` split only, makes its choices (thresholds) on `dev`, and reports `dev` and
`test` figures (test is never used for a choice). The hyper-parameters below were chosen on dev
while the models were developed; docs/models/text.md records them with the figures. Deterministic
for a seed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tiyan.text._aspect_model import train_car_aspects
from tiyan.text._features import FeatureSpec, hash_features, normalise
from tiyan.text._fitting import design, fit_nb_ensemble, fit_nb_ensemble_multiclass, with_groups
from tiyan.text._linear import LinearModel, save_linear
from tiyan.text.sentiment import MODEL_FILES, MODELS, SentimentModel

ZH_CORPORA = {
    "waimai_10k": "restaurant",
    "chnsenticorp_htl": "hotel",
    "online_shopping_10_cats": "retail",
}
ZH_GROUP_SALTS = {"restaurant": 1001, "hotel": 1002, "retail": 1003}
ZH_SPEC = FeatureSpec(bits=22, char_ngrams=(1, 3))
ZH_C_PLAIN, ZH_C_NB = 30.0, 10.0
EN_CORPUS = "twitter_airline"
EN_CLASSES = ("negative", "neutral", "positive")
EN_SPEC = FeatureSpec(bits=20, char_ngrams=(2, 5), word_ngrams=(1, 3))
EN_C_PLAIN, EN_C_NB = 10.0, 30.0
SPLITS = ("train", "dev", "test")

Log = Callable[[str], None]


class TrainingDataError(ValueError):
    """A corpus file is missing or lacks a column training needs."""


@dataclass(frozen=True)
class Corpus:
    """The rows of one labelled corpus file."""

    name: str
    rows: list[dict[str, str]]

    def split(self, name: str) -> list[dict[str, str]]:
        return [row for row in self.rows if row["split"] == name]


def load_corpus(data: Path, name: str, columns: tuple[str, ...]) -> Corpus:
    """Read `data/<name>/<name>.csv`, checking that `columns` (and `split`) are there."""
    path = data / name / f"{name}.csv"
    if not path.is_file():
        raise TrainingDataError(
            f"{path}: corpus file not found (is --data the shared/data folder?)"
        )
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in (*columns, "split") if c not in (reader.fieldnames or [])]
        if missing:
            raise TrainingDataError(f'{path}: missing column "{missing[0]}"')
        return Corpus(name, list(reader))


def train_all(data: Path, output: Path | None = None, seed: int = 0, log: Log = print) -> dict:
    """Train and write all models; returns the dev/test figures per model."""
    output = output or MODELS
    output.mkdir(parents=True, exist_ok=True)
    report = {
        "sentiment_zh": train_chinese_sentiment(data, output, seed, log),
        "sentiment_en": train_english_sentiment(data, output, seed, log),
        "aspects_car_product": train_car_aspects(data, output, seed, log),
    }
    (output / "training_report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report


def train_chinese_sentiment(data: Path, output: Path, seed: int, log: Log) -> dict:
    """One binary model on the train splits of all Chinese corpora, with per-industry copies."""
    corpora = {name: load_corpus(data, name, ("text", "label")) for name in ZH_CORPORA}
    texts, labels, groups = [], [], []
    for name, corpus in corpora.items():
        for row in corpus.split("train"):
            texts.append(normalise(row["text"]))
            labels.append(int(row["label"] == "positive"))
            groups.append(ZH_GROUP_SALTS[ZH_CORPORA[name]])
    log(f"sentiment_zh: fitting on {len(texts)} train texts")
    features = with_groups(hash_features(texts, ZH_SPEC), groups, ZH_SPEC.bits)
    fitted = fit_nb_ensemble(
        design(features, ZH_SPEC.bits), np.array(labels), ZH_C_PLAIN, ZH_C_NB, seed
    )
    linear = LinearModel(ZH_SPEC, fitted.weights.astype(np.float32), fitted.bias, ZH_GROUP_SALTS)
    model = SentimentModel("zh", linear, ("negative", "positive"))
    save_linear(output / MODEL_FILES["zh"].name, linear, classes=np.array(model.classes))
    report = {
        name: _binary_figures(model, corpus, ZH_CORPORA[name]) for name, corpus in corpora.items()
    }
    log(f"sentiment_zh: {json.dumps(report)}")
    return report


def train_english_sentiment(data: Path, output: Path, seed: int, log: Log) -> dict:
    """Three-class (negative / neutral / positive) NB + plain logistic ensemble on tweets."""
    corpus = load_corpus(data, EN_CORPUS, ("text", "label"))
    train = corpus.split("train")
    log(f"sentiment_en: fitting on {len(train)} train texts")
    features = hash_features([normalise(row["text"]) for row in train], EN_SPEC)
    labels = np.array([EN_CLASSES.index(row["label"]) for row in train])
    fitted = fit_nb_ensemble_multiclass(
        design(features, EN_SPEC.bits), labels, EN_C_PLAIN, EN_C_NB, seed
    )
    linear = LinearModel(EN_SPEC, fitted.weights.astype(np.float32), fitted.bias, {})
    model = SentimentModel("en", linear, EN_CLASSES)
    save_linear(output / MODEL_FILES["en"].name, linear, classes=np.array(EN_CLASSES))
    report = {EN_CORPUS: _ternary_figures(model, corpus)}
    log(f"sentiment_en: {json.dumps(report)}")
    return report


def _binary_figures(model: SentimentModel, corpus: Corpus, industry: str) -> dict:
    figures = {}
    for split in ("dev", "test"):
        rows = corpus.split(split)
        scores = model.probabilities([row["text"] for row in rows], industry)[:, 1]
        predicted = np.where(scores > 0.5, "positive", "negative")
        gold = np.array([row["label"] for row in rows])
        figures[split] = {"n": len(rows), "accuracy": round(float(np.mean(predicted == gold)), 4)}
    return figures


def _ternary_figures(model: SentimentModel, corpus: Corpus) -> dict:
    figures = {}
    for split in ("dev", "test"):
        rows = corpus.split(split)
        labels = [s.label for s in model.predict([row["text"] for row in rows])]
        gold = [row["label"] for row in rows]
        figures[split] = {
            "n": len(rows),
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
