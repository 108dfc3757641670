"""Submitting a response: accept → validate → persist, idempotently, in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.responses import Channel, Submission, check_answers
from tiyan.errors import Conflict, InvalidInput, NotFound
from tiyan.services.arrivals import after_response_stored
from tiyan.store import responses as store
from tiyan.store import tables as t
from tiyan.store.scoped import parent_map
from tiyan.store.scoped_refs import customer_in_reach, survey_for_unit, unit_in_reach
from tiyan.store.surveys import version_definition


@dataclass(frozen=True)
class ResponseRequest:
    """A response as it arrives, before validation against its survey."""

    survey_id: int
    unit_code: str
    answers: Mapping[str, Any]
    channel: str = "api"
    language: str = "zh-CN"
    staff_code: str | None = None
    customer_id: str | None = None
    idempotency_key: str | None = None
    started_at: dt.datetime | None = None
    submitted_at: dt.datetime | None = None
    invitation: Mapping[str, Any] = field(default_factory=dict)
    # Set by survey sessions: the version the respondent saw, where the link came from.
    survey_version_id: int | None = None
    invitation_id: int | None = None
    touchpoint_id: int | None = None


# Runs inside the response's transaction once it is stored: (connection, response id).
OnStored = Callable[[sa.Connection, int], None]


@dataclass(frozen=True)
class Stored:
    public_id: str
    created: bool


def do_submit_response(ctx: Context, by: Actor | None, request: ResponseRequest,
                       on_stored: OnStored | None = None) -> Stored:
    """Validate and store one response; a repeated idempotency key returns the first one.
    `on_stored` writes what belongs to the same unit of work (a survey session, an invitation)."""
    now = ctx.now()
    try:
        with ctx.db.write() as conn:
            if request.idempotency_key:
                existing = store.response_by_idempotency_key(conn, request.idempotency_key)
                if existing is not None:
                    return Stored(existing["public_id"], False)
            submission = _prepare(conn, ctx, by, request, now)
            response_id, public_id = store.insert_submission(conn, submission, now)
            if on_stored is not None:
                on_stored(conn, response_id)
            after_response_stored(conn, response_id, now)
    except IntegrityError:
        # Two submissions with the same key raced; the other one won.
        if request.idempotency_key is None:
            raise
        with ctx.db.read() as conn:
            existing = store.response_by_idempotency_key(conn, request.idempotency_key)
        if existing is None:
            raise Conflict("common.response_could_not_stored") from None
        return Stored(existing["public_id"], False)
    return Stored(public_id, True)


def _prepare(conn: sa.Connection, ctx: Context, by: Actor | None, request: ResponseRequest,
             now: dt.datetime) -> Submission:
    refs = store.submission_refs(conn, unit_code=request.unit_code,
                                 survey_id=request.survey_id, staff_code=request.staff_code)
    unit_id = _unit_id(conn, by, request, refs)
    version_id = _found(request.survey_version_id or refs["version_id"],
                        "surveys.survey_does_not_exist", {"survey_id": request.survey_id},
                        "survey")
    if refs["survey_status"] != "active":
        raise InvalidInput("responses.survey_not_accepting_responses", survey_id=request.survey_id,
                           where="survey_id")
    definition = version_definition(conn, version_id, ctx.db.immutable_cache)
    answers = check_answers(definition, request.answers, request.invitation)
    if not answers:
        raise InvalidInput("common.response_no_answers", where="answers")
    submitted = request.submitted_at or now
    _check_time(submitted, now)
    return Submission(
        survey_id=request.survey_id, survey_version_id=version_id, unit_id=unit_id,
        answers=answers, channel=_channel(request.channel), language=_language(request.language),
        submitted_at=submitted, started_at=request.started_at,
        touchpoint_id=request.touchpoint_id or refs["touchpoint_id"],
        invitation_id=request.invitation_id,
        staff_id=_staff_id(conn, request.staff_code, refs, unit_id),
        customer_id=_customer_id(conn, by, request.customer_id),
        agent_user_id=by.user_id if by is not None and request.channel == "phone" else None,
        idempotency_key=request.idempotency_key,
    )


def _unit_id(conn: sa.Connection, by: Actor | None, request: ResponseRequest,
             refs: Mapping[str, Any]) -> int:
    """The response's unit: for a signed-in caller one of their units, where the survey
    applies (its owner is the unit or above it)."""
    if by is None:
        return _found(refs["unit_id"], "org.no_unit_code", {"code": request.unit_code}, "unit")
    unit_id = unit_in_reach(conn, by, Permission.ENTER_RESPONSES, request.unit_code)
    survey_for_unit(conn, unit_id, survey_id=request.survey_id)
    return unit_id


def _found(value: int | None, key: str, params: dict[str, object], where: str) -> int:
    if value is None:
        raise NotFound(key, where=where, **params)
    return int(value)


def _check_time(submitted: dt.datetime, now: dt.datetime) -> None:
    if submitted.tzinfo is None:
        raise InvalidInput("responses.submitted_needs_time_zone",
                           where="submitted_at")
    if submitted > now + dt.timedelta(minutes=5):
        raise InvalidInput("responses.submitted_future", where="submitted_at")


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        raise InvalidInput("responses.not_channel", value=value, known=known,
                           where="channel") from None


def _language(value: str) -> str:
    if value not in ("zh-CN", "en"):
        raise InvalidInput("responses.not_supported_language_zh", value=value, where="language")
    return value


def _staff_id(conn: sa.Connection, code: str | None, refs: Mapping[str, Any],
              unit_id: int) -> int | None:
    if code is None:
        return None
    staff_id = _found(refs["staff_id"], "org.no_staff_code", {"code": code}, "staff")
    staff_unit = refs["staff_unit_id"]
    if staff_unit != unit_id and not _is_ancestor(conn, unit_id, staff_unit):
        raise InvalidInput("responses.staff_does_not_belong", code=code, where="staff")
    return staff_id


def _is_ancestor(conn: sa.Connection, ancestor: int, unit_id: int) -> bool:
    parents = parent_map(conn)
    node = parents.get(unit_id)
    while node is not None:
        if node == ancestor:
            return True
        node = parents.get(node)
    return False


def _customer_id(conn: sa.Connection, by: Actor | None, public_id: str | None) -> int | None:
    if public_id is None:
        return None
    if by is not None:
        return int(customer_in_reach(conn, by, Permission.ENTER_RESPONSES, public_id,
                                     where="customer_id")["id"])
    found = conn.execute(sa.select(t.customer.c.id)
                         .where(t.customer.c.public_id == public_id)).scalar_one_or_none()
    if found is None:
        raise NotFound("responses.no_customer", public_id=public_id, where="customer_id")
    return int(found)
