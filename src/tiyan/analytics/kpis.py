"""Headline KPIs for a user's scope: responses, NPS and CSAT per month (from the aggregates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, Sums, sums
from tiyan.analytics.periods import months_back
from tiyan.domain.access import Actor, Permission
from tiyan.domain.metrics import Estimate
from tiyan.store.aggregates import RESPONSES
from tiyan.store.scoped import parent_map


@dataclass(frozen=True)
class MonthKpis:
    month: str
    responses: int
    nps: Estimate
    csat: Estimate


def monthly_kpis(conn: Connection, actor: Actor, *, now: dt.datetime, tz: str,
                 months: int = 12, min_n: int = 30) -> list[MonthKpis]:
    labels = months_back(now, tz, months)
    start = dt.date.fromisoformat(f"{labels[0]}-01")
    last = dt.date.fromisoformat(f"{labels[-1]}-01")
    end = (last + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    vis = actor.scope.visibility(Permission.VIEW_DASHBOARD)
    values = sums(conn, vis, parent_map(conn), Filters(start, end), ["month"],
                  [RESPONSES, "nps", "csat"], tz=tz)

    def get(label: str, item: str) -> Sums:
        return values.get((dt.date.fromisoformat(f"{label}-01"), item), Sums())

    return [
        MonthKpis(
            month=label,
            responses=get(label, RESPONSES).n,
            nps=get(label, "nps").nps(min_n),
            csat=get(label, "csat").mean(min_n),
        )
        for label in labels
    ]
