"""Notifications about cases: who gets what, by which channel, and the delivery log with retries.

A notification is a row (the delivery log) written in the transaction that caused it, with a
`notification.send` job; the job hands it to SMTP or POSTs it to a webhook / chat app. A channel
that is down never loses it: it is retried with back-off (status `retrying`, the last error
kept), and after the last attempt it stays `failed` in the log, where it can be sent again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.channels import chat, outbound
from tiyan.channels import webhooks as wire
from tiyan.channels.email import SmtpServer, send_email, stable_message_id
from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.contacts import normalise_phone
from tiyan.domain.moments import moment_text
from tiyan.errors import InvalidInput, NotFound
from tiyan.services.jobs import RetryLater, enqueue, enqueue_many, job_handler, retry_delay
from tiyan.store import tables as t
from tiyan.store.scoped import home_zones

NOTIFICATION_SEND = "notification.send"
CHANNELS = ("email", "webhook", *chat.PAYLOADS)
EVENTS = ("case.opened", "case.escalated", "alert")
MAX_ATTEMPTS = 8

TEXTS = {
    "zh-CN": {"case.opened": "新工单", "case.escalated": "工单已升级", "alert": "预警",
              "unit": "单位", "rule": "规则", "open": "打开", "test_title": "测试消息",
              "at": "反馈时间", "due": "处理期限", "timer.acknowledge": "确认",
              "timer.contact": "首次联系", "timer.close": "关闭",
              "test_text": "这是 tiyan 发出的测试消息：工单通知会这样送达。"},
    "en": {"case.opened": "New case", "case.escalated": "Case escalated", "alert": "Alert",
           "unit": "Unit", "rule": "Rule", "open": "Open", "test_title": "Test message",
           "at": "Received", "due": "Due", "timer.acknowledge": "Acknowledge",
           "timer.contact": "First contact", "timer.close": "Close",
           "test_text": "A test message from tiyan: case notifications will arrive like this."},
}


@dataclass(frozen=True)
class Message:
    event: str
    title: str
    unit: Mapping[str, str]  # the unit's name by locale
    rule: str | None
    link: str
    # what the customer said, by locale: the scores with their question texts and the comment
    summary: Mapping[str, Sequence[str]] = field(default_factory=dict)
    at: dt.datetime | None = None  # when the response came
    due: dt.datetime | None = None  # when the case (or its timer that ran out) is due
    timer: str | None = None  # the timer that ran out (an escalation): its kind


def queue_for_users(conn: Connection, *, user_ids: Sequence[int], case_id: int | None,
                    message: Message, now: dt.datetime, zone: str) -> int:
    """Queue `message` for each user by their preferences (default: e-mail to their address);
    its times are written in each user's zone (their home unit's, else `zone`, the
    installation's TIYAN_TIMEZONE)."""
    return queue_many(conn, [(user_ids, case_id, message)], now, zone)


def queue_many(conn: Connection, items: Sequence[tuple[Sequence[int], int | None, Message]],
               now: dt.datetime, zone: str) -> int:
    """The same for many messages: each user and their preferences read once, the
    notifications added in one statement and their send jobs in another."""
    users = {u.id: u for u in conn.execute(
        sa.select(t.app_user.c.id, t.app_user.c.email, t.app_user.c.locale)
        .where(t.app_user.c.id.in_(sorted({u for ids, _, _ in items for u in ids})),
               t.app_user.c.active))} if items else {}
    zones = home_zones(conn, users, zone)
    prefs: dict[int, list[Any]] = {user_id: [] for user_id in users}
    if users:
        for pref in conn.execute(sa.select(t.notification_preference).where(
                t.notification_preference.c.user_id.in_(sorted(users)))
                .order_by(t.notification_preference.c.id)).mappings():
            prefs[pref.user_id].append(pref)
    rows = []
    for user_ids, case_id, message in items:
        for user_id in dict.fromkeys(user_ids):
            user = users.get(user_id)
            if user is None:
                continue
            for channel, target in _targets(prefs[user_id], user.email, message.event):
                subject, body = render_message(message, user.locale or "zh-CN",
                                               zones[user_id])
                rows.append({"case_id": case_id, "user_id": user_id, "event": message.event,
                             "channel": channel, "target": target, "subject": subject,
                             "body": body, "status": "queued", "attempts": 0,
                             "next_attempt_at": now, "created_at": now})
    if rows:
        ids = conn.execute(sa.insert(t.notification).returning(
            t.notification.c.id, sort_by_parameter_order=True), rows).scalars().all()
        enqueue_many(conn, [(NOTIFICATION_SEND, {"id": int(i)}) for i in ids], run_at=now)
    return len(rows)


def _targets(prefs: Sequence[Any], email: str, event: str) -> list[tuple[str, str]]:
    if not prefs:
        return [("email", email)]
    return [(p.channel, p.target) for p in prefs
            if p.active and (not p.events or event in p.events)]


def render_message(message: Message, locale: str, zone: str) -> tuple[str, str]:
    """Subject and text for one recipient: in their language, times in their zone (named)."""
    words = TEXTS.get(locale, TEXTS["en"])
    title = message.title
    if message.timer:
        title = f"{title} ({words.get('timer.' + message.timer, message.timer)})"
    subject = f"[tiyan] {words[message.event]}: {title}"[:300]
    unit = message.unit.get(locale) or message.unit.get("en") or ""
    lines = [title, f"{words['unit']}: {unit}"]
    if message.rule:
        lines.append(f"{words['rule']}: {message.rule}")
    word_locale = locale if locale in TEXTS else "en"
    if message.at is not None:
        lines.append(f"{words['at']}: {moment_text(message.at, zone, word_locale)}")
    if message.due is not None:
        lines.append(f"{words['due']}: {moment_text(message.due, zone, word_locale)}")
    lines += list(message.summary.get(locale) or message.summary.get("zh-CN") or ())
    lines.append(f"{words['open']}: {message.link}")
    return subject, "\n".join(lines)


# --- sending ----------------------------------------------------------------------------------

@job_handler(NOTIFICATION_SEND)
def send_job(ctx: Context, payload: dict[str, Any]) -> None:
    UC = t.unit_channel
    with ctx.db.read() as conn:
        found = conn.execute(sa.select(t.notification, t.notification_preference.c.secret,
                                       t.notification_preference.c.mentions,
                                       UC.c.secret.label("unit_secret"),
                                       UC.c.mentions.label("unit_mentions"))
                             .outerjoin(t.notification_preference, sa.and_(
                                 t.notification_preference.c.user_id == t.notification.c.user_id,
                                 t.notification_preference.c.channel == t.notification.c.channel))
                             .outerjoin(UC, UC.c.id == t.notification.c.unit_channel_id)
                             .where(t.notification.c.id == int(payload["id"]))).mappings().first()
    if found is None or found.status == "sent":
        return
    row = SimpleNamespace(**found)  # a unit's channel: its robot's secret and mentions
    if found.unit_channel_id is not None:
        row.secret, row.mentions = found.unit_secret, found.unit_mentions
    error = deliver(ctx, row)
    now = ctx.now()
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_error": error}
    if error is None:
        values.update(status="sent", sent_at=now, next_attempt_at=None)
    elif attempts >= MAX_ATTEMPTS:
        values.update(status="failed", next_attempt_at=None)
    else:
        values.update(status="retrying", next_attempt_at=now + retry_delay(attempts))
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.notification).where(t.notification.c.id == row.id)
                     .values(**values))
    if values["status"] == "retrying":
        raise RetryLater(values["next_attempt_at"], error or "")


def deliver(ctx: Context, row: Any) -> str | None:
    """Hand one notification to its channel; an error text, or None when it was accepted."""
    s = ctx.settings
    if row.channel == "email":
        server = SmtpServer(s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_username,
                            s.smtp_password, s.smtp_starttls)
        return send_email(server, row.target, row.subject, row.body,
                          stable_message_id("notification", row.id, s.smtp_from))
    title, _, text = row.body.partition("\n")
    link = text.rsplit(": ", 1)[-1] if text else ""
    if row.channel == "webhook":
        data = {"type": row.event, "timestamp": ctx.now().isoformat(),
                "data": {"subject": row.subject, "text": row.body, "link": link}}
        body = json.dumps(data, ensure_ascii=False).encode()
        message_id = f"msg_notification_{row.id}"
        headers = wire.signed_headers(row.secret or "", message_id, ctx.now(), body) \
            if row.secret else {"content-type": "application/json"}
        return wire.post(row.target, body, headers, s.webhook_timeout_seconds,
                         outbound.policy_for(s)).error
    return send_to_robot(ctx, row.channel, row.target, row.subject, text, link,
                         secret=row.secret, mentions=row.mentions or ())


def send_to_robot(ctx: Context, app: str, url: str, title: str, text: str, link: str, *,
                  secret: str | None, mentions: Sequence[str]) -> str | None:
    """Post one message to a chat robot (signed when it has a secret, @-mentioning `mentions`);
    an error text when it failed or the robot refused it (see tiyan.channels.chat), else None."""
    s = ctx.settings
    payload = chat.PAYLOADS[app](title, text, link, [robot_mobile(m) for m in mentions])
    url, payload = chat.signed(app, url, payload, secret, ctx.now().timestamp())
    body = json.dumps(payload, ensure_ascii=False).encode()
    outcome = wire.post(url, body, {"content-type": "application/json"},
                        s.webhook_timeout_seconds, outbound.policy_for(s), channel="chat",
                        read_answer=chat.ANSWER_BYTES,
                        refusal=lambda answer: chat.refusal(app, answer))
    return outcome.error


def robot_mobile(number: str) -> str:
    """A stored (E.164) mobile as robots want it: a mainland number without +86."""
    return number[3:] if number.startswith("+86") else number.lstrip("+")


def do_resend(ctx: Context, actor: Actor, notification_id: int) -> None:
    """Send a failed notification again (from the delivery log)."""
    from tiyan.store.cases import get_case

    now = ctx.now()
    with ctx.db.write() as conn:
        row = conn.execute(sa.select(t.notification, t.cx_case.c.public_id.label("case_pid"))
                           .join(t.cx_case, t.cx_case.c.id == t.notification.c.case_id)
                           .where(t.notification.c.id == notification_id)).mappings().first()
        if row is None:
            raise NotFound("notifications.notification_does_not_exist",
                           notification_id=notification_id, where="notification")
        get_case(conn, actor, row.case_pid)  # scope check
        conn.execute(sa.update(t.notification).where(t.notification.c.id == row.id)
                     .values(status="queued", attempts=0, next_attempt_at=now))
        enqueue(conn, NOTIFICATION_SEND, {"id": row.id}, run_at=now)


# --- preferences --------------------------------------------------------------------------------

def check_channel(ctx: Context, channel: str, target: str, events: Sequence[str],
                  robot_secret: str | None, mentions: Sequence[str],
                  channels: Sequence[str] = CHANNELS) -> tuple[str | None, list[str]]:
    """Check one channel setting (a person's or a unit's); the robot's signing secret (None
    when not given) and the @-mentioned mobiles in E.164."""
    if channel not in channels:
        raise InvalidInput("notifications.not_channel", channel=channel,
                           channels=', '.join(channels),
                           where="channel")
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise InvalidInput("notifications.not_event", unknown=unknown[0], events=', '.join(EVENTS),
                           where="events")
    if channel == "email":
        if "@" not in target or len(target) > 320:
            raise InvalidInput("notifications.not_mail_address", target=target, where="target")
    else:
        from tiyan.services.webhooks import check_url

        check_url(ctx, target, where="target")
    robot_secret = (robot_secret or "").strip() or None
    if robot_secret is not None and (channel not in chat.SIGNED or len(robot_secret) > 100
                                     or not robot_secret.isprintable()):
        raise InvalidInput("notifications.only_dingtalk_feishu_robots", where="secret")
    if mentions and channel not in chat.MENTIONS:
        raise InvalidInput("notifications.only_wecom_dingtalk_robots",
                           where="mentions")
    if len(mentions) > 20:
        raise InvalidInput("notifications.most_mobile_numbers_can", where="mentions")
    region = ctx.settings.phone_region
    numbers = list(dict.fromkeys(normalise_phone(m, region, where="mentions")
                                 for m in mentions))
    return robot_secret, numbers


def do_set_preference(ctx: Context, actor: Actor, *, channel: str, target: str,
                      events: Sequence[str] = (), active: bool = True,
                      robot_secret: str | None = None,
                      mentions: Sequence[str] = ()) -> str | None:
    """Set how the signed-in user is notified on one channel; returns the signing secret when a
    generic webhook is set up (shown once). A DingTalk or Feishu robot with signing (加签) takes
    its `robot_secret`; WeCom and DingTalk robots @-mention the `mentions` (mobile numbers)."""
    robot_secret, numbers = check_channel(ctx, channel, target, events, robot_secret, mentions)
    secret = wire.new_secret() if channel == "webhook" else robot_secret
    now = ctx.now()
    with ctx.db.write() as conn:
        conn.execute(sa.delete(t.notification_preference).where(
            t.notification_preference.c.user_id == actor.user_id,
            t.notification_preference.c.channel == channel))
        conn.execute(sa.insert(t.notification_preference).values(
            user_id=actor.user_id, channel=channel, target=target, secret=secret,
            events=list(events), mentions=numbers, active=active, created_at=now))
    return secret if channel == "webhook" else None


def do_set_active(ctx: Context, actor: Actor, channel: str, active: bool) -> None:
    """Pause or resume the signed-in user's `channel` as it is set (a paused channel is kept,
    with its address and robot secret, and nothing is sent on it)."""
    with ctx.db.write() as conn:
        changed = conn.execute(sa.update(t.notification_preference).where(
            t.notification_preference.c.user_id == actor.user_id,
            t.notification_preference.c.channel == channel).values(active=active)).rowcount
    if not changed:
        raise NotFound("notifications.you_no_notification_set", channel=channel, where="channel")


def do_remove_preference(ctx: Context, actor: Actor, channel: str) -> None:
    """Stop telling the signed-in user on `channel` (with no channel left, they are told by
    e-mail at their sign-in address again)."""
    with ctx.db.write() as conn:
        removed = conn.execute(sa.delete(t.notification_preference).where(
            t.notification_preference.c.user_id == actor.user_id,
            t.notification_preference.c.channel == channel)).rowcount
    if not removed:
        raise NotFound("notifications.you_no_notification_set", channel=channel, where="channel")


def do_send_test(ctx: Context, actor: Actor, channel: str, locale: str = "zh-CN") -> str | None:
    """Send a test message to the signed-in user's `channel` at once; the error (a refusal by
    the robot included), or None when it was taken."""
    with ctx.db.read() as conn:
        pref = conn.execute(sa.select(t.notification_preference).where(
            t.notification_preference.c.user_id == actor.user_id,
            t.notification_preference.c.channel == channel)).mappings().first()
    if pref is None:
        raise NotFound("notifications.you_no_notification_set", channel=channel, where="channel")
    words = TEXTS.get(locale, TEXTS["en"])
    link = f"{ctx.settings.public_url.rstrip('/')}/account/notifications"
    title, text = words["test_title"], words["test_text"]
    if channel == "email":
        s = ctx.settings
        server = SmtpServer(s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_username,
                            s.smtp_password, s.smtp_starttls)
        return send_email(server, pref.target, f"[tiyan] {title}", f"{text}\n{link}")
    if channel == "webhook":
        data = {"type": "test", "timestamp": ctx.now().isoformat(),
                "data": {"subject": title, "text": text, "link": link}}
        body = json.dumps(data, ensure_ascii=False).encode()
        message_id = f"msg_test_{actor.user_id}_{int(ctx.now().timestamp())}"
        headers = wire.signed_headers(pref.secret or "", message_id, ctx.now(), body)
        return wire.post(pref.target, body, headers, ctx.settings.webhook_timeout_seconds,
                         outbound.policy_for(ctx.settings)).error
    return send_to_robot(ctx, channel, pref.target, title, text, link, secret=pref.secret,
                         mentions=pref.mentions or ())


def preferences_of(conn: Connection, user_id: int) -> list[RowMapping]:
    return list(conn.execute(sa.select(t.notification_preference).where(
        t.notification_preference.c.user_id == user_id)
        .order_by(t.notification_preference.c.channel)).mappings())


def delivery_log(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """A case's notifications; errors of HTTP channels as their short class only (older rows
    kept part of the answer's body, which is not shown)."""
    rows = conn.execute(sa.select(t.notification).where(t.notification.c.case_id == case_id)
                        .order_by(t.notification.c.id)).mappings()
    return [{**row, "last_error": row.last_error if row.channel == "email"
             else outbound.shown_error(row.last_error)} for row in rows]


