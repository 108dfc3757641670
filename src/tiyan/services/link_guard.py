"""Ballot-stuffing guard of anonymous links (domain/link_guard): judging each submission,
each link's limits, and the manager's restore of a false positive.

A response through an anonymous link is judged in the transaction that stores it: over its
link's limits it is stored with status "flagged" and its reasons, which every figure leaves out
(the aggregates fold only "complete" responses). A manager who may change the survey at the
response's unit restores it (its sums go into every aggregate at once) or leaves it out again;
both are audited as `response.restore` and `response.exclude`. Changing a link's limits is
audited as `survey_link.policy`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.link_guard import (
    LinkPolicy,
    answers_digest,
    distinctive,
    judge,
    parse_policy,
)
from tiyan.errors import InvalidInput, NotFound
from tiyan.services.survey_links import access_survey_link_target
from tiyan.store import audit
from tiyan.store import link_guard as store
from tiyan.store.responses import get_response


@dataclass(frozen=True)
class Device:
    """The respondent's device as the guard sees it: the id in its signed cookie (None when
    the browser sent none) and the keyed hash of its network and user agent."""

    device_id: str | None
    fingerprint: str


def judge_submission(conn: Connection, *, survey_id: int, unit_id: int, staff_id: int | None,
                     touchpoint_id: int | None, response_id: int, answers: Mapping[str, Any],
                     device: Device, now: dt.datetime) -> tuple[str, ...]:
    """Judge a response just stored through an anonymous link (in its transaction), remember
    its device, and flag it when it goes over the link's limits; returns the reasons."""
    key = store.link_key(survey_id, unit_id, staff_id, touchpoint_id)
    policy = store.lock_link(conn, key, survey_id=survey_id, unit_id=unit_id, now=now)
    digest = answers_digest(answers)
    seen = store.seen_before(conn, key, device_id=device.device_id,
                             fingerprint=device.fingerprint, digest=digest, now=now,
                             value=policy)
    if not distinctive(answers):
        seen = replace(seen, identical=0)
    reasons = judge(policy, seen)
    store.record(conn, key, response_id=response_id, device_id=device.device_id,
                 fingerprint=device.fingerprint, digest=digest, now=now)
    if reasons:
        store.flag_response(conn, response_id, reasons, now)
    return reasons


def link_policy(conn: Connection, *, survey_id: int, unit_id: int, staff_id: int | None,
                touchpoint_id: int | None) -> LinkPolicy:
    return store.policy(conn, store.link_key(survey_id, unit_id, staff_id, touchpoint_id))


def device_has_answered(conn: Connection, *, survey_id: int, unit_id: int,
                        staff_id: int | None, touchpoint_id: int | None,
                        device_id: str | None, now: dt.datetime, policy: LinkPolicy) -> bool:
    """Whether this device cookie sent the link its allowed responses within the window."""
    key = store.link_key(survey_id, unit_id, staff_id, touchpoint_id)
    return store.device_has_answered(conn, key, device_id=device_id, now=now, value=policy)


# --- the manager's side -----------------------------------------------------------------------

def view_policy(ctx: Context, actor: Actor, survey_code: str, unit_code: str) -> LinkPolicy:
    """The limits of the survey's anonymous link for the unit (who may make the link may
    see them)."""
    target = access_survey_link_target(ctx, actor, survey_code, unit_code)
    with ctx.db.read() as conn:
        return link_policy(conn, survey_id=target.survey_id, unit_id=target.unit_id,
                           staff_id=None, touchpoint_id=None)


def do_save_policy(ctx: Context, actor: Actor, survey_code: str, unit_code: str,
                   values: Mapping[str, Any], *, ip: str | None = None) -> LinkPolicy:
    """Set the limits of the survey's anonymous link for the unit (InvalidInput names the
    field out of range)."""
    policy = parse_policy(values)
    target = access_survey_link_target(ctx, actor, survey_code, unit_code)
    now = ctx.now()
    key = store.link_key(target.survey_id, target.unit_id, None, None)
    with ctx.db.write() as conn:
        store.put_policy(conn, key, survey_id=target.survey_id, unit_id=target.unit_id,
                         value=policy, now=now, user_id=actor.user_id)
        audit.record(conn, at=now, user_id=actor.user_id, action="survey_link.policy",
                     entity="survey", entity_id=survey_code, unit_id=target.unit_id,
                     detail={"unit": unit_code, **policy.as_dict()}, ip=ip)
    return policy


def do_set_counted(ctx: Context, actor: Actor, public_id: str, counted: bool, *,
                   ip: str | None = None) -> bool:
    """Restore a flagged response (counted) or leave it out again; NotFound outside the
    actor's scope, Forbidden without manage_surveys at its unit. False when nothing changed
    (it already was so, or it was never flagged)."""
    now = ctx.now()
    with ctx.db.write() as conn:
        row = get_response(conn, actor, public_id)
        actor.require(Permission.MANAGE_SURVEYS, row["unit_id"])
        if row["flag_reasons"] is None:
            raise NotFound("link_guard.response_never_flagged", public_id=public_id,
                           where="response")
        changed = store.set_counted(conn, int(row["id"]), counted, now,
                                    ctx.db.immutable_cache)
        if changed and counted:
            from tiyan.services.alerts import enqueue_evaluation

            enqueue_evaluation(conn, [int(row["id"])], now)  # its rules act now (at most once)
        if changed:
            audit.record(conn, at=now, user_id=actor.user_id,
                         action="response.restore" if counted else "response.exclude",
                         entity="response", entity_id=public_id, unit_id=row["unit_id"],
                         detail={"reasons": row["flag_reasons"]}, ip=ip)
    return changed


STATES = ("flagged", "restored", "all")


def list_flagged(ctx: Context, actor: Actor, *, state: str = "flagged",
                 survey_code: str | None = None) -> list[RowMapping]:
    """The flagged responses the actor may see (view_responses), newest first (200 at most)."""
    from tiyan.store.surveys import get_survey

    actor.require(Permission.VIEW_RESPONSES)
    if state not in STATES:
        raise InvalidInput("link_guard.state_must", states=", ".join(STATES), where="state")
    with ctx.db.read() as conn:
        survey_id = get_survey(conn, actor, survey_code)["id"] if survey_code else None
        return store.flagged_responses(conn, actor, state=state, survey_id=survey_id)
