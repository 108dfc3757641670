"""Training the churn-risk model: compare the candidates by stratified cross-validation on the
training data (and on the dev split when one is given), keep the best, calibrate it on its
out-of-fold predictions, and record the figures."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from tiyan.predict.calibration import choose_calibrator
from tiyan.predict.candidates import (
    DEFAULT_CANDIDATES,
    Candidate,
    block_features,
    broken_directions,
    limited_threads,
)
from tiyan.predict.dataset import ChurnDataset
from tiyan.predict.errors import InvalidDataset
from tiyan.predict.evaluation import evaluate_probabilities
from tiyan.predict.model import TrainedChurnModel
from tiyan.predict.reasons import Explainer, LinearExplainer, ReplacementExplainer
from tiyan.predict.report import CandidateResult, TrainingReport

MOST_FOLDS = 5
FEWEST_FOLDS = 3
CUSTOMERS_PER_FOLD = 20  # of the smaller class


@dataclass(frozen=True)
class _Assessment:
    candidate: Candidate
    result: CandidateResult
    out_of_fold: np.ndarray
    fitted: Pipeline


def train_churn_model(
    dataset: ChurnDataset,
    *,
    seed: int = 0,
    validation: ChurnDataset | None = None,
    candidates: Sequence[Candidate] = DEFAULT_CANDIDATES,
) -> TrainedChurnModel:
    """Choose, fit and calibrate a churn model; ``validation`` (the dev split) helps choose.

    Raises ``TooFewToTrain`` when there are fewer than 200 rows or 50 customers in a class.
    """
    with limited_threads():
        return _train(dataset, seed, validation, candidates)


def _train(
    dataset: ChurnDataset,
    seed: int,
    validation: ChurnDataset | None,
    candidates: Sequence[Candidate],
) -> TrainedChurnModel:
    dataset.require_trainable()
    _check_validation(dataset, validation)
    folds = fold_count(dataset)
    assessments = [_assess(candidate, dataset, validation, folds, seed) for candidate in candidates]
    eligible = [a for a in assessments if a.result.eligible] or assessments
    best = max(eligible, key=lambda assessment: assessment.result.selection_score)
    calibrator, calibration_briers = choose_calibrator(
        best.out_of_fold, dataset.churned, folds=folds, seed=seed
    )
    model = TrainedChurnModel(
        version=model_version(dataset, best.candidate, best.fitted, seed),
        features=dataset.features,
        pipeline=best.fitted,
        calibrator=calibrator,
        explainer=_explainer(best, dataset),
        training_base_rate=dataset.base_rate,
        report=TrainingReport(
            rows=dataset.n_rows,
            churners=dataset.n_churners,
            folds=folds,
            seed=seed,
            candidates=tuple(assessment.result for assessment in assessments),
            chosen=best.candidate.name,
            calibration=calibrator.method,
            calibration_cv_brier=calibration_briers,
            dev=None,
        ),
    )
    return _with_dev_figures(model, validation)


def fold_count(dataset: ChurnDataset) -> int:
    """3 to 5 folds, fewer when the smaller class is small, so every fold holds ≥ 10 of it."""
    smaller_class = min(dataset.n_churners, dataset.n_stayers)
    return int(np.clip(smaller_class // CUSTOMERS_PER_FOLD, FEWEST_FOLDS, MOST_FOLDS))


def model_version(dataset: ChurnDataset, candidate: Candidate, fitted: Pipeline, seed: int) -> str:
    """``churn-`` and 12 hex digits of a hash of data, features, candidate, settings, seed."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(dataset.frame, index=False).to_numpy().tobytes())
    digest.update(dataset.churned.tobytes())
    digest.update(repr(dataset.features).encode())
    digest.update(f"{candidate.name}|{fitted[-1].get_params()}|{seed}".encode())
    digest.update(sklearn.__version__.encode())
    return f"churn-{digest.hexdigest()[:12]}"


def _assess(
    candidate: Candidate,
    dataset: ChurnDataset,
    validation: ChurnDataset | None,
    folds: int,
    seed: int,
) -> _Assessment:
    template = candidate.build(dataset.frame, dataset.features, seed)
    out_of_fold = np.empty(dataset.n_rows)
    fold_auc: list[float] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_rows, held_rows in splitter.split(dataset.frame, dataset.churned):
        fold_model = clone(template).fit(dataset.frame.iloc[fit_rows], dataset.churned[fit_rows])
        out_of_fold[held_rows] = fold_model.predict_proba(dataset.frame.iloc[held_rows])[:, 1]
        fold_auc.append(float(roc_auc_score(dataset.churned[held_rows], out_of_fold[held_rows])))
    fitted = clone(template).fit(dataset.frame, dataset.churned)
    dev_auc = None
    if validation is not None:
        dev_auc = float(
            roc_auc_score(validation.churned, fitted.predict_proba(validation.frame)[:, 1])
        )
    result = CandidateResult(
        candidate.name,
        candidate.description,
        tuple(fold_auc),
        dev_auc,
        broken_directions(candidate.kind, fitted, dataset.features),
    )
    return _Assessment(candidate, result, out_of_fold, fitted)


def _explainer(best: _Assessment, dataset: ChurnDataset) -> Explainer:
    if best.candidate.kind == "linear":
        names = [spec.name for spec in dataset.features]
        return LinearExplainer(best.fitted, dataset.frame, block_features(best.fitted), names)
    return ReplacementExplainer(dataset.frame, dataset.features)


def _check_validation(dataset: ChurnDataset, validation: ChurnDataset | None) -> None:
    if validation is None:
        return
    if validation.features != dataset.features:
        raise InvalidDataset("validation data declare different features from training data")
    if validation.n_churners == 0 or validation.n_stayers == 0:
        raise InvalidDataset(
            f"validation data need churners and stayers; got {validation.n_churners} churned "
            f"of {validation.n_rows}"
        )


def _with_dev_figures(
    model: TrainedChurnModel, validation: ChurnDataset | None
) -> TrainedChurnModel:
    if validation is None:
        return model
    dev = evaluate_probabilities(
        model.probabilities(validation.frame),
        validation.churned,
        training_base_rate=model.training_base_rate,
    )
    return replace(model, report=replace(model.report, dev=dev))
