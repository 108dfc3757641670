"""Validate tiyan's churn-risk pipeline on IBM's Telco Customer Churn data.

Fits on the `train` split, chooses the model with cross-validation on train plus the `dev`
split, and reports on `test`: ROC AUC, Brier score against the base rate's, the calibration
table by decile, and a reliability plot (SVG). The last line printed is JSON.

    .venv/bin/python bench/churn_telco.py [--data CSV] [--plot SVG] [--seed N] [--model FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from tiyan.predict import (
    ChurnDataset,
    Evaluation,
    FeatureSpec,
    TrainedChurnModel,
    reliability_svg,
    train_churn_model,
)

DATA = Path("/work/shared/data/telco_churn/telco_churn.csv")
PLOT = Path("docs/models/churn_reliability.svg")

NO_INTERNET = {"No internet service": ("没有宽带", "no internet service")}


def _choice(name: str, words: dict[str, tuple[str, str]]) -> FeatureSpec:
    """A categorical feature whose values are whole phrases."""
    return FeatureSpec(
        name,
        "categorical",
        "{value}",
        "{value}",
        values_zh={value: zh for value, (zh, _) in words.items()},
        values_en={value: en for value, (_, en) in words.items()},
    )


def _add_on(name: str, zh: str, en: str) -> FeatureSpec:
    return _choice(
        name, {"Yes": (f"有{zh}", f"has {en}"), "No": (f"没有{zh}", f"no {en}"), **NO_INTERNET}
    )


TELCO_FEATURES: tuple[FeatureSpec, ...] = (
    _choice("gender", {"Female": ("女性", "female"), "Male": ("男性", "male")}),
    _choice(
        "SeniorCitizen",
        {"1": ("老年客户", "senior citizen"), "0": ("非老年客户", "not a senior citizen")},
    ),
    _choice("Partner", {"Yes": ("有伴侣", "has a partner"), "No": ("无伴侣", "no partner")}),
    _choice(
        "Dependents",
        {"Yes": ("有受抚养人", "has dependents"), "No": ("无受抚养人", "no dependents")},
    ),
    FeatureSpec("tenure", "numeric", "在网{value:.0f}个月", "customer for {value:.0f} month{s}"),
    _choice(
        "PhoneService",
        {"Yes": ("有电话业务", "has phone service"), "No": ("没有电话业务", "no phone service")},
    ),
    _choice(
        "MultipleLines",
        {
            "Yes": ("多条电话线", "several phone lines"),
            "No": ("单条电话线", "one phone line"),
            "No phone service": ("没有电话业务", "no phone service"),
        },
    ),
    _choice(
        "InternetService",
        {
            "DSL": ("DSL宽带", "DSL internet"),
            "Fiber optic": ("光纤宽带", "fibre-optic internet"),
            "No": ("没有宽带", "no internet service"),
        },
    ),
    _add_on("OnlineSecurity", "网络安全服务", "online security"),
    _add_on("OnlineBackup", "在线备份", "online backup"),
    _add_on("DeviceProtection", "设备保护", "device protection"),
    _add_on("TechSupport", "技术支持", "tech support"),
    _add_on("StreamingTV", "流媒体电视", "streaming TV"),
    _add_on("StreamingMovies", "流媒体电影", "streaming movies"),
    _choice(
        "Contract",
        {
            "Month-to-month": ("按月合同", "month-to-month contract"),
            "One year": ("一年合同", "one-year contract"),
            "Two year": ("两年合同", "two-year contract"),
        },
    ),
    _choice(
        "PaperlessBilling",
        {"Yes": ("电子账单", "paperless billing"), "No": ("纸质账单", "paper bills")},
    ),
    _choice(
        "PaymentMethod",
        {
            "Electronic check": ("电子支票付款", "pays by electronic check"),
            "Mailed check": ("邮寄支票付款", "pays by mailed check"),
            "Bank transfer (automatic)": ("银行自动转账", "pays by automatic bank transfer"),
            "Credit card (automatic)": ("信用卡自动扣款", "pays by automatic credit card"),
        },
    ),
    FeatureSpec(
        "MonthlyCharges", "numeric", "月费{value:.2f}美元", "monthly charges of ${value:.2f}"
    ),
    FeatureSpec(
        "TotalCharges",
        "numeric",
        "累计消费{value:.0f}美元",
        "${value:.0f} billed in total",
        text_missing_zh="尚未出账",
        text_missing_en="not billed yet",
    ),
)


def telco_splits(path: Path) -> dict[str, ChurnDataset]:
    """The train, dev and test splits as churn datasets (blank TotalCharges = missing)."""
    table = pd.read_csv(path, dtype={"SeniorCitizen": str})
    table["TotalCharges"] = pd.to_numeric(table["TotalCharges"].str.strip().replace("", None))
    return {
        split: ChurnDataset(rows, (rows["Churn"] == "Yes").to_numpy(), TELCO_FEATURES)
        for split, rows in table.groupby("split")
    }


def print_training(model: TrainedChurnModel) -> None:
    report = model.report
    print(
        f"model {model.version}: {report.rows} training rows, {report.churners} churned, "
        f"{report.folds}-fold stratified CV, seed {report.seed}"
    )
    print(f"{'candidate':<20} {'CV ROC AUC (mean ± sd)':>24} {'dev ROC AUC':>12} {'score':>7}")
    for result in report.candidates:
        spread = pd.Series(result.fold_roc_auc).std()
        dev = f"{result.dev_roc_auc:.4f}" if result.dev_roc_auc is not None else "-"
        print(
            f"{result.name:<20} {result.cv_roc_auc:>15.4f} ± {spread:.4f} {dev:>12} "
            f"{result.selection_score:>7.4f}"
        )
    briers = ", ".join(f"{name} {value:.4f}" for name, value in report.calibration_cv_brier.items())
    print(f"chosen: {report.chosen}; calibration: {report.calibration} (CV Brier: {briers})")


def print_evaluation(name: str, figures: Evaluation) -> None:
    print(
        f"\n{name}: n={figures.n}, churned={figures.n_churners} ({figures.base_rate:.3f}); "
        f"ROC AUC {figures.roc_auc:.4f}; Brier {figures.brier:.4f} "
        f"(base rate's {figures.brier_base_rate:.4f})"
    )
    print(f"{'decile':>6} {'mean predicted':>15} {'observed':>9} {'n':>5}")
    for decile, group in enumerate(figures.calibration, start=1):
        print(f"{decile:>6} {group.mean_predicted:>15.3f} {group.observed_rate:>9.3f} {group.n:>5}")


def auc_interval(
    model: TrainedChurnModel, test: ChurnDataset, resamples: int = 1000
) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the test ROC AUC (customers resampled)."""
    probability = model.probabilities(test.frame)
    generator = np.random.default_rng(0)
    aucs = []
    for _ in range(resamples):
        rows = generator.integers(0, test.n_rows, test.n_rows)
        if 0 < test.churned[rows].sum() < test.n_rows:
            aucs.append(roc_auc_score(test.churned[rows], probability[rows]))
    low, high = np.quantile(aucs, [0.025, 0.975])
    return float(low), float(high)


def print_examples(model: TrainedChurnModel, test: ChurnDataset) -> None:
    scores = model.score(test.frame)
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i].probability)
    print("\nreasons for the riskiest test customer and those ranked 5% and 20% from the top:")
    for i in (ranked[0], ranked[len(ranked) // 20], ranked[len(ranked) // 5]):
        print(f"  p={scores[i].probability:.3f}")
        for reason in scores[i].reasons:
            print(f"    +{reason.contribution:.2f}  {reason.text_en} / {reason.text_zh}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", type=Path, help="also save the trained model here")
    arguments = parser.parse_args()
    started = time.perf_counter()
    splits = telco_splits(arguments.data)
    model = train_churn_model(splits["train"], seed=arguments.seed, validation=splits["dev"])
    print_training(model)
    if model.report.dev is not None:
        print_evaluation("dev", model.report.dev)
    test = model.evaluate(splits["test"])
    print_evaluation("test", test)
    low, high = auc_interval(model, splits["test"])
    print(f"test ROC AUC 95% bootstrap interval: {low:.3f} to {high:.3f}")
    print_examples(model, splits["test"])
    arguments.plot.parent.mkdir(parents=True, exist_ok=True)
    arguments.plot.write_text(
        reliability_svg(
            test.calibration, title=f"Telco churn, test split (n={test.n}), {model.version}"
        )
    )
    if arguments.model:
        model.save(arguments.model)
    print(f"\nreliability plot: {arguments.plot}; {time.perf_counter() - started:.1f} s")
    print(
        json.dumps(
            {
                "roc_auc": round(test.roc_auc, 4),
                "brier": round(test.brier, 4),
                "brier_base_rate": round(test.brier_base_rate, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
