"""Targets against the figure of their own period (no web imports; unit scope through the cube).

A target belongs to a period of one unit. For a dashboard range, each target whose period
overlaps the range is shown with the figure over that target's period (through today where the
period is not over, marked partial) and the gap between the two. A figure over the range is
never compared with a target of another period: a year's NPS is not measured against a
November target, and a Q3 target is measured against Q3.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, month_start, sums, total_by_item
from tiyan.domain.indices import IndexDefinition
from tiyan.domain.metrics import Estimate, too_few_responses
from tiyan.store import tables as t

if TYPE_CHECKING:
    from tiyan.analytics.dashboard import Scope


@dataclass(frozen=True)
class TargetGap:
    kpi: str
    period_start: dt.date
    period_end: dt.date
    target: float
    actual: Estimate  # over the target's own period (through `measured_to`)
    measured_to: dt.date  # the period's end, or today where the period is not over
    gap: float | None  # actual - target; None when the actual is too few

    @property
    def partial(self) -> bool:
        """The period is not over: its figure so far."""
        return self.measured_to < self.period_end

    @property
    def met(self) -> bool | None:
        return None if self.gap is None else self.gap >= 0

    @property
    def label(self) -> str:
        return period_label(self.period_start, self.period_end)


def period_label(start: dt.date, end: dt.date) -> str:
    """2026, 2026-Q3, 2026-11, or 2026-11-03 – 2026-11-20."""
    next_day = end + dt.timedelta(days=1)
    if start == month_start(start) and next_day.day == 1:
        months = (next_day.year - start.year) * 12 + next_day.month - start.month
        if months == 1:
            return start.strftime("%Y-%m")
        if months == 3 and start.month % 3 == 1:
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        if months == 12 and start.month == 1:
            return str(start.year)
    return f"{start.isoformat()} – {end.isoformat()}"


def targets_in_range(conn: Connection, unit_id: int, filters: Filters
                     ) -> list[tuple[str, dt.date, dt.date, float]]:
    """(kpi, start, end, target) of the unit's targets whose period overlaps the range."""
    k = t.kpi_target
    rows = conn.execute(sa.select(k.c.kpi, k.c.period_start, k.c.period_end, k.c.target).where(
        k.c.unit_id == unit_id, k.c.period_start <= filters.date_to,
        k.c.period_end >= filters.date_from).order_by(k.c.kpi, k.c.period_start)).all()
    return [(r.kpi, r.period_start, r.period_end, float(r.target)) for r in rows]


def target_gaps(conn: Connection, scope: Scope, filters: Filters, unit_id: int | None, *,
                today: dt.date, min_n: int, definitions: Sequence[IndexDefinition] = ()
                ) -> dict[str, list[TargetGap]]:
    """For each KPI (and index_kpi(d)), the targets of `unit_id` overlapping the range, each
    with the figure of its own period: the unit's subtree under the page's other filters."""
    from tiyan.analytics import dashboard as d

    if unit_id is None:
        return {}
    by_code = {d.index_kpi(x): x for x in definitions}
    out: dict[str, list[TargetGap]] = {}
    for kpi, start, end, target in targets_in_range(conn, unit_id, filters):
        if kpi not in d.KPIS and kpi not in by_code:
            continue  # an index that was removed since
        last = min(end, today)
        period = dataclasses.replace(filters.between(start, max(start, last)), unit_id=unit_id)
        definition = by_code.get(kpi)
        items = (sorted(definition.item_codes()) if definition is not None
                 else [d.item_of(kpi)])
        totals = total_by_item(sums(conn, scope.vis, scope.parent_of, period, [], items))
        actual = (d.index_value(definition, totals, min_n) if definition is not None
                  else d.estimate(kpi, totals.get(d.item_of(kpi)), min_n))
        if start > today:
            actual = too_few_responses(0, actual.kind)  # not begun: nothing to measure yet
        gap = None if actual.too_few or actual.value is None else actual.value - target
        out.setdefault(kpi, []).append(
            TargetGap(kpi, start, end, target, actual, min(last, end), gap))
    return out
