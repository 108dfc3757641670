"""Calendar periods in the business time zone, as SQL bucket expressions for each database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa


def month_bucket(dialect: str, column: sa.ColumnElement[dt.datetime],
                 tz: str) -> sa.ColumnElement[str]:
    """'YYYY-MM' of a UTC timestamp column, in the business time zone."""
    if dialect == "postgresql":
        local = sa.func.timezone(tz, column)
        return sa.func.to_char(local, "YYYY-MM")
    offset = _utc_offset_hours(tz)
    return sa.func.strftime("%Y-%m", column, f"{offset:+.2f} hours")


def _utc_offset_hours(tz: str) -> float:
    offset = dt.datetime.now(ZoneInfo(tz)).utcoffset() or dt.timedelta(0)
    return offset.total_seconds() / 3600


def month_start(moment: dt.datetime, tz: str) -> dt.datetime:
    local = moment.astimezone(ZoneInfo(tz))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def months_back(moment: dt.datetime, tz: str, count: int) -> list[str]:
    """The last `count` month labels, oldest first, ending with the month of `moment`."""
    local = moment.astimezone(ZoneInfo(tz))
    year, month = local.year, local.month
    labels = []
    for _ in range(count):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return labels[::-1]


def first_of_label(label: str, tz: str) -> dt.datetime:
    year, month = (int(x) for x in label.split("-"))
    return dt.datetime(year, month, 1, tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)
