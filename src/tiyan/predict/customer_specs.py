"""The features ``build_customer_features`` computes, declared for the churn model with the
words that explain them (zh-CN and English)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd

from tiyan.predict.customer_features import OVERDUE_AFTER_DAYS, build_customer_features
from tiyan.predict.customer_history import CustomerHistory
from tiyan.predict.specs import FeatureSpec


def _number(name: str, zh: str, en: str, *, missing: tuple[str, str] | None = None) -> FeatureSpec:
    if missing is None:
        return FeatureSpec(name, "numeric", zh, en)
    return FeatureSpec(
        name, "numeric", zh, en, text_missing_zh=missing[0], text_missing_en=missing[1]
    )


CUSTOMER_FEATURES: tuple[FeatureSpec, ...] = (
    _number(
        "latest_nps",
        "最近一次推荐意愿(NPS)打分{value:.0f}分",
        "latest NPS answer was {value:.0f} out of 10",
        missing=("从未回答推荐意愿(NPS)问题", "has never answered the NPS question"),
    ),
    _number(
        "nps_trend",
        "NPS打分比上一次变化{value:+.0f}分",
        "NPS answer changed by {value:+.0f} since the previous one",
    ),
    _number(
        "latest_csat",
        "最近一次满意度打分{value:.0f}分（满分5分）",
        "latest satisfaction score was {value:.0f} out of 5",
        missing=("从未回答满意度问题", "has never answered the satisfaction question"),
    ),
    _number(
        "csat_trend",
        "满意度打分比上一次变化{value:+.0f}分",
        "satisfaction score changed by {value:+.0f} since the previous one",
    ),
    _number(
        "negative_aspects_90d",
        "90天内有{value:.0f}次负面评价",
        "{value:.0f} negative remark{s} about the service in 90 days",
    ),
    _number("open_cases", "有{value:.0f}个未解决的工单", "{value:.0f} open case{s}"),
    _number(
        "overdue_cases",
        f"有{{value:.0f}}个工单超过{OVERDUE_AFTER_DAYS}天未解决",
        f"{{value:.0f}} case{{s}} unresolved for more than {OVERDUE_AFTER_DAYS} days",
    ),
    _number(
        "failed_recoveries_12m",
        "12个月内有{value:.0f}次回访未能挽回客户",
        "{value:.0f} follow-up call{s} in 12 months did not win the customer back",
    ),
    _number("complaints_30d", "30天内投诉{value:.0f}次", "{value:.0f} complaint{s} in 30 days"),
    _number("complaints_90d", "90天内投诉{value:.0f}次", "{value:.0f} complaint{s} in 90 days"),
    _number(
        "recency_days",
        "最近一次消费在{value:.0f}天前",
        "last purchase was {value:.0f} day{s} ago",
        missing=("没有消费记录", "no purchase on record"),
    ),
    _number("frequency_12m", "12个月内消费{value:.0f}次", "{value:.0f} purchase{s} in 12 months"),
    _number("monetary_12m", "12个月内消费金额{value:,.0f}", "spent {value:,.0f} in 12 months"),
    _number(
        "visits_per_month_recent",
        "近4个月每月到店{value:.1f}次",
        "{value:.1f} visits a month in the last 4 months",
    ),
    _number(
        "visits_per_month_before",
        "此前8个月每月到店{value:.1f}次",
        "{value:.1f} visits a month in the 8 months before",
    ),
    _number(
        "visit_rate_drop",
        "近4个月每月到店次数从{visits_per_month_before:.1f}次变为{visits_per_month_recent:.1f}次",
        "visits went from {visits_per_month_before:.1f} to "
        "{visits_per_month_recent:.1f} a month in the last 4 months",
    ),
    _number("tenure_months", "成为客户{value:.0f}个月", "a customer for {value:.0f} month{s}"),
    _number("product_count", "持有{value:.0f}个产品", "holds {value:.0f} product{s}"),
)


def customer_feature_frame(
    histories: Mapping[str, CustomerHistory], as_of: datetime
) -> pd.DataFrame:
    """One row of features per customer id (the index), as of the same moment."""
    rows = {
        customer_id: build_customer_features(history, as_of)
        for customer_id, history in histories.items()
    }
    columns = [spec.name for spec in CUSTOMER_FEATURES]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)
