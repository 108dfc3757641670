"""Typed errors of the churn-risk model; each carries a code, an HTTP status and a message
that says what is wrong and where."""

from __future__ import annotations


class PredictError(Exception):
    """Base of every error raised by ``tiyan.predict``."""

    code = "predict_error"
    http_status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidFeatureSpec(PredictError):
    """A feature declaration is malformed (bad kind, broken description template)."""

    code = "invalid_feature_spec"


class InvalidDataset(PredictError):
    """The data handed to training or scoring do not match the declared features."""

    code = "invalid_dataset"


class TooFewToTrain(PredictError):
    """There are too few rows, churners or non-churners to train and validate a model."""

    code = "too_few_to_train"

    def __init__(
        self, *, rows: int, churners: int, stayers: int, minimum_rows: int, minimum_per_class: int
    ) -> None:
        super().__init__(
            f"too few data to train a churn model: {rows} rows ({churners} churned, "
            f"{stayers} stayed); at least {minimum_rows} rows and {minimum_per_class} "
            "customers in each class are needed"
        )
        self.rows = rows
        self.churners = churners
        self.stayers = stayers
        self.minimum_rows = minimum_rows
        self.minimum_per_class = minimum_per_class


class InvalidCustomerHistory(PredictError):
    """A customer history cannot be turned into features (e.g. a time without a time zone)."""

    code = "invalid_customer_history"


class ModelFileError(PredictError):
    """A saved model file is missing, unreadable or not a tiyan churn model."""

    code = "model_file_error"
    http_status = 500
