"""Fitting and measuring the opinion model (see `_opinion`); needs scikit-learn.

Training examples, all from `train` splits:

- chinese_absa: every labelled term of a sentence (the other terms of the sentence bound the span);
- car_aspects_ccf2018: every (aspect, sentiment) of a post, the target being the first mention of
  one of the aspect's taxonomy terms (the whole post where none occurs); these carry the
  `car_product` group, since forum posts call an aspect "neutral" whenever it is only mentioned;
- short one-clause reviews (at most SHORT_CHARS characters) of waimai_10k, chnsenticorp_htl and
  online_shopping_10_cats, the whole text as the span (at most SHORT_PER_CORPUS each);
- examples derived from all of these by negation (`_derived_examples`: "价格太贵" negative gives
  "价格不贵" positive beside itself), each with the group of the example it came from.

Rows are class-balanced (every class weighs the same: most chinese_absa terms are positive, and
an unbalanced fit read complaints about services as praise). Balancing and terms that are
opinions left in their span (`_opinion.opinion_terms`) were chosen by leave-one-domain-out
(`bench/aspect_lodo.py`; docs/models/text.md, section 3).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tiyan.text._aspect_model import AspectModel
from tiyan.text._derived_examples import derivations
from tiyan.text._domains import ABSA, TrainingDataError, read_csv
from tiyan.text._features import FeatureSpec
from tiyan.text._fitting import balanced_weights, design, fit_one_vs_rest
from tiyan.text._linear import LinearModel
from tiyan.text._opinion import (
    CLASSES,
    NEUTRAL_BAND,
    OpinionModel,
    Target,
    blend_of,
    label_and_score,
    opinion_terms,
    target_features,
)
from tiyan.text.segment import split_clauses
from tiyan.text.taxonomy import Taxonomy, load_taxonomy, term_directions

SPEC = FeatureSpec(bits=20, char_ngrams=(1, 3))
C = 3.0
CAR_GROUP = ("car_product", 3101)
SHORT_CHARS, SHORT_PER_CORPUS = 20, 3000
CAR_CORPUS = "car_aspects_ccf2018"
SHORT_CORPORA = ("waimai_10k", "chnsenticorp_htl", "online_shopping_10_cats")


@dataclass(frozen=True)
class Recipe:
    """How the opinion model is fitted; the defaults are what ships, the others what
    `bench/aspect_lodo.py` compares them with (the recipe before issue 18's last round)."""

    balanced: bool = True
    opinion_terms_visible: bool = True


@dataclass(frozen=True)
class Example:
    target: Target
    others: tuple[int, ...]
    label: int
    group: int | None


def absa_examples(data: Path, split: str) -> list[tuple[str, Example]]:
    """(domain, example) for every labelled term of chinese_absa's `split`."""
    found = []
    directions = term_directions()
    for row in read_csv(data, ABSA, ("text", "aspects", "domain")):
        if row["split"] != split:
            continue
        items = json.loads(row["aspects"])
        for item in items:
            start = int(item["start"])
            more_is = directions.get(item["term"].lower(), "")
            target = Target(row["text"], start, start + len(item["term"]), more_is=more_is)
            others = tuple(int(o["start"]) for o in items if o is not item)
            label = CLASSES.index(item["sentiment"])
            found.append((row["domain"], Example(target, others, label, None)))
    return found


def car_target(text: str, aspect: str, taxonomy: Taxonomy) -> tuple[Target, tuple[int, ...]]:
    """The target of `aspect` (a Chinese aspect name) in a car post, and other aspects' mentions."""
    mentions = taxonomy.find_mentions(text)
    own = [m for m in mentions if m.aspect.name_zh == aspect]
    others = tuple(m.start for m in mentions if m.aspect.name_zh != aspect)
    if not own:
        return Target(text, 0, 0), others
    first = own[0]
    return Target(text, first.start, first.end, more_is=first.aspect.direction(first.term)), others


def car_examples(data: Path, split: str) -> list[Example]:
    taxonomy = load_taxonomy("car_product")
    found = []
    for row in read_csv(data, CAR_CORPUS, ("text", "aspects")):
        if row["split"] != split:
            continue
        for item in json.loads(row["aspects"]):
            target, others = car_target(row["text"], item["aspect"], taxonomy)
            label = CLASSES.index(item["sentiment"])
            found.append(Example(target, others, label, CAR_GROUP[1]))
    return found


def short_examples(data: Path, seed: int) -> list[Example]:
    rng = np.random.default_rng(seed)
    found = []
    for corpus in SHORT_CORPORA:
        rows = [
            row
            for row in read_csv(data, corpus, ("text", "label"))
            if row["split"] == "train"
            and len(row["text"].strip()) <= SHORT_CHARS
            and len(split_clauses(row["text"])) == 1
        ]
        if len(rows) > SHORT_PER_CORPUS:
            rows = [rows[i] for i in sorted(rng.choice(len(rows), SHORT_PER_CORPUS, False))]
        for row in rows:
            label = CLASSES.index(row["label"])
            found.append(Example(Target(row["text"], 0, 0), (), label, None))
    return found


def derived_examples(examples: Sequence[Example]) -> list[Example]:
    """The examples derived from `examples` by negation, each distinct one once, in order."""
    seen: set[tuple[str, int, int, str, int, int | None]] = set()
    found = []
    for example in examples:
        for derived in derivations(example.target, example.label):
            target = derived.target
            key = (
                target.text,
                target.start,
                target.end,
                target.more_is,
                derived.label,
                example.group,
            )
            if key not in seen:
                seen.add(key)
                found.append(Example(target, (), derived.label, example.group))
    return found


def fit_opinion_model(
    data: Path,
    seed: int,
    log: Callable[[str], None],
    document: Callable[[list[str]], np.ndarray],
    c: float = C,
    recipe: Recipe = Recipe(),
) -> OpinionModel:
    """Fit the opinion model; `document` is the document model's (negative, positive) reading,
    which says which terms are opinions themselves."""
    labelled = (
        [e for _, e in absa_examples(data, "train")]
        + car_examples(data, "train")
        + short_examples(data, seed)
    )
    examples = labelled + derived_examples(labelled)
    log(f"opinion_zh: fitting on {len(examples)} targets")
    targets, others = [e.target for e in examples], [e.others for e in examples]
    visible = (
        opinion_terms((t.text[t.start : t.end] for t in targets), document)
        if recipe.opinion_terms_visible
        else frozenset()
    )
    features = target_features(targets, others, SPEC, [e.group for e in examples], visible)
    labels = np.array([e.label for e in examples])
    weights = balanced_weights(labels) if recipe.balanced else None
    fitted = fit_one_vs_rest(
        design(features, SPEC.bits), labels, len(CLASSES), c, seed, sample_weight=weights
    )
    linear = LinearModel(
        SPEC, fitted.weights.astype(np.float32), fitted.bias, {CAR_GROUP[0]: CAR_GROUP[1]}
    )
    return OpinionModel(linear, document if recipe.opinion_terms_visible else _no_terms)


def _no_terms(texts: list[str]) -> np.ndarray:
    """A reading that makes no term an opinion (every term masked, as before)."""
    return np.full((len(texts), 2), 0.5)


def absa_figures(
    model: OpinionModel,
    data: Path,
    split: str,
    document_labels: Callable[[list[str]], list[str]],
    document_probabilities: Callable[[list[str]], np.ndarray],
) -> dict:
    """Term-given accuracy and macro-F1 on chinese_absa's `split`, per domain and overall: the
    opinion model, the blend the seed-term aspects use (`_opinion.blended`), and the trivial
    baselines on the same terms: every term positive; every term the label of its sentence from
    the document sentiment model."""
    from tiyan.text.train import macro_f1

    found = absa_examples(data, split)
    examples = [e for _, e in found]
    probabilities = model.probabilities([e.target for e in examples], [e.others for e in examples])
    predicted = [CLASSES[int(k)] for k in np.argmax(probabilities, axis=1)]
    gold = [CLASSES[e.label] for e in examples]
    documents = document_labels([e.target.text for e in examples])
    targets = [e.target for e in examples]
    mixed, decided = blend_of(
        targets, [e.others for e in examples], probabilities, document_probabilities
    )
    mixed_labels = [
        label_and_score(row, NEUTRAL_BAND, int(rule))[0]
        for row, rule in zip(mixed, decided, strict=True)
    ]
    figures: dict = {"n": len(gold)}
    for name, labels in (
        ("model", predicted),
        ("blended", mixed_labels),
        ("document_label", documents),
        ("all_positive", ["positive"] * len(gold)),
    ):
        figures[name] = {
            "accuracy": _accuracy(gold, labels),
            "macro_f1": round(macro_f1(gold, labels), 4),
        }
    domains = sorted({d for d, _ in found})
    figures["model_by_domain"] = {
        d: _accuracy(
            [g for (dd, _), g in zip(found, gold, strict=True) if dd == d],
            [p for (dd, _), p in zip(found, predicted, strict=True) if dd == d],
        )
        for d in domains
    }
    return figures


def _accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return round(float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)])), 4)


def car_figures(
    model: OpinionModel,
    detector: AspectModel,
    data: Path,
    split: str,
    document_labels: Callable[[list[str]], list[str]],
) -> dict:
    """(aspect, sentiment) pair micro-F1 on car_aspects_ccf2018's `split` with the shipped
    car_product detector, the sentiment of each detected aspect given by: the car model's own
    sentiment part, the opinion model (car_product group), the document's label, "positive"."""
    from tiyan.text._aspect_training import set_f1

    taxonomy = detector.taxonomy
    rows = [r for r in read_csv(data, CAR_CORPUS, ("text", "aspects")) if r["split"] == split]
    texts = [r["text"] for r in rows]
    gold = [{(i["aspect"], i["sentiment"]) for i in json.loads(r["aspects"])} for r in rows]
    detected = detector.detect(texts)
    pairs = [(d, k) for d, found in enumerate(detected) for k in found]
    names = [taxonomy.aspects[k].name_zh for _, k in pairs]
    own = detector.sentiments([texts[d] for d, _ in pairs], [k for _, k in pairs])
    targets = [
        car_target(texts[d], name, taxonomy) for (d, _), name in zip(pairs, names, strict=True)
    ]
    opinion = model.probabilities([t for t, _ in targets], [o for _, o in targets], CAR_GROUP[0])
    documents = document_labels(texts)
    labels = {
        "car_model": [CLASSES[int(k)] for k in np.argmax(own, axis=1)],
        "opinion_model": [CLASSES[int(k)] for k in np.argmax(opinion, axis=1)],
        "document_label": [documents[d] for d, _ in pairs],
        "all_positive": ["positive"] * len(pairs),
    }
    figures: dict = {"n": len(rows)}
    for name, predicted in labels.items():
        found: list[set[tuple[str, str]]] = [set() for _ in rows]
        for (d, _), aspect, label in zip(pairs, names, predicted, strict=True):
            found[d].add((aspect, label))
        figures[name] = round(set_f1(gold, found), 4)
    return figures


def train_opinion(data: Path, output: Path, seed: int, log: Callable[[str], None]) -> dict:
    """Fit and write the opinion model; report chinese_absa (term given) and car_aspects pair-F1
    on dev and test with the trivial baselines, using the sentiment and car models in `output`."""
    from tiyan.text._aspect_model import read_aspect_model
    from tiyan.text._linear import load_linear, save_linear
    from tiyan.text._opinion import MODEL_FILE
    from tiyan.text.sentiment import MODEL_FILES, SentimentModel

    sentiment = SentimentModel(
        "zh", load_linear(output / MODEL_FILES["zh"].name)[0], ("negative", "positive")
    )
    model = fit_opinion_model(data, seed, log, sentiment.probabilities)
    save_linear(output / MODEL_FILE.name, model.linear)
    car = read_aspect_model("car_product", output)
    if car is None:
        raise TrainingDataError("the car_product aspect model must be trained first")

    def documents(texts: list[str]) -> list[str]:
        return [found.label for found in sentiment.predict(texts)]

    report = {
        split: {
            "chinese_absa": absa_figures(model, data, split, documents, sentiment.probabilities),
            "car_aspects_ccf2018": car_figures(model, car, data, split, documents),
        }
        for split in ("dev", "test")
    }
    log(f"opinion_zh: {json.dumps(report)}")
    return report
