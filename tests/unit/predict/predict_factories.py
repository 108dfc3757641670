"""Deterministic synthetic churn data for the predict tests: risk rises with complaints and
the 'basic' plan and falls with tenure; 'noise' carries no signal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tiyan.predict import ChurnDataset, FeatureSpec

SYNTHETIC_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "complaints_30d",
        "numeric",
        "30天内投诉{value:.0f}次",
        "{value:.0f} complaint{s} in 30 days",
    ),
    FeatureSpec(
        "tenure_months", "numeric", "成为客户{value:.0f}个月", "customer for {value:.0f} month{s}"
    ),
    FeatureSpec(
        "plan",
        "categorical",
        "套餐：{value}",
        "on the {value} plan",
        values_zh={"basic": "基础版", "plus": "进阶版", "premium": "高级版"},
    ),
    FeatureSpec("noise", "numeric", "噪声{value:.2f}", "noise {value:.2f}"),
)


def synthetic_frame(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    generator = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "complaints_30d": generator.poisson(0.8, rows).astype(float),
            "tenure_months": generator.integers(1, 73, rows).astype(float),
            "plan": generator.choice(["basic", "plus", "premium"], rows),
            "noise": generator.normal(0.0, 1.0, rows),
        }
    )
    log_odds = (
        -1.2
        + 1.1 * frame["complaints_30d"]
        - 0.04 * frame["tenure_months"]
        + 1.0 * (frame["plan"] == "basic")
    )
    churned = generator.random(rows) < 1 / (1 + np.exp(-log_odds.to_numpy()))
    return frame, churned


def synthetic_dataset(rows: int = 600, seed: int = 7) -> ChurnDataset:
    frame, churned = synthetic_frame(rows, seed)
    return ChurnDataset(frame, churned, SYNTHETIC_FEATURES)
