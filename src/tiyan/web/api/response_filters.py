"""The filters of `GET /api/v1/responses` and `/api/v1/feedback`, parsed into a ResponseFilter.

Codes (survey, unit, touchpoint) are what integrators know, so the filters take codes and turn
them into ids here; each bad value is an `invalid_input` error naming its parameter.

    survey          survey code
    unit            unit code; includes the unit's whole subtree
    touchpoint      touchpoint code, or `journey/touchpoint` where the code is used by several
                    journeys; includes its sub-touchpoints
    channel         link, qr, email, sms, phone, api, kiosk, import
    source          survey, review, hotline, social, complaint
    submitted_from  on or after: a day (YYYY-MM-DD, from 00:00 UTC) or an ISO 8601 time
    submitted_to    before this ISO 8601 time, or up to the end of this day (YYYY-MM-DD, UTC)
    segment         the customer's current segment (champions, at_risk, vip …)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Query
from sqlalchemy.engine import Connection

from tiyan.domain.access import Actor, Permission
from tiyan.domain.responses import Channel, Source
from tiyan.errors import InvalidInput
from tiyan.store import tables as t
from tiyan.store.customers import check_segment
from tiyan.store.responses import ResponseFilter
from tiyan.web.api.params import MAX_ID

FEEDBACK_SOURCES = tuple(s.value for s in Source if s != Source.SURVEY)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Code = Annotated[str | None, Query(min_length=1, max_length=130)]
Moment = Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD or ISO 8601 time")]


@dataclass(frozen=True)
class ListFilters:
    """The raw query parameters (FastAPI fills this as a dependency)."""

    survey: str | None = None
    unit: str | None = None
    touchpoint: str | None = None
    channel: str | None = None
    source: str | None = None
    submitted_from: str | None = None
    submitted_to: str | None = None
    survey_id: int | None = None
    unit_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    segment: str | None = None


def list_filters(
    survey: Code = None, unit: Code = None, touchpoint: Code = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    source: Annotated[str | None, Query(max_length=16)] = None,
    submitted_from: Moment = None, submitted_to: Moment = None,
    survey_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="survey id")] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="unit id (subtree)")] = None,
    since: Annotated[dt.datetime | None, Query(description="same as submitted_from")] = None,
    until: Annotated[dt.datetime | None, Query(description="same as submitted_to")] = None,
    segment: Annotated[str | None, Query(max_length=64, description="customer segment")] = None,
) -> ListFilters:
    return ListFilters(survey, unit, touchpoint, channel, source, submitted_from, submitted_to,
                       survey_id, unit_id, since, until, segment)


def build_filter(conn: Connection, actor: Actor, q: ListFilters, *,
                 feedback: bool = False) -> ResponseFilter:
    """Resolve codes and check values; `feedback` limits the list to non-survey sources."""
    start = _moment(q.submitted_from, "submitted_from", end_of_day=False) or _aware(q.since)
    end = _moment(q.submitted_to, "submitted_to", end_of_day=True) or _aware(q.until)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("response_filters.submitted_must_after_submitted", where="submitted_to")
    return ResponseFilter(
        survey_id=_survey_id(conn, q.survey) if q.survey else q.survey_id,
        unit_id=_unit_id(conn, actor, q.unit) if q.unit else q.unit_id,
        touchpoint_ids=_touchpoint_ids(conn, q.touchpoint) if q.touchpoint else None,
        channel=_choice(q.channel, [c.value for c in Channel], "channel"),
        sources=_sources(q.source, feedback),
        since=start, until=end, segment=check_segment(conn, q.segment),
    )


def _moment(value: str | None, where: str, *, end_of_day: bool) -> dt.datetime | None:
    if not value:
        return None
    try:
        if _DAY.match(value):
            day = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
            return day + dt.timedelta(days=1) if end_of_day else day
        return _aware(dt.datetime.fromisoformat(value))
    except ValueError:
        raise InvalidInput("response_filters.not_date_yyyy_mm", value=value,
                           where=where) from None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _survey_id(conn: Connection, code: str) -> int:
    found = conn.execute(sa.select(t.survey.c.id).where(t.survey.c.code == code)).scalar()
    if found is None:
        raise InvalidInput("common.no_survey", code=code, where="survey")
    return int(found)


def _unit_id(conn: Connection, actor: Actor, code: str) -> int:
    found = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == code)).scalar()
    reach = actor.scope.visibility(Permission.VIEW_RESPONSES).all_units
    if found is None or int(found) not in reach:
        raise InvalidInput("response_filters.no_unit_your_scope", code=code, where="unit")
    return int(found)


def _touchpoint_ids(conn: Connection, ref: str) -> tuple[int, ...]:
    journey, _, code = ref.rpartition("/")
    query = sa.select(t.touchpoint.c.id, t.touchpoint.c.journey_id).where(
        t.touchpoint.c.code == code)
    if journey:
        query = query.join(t.journey, t.journey.c.id == t.touchpoint.c.journey_id).where(
            t.journey.c.code == journey)
    rows = conn.execute(query).all()
    if not rows:
        raise InvalidInput("common.no_touchpoint", ref=ref, where="touchpoint")
    if len({row.journey_id for row in rows}) > 1:
        raise InvalidInput("common.touchpoint_several_journeys_write", code=code,
                           where="touchpoint")
    return _with_sub_touchpoints(conn, [int(row.id) for row in rows])


def _with_sub_touchpoints(conn: Connection, ids: list[int]) -> tuple[int, ...]:
    found, frontier = set(ids), list(ids)
    while frontier:
        children = conn.execute(sa.select(t.touchpoint.c.id)
                                .where(t.touchpoint.c.parent_id.in_(frontier))).scalars()
        frontier = [int(i) for i in children if int(i) not in found]
        found.update(frontier)
    return tuple(sorted(found))


def _choice(value: str | None, allowed: list[str], where: str) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidInput("response_filters.not", value=value, v_where=where,
                           allowed=", ".join(allowed),
                           where=where)
    return value


def _sources(value: str | None, feedback: bool) -> tuple[str, ...] | None:
    allowed = list(FEEDBACK_SOURCES) if feedback else [s.value for s in Source]
    chosen = _choice(value, allowed, "source")
    if chosen is not None:
        return (chosen,)
    return FEEDBACK_SOURCES if feedback else None
