"""English sentiment candidates and how `tiyan text train` chooses among them (selection_en.json).

Each candidate is fitted on one domain's train split and scored on the other's dev split
(leave-one-domain-out: airline tweets ↔ hotel reviews), in three classes and in two (neutral left
out), and fitted on both train splits and scored in-domain on dev. The rule: the best
leave-one-domain-out mean balanced accuracy on dev (three classes; then two classes) among the
candidates whose in-domain dev accuracy stays within `guard_points - margin_points` of the model
shipped before (`previous`). Test splits are reported, never used to choose. Training only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from tiyan.text._domains import EN_CLASSES, Labelled
from tiyan.text._features import FeatureSpec
from tiyan.text._linear import LinearModel
from tiyan.text._selection import (
    Candidate,
    fit_candidate,
    guard_shortfalls,
    leave_one_domain_out,
    mean_of,
)

SELECTION_EN = Path(__file__).with_name("selection_en.json")
EN_REPORTED = ("twitter_airline", "tripadvisor_hotels_en")

Log = Callable[[str], None]


def english_candidates(rule: dict) -> list[Candidate]:
    """The candidates a selection rule compares, in its order."""
    return [candidate_from(entry) for entry in rule["candidates"]]


def english_candidate(name: str) -> Candidate:
    """The candidate of selection_en.json called `name`."""
    rule = json.loads(SELECTION_EN.read_text(encoding="utf-8"))
    found = [c for c in english_candidates(rule) if c.name == name]
    if len(found) != 1:
        raise ValueError(f"selection_en.json has no single candidate {name!r}")
    return found[0]


def candidate_from(entry: dict) -> Candidate:
    """A candidate of selection_en.json: {"name", "bits", "char": [lo, hi] or null, "word":
    [lo, hi] or null, "negation", "balanced", "c"} and optionally "lexicon_share" (one-vs-rest
    plain L2 LR, no copies; its probabilities pulled towards the polarity lexicon's reading by
    that share, see `_polarity_lexicon`)."""
    char = tuple(entry["char"]) if entry["char"] else (0, -1)  # (0, -1): no character n-grams
    word = tuple(entry["word"]) if entry["word"] else None
    spec = FeatureSpec(entry["bits"], char, word, entry["negation"])  # type: ignore[arg-type]
    return Candidate(
        entry["name"], spec, nb=False, c_plain=float(entry["c"]), c_nb=0.0, copies="none",
        balanced=entry["balanced"], lexicon_share=float(entry.get("lexicon_share", 0.0)),
    )


def two_classes(rows: Sequence[Labelled]) -> list[Labelled]:
    """Negative and positive rows only, labelled 0 / 1."""
    positive = EN_CLASSES.index("positive")
    neutral = EN_CLASSES.index("neutral")
    return [replace(r, label=int(r.label == positive)) for r in rows if r.label != neutral]


def lodo(candidate: Candidate, rows: Sequence[Labelled], evaluate: str, seed: int) -> dict:
    """Leave-one-domain-out figures of `candidate` on the `evaluate` split, three and two
    classes: each fold and the mean over the left-out domains."""
    found = {}
    for kind, part, classes in (("3_classes", list(rows), 3), ("2_classes", two_classes(rows), 2)):
        folds = leave_one_domain_out(candidate, part, ("train",), (evaluate,), seed, classes)
        found[kind] = {"mean": mean_of(folds), "folds": folds}
    return found


def fit_english(candidate: Candidate, rows: Sequence[Labelled], seed: int) -> LinearModel:
    """`candidate` fitted on the train splits of both domains, three classes."""
    train = [row for row in rows if row.split == "train"]
    return fit_candidate(candidate, train, seed, n_classes=len(EN_CLASSES))


def select_english(records: list[dict], rule: dict) -> dict:
    """The candidate with the best leave-one-domain-out mean balanced accuracy on dev (three
    classes, then two classes, then the earlier in the list) among those within the guard on
    every in-domain dev figure; when none is, the one with the smallest largest shortfall."""
    dev = {r["name"]: guard_shortfalls(r["in_domain"], rule, "dev") for r in records}
    test = {r["name"]: guard_shortfalls(r["in_domain"], rule, "test") for r in records}
    eligible = [r for r in records if all(v == 0 for v in dev[r["name"]].values())]
    why = "best leave-one-domain-out mean balanced accuracy on dev within the guard on dev"
    if not eligible:
        least = min(max(dev[r["name"]].values()) for r in records)
        eligible = [r for r in records if max(dev[r["name"]].values()) == least]
        why = "no candidate holds the guard on dev: the best of those closest to it"
    order = {r["name"]: k for k, r in enumerate(records)}

    def rank(record: dict) -> tuple[float, float, int]:
        lodo_dev = record["lodo_dev"]
        return (
            lodo_dev["3_classes"]["mean"]["balanced_accuracy"],
            lodo_dev["2_classes"]["mean"]["balanced_accuracy"],
            -order[record["name"]],
        )

    best = max(eligible, key=rank)
    return {
        "chosen": best["name"],
        "why": why,
        "eligible": [r["name"] for r in eligible],
        "candidates": [
            {**r, "dev_shortfall": dev[r["name"]], "test_shortfall": test[r["name"]]}
            for r in records
        ],
    }


def ternary_figures(
    predict: Callable[[list[str]], list[str]], rows: Sequence[Labelled], splits: Sequence[str]
) -> dict:
    """Accuracy and macro-F1 of `predict` (texts → labels) on each split of `rows`."""
    figures = {}
    for split in splits:
        part = [row for row in rows if row.split == split]
        labels = predict([row.text for row in part])
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
