"""The demo's personal invitations (个人邀请), so that its response rate (回复率) shows.

In a real deployment the surveys answered by SMS or e-mail come from an invitation sent after
the visit; QR codes and anonymous links have none, and a phone survey's invitation has no send
(the demo only plans calls: demo/calls.py). So every demo response with channel `sms` or
`email` gets the invitation it answered: same survey, unit, staff, touchpoint, channel and
customer, the customer's mobile number or e-mail address as contact, sent a few minutes to two
days before the answer, opened when the respondent started, completed when the response was
submitted, and the response points at it (response.invitation_id, as the respondent pages
store it). Around each, the unit's invitations that were not answered: as many as the unit's
response rate asks for (the survey's rate moved by the unit's quality, so a worse unit is
also answered less), to customers of the same unit, at about the same time. Most are `sent`,
some `opened` and left; a few SMS were reported undelivered (`failed`); a few never went out
(`bounced`: the SMTP server or the SMS gateway refused the address, so not counted as sent).

The rows are what the app leaves behind: a timeline in invitation_event (queued, sent, opened,
started, completed, failed, bounced), no reminder days, next_reminder_at NULL and no job. The
sender only sends a `queued` invitation from its `invitation.send` job and reminders come only
from `invitation.remind` jobs, so a worker sends nothing for these. None is `expired`: in tiyan
that is a link that expired before it could be sent, which this history has no reason for (an
old unanswered invitation stays `sent`, its link refused after expires_at). No survey_session
rows: the demo's responses are loaded in bulk, not answered page by page. Drawn from their own
generator: the responses are the same with or without them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.demo import spec
from tiyan.demo.bulk import ResponseDraft, Stamp, demo_public_id, new_ids, time_stamp, write_rows
from tiyan.demo.people import Customer, CustomerPool, StaffMember
from tiyan.store import tables as t

INVITED_CHANNELS = frozenset({"sms", "email"})
# Share of a survey's invitations answered at a unit of average quality; a unit's quality
# (spec.UnitSpec.quality, -0.45 … 0.30) moves it by that fraction: 15 % … 44 %.
RATE = {"after-sales": 0.28, "car-sales": 0.34, "hotel-stay": 0.32}
BOUNCED = {"sms": 0.015, "email": 0.03}  # refused at sending: a wrong number or address
STALE_NUMBERS = {"sh-pudong": 0.07}  # dealers whose customer records are out of date
FAILED_SMS = 0.02  # sent, then the operator reported it undelivered
OPENED = 0.15  # of the unanswered: opened the link and left
EXPIRES_DAYS = 14
ERRORS = {
    "sms": 'HTTP 400: {"code": "InvalidMobile", "message": "手机号码无效"}',
    "email": "SMTPRecipientsRefused: {'<address>': (550, b'5.1.1 Recipient address "
             "rejected: User unknown')}",
}  # as the channels report a refusal (channels/sms.py, channels/email.py)
Event = tuple[dt.datetime, str, str]  # at, status, detail (JSON)
NO_DETAIL, FIRST_TRY = "{}", '{"attempt": 1}'
DATA = '{"reminder_days": []}'  # as services/invitations.create_invitation stores it


@dataclass(frozen=True)
class Audience:
    """Whom a unit invites: its rate, how often an address is refused, its staff, customers."""

    rate: float
    bounced: float
    staff: Sequence[StaffMember]
    customers: Sequence[Customer]


@dataclass
class Planned:
    """One invitation with its timeline, before it has an id."""

    draft: ResponseDraft
    customer: Customer
    staff_id: int | None
    status: str
    send_at: dt.datetime
    sent_at: dt.datetime | None = None
    opened_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    bounced_at: dt.datetime | None = None
    last_error: str | None = None
    response_id: int | None = None
    events: list[Event] = field(default_factory=list)


def audiences(unit_ids: Mapping[str, int], staff: Mapping[str, list[StaffMember]],
              pool: CustomerPool) -> dict[int, Audience]:
    """The units that invite, by id, as demo/visits.py surveys them."""
    out = {}
    for dealer, *_, quality in spec.DEALERS:
        sms = BOUNCED["sms"] + STALE_NUMBERS.get(dealer, 0.0)
        out[unit_ids[f"{dealer}-as"]] = Audience(
            RATE["after-sales"] * (1 + quality), sms, staff[f"{dealer}:advisor"],
            pool.by_unit[dealer])
        out[unit_ids[f"{dealer}-sales"]] = Audience(
            RATE["car-sales"] * (1 + quality), sms, staff[f"{dealer}:consultant"],
            pool.by_unit[f"{dealer}:buyer"])
    for hotel, *_, quality in spec.HOTELS:
        out[unit_ids[hotel]] = Audience(RATE["hotel-stay"] * (1 + quality), BOUNCED["email"],
                                        staff[f"{hotel}:frontdesk"], pool.by_unit[hotel])
    return out


def plan_invitations(rng: random.Random, answered: Iterable[tuple[int, ResponseDraft]],
                     units: Mapping[int, Audience], since: dt.datetime,
                     now: dt.datetime) -> list[Planned]:
    """The invitations behind the answered responses (response id, draft) and those around
    them that were not answered, sent between `since` (where the demo's history starts) and
    now, oldest first."""
    span = (since + dt.timedelta(minutes=1), now - dt.timedelta(minutes=10))
    customers = {c.id: c for a in units.values() for c in a.customers}
    planned: list[Planned] = []
    for response_id, draft in answered:
        audience = units[draft.unit_id]
        done = _completed(rng, response_id, draft, customers[draft.customer_id or 0], since)
        planned.append(done)
        for _ in range(_draw(rng, (1 - audience.rate) / audience.rate)):
            planned.append(_unanswered(rng, draft, audience, _near(rng, done.send_at, span),
                                       now))
        for _ in range(_draw(rng, audience.bounced / audience.rate)):
            planned.append(_bounced(rng, draft, audience, _near(rng, done.send_at, span)))
    planned.sort(key=lambda p: p.send_at)
    return planned


def _draw(rng: random.Random, mean: float) -> int:
    """A whole number with the given mean: its floor, plus one with the fraction's chance."""
    whole = math.floor(mean)
    return whole + (rng.random() < mean - whole)


def _completed(rng: random.Random, response_id: int, draft: ResponseDraft,
               customer: Customer, since: dt.datetime) -> Planned:
    """The invitation a response answered: the answers come from 9:00, so sent after `since`
    (a midnight) too."""
    opened = draft.started_at or draft.submitted_at
    minutes = min(2880.0, max(3.0, rng.lognormvariate(math.log(150), 1.2)))
    sent = max(opened - dt.timedelta(minutes=minutes), since + dt.timedelta(minutes=1))
    send = sent - dt.timedelta(seconds=rng.randint(2, 40))
    done = draft.submitted_at
    return Planned(draft, customer, draft.staff_id, "completed", send, sent_at=sent,
                   opened_at=opened, completed_at=done, response_id=response_id,
                   events=[*_queued_and_sent(send, sent), (opened, "opened", NO_DETAIL),
                           (done, "started", NO_DETAIL), (done, "completed", NO_DETAIL)])


def _queued_and_sent(send: dt.datetime, sent: dt.datetime) -> list[Event]:
    return [_queued(send), (sent, "sent", FIRST_TRY)]


def _queued(send: dt.datetime) -> Event:
    return send, "queued", json.dumps({"send_at": send.isoformat()})


def _someone(rng: random.Random, audience: Audience) -> tuple[Customer, int]:
    """A customer of the unit (the loyal core more often, as CustomerPool.pick) and the staff
    member who served them."""
    index = int(len(audience.customers) * rng.random() ** 1.6)
    return audience.customers[index], rng.choice(audience.staff).id


def _near(rng: random.Random, moment: dt.datetime,
          span: tuple[dt.datetime, dt.datetime]) -> dt.datetime:
    """About when the answered invitation went out: the day before, the same day or the day
    after, at about the same time of day, inside `span`."""
    day = dt.timedelta(days=1)
    near = moment + rng.randint(-1, 1) * day + dt.timedelta(minutes=rng.uniform(-90, 90))
    while near > span[1]:
        near -= day
    while near < span[0]:
        near += day
    return near


def _unanswered(rng: random.Random, draft: ResponseDraft, audience: Audience,
                send: dt.datetime, now: dt.datetime) -> Planned:
    customer, staff_id = _someone(rng, audience)
    sent = send + dt.timedelta(seconds=rng.randint(2, 40))
    p = Planned(draft, customer, staff_id, "sent", send, sent_at=sent,
                events=_queued_and_sent(send, sent))
    if draft.channel == "sms" and rng.random() < FAILED_SMS:
        p.status = "failed"
        p.events.append((sent + dt.timedelta(minutes=rng.randint(1, 30)), "failed",
                         '{"provider_status": "UNDELIV"}'))
    elif rng.random() < OPENED:
        opened = sent + dt.timedelta(minutes=rng.lognormvariate(math.log(40), 1.3))
        if opened < min(now, send + dt.timedelta(days=EXPIRES_DAYS)):
            p.status, p.opened_at = "opened", opened
            p.events.append((opened, "opened", NO_DETAIL))
    return p


def _bounced(rng: random.Random, draft: ResponseDraft, audience: Audience,
             send: dt.datetime) -> Planned:
    customer, staff_id = _someone(rng, audience)
    refused = send + dt.timedelta(seconds=rng.randint(2, 40))
    error = ERRORS[draft.channel].replace("<address>", _contact(draft.channel, customer) or "")
    return Planned(draft, customer, staff_id, "bounced", send, bounced_at=refused,
                   last_error=error, events=[_queued(send), (refused, "bounced", json.dumps(
                       {"attempt": 1, "error": error}, ensure_ascii=False))])


def _contact(channel: str, customer: Customer) -> str | None:
    return customer.email if channel == "email" else customer.phone or None


COLUMNS = ("id", "public_id", "survey_id", "customer_id", "unit_id", "staff_id",
           "touchpoint_id", "channel", "status", "data", "created_at", "send_at", "expires_at",
           "sent_at", "opened_at", "started_at", "completed_at", "bounced_at", "attempts",
           "last_error", "contact", "reminders_sent", "next_reminder_at")
EVENT_COLUMNS = ("invitation_id", "at", "status", "detail")


def write_invitations(conn: Connection, planned: Sequence[Planned]) -> int:
    """Insert the invitations, their timelines and the responses' links to them, in bulk."""
    ids = new_ids(conn, t.invitation, len(planned))
    stamp = time_stamp(conn)
    write_rows(conn, t.invitation, COLUMNS,
               [_row(i, p, stamp) for i, p in zip(ids, planned, strict=True)])
    write_rows(conn, t.invitation_event, EVENT_COLUMNS,
               [(i, stamp(at), status, detail) for i, p in zip(ids, planned, strict=True)
                for at, status, detail in p.events])
    link = (sa.update(t.response).where(t.response.c.id == sa.bindparam("response"))
            .values(invitation_id=sa.bindparam("invitation")))
    conn.execute(link, [{"response": p.response_id, "invitation": i}
                        for i, p in zip(ids, planned, strict=True) if p.response_id is not None])
    return len(planned)


def _row(invitation_id: int, p: Planned, stamp: Stamp) -> tuple[Any, ...]:
    d, send = p.draft, stamp(p.send_at)
    public_id = demo_public_id("invitation", invitation_id, p.send_at)
    return (invitation_id, public_id, d.survey_id, p.customer.id, d.unit_id, p.staff_id,
            d.touchpoint_id, d.channel, p.status, DATA, send, send,
            stamp(p.send_at + dt.timedelta(days=EXPIRES_DAYS)), stamp(p.sent_at),
            stamp(p.opened_at), stamp(p.completed_at), stamp(p.completed_at),
            stamp(p.bounced_at), 1, p.last_error, _contact(d.channel, p.customer), 0, None)
