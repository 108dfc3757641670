"""Fitting helpers for `tiyan text train`: design matrices, NB weighting, logistic regression.

Only training imports this module (it needs scikit-learn and scipy); inference reads the resulting
weight arrays through `tiyan.text._linear`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from tiyan.text._features import Features, combine, salted


@dataclass(frozen=True)
class Fitted:
    """Weights (n_outputs, n_buckets) and biases of a fitted linear model."""

    weights: np.ndarray
    bias: np.ndarray


def design(features: Features, bits: int, normalise_rows: bool = True) -> sparse.csr_matrix:
    """Sparse matrix of binary features, rows scaled to unit length (as `LinearModel` does)."""
    values = np.ones(len(features.docs), dtype=np.float64)
    if normalise_rows:
        values = 1.0 / np.sqrt(np.maximum(features.counts(), 1))[features.docs]
    shape = (features.n_docs, 1 << bits)
    return sparse.csr_matrix((values, (features.docs, features.buckets)), shape=shape)


def with_groups(features: Features, groups: Sequence[int | None], bits: int) -> Features:
    """Add to each document a copy of its features salted by its group (None: no copy)."""
    parts = [features]
    group_of_doc = np.array([-1 if g is None else g for g in groups], dtype=np.int64)
    for salt in sorted({g for g in groups if g is not None}):
        keep = group_of_doc[features.docs] == salt
        subset = Features(features.docs[keep], features.buckets[keep], features.n_docs)
        parts.append(salted(subset, salt, bits))
    return combine(parts, bits)


def nb_ratios(matrix: sparse.csr_matrix, positive: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Naive-Bayes log-count ratios of binary features (Wang & Manning's NB-SVM weighting)."""
    present = (matrix > 0).astype(np.float64)
    p = np.asarray(present[positive].sum(axis=0)).ravel() + alpha
    q = np.asarray(present[~positive].sum(axis=0)).ravel() + alpha
    return np.log((p / p.sum()) / (q / q.sum()))


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """A weight per row such that every class weighs the same in total (n / (k · count))."""
    classes, index, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return np.asarray(len(labels) / (len(classes) * counts[index]), dtype=np.float64)


def fit_logistic(
    matrix: sparse.csr_matrix,
    labels: np.ndarray,
    c: float,
    seed: int,
    multinomial: bool = False,
    sample_weight: np.ndarray | None = None,
) -> Fitted:
    """L2 logistic regression; binary → one weight row, multinomial → one row per class."""
    solver = "lbfgs" if multinomial else "liblinear"
    model = LogisticRegression(C=c, solver=solver, max_iter=3000, random_state=seed)
    model.fit(matrix, labels, sample_weight=sample_weight)
    return Fitted(model.coef_.astype(np.float64), model.intercept_.astype(np.float64))


def fit_nb_ensemble(
    matrix: sparse.csr_matrix, labels: np.ndarray, c_plain: float, c_nb: float, seed: int
) -> Fitted:
    """Average (in standardised logit space) of a plain and an NB-weighted binary logistic
    regression, folded into one weight vector: z = z_plain / s_plain + z_nb / s_nb."""
    plain = fit_logistic(matrix, labels, c_plain, seed)
    ratios = nb_ratios(matrix, labels == 1)
    weighted = matrix @ sparse.diags(ratios)
    nb = fit_logistic(weighted, labels, c_nb, seed)
    s_plain = float(np.std(matrix @ plain.weights[0] + plain.bias[0]))
    s_nb = float(np.std(weighted @ nb.weights[0] + nb.bias[0]))
    weights = plain.weights[0] / s_plain + ratios * nb.weights[0] / s_nb
    bias = plain.bias / s_plain + nb.bias / s_nb
    return Fitted(weights[np.newaxis, :], bias)


def fit_nb_ensemble_multiclass(
    matrix: sparse.csr_matrix, labels: np.ndarray, c_plain: float, c_nb: float, seed: int
) -> Fitted:
    """Multiclass version of `fit_nb_ensemble`: a multinomial logistic regression averaged with
    one NB-weighted one-vs-rest regression per class, folded into one weight row per class."""
    plain = fit_logistic(matrix, labels, c_plain, seed, multinomial=True)
    s_plain = float(np.std(matrix @ plain.weights.T + plain.bias))
    rows, biases, decisions = [], [], []
    for label in range(plain.weights.shape[0]):
        ratios = nb_ratios(matrix, labels == label)
        weighted = matrix @ sparse.diags(ratios)
        nb = fit_logistic(weighted, (labels == label).astype(int), c_nb, seed)
        rows.append(ratios * nb.weights[0])
        biases.append(nb.bias[0])
        decisions.append(weighted @ nb.weights[0] + nb.bias[0])
    s_nb = float(np.std(np.column_stack(decisions)))
    weights = plain.weights / s_plain + np.array(rows) / s_nb
    return Fitted(weights, plain.bias / s_plain + np.array(biases) / s_nb)


def fit_one_vs_rest(
    matrix: sparse.csr_matrix,
    labels: np.ndarray,
    n_classes: int,
    c: float,
    seed: int,
    sample_weight: np.ndarray | None = None,
) -> Fitted:
    """One binary L2 logistic regression per class (liblinear: much faster than a multinomial
    fit on large sparse matrices); decide with the largest score."""
    rows, biases = [], []
    for label in range(n_classes):
        binary = (labels == label).astype(int)
        fitted = fit_logistic(matrix, binary, c, seed, sample_weight=sample_weight)
        rows.append(fitted.weights[0])
        biases.append(fitted.bias[0])
    return Fitted(np.array(rows), np.array(biases))
