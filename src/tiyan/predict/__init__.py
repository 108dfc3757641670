"""Prediction: tiyan's churn-risk model (features, training, calibration, reasons).

The names below are imported on first use: the model code needs scikit-learn and pandas, which
cost seconds to import, and the web app, the CLI and the store reach this package for its light
records (customer_history, errors) long before anyone trains or scores a model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tiyan.predict.candidates import DEFAULT_CANDIDATES, Candidate
    from tiyan.predict.customer_features import build_customer_features
    from tiyan.predict.customer_history import (
        AspectMention,
        CallbackRecord,
        CaseRecord,
        ComplaintRecord,
        CustomerHistory,
        SurveyAnswer,
        TransactionRecord,
    )
    from tiyan.predict.customer_specs import CUSTOMER_FEATURES, customer_feature_frame
    from tiyan.predict.dataset import MINIMUM_PER_CLASS, MINIMUM_ROWS, ChurnDataset
    from tiyan.predict.errors import (
        InvalidCustomerHistory,
        InvalidDataset,
        InvalidFeatureSpec,
        ModelFileError,
        PredictError,
        TooFewToTrain,
    )
    from tiyan.predict.evaluation import CalibrationBin, Evaluation, evaluate_probabilities
    from tiyan.predict.model import ChurnScore, TrainedChurnModel
    from tiyan.predict.reasons import Reason
    from tiyan.predict.reliability_plot import reliability_svg
    from tiyan.predict.report import CandidateResult, TrainingReport
    from tiyan.predict.specs import FeatureSpec
    from tiyan.predict.training import train_churn_model

_MODULE_OF = {
    "DEFAULT_CANDIDATES": "tiyan.predict.candidates",
    "Candidate": "tiyan.predict.candidates",
    "build_customer_features": "tiyan.predict.customer_features",
    "AspectMention": "tiyan.predict.customer_history",
    "CallbackRecord": "tiyan.predict.customer_history",
    "CaseRecord": "tiyan.predict.customer_history",
    "ComplaintRecord": "tiyan.predict.customer_history",
    "CustomerHistory": "tiyan.predict.customer_history",
    "SurveyAnswer": "tiyan.predict.customer_history",
    "TransactionRecord": "tiyan.predict.customer_history",
    "CUSTOMER_FEATURES": "tiyan.predict.customer_specs",
    "customer_feature_frame": "tiyan.predict.customer_specs",
    "MINIMUM_PER_CLASS": "tiyan.predict.dataset",
    "MINIMUM_ROWS": "tiyan.predict.dataset",
    "ChurnDataset": "tiyan.predict.dataset",
    "InvalidCustomerHistory": "tiyan.predict.errors",
    "InvalidDataset": "tiyan.predict.errors",
    "InvalidFeatureSpec": "tiyan.predict.errors",
    "ModelFileError": "tiyan.predict.errors",
    "PredictError": "tiyan.predict.errors",
    "TooFewToTrain": "tiyan.predict.errors",
    "CalibrationBin": "tiyan.predict.evaluation",
    "Evaluation": "tiyan.predict.evaluation",
    "evaluate_probabilities": "tiyan.predict.evaluation",
    "ChurnScore": "tiyan.predict.model",
    "TrainedChurnModel": "tiyan.predict.model",
    "Reason": "tiyan.predict.reasons",
    "reliability_svg": "tiyan.predict.reliability_plot",
    "CandidateResult": "tiyan.predict.report",
    "TrainingReport": "tiyan.predict.report",
    "FeatureSpec": "tiyan.predict.specs",
    "train_churn_model": "tiyan.predict.training",
}

__all__ = [
    "CUSTOMER_FEATURES",
    "AspectMention",
    "CallbackRecord",
    "CaseRecord",
    "ComplaintRecord",
    "CustomerHistory",
    "SurveyAnswer",
    "TransactionRecord",
    "build_customer_features",
    "customer_feature_frame",
    "DEFAULT_CANDIDATES",
    "MINIMUM_PER_CLASS",
    "MINIMUM_ROWS",
    "CalibrationBin",
    "Candidate",
    "CandidateResult",
    "ChurnDataset",
    "ChurnScore",
    "Evaluation",
    "FeatureSpec",
    "InvalidCustomerHistory",
    "InvalidDataset",
    "InvalidFeatureSpec",
    "ModelFileError",
    "PredictError",
    "Reason",
    "TooFewToTrain",
    "TrainedChurnModel",
    "TrainingReport",
    "evaluate_probabilities",
    "reliability_svg",
    "train_churn_model",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
