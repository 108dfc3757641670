"""Headline KPIs for a user's scope: responses, NPS and CSAT per month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.periods import first_of_label, month_bucket, months_back
from tiyan.domain.access import Actor, Permission
from tiyan.domain.metrics import Estimate, mean_estimate, nps_from_counts
from tiyan.store import tables as t
from tiyan.store.scoped import visible

R, A = t.response, t.answer


@dataclass(frozen=True)
class MonthKpis:
    month: str
    responses: int
    nps: Estimate
    csat: Estimate


def monthly_kpis(conn: Connection, actor: Actor, *, now: dt.datetime, tz: str,
                 months: int = 12, min_n: int = 30) -> list[MonthKpis]:
    labels = months_back(now, tz, months)
    since = first_of_label(labels[0], tz)
    vis = actor.scope.visibility(Permission.VIEW_DASHBOARD)
    scope = visible(vis, R.c.unit_id, R.c.staff_id)
    bucket = month_bucket(conn.dialect.name, R.c.submitted_at, tz).label("month")
    counts = _response_counts(conn, bucket, scope, since)
    nps = _nps_counts(conn, bucket, scope, since)
    csat = _csat_sums(conn, bucket, scope, since)
    return [
        MonthKpis(
            month=label,
            responses=counts.get(label, 0),
            nps=nps_from_counts(*nps.get(label, (0, 0, 0)), min_n=min_n),
            csat=mean_estimate(*csat.get(label, (0, 0.0, 0.0)), min_n=min_n),
        )
        for label in labels
    ]


def _base(scope: sa.ColumnElement[bool], since: dt.datetime) -> list[sa.ColumnElement[bool]]:
    return [scope, R.c.submitted_at >= since, R.c.status == "complete"]


def _response_counts(conn: Connection, bucket: sa.ColumnElement[str],
                     scope: sa.ColumnElement[bool], since: dt.datetime) -> dict[str, int]:
    query = sa.select(bucket, sa.func.count()).where(*_base(scope, since)).group_by(bucket)
    return {row[0]: int(row[1]) for row in conn.execute(query)}


def _nps_counts(conn: Connection, bucket: sa.ColumnElement[str], scope: sa.ColumnElement[bool],
                since: dt.datetime) -> dict[str, tuple[int, int, int]]:
    score = A.c.value_num
    query = (
        sa.select(
            bucket,
            sa.func.sum(sa.case((score >= 9, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(score >= 7, score <= 8), 1), else_=0)),
            sa.func.sum(sa.case((score <= 6, 1), else_=0)),
        )
        .select_from(A.join(R, R.c.id == A.c.response_id))
        .where(A.c.item_code == "nps", A.c.value_num.is_not(None), *_base(scope, since))
        .group_by(bucket)
    )
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in conn.execute(query)}


def _csat_sums(conn: Connection, bucket: sa.ColumnElement[str], scope: sa.ColumnElement[bool],
               since: dt.datetime) -> dict[str, tuple[int, float, float]]:
    score = A.c.value_num
    query = (
        sa.select(bucket, sa.func.count(), sa.func.sum(score), sa.func.sum(score * score))
        .select_from(A.join(R, R.c.id == A.c.response_id))
        .where(A.c.item_code == "csat", score.is_not(None), *_base(scope, since))
        .group_by(bucket)
    )
    return {row[0]: (int(row[1]), float(row[2]), float(row[3])) for row in conn.execute(query)}
