"""A unit's own notification channels: e-mail addresses and chat robots (WeCom, DingTalk,
Feishu, Slack; a signing secret, 加签, and @-mentions by mobile number) told of the cases and
alerts of the unit and the units below it, beside the people the rules route to. Set by unit
managers (their units) and administrators (`manage_unit_channels`); checked like a person's
channels (`notifications.check_channel`), sent by the same job, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.channels import chat
from tiyan.channels.email import SmtpServer, send_email
from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import InvalidInput, NotFound
from tiyan.services.calendars import UnitRef  # the same reference to a unit in reach
from tiyan.services.jobs import enqueue_many
from tiyan.services.notifications import (
    EVENTS,
    NOTIFICATION_SEND,
    TEXTS,
    Message,
    check_channel,
    render_message,
    send_to_robot,
)
from tiyan.store import audit
from tiyan.store import tables as t
from tiyan.store.scoped_refs import reach_units, require_any, unit_among

REACH = Permission.MANAGE_UNIT_CHANNELS
CHANNELS = ("email", *chat.PAYLOADS)  # a unit's: e-mail and the chat robots
LOCALES = ("zh-CN", "en")
MAX_PER_UNIT = 20
UC = t.unit_channel




def units_in_reach(conn: Connection, actor: Actor) -> list[UnitRef]:
    require_any(actor, REACH)
    rows = conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.code, t.org_unit.c.name_zh,
                                  t.org_unit.c.name_en)
                        .where(t.org_unit.c.id.in_(list(reach_units(actor, REACH))))
                        .order_by(t.org_unit.c.code))
    return [UnitRef(r.id, r.code, r.name_zh, r.name_en) for r in rows]


def unit_in_reach(conn: Connection, actor: Actor, code: str) -> UnitRef:
    """The unit `code` if the actor manages its channels (else 404, as if it did not exist)."""
    require_any(actor, REACH)
    unit_id = unit_among(conn, reach_units(actor, REACH), code)
    r = conn.execute(sa.select(t.org_unit.c.code, t.org_unit.c.name_zh, t.org_unit.c.name_en)
                     .where(t.org_unit.c.id == unit_id)).one()
    return UnitRef(unit_id, r.code, r.name_zh, r.name_en)


def channels_of(conn: Connection, unit_id: int) -> list[RowMapping]:
    return list(conn.execute(sa.select(UC).where(UC.c.unit_id == unit_id)
                             .order_by(UC.c.id)).mappings())


def do_add_channel(ctx: Context, actor: Actor, code: str, *, channel: str, target: str,
                   robot_secret: str | None = None, mentions: Sequence[str] = (),
                   events: Sequence[str] = (), locale: str = "zh-CN") -> int:
    """Add one channel to unit `code`; its id."""
    secret, numbers = check_channel(ctx, channel, target, events, robot_secret, mentions,
                                    CHANNELS)
    if locale not in LOCALES:
        raise InvalidInput("unit_channels.not_language_zh_cn", locale=locale, where="locale")
    now = ctx.now()
    with ctx.db.write() as conn:
        unit = unit_in_reach(conn, actor, code)
        if len(channels_of(conn, unit.id)) >= MAX_PER_UNIT:
            raise InvalidInput("unit_channels.unit_most_channels", max_per_unit=MAX_PER_UNIT,
                               where="channel")
        new_id = conn.execute(sa.insert(UC).values(
            unit_id=unit.id, channel=channel, target=target, secret=secret, mentions=numbers,
            events=list(events), locale=locale, active=True, created_at=now)
            .returning(UC.c.id)).scalar_one()
        audit.record(conn, at=now, user_id=actor.user_id, action="unit_channel.add",
                     entity="unit_channel", entity_id=new_id, unit_id=unit.id,
                     detail={"channel": channel, "signed": secret is not None,
                             "mentions": len(numbers), "events": list(events)})
    return int(new_id)


def do_remove_channel(ctx: Context, actor: Actor, code: str, channel_id: int) -> None:
    now = ctx.now()
    with ctx.db.write() as conn:
        row = _channel(conn, actor, code, channel_id)
        conn.execute(sa.delete(UC).where(UC.c.id == row.id))
        audit.record(conn, at=now, user_id=actor.user_id, action="unit_channel.remove",
                     entity="unit_channel", entity_id=row.id, unit_id=row.unit_id,
                     detail={"channel": row.channel})


def _channel(conn: Connection, actor: Actor, code: str, channel_id: int) -> RowMapping:
    unit = unit_in_reach(conn, actor, code)
    row = conn.execute(sa.select(UC).where(UC.c.id == channel_id, UC.c.unit_id == unit.id)) \
        .mappings().first()
    if row is None:
        raise NotFound("unit_channels.unit_no_channel", code=code, channel_id=channel_id,
                       where="channel")
    return row


def do_send_test(ctx: Context, actor: Actor, code: str, channel_id: int) -> str | None:
    """Send a test message to one of the unit's channels at once, in the channel's language;
    the error (a robot's refusal included), or None when it was taken."""
    with ctx.db.read() as conn:
        row = _channel(conn, actor, code, channel_id)
    words = TEXTS.get(row.locale, TEXTS["en"])
    link = f"{ctx.settings.public_url.rstrip('/')}/units/{code}/notifications"
    title, text = words["test_title"], words["test_text"]
    if row.channel == "email":
        s = ctx.settings
        server = SmtpServer(s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_username,
                            s.smtp_password, s.smtp_starttls)
        return send_email(server, row.target, f"[tiyan] {title}", f"{text}\n{link}")
    return send_to_robot(ctx, row.channel, row.target, title, text, link, secret=row.secret,
                         mentions=row.mentions or ())


def queue_for_units(conn: Connection, items: Sequence[tuple[Sequence[int], int | None, Message]],
                    now: dt.datetime, zone: str) -> int:
    """Queue each message (about a response of the first unit of its chain) for the active
    channels of every unit in the chain that take its event, each channel address once; its
    times are written in the channel's unit's zone (else `zone`, TIYAN_TIMEZONE)."""
    units = sorted({u for chain, _, _ in items for u in chain})
    if not units:
        return 0
    zones = {int(u): str(z or zone) for u, z in conn.execute(
        sa.select(t.org_unit.c.id, t.org_unit.c.timezone).where(t.org_unit.c.id.in_(units)))}
    by_unit: dict[int, list[Any]] = {}
    for row in conn.execute(sa.select(UC).where(UC.c.unit_id.in_(units), UC.c.active)
                            .order_by(UC.c.id)).mappings():
        by_unit.setdefault(row.unit_id, []).append(row)
    rows = []
    for chain, case_id, message in items:
        seen: set[tuple[str, str]] = set()
        for unit_id in chain:
            for ch in by_unit.get(unit_id, ()):
                if (ch.channel, ch.target) in seen or (ch.events and message.event
                                                      not in ch.events):
                    continue
                seen.add((ch.channel, ch.target))
                subject, body = render_message(message, ch.locale,
                                               zones.get(unit_id, zone))
                rows.append({"case_id": case_id, "user_id": None, "unit_channel_id": ch.id,
                             "event": message.event, "channel": ch.channel,
                             "target": ch.target, "subject": subject, "body": body,
                             "status": "queued", "attempts": 0, "next_attempt_at": now,
                             "created_at": now})
    if rows:
        ids = conn.execute(sa.insert(t.notification).returning(
            t.notification.c.id, sort_by_parameter_order=True), rows).scalars().all()
        enqueue_many(conn, [(NOTIFICATION_SEND, {"id": int(i)}) for i in ids], run_at=now)
    return len(rows)


__all__ = ["CHANNELS", "EVENTS", "channels_of", "do_add_channel", "do_remove_channel",
           "do_send_test", "queue_for_units", "units_in_reach"]
