"""Prediction: tiyan's churn-risk model (features, training, calibration, reasons)."""

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
