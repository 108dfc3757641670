"""Respondents answering a survey: open a link, save answers page by page, submit once.

An anonymous link (/s/{token}) starts a session whose id the browser keeps (a cookie, and a
hidden field in every form); a personal invitation (/i/{token}) has one session, found again
through the invitation. Nothing is written when an anonymous page is only looked at: the
session row appears with the first saved page. Submitting goes through `do_submit_response`
with the idempotency key "session:<id>", so a double click, a retry or a replayed request
finds the first response instead of storing a second one; the session and the invitation are
marked in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from tiyan.context import Context
from tiyan.domain.answer_forms import PageCheck, answers_from_form, check_page
from tiyan.domain.survey_flow import (
    first_page,
    is_shown,
    next_page,
    page_numbers,
    piping_values,
    previous_page,
    questions_on,
    walk,
)
from tiyan.domain.surveys import Question, SurveyDefinition
from tiyan.errors import InvalidInput
from tiyan.security import new_public_id
from tiyan.services import link_guard
from tiyan.services.link_guard import Device
from tiyan.services.links import LinkProblem, read_anonymous_token, read_invitation_token
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import survey_sessions as store
from tiyan.store.invitations import invitation_by_public_id, record_invitation_status
from tiyan.store.surveys import version_definition

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
CLOSED_INVITATION = frozenset({"expired", "refused"})


@dataclass(frozen=True)
class Respondent:
    """One respondent's session as the pages use it."""

    sid: str
    survey_id: int
    version_id: int
    unit_id: int
    unit_code: str
    unit_names: tuple[str, str]
    channel: str
    language: str
    started_at: dt.datetime
    staff_id: int | None = None
    staff_code: str | None = None
    touchpoint_id: int | None = None
    customer_id: int | None = None
    customer_public_id: str | None = None
    invitation_id: int | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    page: int = 0
    status: str = "open"
    response_public_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # invitation fields: logic, piping
    customer: Mapping[str, Any] = field(default_factory=dict)  # customer fields: piping
    persisted: bool = False

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"


@dataclass(frozen=True)
class PageResult:
    """What follows a posted page: "page" (show `page`), "errors" (show it again), "done"."""

    kind: str
    page: int = 0
    check: PageCheck | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    response_public_id: str | None = None
    flags: tuple[str, ...] = ()  # why the stored response was flagged (services/link_guard)


def definition_of(ctx: Context, respondent: Respondent) -> SurveyDefinition:
    """The published version the session answers (parsed once per process)."""
    with ctx.db.read() as conn:
        return version_definition(conn, respondent.version_id, ctx.db.immutable_cache)


def current_page(definition: SurveyDefinition, respondent: Respondent) -> int | None:
    """Where the respondent resumes: the saved page, else the first page."""
    if respondent.page and respondent.page in page_numbers(definition):
        return respondent.page
    return first_page(definition, respondent.data)


def page_to_show(definition: SurveyDefinition, respondent: Respondent,
                 asked: str | None) -> int | None:
    """The page a GET shows: the one its address names (`?p=`, which the browser's back button
    returns to) when the respondent has been there — a page on their path up to the saved one —
    else the saved page."""
    current = current_page(definition, respondent)
    if asked is None or not asked.isdigit() or current is None:
        return current
    page = int(asked)
    path = walk(definition, respondent.answers, respondent.data).pages
    return page if page in path and page <= current else current


# --- opening a link ------------------------------------------------------------------------

def access_anonymous(ctx: Context, token: str, sid: str | None, *, channel: str,
                     language: str, resume_submitted: bool = False) -> Respondent:
    """The session of an anonymous link: the browser's own when it still fits, else a new one
    (not yet stored). LinkProblem("tampered" | "closed") when the link cannot be answered."""
    target = read_anonymous_token(ctx, token)
    sid = sid if sid and SESSION_ID.match(sid) else None
    with ctx.db.read() as conn:
        row = store.session_by_public_id(conn, sid) if sid else None
        if row is not None and _fits(row, target) and (row["status"] == "open"
                                                      or resume_submitted):
            if row["survey_status"] != "active" and row["status"] == "open":
                raise LinkProblem("closed")
            return _from_row(row)
        link = store.link_target(conn, survey_id=target.survey_id, unit_id=target.unit_id,
                                 staff_id=target.staff_id)
    if link["unit_code"] is None:
        raise LinkProblem("tampered")
    if link["survey_status"] != "active" or link["version_id"] is None:
        raise LinkProblem("closed")
    fresh = sid if sid and row is None else new_public_id()
    data = _link_data(link["unit_code"], link["staff_code"], channel)
    return Respondent(
        sid=fresh, survey_id=target.survey_id, version_id=int(link["version_id"]),
        unit_id=target.unit_id, unit_code=link["unit_code"],
        unit_names=(link["unit_zh"], link["unit_en"]), channel=channel, language=language,
        started_at=ctx.now(), staff_id=target.staff_id, staff_code=link["staff_code"],
        touchpoint_id=target.touchpoint_id, data=data)


def open_anonymous(ctx: Context, token: str, sid: str | None, *, device_id: str | None,
                   channel: str, language: str) -> tuple[Respondent, bool]:
    """The session an anonymous link shows, and whether it is already answered: a session
    this browser submitted, or a device that sent the link its allowed responses within the
    window (the back button after the thank-you page, opening the QR code again). A link
    without a device limit (a kiosk) starts a fresh session after a submitted one."""
    respondent = access_anonymous(ctx, token, sid, channel=channel, language=language,
                                  resume_submitted=True)
    if not respondent.submitted and (respondent.persisted or sid or not device_id):
        # its own session, or a browser with no session here and no device cookie: a page
        # view stays at the link's query (a browser that submitted here has the session's
        # cookie, so only one that lost it but kept its device cookie is looked up)
        return respondent, False
    r = respondent
    with ctx.db.read() as conn:
        policy = link_guard.link_policy(conn, survey_id=r.survey_id, unit_id=r.unit_id,
                                        staff_id=r.staff_id, touchpoint_id=r.touchpoint_id)
        if policy.device_limit > 0 and (r.submitted or link_guard.device_has_answered(
                conn, survey_id=r.survey_id, unit_id=r.unit_id, staff_id=r.staff_id,
                touchpoint_id=r.touchpoint_id, device_id=device_id, now=ctx.now(),
                policy=policy)):
            return respondent, True
    if respondent.submitted:  # no device limit: the next person answers afresh
        respondent = access_anonymous(ctx, token, None, channel=channel, language=language)
    return respondent, False


def _fits(row: RowMapping, target: Any) -> bool:
    return (row["survey_id"], row["unit_id"], row["staff_id"], row["touchpoint_id"],
            row["invitation_id"]) == (target.survey_id, target.unit_id, target.staff_id,
                                      target.touchpoint_id, None)


def access_invitation(ctx: Context, token: str, *, language: str) -> Respondent:
    """The session of a personal invitation, created (and the invitation marked opened) on
    first use. LinkProblem("tampered" | "expired" | "used" | "closed").

    Two first opens at the same moment both find no session and both insert one; the unique
    index on survey_session.invitation_id refuses the second insert, whose transaction is then
    run again and reads the session the first one created."""
    public_id = read_invitation_token(ctx, token)
    try:
        return _access_invitation(ctx, public_id, language)
    except IntegrityError:
        return _access_invitation(ctx, public_id, language)


def _access_invitation(ctx: Context, public_id: str, language: str) -> Respondent:
    now = ctx.now()
    with ctx.db.write() as conn:
        invitation = invitation_by_public_id(conn, public_id)
        if invitation is None:
            raise LinkProblem("tampered")
        row = store.session_by_invitation(conn, invitation["id"])
        if row is not None and row["status"] == "submitted":
            return _from_row(row)
        _check_invitation(invitation, now)
        if row is None:
            row = _open_invitation_session(conn, invitation, language, now)
        if row["survey_status"] != "active":
            raise LinkProblem("closed")
        record_invitation_status(conn, invitation["id"], "opened", now)
        return _from_row(row)


def _check_invitation(invitation: RowMapping, now: dt.datetime) -> None:
    if invitation["status"] == "completed":
        raise LinkProblem("used")
    if invitation["status"] in CLOSED_INVITATION or invitation["expires_at"] <= now:
        raise LinkProblem("expired")


def _open_invitation_session(conn: Any, invitation: RowMapping, language: str,
                             now: dt.datetime) -> RowMapping:
    link = store.link_target(conn, survey_id=invitation["survey_id"],
                             unit_id=invitation["unit_id"], staff_id=invitation["staff_id"])
    if link["survey_status"] != "active" or link["version_id"] is None:
        raise LinkProblem("closed")
    store.insert_session(conn, dict(
        public_id=new_public_id(), survey_id=invitation["survey_id"],
        survey_version_id=link["version_id"], unit_id=invitation["unit_id"],
        staff_id=invitation["staff_id"], touchpoint_id=invitation["touchpoint_id"],
        customer_id=invitation["customer_id"], invitation_id=invitation["id"],
        channel=invitation["channel"], language=language, answers={}, page=0, status="open",
        started_at=now, updated_at=now))
    found = store.session_by_invitation(conn, invitation["id"])
    assert found is not None
    return found


def _from_row(row: RowMapping) -> Respondent:
    data = _link_data(row["unit_code"], row["staff_code"], row["channel"])
    invitation_data, customer = piping_values(row["invitation_data"], row)
    data.update(invitation_data)
    return Respondent(
        sid=row["public_id"], survey_id=row["survey_id"], version_id=row["survey_version_id"],
        unit_id=row["unit_id"], unit_code=row["unit_code"],
        unit_names=(row["unit_zh"], row["unit_en"]), channel=row["channel"],
        language=row["language"], started_at=row["started_at"], staff_id=row["staff_id"],
        staff_code=row["staff_code"], touchpoint_id=row["touchpoint_id"],
        customer_id=row["customer_id"], customer_public_id=row["customer_public_id"],
        invitation_id=row["invitation_id"], answers=dict(row["answers"] or {}),
        page=row["page"], status=row["status"], response_public_id=row["response_public_id"],
        data=data, customer=customer, persisted=True)


def _link_data(unit_code: str, staff_code: str | None, channel: str) -> dict[str, Any]:
    data: dict[str, Any] = {"unit": unit_code, "channel": channel}
    if staff_code:
        data["staff"] = staff_code
    return data


# --- saving a page, submitting -------------------------------------------------------------

def do_save_page(ctx: Context, respondent: Respondent, definition: SurveyDefinition, page: int,
                 form: Mapping[str, list[str]], *, language: str, back: bool = False,
                 seen: frozenset[str] | None = None, device: Device | None = None
                 ) -> PageResult:
    """Check and save one posted page; after the last page, store the response (judged by
    the link guard when it comes through an anonymous link from `device`).

    `seen` names the questions the respondent saw on the page; when an answer reveals one they
    did not see (a browser without JavaScript), the page comes back with it instead of moving on.
    """
    if respondent.submitted:
        return PageResult("done", response_public_id=respondent.response_public_id)
    if page not in page_numbers(definition):
        raise InvalidInput("survey_sessions.survey_no_page", page=page, where="page")
    on_page = questions_on(definition, page)
    base = {k: v for k, v in respondent.answers.items() if k not in {q.key for q in on_page}}
    raw, unknown = answers_from_form(on_page, form)
    shown = _shown_on_page(on_page, base, raw, respondent.data)
    check = check_page(shown, raw, unknown)
    answers = {**base, **check.answers}
    revealed = seen is not None and any(q.key not in seen and q.key not in raw for q in shown)
    if back:
        target = previous_page(definition, page, answers, respondent.data) or page
        _save(ctx, respondent, answers, target, language)
        return PageResult("page", target)
    if not check.ok or revealed:
        return PageResult("errors", page, check=check, raw=raw)
    effective = {**walk(definition, answers, respondent.data).answers, **check.answers}
    following = next_page(definition, page, effective, respondent.data)
    if following is None:
        return _submit(ctx, respondent, definition, answers, language, device)
    _save(ctx, respondent, answers, following, language)
    return PageResult("page", following)


def _shown_on_page(on_page: tuple[Question, ...], base: Mapping[str, Any],
                   raw: Mapping[str, Any], data: Mapping[str, Any]) -> list[Question]:
    given = dict(base)
    shown = []
    for q in on_page:
        if is_shown(q, given, data):
            shown.append(q)
            if q.key in raw:
                given[q.key] = raw[q.key]
    return shown


def _save(ctx: Context, r: Respondent, answers: dict[str, Any], page: int,
          language: str) -> None:
    now = ctx.now()
    for attempt in (1, 2):
        try:
            with ctx.db.write() as conn:
                if not store.update_answers(conn, r.sid, answers=answers, page=page,
                                            language=language, now=now):
                    store.insert_session(conn, _new_row(r, answers, page, language, "open", now))
                if r.invitation_id is not None:
                    record_invitation_status(conn, r.invitation_id, "started", now)
                return
        except IntegrityError:
            if attempt == 2:
                raise  # pragma: no cover - a second race on one new session id


def _new_row(r: Respondent, answers: dict[str, Any], page: int, language: str, status: str,
             now: dt.datetime) -> dict[str, Any]:
    return dict(public_id=r.sid, survey_id=r.survey_id, survey_version_id=r.version_id,
                unit_id=r.unit_id, staff_id=r.staff_id, touchpoint_id=r.touchpoint_id,
                customer_id=r.customer_id, invitation_id=r.invitation_id, channel=r.channel,
                language=language, answers=answers, page=page, status=status,
                started_at=r.started_at, updated_at=now)


def _submit(ctx: Context, r: Respondent, definition: SurveyDefinition,
            answers: dict[str, Any], language: str, device: Device | None) -> PageResult:
    final = dict(walk(definition, answers, r.data).answers)
    now = ctx.now()
    flags: list[str] = []

    def mark(conn: Any, response_id: int) -> None:
        if not store.mark_submitted(conn, r.sid, response_id, final, now):
            row = _new_row(r, final, 0, language, "submitted", now)
            store.insert_session(conn, {**row, "response_id": response_id})
        if r.invitation_id is not None:
            record_invitation_status(conn, r.invitation_id, "started", now)
            record_invitation_status(conn, r.invitation_id, "completed", now)
        elif device is not None:
            flags.extend(link_guard.judge_submission(
                conn, survey_id=r.survey_id, unit_id=r.unit_id, staff_id=r.staff_id,
                touchpoint_id=r.touchpoint_id, response_id=response_id, answers=final,
                device=device, now=now))

    request = ResponseRequest(
        survey_id=r.survey_id, unit_code=r.unit_code, answers=final, channel=r.channel,
        language=language, staff_code=r.staff_code, customer_id=r.customer_public_id,
        idempotency_key=f"session:{r.sid}", started_at=r.started_at, invitation=r.data,
        survey_version_id=r.version_id, invitation_id=r.invitation_id,
        touchpoint_id=r.touchpoint_id)
    try:
        stored = do_submit_response(ctx, None, request, mark)
    except InvalidInput:
        _save(ctx, r, answers, r.page or first_page(definition, r.data) or 1, language)
        raise
    return PageResult("done", response_public_id=stored.public_id, flags=tuple(flags))


def with_answers(respondent: Respondent, answers: Mapping[str, Any]) -> Respondent:
    return replace(respondent, answers=answers)
