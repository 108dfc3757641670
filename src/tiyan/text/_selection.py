"""Leave-one-domain-out model selection for sentiment (training and benches only; needs sklearn).

A *candidate* is a way of fitting a sentiment model (features, regularisation, whether domains get
their own copies of the features). `leave_one_domain_out` trains it on every domain but one and
scores the one left out with the shared weights — how the model meets feedback it has never seen —
and, where the left-out domain belongs to an industry that has its own weights trained on other
domains, also with those weights ("does the industry copy help an unseen domain of its industry?").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tiyan.text._domains import INDUSTRY_OF_CORPUS, Labelled
from tiyan.text._features import Features, FeatureSpec, hash_features, normalise
from tiyan.text._fitting import (
    balanced_weights,
    design,
    fit_logistic,
    fit_nb_ensemble,
    fit_nb_ensemble_multiclass,
    fit_one_vs_rest,
    with_groups,
)
from tiyan.text._linear import LinearModel, class_probabilities
from tiyan.text._polarity_lexicon import lexicon_polarity, mixed

INDUSTRY_SALTS = {"hotel": 1002, "retail": 1003}
CORPUS_SALTS = {"waimai_10k": 1001, "chnsenticorp_htl": 1002, "online_shopping_10_cats": 1003}
# names of the corpus copies; "food_delivery" is no product industry, so restaurants (and every
# other industry) get the shared weights
CORPUS_GROUPS = {"food_delivery": 1001, "hotel": 1002, "retail": 1003}
DOMAIN_SALT_BASE = 2000


@dataclass(frozen=True)
class Candidate:
    """How to fit: n-grams, model (plain LR or plain + NB average), C, which copies."""

    name: str
    spec: FeatureSpec
    nb: bool
    c_plain: float
    c_nb: float
    # "none"; "industry": hotel and retail copies; "corpus": one per sentiment corpus (waimai:
    # food_delivery, which no product industry uses); "domain": one per training domain, never
    # used at inference (they only keep domain quirks out of the shared weights)
    copies: str
    # every class weighs the same in the fit (rows weighted n / (classes · class count)):
    # a domain whose class mix differs from the training domains' is not pulled to their majority
    balanced: bool = False
    # English: how far the polarity lexicon's reading pulls the probabilities towards its pole,
    # times the reading's strength (`_polarity_lexicon`; 0: the model alone)
    lexicon_share: float = 0.0


def industry_of(row: Labelled) -> str | None:
    """The product industry a training row's copy belongs to (shopping's hotel category: hotel)."""
    if row.domain == "shopping/酒店":
        return "hotel"
    return INDUSTRY_OF_CORPUS.get(row.corpus)


def copy_salts(rows: Sequence[Labelled], copies: str) -> list[int | None]:
    """The salt of each row's feature copy under a candidate's copy scheme."""
    if copies == "industry":
        return [INDUSTRY_SALTS.get(industry_of(row) or "") for row in rows]
    if copies == "corpus":
        return [CORPUS_SALTS.get(row.corpus) for row in rows]
    if copies == "domain":
        names = sorted({row.domain for row in rows})
        return [DOMAIN_SALT_BASE + names.index(row.domain) for row in rows]
    return [None] * len(rows)


def take(features: Features, indices: np.ndarray) -> Features:
    """The features of documents `indices` (ascending), renumbered 0…len(indices)-1."""
    new_id = np.full(features.n_docs, -1, dtype=np.int64)
    new_id[indices] = np.arange(len(indices))
    keep = new_id[features.docs] >= 0
    return Features(new_id[features.docs[keep]], features.buckets[keep], len(indices))


def fit_candidate(
    candidate: Candidate,
    rows: Sequence[Labelled],
    seed: int,
    n_classes: int = 2,
    features: Features | None = None,
) -> LinearModel:
    """Fit `candidate` on `rows` (whose features may be given, already hashed); the model's
    groups are the industries it has copies for."""
    if features is None:
        features = hash_features([normalise(r.text) for r in rows], candidate.spec)
    salts = copy_salts(rows, candidate.copies)
    bits = candidate.spec.bits
    matrix = design(with_groups(features, salts, bits), bits)
    labels = np.array([r.label for r in rows])
    weight = balanced_weights(labels) if candidate.balanced else None
    if candidate.balanced and candidate.nb:
        raise ValueError("class-balanced fitting is for plain (not NB-weighted) candidates")
    if n_classes == 2 and candidate.nb:
        fitted = fit_nb_ensemble(matrix, labels, candidate.c_plain, candidate.c_nb, seed)
    elif candidate.nb:
        fitted = fit_nb_ensemble_multiclass(matrix, labels, candidate.c_plain, candidate.c_nb, seed)
    elif n_classes > 2:
        fitted = fit_one_vs_rest(matrix, labels, n_classes, candidate.c_plain, seed, weight)
    else:
        fitted = fit_logistic(matrix, labels, candidate.c_plain, seed, sample_weight=weight)
    groups: dict[str, int] = {}
    if candidate.copies == "industry":
        present = {industry_of(r) for r in rows}
        groups = {name: salt for name, salt in INDUSTRY_SALTS.items() if name in present}
    elif candidate.copies == "corpus":
        used = {salt for salt in salts if salt is not None}
        groups = {name: salt for name, salt in CORPUS_GROUPS.items() if salt in used}
    return LinearModel(candidate.spec, fitted.weights.astype(np.float32), fitted.bias, groups)


def predict_labels(
    model: LinearModel,
    features: Features,
    group: str | None,
    texts: Sequence[str] = (),
    lexicon_share: float = 0.0,
) -> np.ndarray:
    """Predicted class index of each text (binary: 1 when P(positive) > 0.5); with a lexicon
    share, of the probabilities pulled towards the lexicon's reading of the raw `texts`."""
    probabilities = class_probabilities(model.decision(features, group))
    if lexicon_share > 0.0:
        probabilities = mixed(probabilities, lexicon_polarity(texts), lexicon_share)
    if probabilities.shape[1] == 2:
        return (probabilities[:, 1] > 0.5).astype(int)
    return np.argmax(probabilities, axis=1)


def scores(gold: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Accuracy and balanced accuracy (mean recall over the gold classes)."""
    recalls = [float(np.mean(predicted[gold == c] == c)) for c in np.unique(gold)]
    return {
        "n": len(gold),
        "accuracy": round(float(np.mean(gold == predicted)), 4),
        "balanced_accuracy": round(float(np.mean(recalls)), 4),
    }


Fold = dict[str, object]


def leave_one_domain_out(
    candidate: Candidate,
    rows: Sequence[Labelled],
    train_splits: tuple[str, ...],
    eval_splits: tuple[str, ...],
    seed: int,
    n_classes: int = 2,
    cap: int | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> list[Fold]:
    """One fold per domain: fit on the other domains' `train_splits` rows (at most `cap` per
    domain, a fixed seeded sample), score the left-out domain's `eval_splits` rows."""
    domains = sorted({r.domain for r in rows})
    rng = np.random.default_rng(seed)
    train_of: dict[str, list[int]] = {}
    for domain in domains:
        pool = [i for i, r in enumerate(rows) if r.domain == domain and r.split in train_splits]
        if cap is not None and len(pool) > cap:
            pool = sorted(int(i) for i in rng.choice(pool, cap, replace=False))
        train_of[domain] = pool
    used = sorted(
        {i for pool in train_of.values() for i in pool}
        | {i for i, r in enumerate(rows) if r.split in eval_splits}
    )
    position = {i: k for k, i in enumerate(used)}
    features = hash_features([normalise(rows[i].text) for i in used], candidate.spec)
    folds: list[Fold] = []
    for left_out in domains:
        train = sorted(i for d in domains if d != left_out for i in train_of[d])
        held = [i for i, r in enumerate(rows) if r.domain == left_out and r.split in eval_splits]
        train_features = take(features, np.array([position[i] for i in train]))
        model = fit_candidate(candidate, [rows[i] for i in train], seed, n_classes, train_features)
        held_features = take(features, np.array([position[i] for i in held]))
        gold = np.array([rows[i].label for i in held])
        texts = [rows[i].text for i in held] if candidate.lexicon_share > 0.0 else []
        shared = scores(
            gold, predict_labels(model, held_features, None, texts, candidate.lexicon_share)
        )
        fold: Fold = {"domain": left_out, "shared": shared}
        industry = industry_of(rows[held[0]]) if held else None
        if industry in model.groups:
            fold["industry"] = industry
            fold["with_copy"] = scores(gold, predict_labels(model, held_features, industry))
        log(f"{candidate.name} {left_out}: {fold}")
        folds.append(fold)
    return folds


def mean_of(folds: Sequence[Fold], key: str = "shared") -> dict[str, float]:
    """Mean accuracy and balanced accuracy over folds."""
    values = [fold[key] for fold in folds if key in fold]
    if not values:
        return {}
    return {
        metric: round(float(np.mean([v[metric] for v in values])), 4)  # type: ignore[index]
        for metric in ("accuracy", "balanced_accuracy")
    }


def guard_shortfalls(in_domain: dict, rule: dict, split: str = "dev") -> dict[str, float]:
    """Points by which each in-domain `split` figure falls below the previous model's, beyond the
    allowed `guard_points - margin_points` (0 where it holds), for every corpus with a reference."""
    allowed = rule["guard_points"] - rule["margin_points"]
    shortfalls = {}
    for corpus, reference in rule["previous"].items():
        if not isinstance(reference, dict):
            continue  # the "about" note
        drop = 100 * (reference[split] - in_domain[corpus][split]["accuracy"])
        shortfalls[corpus] = round(max(0.0, drop - allowed), 2)
    return shortfalls
