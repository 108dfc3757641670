"""Fitting the car_product aspect model (see `_aspect_model`); needs scikit-learn."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tiyan.text._aspect_model import (
    CORPUS,
    DETECT_C,
    DETECT_SPEC,
    SENTIMENT_C,
    SENTIMENT_CLASSES,
    SENTIMENT_SPEC,
    THRESHOLD_GRID,
    AspectModel,
    pair_features,
)
from tiyan.text._features import hash_features, normalise
from tiyan.text._fitting import design, fit_logistic
from tiyan.text._linear import LinearModel
from tiyan.text.taxonomy import Taxonomy

Pairs = list[set[tuple[str, str]]]


def fit_aspect_model(
    data: Path, taxonomy: Taxonomy, seed: int, log: Callable[[str], None]
) -> tuple[AspectModel, dict]:
    """Detector and sentiment fitted on train, detection thresholds chosen on dev."""
    from tiyan.text.train import load_corpus

    corpus = load_corpus(data, CORPUS, ("text", "aspects"))
    names = [aspect.name_zh for aspect in taxonomy.aspects]
    train, dev = corpus.split("train"), corpus.split("dev")
    log(f"aspects_car_product: fitting on {len(train)} train texts")
    detector = _fit_detector([r["text"] for r in train], [_gold(r) for r in train], names, seed)
    sentiment = _fit_sentiment(train, taxonomy, seed)
    model = AspectModel(taxonomy, detector, np.full(len(names), 0.5), sentiment)
    thresholds = choose_thresholds(model, [r["text"] for r in dev], [_gold(r) for r in dev], names)
    model = AspectModel(taxonomy, detector, thresholds, sentiment)
    report = {split: evaluate(model, corpus.split(split)) for split in ("dev", "test")}
    report["thresholds"] = {name: float(t) for name, t in zip(names, thresholds, strict=True)}
    log(f"aspects_car_product: {json.dumps(report, ensure_ascii=False)}")
    return model, report


def _gold(row: dict[str, str]) -> set[tuple[str, str]]:
    return {(item["aspect"], item["sentiment"]) for item in json.loads(row["aspects"])}


def _fit_detector(texts: list[str], gold: Pairs, names: list[str], seed: int) -> LinearModel:
    matrix = design(hash_features([normalise(t) for t in texts], DETECT_SPEC), DETECT_SPEC.bits)
    rows, biases = [], []
    for name in names:
        labels = np.array([any(a == name for a, _ in pairs) for pairs in gold], dtype=int)
        fitted = fit_logistic(matrix, labels, DETECT_C, seed)
        rows.append(fitted.weights[0])
        biases.append(fitted.bias[0])
    return LinearModel(DETECT_SPEC, np.array(rows, dtype=np.float32), np.array(biases), {})


def _fit_sentiment(rows: list[dict[str, str]], taxonomy: Taxonomy, seed: int) -> LinearModel:
    names = [aspect.name_zh for aspect in taxonomy.aspects]
    texts, aspects, labels = [], [], []
    for row in rows:
        for name, label in sorted(_gold(row)):
            texts.append(row["text"])
            aspects.append(names.index(name))
            labels.append(SENTIMENT_CLASSES.index(label))
    matrix = design(pair_features(texts, aspects, taxonomy, SENTIMENT_SPEC), SENTIMENT_SPEC.bits)
    fitted = fit_logistic(matrix, np.array(labels), SENTIMENT_C, seed, multinomial=True)
    return LinearModel(SENTIMENT_SPEC, fitted.weights.astype(np.float32), fitted.bias, {})


def choose_thresholds(
    model: AspectModel, texts: list[str], gold: Pairs, names: list[str]
) -> np.ndarray:
    """Per-aspect detection thresholds maximising dev aspect micro-F1 (two coordinate passes)."""
    probabilities = model.detection_probabilities(texts)
    gold_aspects = [{a for a, _ in pairs} for pairs in gold]
    thresholds = np.full(len(names), 0.5)
    for _ in range(2):
        for k in range(len(names)):
            scores = [
                _detection_f1(probabilities, thresholds, k, t, gold_aspects, names)
                for t in THRESHOLD_GRID
            ]
            thresholds[k] = THRESHOLD_GRID[int(np.argmax(scores))]
    return thresholds


def _detection_f1(
    probabilities: np.ndarray,
    thresholds: np.ndarray,
    k: int,
    value: float,
    gold: list[set[str]],
    names: list[str],
) -> float:
    trial = thresholds.copy()
    trial[k] = value
    predicted = []
    for row in probabilities:
        found = np.flatnonzero(row >= trial)
        predicted.append({names[i] for i in (found if len(found) else [int(np.argmax(row))])})
    return set_f1(gold, predicted)


def evaluate(model: AspectModel, rows: list[dict[str, str]]) -> dict:
    """Pair and aspect micro-F1 on `rows`, scored as the evaluation script scores them."""
    gold = [_gold(row) for row in rows]
    found = model.predict([row["text"] for row in rows])
    predicted = [{(f.aspect.name_zh, f.label) for f in per_text} for per_text in found]
    return {
        "n": len(rows),
        "pair_f1": round(set_f1(gold, predicted), 4),
        "aspect_f1": round(
            set_f1([{a for a, _ in g} for g in gold], [{a for a, _ in p} for p in predicted]), 4
        ),
    }


def set_f1(gold: Sequence[set], predicted: Sequence[set]) -> float:
    """Micro-F1 over set-valued predictions."""
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=True))
    fp = sum(len(p - g) for g, p in zip(gold, predicted, strict=True))
    fn = sum(len(g - p) for g, p in zip(gold, predicted, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
