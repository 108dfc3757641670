"""The features ``build_customer_features`` computes, declared for the churn model with the
words that explain them (zh-CN and English)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd

from tiyan.predict.customer_features import OVERDUE_AFTER_DAYS, build_customer_features
from tiyan.predict.customer_history import CustomerHistory
from tiyan.predict.specs import Direction, FeatureSpec


def _number(
    name: str,
    zh: str,
    en: str,
    direction: Direction,
    *,
    missing: tuple[str, str] | None = None,
) -> FeatureSpec:
    zh_missing, en_missing = missing if missing is not None else (None, None)
    return FeatureSpec(
        name,
        "numeric",
        zh,
        en,
        text_missing_zh=zh_missing,
        text_missing_en=en_missing,
        direction=direction,
    )


# Directions: -1 = more of it never raises the risk (better answers, spend, visits, products);
# +1 = more of it never lowers it (complaints, cases, days since the last visit); 0 = the data
# decide. A reason compares the customer with the typical customer ({typical}).
CUSTOMER_FEATURES: tuple[FeatureSpec, ...] = (
    _number(
        "latest_nps",
        "最近一次推荐意愿(NPS)打分{value:.0f}分，低于一般客户的{typical:.1f}分",
        "latest NPS answer {value:.0f} of 10, below the usual {typical:.1f}",
        -1,
        missing=("从未回答推荐意愿(NPS)问题", "has never answered the NPS question"),
    ),
    _number(
        "nps_trend",
        "NPS打分比上一次变化{value:+.0f}分（一般客户{typical:+.1f}分）",
        "NPS answer changed by {value:+.0f} since the previous one (usually {typical:+.1f})",
        -1,
    ),
    _number(
        "latest_csat",
        "最近一次满意度打分{value:.0f}分（满分5分），低于一般客户的{typical:.1f}分",
        "latest satisfaction score {value:.0f} of 5, below the usual {typical:.1f}",
        -1,
        missing=("从未回答满意度问题", "has never answered the satisfaction question"),
    ),
    _number(
        "csat_trend",
        "满意度打分比上一次变化{value:+.0f}分（一般客户{typical:+.1f}分）",
        "satisfaction score changed by {value:+.0f} since the previous one "
        "(usually {typical:+.1f})",
        -1,
    ),
    _number(
        "negative_aspects_90d",
        "90天内有{value:.0f}次负面评价，多于一般客户的{typical:.1f}次",
        "{value:.0f} negative remark{s} about the service in 90 days, more than the usual "
        "{typical:.1f}",
        1,
    ),
    _number(
        "open_cases",
        "有{value:.0f}个未解决的工单",
        "{value:.0f} open case{s}",
        1,
    ),
    _number(
        "overdue_cases",
        f"有{{value:.0f}}个工单超过{OVERDUE_AFTER_DAYS}天未解决",
        f"{{value:.0f}} case{{s}} unresolved for more than {OVERDUE_AFTER_DAYS} days",
        1,
    ),
    _number(
        "failed_recoveries_12m",
        "12个月内有{value:.0f}次回访未能挽回客户",
        "{value:.0f} follow-up call{s} in 12 months did not win the customer back",
        1,
    ),
    _number("complaints_30d", "30天内投诉{value:.0f}次", "{value:.0f} complaint{s} in 30 days", 1),
    _number("complaints_90d", "90天内投诉{value:.0f}次", "{value:.0f} complaint{s} in 90 days", 1),
    _number(
        "recency_days",
        "最近一次消费在{value:.0f}天前，久于一般客户的{typical:.0f}天",
        "last purchase {value:.0f} day{s} ago, longer than the usual {typical:.0f}",
        1,
        missing=("没有消费记录", "no purchase on record"),
    ),
    _number(
        "frequency_12m",
        "12个月内消费{value:.0f}次，少于一般客户的{typical:.1f}次",
        "{value:.0f} purchase{s} in 12 months, fewer than the usual {typical:.1f}",
        -1,
    ),
    _number(
        "monetary_12m",
        "12个月内消费金额{value:,.0f}，低于一般客户的{typical:,.0f}",
        "spent {value:,.0f} in 12 months, less than the usual {typical:,.0f}",
        -1,
    ),
    _number(
        "recency_share",
        "距上次消费已达同类客户流失间隔的{value:.0%}",
        "{value:.0%} of the way to the lapse interval of customers like them since the last "
        "purchase",
        1,
    ),
    _number(
        "visits_per_month_recent",
        "近4个月每月到店{value:.1f}次，少于一般客户的{typical:.1f}次",
        "{value:.1f} visits a month in the last 4 months, fewer than the usual {typical:.1f}",
        -1,
    ),
    _number(
        "visits_per_month_before",
        "此前8个月每月到店{value:.1f}次，少于一般客户的{typical:.1f}次",
        "{value:.1f} visits a month in the 8 months before, fewer than the usual {typical:.1f}",
        -1,
    ),
    _number(
        "visit_rate_drop",
        "近4个月每月到店次数从{visits_per_month_before:.1f}次降为{visits_per_month_recent:.1f}次",
        "visits fell from {visits_per_month_before:.1f} to "
        "{visits_per_month_recent:.1f} a month in the last 4 months",
        1,
    ),
    _number(
        "tenure_months",
        "成为客户{value:.0f}个月（一般客户{typical:.0f}个月）",
        "a customer for {value:.0f} month{s} (usually {typical:.0f})",
        0,
    ),
    _number(
        "product_count",
        "持有{value:.0f}个产品，少于一般客户的{typical:.1f}个",
        "holds {value:.0f} product{s}, fewer than the usual {typical:.1f}",
        -1,
    ),
)


def customer_feature_frame(
    histories: Mapping[str, CustomerHistory],
    as_of: datetime,
    lapse_days: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row of features per customer id (the index), as of the same moment.

    ``lapse_days`` gives each customer's lapse interval (their segment's churn definition);
    without it ``recency_share`` is missing.
    """
    lapse = lapse_days or {}
    rows = {
        customer_id: build_customer_features(history, as_of, lapse.get(customer_id))
        for customer_id, history in histories.items()
    }
    columns = [spec.name for spec in CUSTOMER_FEATURES]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)
