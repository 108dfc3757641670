"""Survey sessions: a respondent's answers saved page by page until the response is stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.store import tables as t

S = t.survey_session

_SESSION = (
    sa.select(S, t.org_unit.c.code.label("unit_code"), t.org_unit.c.name_zh.label("unit_zh"),
              t.org_unit.c.name_en.label("unit_en"), t.staff.c.code.label("staff_code"),
              t.staff.c.name.label("staff_name"),
              t.customer.c.public_id.label("customer_public_id"),
              t.customer.c.name.label("customer_name"),
              t.customer.c.attributes.label("customer_attributes"),
              t.invitation.c.data.label("invitation_data"),
              t.response.c.public_id.label("response_public_id"),
              t.survey.c.status.label("survey_status"))
    .join(t.org_unit, t.org_unit.c.id == S.c.unit_id)
    .join(t.survey, t.survey.c.id == S.c.survey_id)
    .outerjoin(t.staff, t.staff.c.id == S.c.staff_id)
    .outerjoin(t.customer, t.customer.c.id == S.c.customer_id)
    .outerjoin(t.invitation, t.invitation.c.id == S.c.invitation_id)
    .outerjoin(t.response, t.response.c.id == S.c.response_id)
)
_BY_PUBLIC_ID = _SESSION.where(S.c.public_id == sa.bindparam("public_id"))
_BY_INVITATION = (_SESSION.where(S.c.invitation_id == sa.bindparam("invitation_id"))
                  .order_by(S.c.id))
_UPDATE = (sa.update(S).where(S.c.public_id == sa.bindparam("sid"))
           .values(answers=sa.bindparam("answers"), page=sa.bindparam("page"),
                   language=sa.bindparam("language"), updated_at=sa.bindparam("now")))

_LINK_TARGET = sa.select(
    sa.select(t.org_unit.c.code).where(t.org_unit.c.id == sa.bindparam("unit"))
    .scalar_subquery().label("unit_code"),
    sa.select(t.org_unit.c.name_zh).where(t.org_unit.c.id == sa.bindparam("unit"))
    .scalar_subquery().label("unit_zh"),
    sa.select(t.org_unit.c.name_en).where(t.org_unit.c.id == sa.bindparam("unit"))
    .scalar_subquery().label("unit_en"),
    sa.select(t.staff.c.code).where(t.staff.c.id == sa.bindparam("staff"))
    .scalar_subquery().label("staff_code"),
    sa.select(t.staff.c.name).where(t.staff.c.id == sa.bindparam("staff"))
    .scalar_subquery().label("staff_name"),
    sa.select(t.survey.c.status).where(t.survey.c.id == sa.bindparam("survey"))
    .scalar_subquery().label("survey_status"),
    sa.select(t.survey_version.c.id).join(t.survey, t.survey.c.id == t.survey_version.c.survey_id)
    .where(t.survey.c.id == sa.bindparam("survey"),
           t.survey_version.c.version == t.survey.c.current_version,
           t.survey_version.c.published_at.is_not(None))
    .scalar_subquery().label("version_id"),
)
_SURVEY_STATE = sa.select(t.survey.c.status).where(t.survey.c.id == sa.bindparam("survey"))


def session_by_public_id(conn: Connection, public_id: str) -> RowMapping | None:
    return conn.execute(_BY_PUBLIC_ID, {"public_id": public_id}).mappings().first()


def session_by_invitation(conn: Connection, invitation_id: int) -> RowMapping | None:
    return conn.execute(_BY_INVITATION, {"invitation_id": invitation_id}).mappings().first()


def link_target(conn: Connection, *, survey_id: int, unit_id: int,
                staff_id: int | None) -> RowMapping:
    """The unit, staff, survey status and current version a link points at, in one query."""
    params = {"unit": unit_id, "staff": staff_id, "survey": survey_id}
    return conn.execute(_LINK_TARGET, params).mappings().one()


def survey_status(conn: Connection, survey_id: int) -> str | None:
    return conn.execute(_SURVEY_STATE, {"survey": survey_id}).scalar_one_or_none()


def insert_session(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(sa.insert(S).values(**values))


def update_answers(conn: Connection, public_id: str, *, answers: dict[str, Any], page: int,
                   language: str, now: dt.datetime) -> bool:
    result = conn.execute(_UPDATE, {"sid": public_id, "answers": answers, "page": page,
                                    "language": language, "now": now})
    return bool(result.rowcount)


def mark_submitted(conn: Connection, public_id: str, response_id: int,
                   answers: dict[str, Any], now: dt.datetime) -> bool:
    result = conn.execute(sa.update(S).where(S.c.public_id == public_id).values(
        status="submitted", response_id=response_id, answers=answers, updated_at=now))
    return bool(result.rowcount)
