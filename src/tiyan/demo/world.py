"""`tiyan demo`: build the deterministic demo world into an empty database.

A car-dealer group (2 regions, 6 dealers of different sizes and qualities, 30 service
advisors) with the after-sales survey, the 5-touchpoint sales journey, a hotel group, 12 months
of responses with comments that match their scores, customers with transactions (car owners on
their service cycles since two years before the survey programme), and a demo user for every
role.

The world depends on the seed and its anchor only, never on the clock: the anchor is the
``as_of`` given, else the start of the current day in Shanghai, so two builds on the same day
(or with the same ``as_of``) are the same world.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.demo import spec
from tiyan.demo.bulk import ResponseDraft, write_responses
from tiyan.demo.invitations import INVITED_CHANNELS, audiences, plan_invitations, write_invitations
from tiyan.demo.people import CustomerPool, StaffMember, create_staff
from tiyan.demo.visits import VisitFactory
from tiyan.domain.access import Role
from tiyan.domain.indices import check_definition, parse_item_lines
from tiyan.domain.survey_templates import AFTER_SALES_SATISFACTION, template
from tiyan.errors import Conflict
from tiyan.store import audit, journeys, org, surveys, users
from tiyan.store import indices as index_store
from tiyan.store import tables as t

TZ = ZoneInfo("Asia/Shanghai")
Item = TypeVar("Item")
BATCH = 2000
HISTORY_BEFORE = dt.timedelta(days=730)  # visits on record before the survey programme began


def demo_anchor(now: dt.datetime) -> dt.datetime:
    """The moment the demo world ends when no ``as_of`` is given: the start of ``now``'s day in
    Shanghai, so the world does not change with the time of day it is built."""
    local = now.astimezone(TZ)
    return dt.datetime(local.year, local.month, local.day, tzinfo=TZ).astimezone(dt.UTC)


@dataclass(frozen=True)
class DemoUser:
    role: str
    unit: str
    email: str


@dataclass
class DemoSummary:
    responses: int = 0
    invitations: int = 0
    customers: int = 0
    units: int = 0
    staff: int = 0
    password: str = spec.DEMO_PASSWORD
    users: list[DemoUser] = field(default_factory=list)
    already_there: bool = False


@dataclass(frozen=True)
class SurveyRef:
    survey_id: int
    version_id: int
    touchpoint_id: int | None


def build_demo(ctx: Context, *, seed: int = 20261123, progress: bool = False,
               as_of: dt.datetime | None = None) -> DemoSummary:
    """Build the world of ``seed`` ending at ``as_of`` (default: ``demo_anchor(ctx.now())``)."""
    rng = random.Random(seed)
    now = as_of if as_of is not None else demo_anchor(ctx.now())
    summary = DemoSummary()
    plan = list(_months(now))
    with ctx.db.read() as conn:
        if _has_demo(conn):
            return _existing(conn)
    with ctx.db.write() as conn:
        _require_empty(conn)
        unit_ids = _build_units(conn, now)
        staff = create_staff(conn, rng, unit_ids, now)
        summary.users = _build_users(
            conn, unit_ids, staff, now, ctx.passwords.hash(spec.DEMO_PASSWORD)
        )
        survey_refs = _build_journeys_and_surveys(conn, unit_ids, now)
        _define_indices(conn, now)
        buyers = {dealer: sum(VisitFactory._count("car-sales", dealer, start, end)
                              for start, end in plan) for dealer, *_ in spec.DEALERS}
        pool = CustomerPool.create(conn, rng, unit_ids, now, buyers)
        pool.churn_rng = random.Random(seed * 7919 + 1)
    summary.units, summary.staff = len(unit_ids), sum(len(v) for v in staff.values())
    factory = VisitFactory(rng, unit_ids, staff, survey_refs, pool, _agent_id(ctx), now)
    history_start = plan[0][0] - HISTORY_BEFORE
    pool.schedule_services(rng, history_start)
    for earlier in _batches(factory.history(history_start, plan[0][0]), BATCH * 5):
        with ctx.db.write() as conn:
            pool.write_transactions(conn, earlier)
    total = sum(factory.planned(start, end) for start, end in plan)
    invited: list[tuple[int, ResponseDraft]] = []  # responses that answered an invitation
    with _progress(progress, total) as advance:
        for start, end in plan:
            for batch in _batches(factory.month(start, end), BATCH):
                drafts = [d for d, _ in batch if d is not None]
                with ctx.db.write() as conn:
                    ids = write_responses(conn, drafts, now)
                    pool.write_transactions(conn, [tx for _, txs in batch for tx in txs])
                invited.extend((i, d) for i, d in zip(ids, drafts, strict=True)
                               if d.channel in INVITED_CHANNELS)
                summary.responses += len(drafts)
                advance(len(batch))
    invitations = plan_invitations(random.Random(seed * 7919 + 2), invited,
                                   audiences(unit_ids, staff, pool), plan[0][0], now)
    with ctx.db.write() as conn:
        summary.invitations = write_invitations(conn, invitations)
        pool.write_segments(conn)
    summary.customers = pool.size
    return summary


def _has_demo(conn: Connection) -> bool:
    query = sa.select(t.org_unit.c.id).where(t.org_unit.c.code == spec.units()[0].code)
    return conn.execute(query).first() is not None


def _existing(conn: Connection) -> DemoSummary:
    def count(table: sa.Table) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    return DemoSummary(
        responses=count(t.response), invitations=count(t.invitation),
        customers=count(t.customer), units=count(t.org_unit),
        staff=count(t.staff), already_there=True,
        users=[DemoUser(u.role, u.unit, u.email) for u in spec.USERS])


def _require_empty(conn: Connection) -> None:
    if conn.execute(sa.select(t.org_unit.c.id).limit(1)).first() is not None:
        raise Conflict(
            "world.database_already_holds_data",
            where="--db",
        )


def _build_units(conn: Connection, now: dt.datetime) -> dict[str, int]:
    ids: dict[str, int] = {}
    for unit in spec.units():
        ids[unit.code] = org.insert_unit(
            conn,
            code=unit.code,
            name_zh=unit.name_zh,
            name_en=unit.name_en,
            kind=unit.kind,
            parent_id=ids[unit.parent] if unit.parent else None,
            now=now,
            attributes=_attributes(unit),
        )
    return ids


def _attributes(unit: spec.UnitSpec) -> dict[str, object]:
    attributes: dict[str, object] = {"quality": unit.quality} if unit.kind == "store" else {}
    if unit.code in spec.INDUSTRIES:
        attributes["industry"] = spec.INDUSTRIES[unit.code]
    return attributes


def _build_users(
    conn: Connection,
    unit_ids: dict[str, int],
    staff: dict[str, list[StaffMember]],
    now: dt.datetime,
    password_hash: str,
) -> list[DemoUser]:
    out = []
    for u in spec.USERS:
        user_id = users.insert_user(
            conn, email=u.email, name=u.name, password_hash=password_hash, now=now
        )
        users.insert_grant(
            conn, user_id=user_id, role=Role(u.role), unit_id=unit_ids[u.unit], now=now
        )
        if u.staff_of:
            member = staff[f"{u.staff_of[0]}:advisor"][u.staff_of[1]]
            conn.execute(
                sa.update(t.staff).where(t.staff.c.id == member.id).values(user_id=user_id)
            )
        audit.record(
            conn,
            at=now,
            user_id=None,
            action="user.create",
            entity="user",
            entity_id=user_id,
            unit_id=unit_ids[u.unit],
            detail={"email": u.email, "role": u.role, "source": "demo"},
        )
        out.append(DemoUser(u.role, u.unit, u.email))
    return out


def _build_journeys_and_surveys(
    conn: Connection, unit_ids: dict[str, int], now: dt.datetime
) -> dict[str, SurveyRef]:
    for code, (zh, en, steps) in spec.JOURNEYS.items():
        journey_id = surveys.insert_journey(conn, code=code, name_zh=zh, name_en=en, now=now)
        for position, (tp_code, tp_zh, tp_en, subs) in enumerate(steps, start=1):
            parent = surveys.insert_touchpoint(
                conn,
                journey_id=journey_id,
                code=tp_code,
                name_zh=tp_zh,
                name_en=tp_en,
                position=position,
            )
            for sub_pos, (sub_code, sub_zh, sub_en) in enumerate(subs, start=1):
                surveys.insert_touchpoint(
                    conn,
                    journey_id=journey_id,
                    code=sub_code,
                    name_zh=sub_zh,
                    name_en=sub_en,
                    position=sub_pos,
                    parent_id=parent,
                )
    refs = {}
    for code, (tmpl, name, owner, journey, tp) in spec.SURVEYS.items():
        tp_id = surveys.touchpoint_ids(conn, journey)[tp] if journey and tp else None
        survey_id, version_id = surveys.insert_survey(
            conn,
            code=code,
            name=name,
            unit_id=unit_ids[owner],
            definition=template(tmpl),
            now=now,
            created_by=None,
            touchpoint_id=tp_id,
        )
        refs[code] = SurveyRef(survey_id, version_id, tp_id)
    for journey, tp, survey, channels in spec.LISTENERS:
        journeys.set_listener(conn, surveys.touchpoint_ids(conn, journey)[tp],
                              refs[survey].survey_id, list(channels))
    return refs


def _define_indices(conn: Connection, now: dt.datetime) -> None:
    """The after-sales CSI: the 8 satisfaction items and the overall rating, equal weights."""
    items = [code for code, *_ in AFTER_SALES_SATISFACTION] + ["csat"]
    lines = parse_item_lines("\n".join(f"{code} 1" for code in items))
    csi = check_definition("csi", "CSI 售后满意度指数", "CSI after-sales satisfaction", lines,
                           index_store.item_scales(conn, items))
    index_store.store(conn, [csi], now)


def _agent_id(ctx: Context) -> int | None:
    with ctx.db.read() as conn:
        row = users.user_by_email(conn, "agent@demo.tiyan.dev")
    return None if row is None else int(row["id"])


def _months(now: dt.datetime, count: int = 12) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """(start, end) of the last `count` months in Shanghai time; the current one ends now."""
    local = now.astimezone(TZ)
    year, month = local.year, local.month
    starts = []
    for _ in range(count):
        starts.append(dt.datetime(year, month, 1, tzinfo=TZ))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    starts.reverse()
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else now
        yield start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _progress:
    """A Rich progress bar when asked for, else a no-op counter."""

    def __init__(self, show: bool, total: int) -> None:
        self.show, self.total = show, total

    def __enter__(self):  # type: ignore[no-untyped-def]
        if not self.show:
            return lambda n: None
        from rich.progress import Progress

        self._bar = Progress()
        self._bar.__enter__()
        task = self._bar.add_task("demo responses", total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.show:
            self._bar.__exit__(None, None, None)
