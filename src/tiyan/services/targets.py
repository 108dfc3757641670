"""KPI targets and competitor benchmarks: checked, saved and audited (users who manage surveys,
at the units they manage).

A target and a benchmark belong to a period (first and last day, both included) of one unit;
the dashboards compare each with our figure over that same period (analytics/targets), never
with the figure of a longer or shorter range. A save is all rows or none: every row is checked
first and each error names its line and field; each saved row is one audit entry
(`target.save`, `benchmark.save`) with the unit, KPI, period and value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import Forbidden, InvalidInput, NotFound, TiyanError, error_text
from tiyan.store import audit
from tiyan.store import indices as index_store
from tiyan.store import tables as t
from tiyan.store.scoped_refs import unit_among

TARGET_KPIS = ("nps", "csat", "csat_top2", "ces")
INDEX_KPI = "index:"  # a composite index's target is keyed "index:CODE"
TARGET_BOUNDS = {"nps": (-100.0, 100.0), "csat": (1.0, 5.0), "csat_top2": (0.0, 100.0),
                 "ces": (1.0, 7.0)}  # a composite index lies on 0-100
BENCH_KPIS = ("nps", "csat", "csat_top2", "ces")
BENCH_BOUNDS = {"nps": (-100.0, 100.0), "csat": (1.0, 5.0), "csat_top2": (0.0, 100.0),
                "ces": (1.0, 7.0)}


class RowErrors(InvalidInput):
    """Rows that were not saved: `problems` holds each row's error (its `where` reads
    "line N: field" when the rows are numbered); `lines(locale)` says them one by one."""

    def __init__(self, problems: Sequence[TiyanError]) -> None:
        super().__init__("targets.rows_not_saved", where=None, count=len(problems))
        self.problems = list(problems)
        self.errors = self.lines("en")
        self.message = self.text("en")

    def lines(self, locale: str) -> list[str]:
        return [_line(exc, locale) for exc in self.problems]

    def text(self, locale: str) -> str:
        return "; ".join(self.lines(locale))


def _line(exc: TiyanError, locale: str) -> str:
    numbered = re.fullmatch(r"line (\d+): (.*)", exc.where or "")
    if numbered is None:
        return exc.text(locale) if not exc.where else error_text(
            "targets.field_problem", locale, {"field": exc.where, "text": exc.text(locale)})
    line, field = numbered.groups()
    key = "targets.line_field_problem" if field else "targets.line_problem"
    return error_text(key, locale, {"line": line, "field": field, "text": exc.text(locale)})


@dataclass(frozen=True)
class TargetInput:
    kpi: str
    unit_code: str
    period_start: str
    period_end: str
    target: str


def target_kpis(conn: Connection) -> tuple[str, ...]:
    """What a target may be set for: the built-in KPIs and each defined composite index."""
    return TARGET_KPIS + tuple(INDEX_KPI + x.code for x in index_store.load(conn))


def _managed(actor: Actor) -> frozenset[int]:
    return frozenset(actor.scope.visibility(Permission.MANAGE_SURVEYS).unit_ids)


def _date(value: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("common.not_date_yyyy_mm", value=value.strip()[:40],
                           where=where) from None


def _period(start: str, end: str, where: str) -> tuple[dt.date, dt.date]:
    first = _date(start, f"{where}period_start")
    last = _date(end, f"{where}period_end")
    if last < first:
        raise InvalidInput("common.period_ends_before_starts", where=f"{where}period_end")
    return first, last


def _number(text: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise InvalidInput("common.not_number_2", text=text.strip()[:40], where=where) from None
    if value != value:  # NaN
        raise InvalidInput("targets.not_number", where=where)
    return value


def check_target(conn: Connection, actor: Actor, row: TargetInput, where: str = "",
                 kpis: Sequence[str] | None = None) -> dict[str, Any]:
    """A target row checked against the KPIs (`kpis`: target_kpis, read once per import), the
    units the actor manages and the dates; errors name the field (and the line of an import)."""
    kpis, kpi = kpis if kpis is not None else target_kpis(conn), row.kpi.strip()
    if kpi not in kpis:
        raise InvalidInput("targets.not_kpi", kpi=kpi[:64], kpis=", ".join(kpis),
                           where=f"{where}kpi")
    unit_id = unit_among(conn, _managed(actor), row.unit_code.strip(), where=f"{where}unit")
    start, end = _period(row.period_start, row.period_end, where)
    value = _number(row.target, f"{where}target")
    low, high = TARGET_BOUNDS.get(kpi, (0.0, 100.0))
    if not low <= value <= high:
        raise InvalidInput("targets.target_lies", kpi=kpi, low=low, high=high,
                           where=f"{where}target")
    return {"kpi": kpi, "unit_id": unit_id, "period_start": start, "period_end": end,
            "target": value}


def check_benchmark(conn: Connection, actor: Actor, row: Mapping[str, str],
                    where: str = "") -> dict[str, Any]:
    """A benchmark row (kpi, competitor, unit, period_start, period_end, value[, source])
    checked; errors name the field (and the line of an import)."""
    kpi = (row.get("kpi") or "").strip()
    if kpi not in BENCH_KPIS:
        raise InvalidInput("targets.not_kpi_2", kpi=kpi[:64], bench_kpis=", ".join(BENCH_KPIS),
                           where=f"{where}kpi")
    competitor = (row.get("competitor") or "").strip()
    if not competitor or len(competitor) > 200:
        raise InvalidInput("targets.name_competitor_most_characters",
                           where=f"{where}competitor")
    unit_id = unit_among(conn, _managed(actor), (row.get("unit") or "").strip(),
                         where=f"{where}unit")
    start, end = _period(row.get("period_start") or "", row.get("period_end") or "", where)
    value = _number(row.get("value") or "", f"{where}value")
    low, high = BENCH_BOUNDS[kpi]
    if not low <= value <= high:
        raise InvalidInput("targets.value_lies", kpi=kpi, low=low, high=high,
                           where=f"{where}value")
    source = (row.get("source") or "").strip()[:200] or None
    return {"kpi": kpi, "competitor": competitor, "unit_id": unit_id, "period_start": start,
            "period_end": end, "value": value, "source": source}


def do_save_targets(ctx: Context, actor: Actor, rows: Sequence[TargetInput], *,
                    numbered: bool = False) -> int:
    """Save the targets (a target of the same KPI, unit and start is replaced): all or none.
    `numbered`: errors name the CSV line of each row (line 2 is the first row)."""
    actor.require(Permission.MANAGE_SURVEYS)
    now = ctx.now()
    with ctx.db.write() as conn:
        kpis, checked = target_kpis(conn), []
        errors: list[TiyanError] = []
        for line, row in enumerate(rows, start=2):
            try:
                checked.append(check_target(conn, actor, row,
                                            f"line {line}: " if numbered else "", kpis))
            except (InvalidInput, Forbidden, NotFound) as exc:
                errors.append(exc)
        if errors:
            raise RowErrors(errors)
        for values in checked:
            _upsert(conn, t.kpi_target, values, ("kpi", "unit_id", "period_start"))
            audit.record(conn, at=now, user_id=actor.user_id, action="target.save",
                         entity="kpi_target", entity_id=values["kpi"],
                         unit_id=values["unit_id"], detail=_detail(values, "target"))
    return len(checked)


def do_save_benchmarks(ctx: Context, actor: Actor, rows: Sequence[Mapping[str, str]], *,
                       numbered: bool = False) -> int:
    """Save competitor benchmarks (one of the same KPI, competitor, unit and start is
    replaced): all or none, as do_save_targets."""
    actor.require(Permission.MANAGE_SURVEYS)
    now = ctx.now()
    with ctx.db.write() as conn:
        checked, errors = [], list[TiyanError]()
        for line, row in enumerate(rows, start=2):
            try:
                checked.append(check_benchmark(conn, actor, row,
                                               f"line {line}: " if numbered else ""))
            except (InvalidInput, Forbidden, NotFound) as exc:
                errors.append(exc)
        if not errors and not checked:
            errors.append(InvalidInput("targets.file_no_rows", where="line 2: "))
        if errors:
            raise RowErrors(errors)
        for values in checked:
            _upsert(conn, t.competitor_benchmark, values,
                    ("kpi", "competitor", "unit_id", "period_start"))
            audit.record(conn, at=now, user_id=actor.user_id, action="benchmark.save",
                         entity="competitor_benchmark", entity_id=values["kpi"],
                         unit_id=values["unit_id"],
                         detail={**_detail(values, "value"), "competitor": values["competitor"]})
    return len(checked)


def _upsert(conn: Connection, table: sa.Table, values: Mapping[str, Any],
            keys: Sequence[str]) -> None:
    updated = conn.execute(table.update().where(*(table.c[k] == values[k] for k in keys))
                           .values({k: v for k, v in values.items() if k not in keys}))
    if updated.rowcount == 0:
        conn.execute(table.insert().values(**values))


def _detail(values: Mapping[str, Any], value_key: str) -> dict[str, object]:
    return {"kpi": values["kpi"], "period_start": values["period_start"].isoformat(),
            "period_end": values["period_end"].isoformat(), value_key: values[value_key]}
