"""Invitations by e-mail and SMS: created by rules from events, held back by the contact rules,
sent to a real SMTP server and a real HTTP SMS provider, reminded, bounced and retried."""

from __future__ import annotations

import dataclasses
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.channel_fixtures import MailServer, SmsProvider, mail_server, sms_provider
from tests.world import World
from tiyan.context import Context
from tiyan.domain.contact_rules import RuleSettings, sampled_in
from tiyan.services import jobs
from tiyan.services.events import EventCustomer, InboundEvent, do_receive_event
from tiyan.services.invitation_rules import do_create_rule
from tiyan.services.invitations import do_record_sms_status
from tiyan.services.links import read_invitation_token
from tiyan.store import tables as t
from tiyan.store.invitations import (
    invitation_by_public_id,
    invitation_timeline,
    record_invitation_status,
)

__all__ = ["mail_server", "sms_provider"]  # fixtures used below

EMAIL_RULE = RuleSettings(name="售后邮件 after-sales e-mail", event_type="repair_order_closed",
                          channel="email", delay_minutes=120, expires_days=14,
                          reminder_days=(3,))
LINK = re.compile(r"http://testserver/i/(\S+)")


def add_rule(ctx: Context, world: World, **changes: object) -> int:
    rule = dataclasses.replace(EMAIL_RULE, **changes)  # type: ignore[arg-type]
    return do_create_rule(ctx, world.actor("admin@t.test"), rule, survey_code="test",
                          unit_code="north")


def closed(world: World, *, event_id: str | None = None, unit: str = "n1",
           **customer: str) -> list[dict[str, object]]:
    who = EventCustomer(**{"external_id": "C-001", "name": "李雷", "email": "li@example.test",
                           **customer})
    event = InboundEvent(type="repair_order_closed", unit=unit, customer=who, id=event_id,
                         staff="n1-e1")
    return do_receive_event(world.ctx, world.actor("admin@t.test"), event).invitations


def status_of(ctx: Context, public_id: str) -> str:
    with ctx.db.read() as conn:
        row = invitation_by_public_id(conn, public_id)
    assert row is not None
    return str(row["status"])


def steps(ctx: Context, public_id: str) -> list[str]:
    with ctx.db.read() as conn:
        row = invitation_by_public_id(conn, public_id)
        assert row is not None
        return [e["status"] for e in invitation_timeline(conn, row["id"])]


def test_an_event_invites_by_email_after_the_delay_and_reminds_on_day_3(
        ctx: Context, world: World, mail_server: MailServer) -> None:
    add_rule(ctx, world)
    [made] = closed(world)
    assert made["status"] == "queued"
    jobs.run_until_idle(ctx)
    assert mail_server.messages == []  # due two hours after the event
    ctx.clock.advance(hours=2)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    [mail] = mail_server.to("li@example.test")
    assert "李雷" in mail.get_content() and "n1单位" in mail.get_content()
    # the expiry in the inviting unit's zone, as Chinese writes it (it said "… UTC")
    assert re.search(r"有效期至 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（Asia/Shanghai）",
                     mail.get_content()), mail.get_content()
    assert "UTC" not in mail.get_content()
    token = LINK.search(mail.get_content()).group(1)  # type: ignore[union-attr]
    assert read_invitation_token(ctx, token) == made["id"]
    assert status_of(ctx, str(made["id"])) == "sent"
    ctx.clock.advance(days=3)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    reminder = mail_server.to("li@example.test")[1]
    assert reminder["Subject"].startswith("提醒")
    assert LINK.search(reminder.get_content()).group(1) == token  # type: ignore[union-attr]
    assert steps(ctx, str(made["id"])) == ["queued", "sent", "reminded"]
    with ctx.db.read() as conn:
        row = invitation_by_public_id(conn, str(made["id"]))
    assert row is not None and row["reminders_sent"] == 1 and row["next_reminder_at"] is None
    assert row["staff_id"] is not None and row["contact"] == "li@example.test"


def test_no_reminder_once_the_survey_is_completed(
        ctx: Context, world: World, mail_server: MailServer) -> None:
    add_rule(ctx, world, delay_minutes=0)
    [made] = closed(world)
    jobs.run_until_idle(ctx)
    with ctx.db.write() as conn:
        row = invitation_by_public_id(conn, str(made["id"]))
        assert row is not None
        record_invitation_status(conn, row["id"], "completed", ctx.now())
    ctx.clock.advance(days=4)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    assert len(mail_server.messages) == 1
    assert steps(ctx, str(made["id"])) == ["queued", "sent", "completed"]


def test_english_customers_get_english_mail(
        ctx: Context, world: World, mail_server: MailServer) -> None:
    add_rule(ctx, world, delay_minutes=0)
    closed(world, language="en-GB", email="jane@example.test", external_id="C-EN")
    jobs.run_until_idle(ctx)
    [mail] = mail_server.to("jane@example.test")
    assert mail["Subject"] == "How did we do? Test survey"
    assert "Unit n1" in mail.get_content()
    assert re.search(r"works until \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s?[AP]M "
                     r"\(Asia/Shanghai\)", mail.get_content()), mail.get_content()


def test_a_permanent_smtp_refusal_bounces_and_a_temporary_one_is_retried(
        ctx: Context, world: World, mail_server: MailServer) -> None:
    add_rule(ctx, world, delay_minutes=0)
    [bounced] = closed(world, email="bounce@example.test", external_id="C-B")
    [later] = closed(world, email="later@example.test", external_id="C-L")
    jobs.run_until_idle(ctx)
    assert status_of(ctx, str(bounced["id"])) == "bounced"
    assert status_of(ctx, str(later["id"])) == "queued"
    assert steps(ctx, str(later["id"])) == ["queued", "retry"]
    mail_server.refusing_later = False
    ctx.clock.advance(minutes=1)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    assert status_of(ctx, str(later["id"])) == "sent"
    assert len(mail_server.to("later@example.test")) == 1


def test_a_server_that_keeps_refusing_marks_the_invitation_failed_after_n_tries(
        ctx: Context, world: World, mail_server: MailServer) -> None:
    ctx.settings = ctx.settings.model_copy(update={"invitation_send_attempts": 3})
    add_rule(ctx, world, delay_minutes=0)
    [made] = closed(world, email="later@example.test", external_id="C-L")
    for _ in range(5):
        jobs.run_until_idle(ctx)
        ctx.clock.advance(hours=1)  # type: ignore[attr-defined]
    assert status_of(ctx, str(made["id"])) == "failed"
    assert steps(ctx, str(made["id"])) == ["queued", "retry", "retry", "failed"]


def test_opted_out_customers_are_never_invited(
        ctx: Context, world: World, mail_server: MailServer) -> None:
    add_rule(ctx, world, delay_minutes=0)
    closed(world)  # creates the customer
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.customer).where(t.customer.c.external_id == "C-001")
                     .values(opted_out_at=ctx.now()))
    ctx.clock.advance(days=60)  # type: ignore[attr-defined]
    [made] = closed(world, event_id="second")
    assert (made["status"], made["reason"]) == ("suppressed", "opted_out")
    jobs.run_until_idle(ctx)
    assert len(mail_server.messages) == 0  # not even the first: opted out before it went


def test_quarantine_holds_across_rules_and_surveys(ctx: Context, world: World) -> None:
    add_rule(ctx, world, delay_minutes=0)
    add_rule(ctx, world, name="second rule", delay_minutes=0, quarantine_days=7)
    first, second = closed(world)
    assert first["status"] == "queued"
    assert (second["status"], second["reason"]) == ("suppressed", "quarantined")
    ctx.clock.advance(days=8)  # type: ignore[attr-defined]
    after_week = closed(world, event_id="later")
    assert [m["reason"] for m in after_week] == ["quarantined", None]


def test_sampling_invites_the_same_customers_on_every_try(ctx: Context, world: World) -> None:
    ctx.settings = ctx.settings.model_copy(update={"contact_quarantine_days": 0})
    rule_id = add_rule(ctx, world, sampling_percent=30.0)
    outcomes = {}
    for n in range(30):
        [made] = closed(world, external_id=f"S-{n}", email=f"s{n}@example.test")
        outcomes[n] = made["reason"]
        [again] = closed(world, external_id=f"S-{n}", email=f"s{n}@example.test")
        assert again["reason"] == made["reason"]
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.customer.c.external_id, t.customer.c.public_id)).all()
    keys = {external_id: public_id for external_id, public_id in rows}
    expected = {n: None if sampled_in(f"rule-{rule_id}", keys[f"S-{n}"], 30.0) else "sampled_out"
                for n in range(30)}
    assert outcomes == expected
    assert 0 < list(outcomes.values()).count(None) < 30


def test_no_contact_for_the_channel_is_a_reason_not_an_error(ctx: Context, world: World) -> None:
    add_rule(ctx, world, channel="sms")
    [made] = closed(world)  # e-mail only
    assert (made["status"], made["reason"]) == ("suppressed", "no_contact")


def test_sms_goes_to_the_provider_as_a_form_and_delivery_reports_update_it(
        ctx: Context, world: World, sms_provider: SmsProvider) -> None:
    add_rule(ctx, world, channel="sms", delay_minutes=0)
    [made] = closed(world, phone="+86 138-0013-9999")
    jobs.run_until_idle(ctx)
    [form] = sms_provider.forms
    assert form["mobile"] == "+8613800139999"
    assert form["msg_ref"] == made["id"] and form["from"] == "TIYAN"
    assert "http://testserver/i/" in form["content"] and "n1单位" in form["content"]
    assert sms_provider.headers[0]["authorization"] == "Bearer sms-secret"
    assert do_record_sms_status(ctx, str(made["id"]), "DELIVRD") == "delivered"
    assert steps(ctx, str(made["id"])) == ["queued", "sent", "delivered"]
    assert status_of(ctx, str(made["id"])) == "sent"


def test_an_sms_the_operator_could_not_deliver_is_failed_and_not_reminded(
        ctx: Context, world: World, sms_provider: SmsProvider) -> None:
    add_rule(ctx, world, channel="sms", delay_minutes=0)
    [made] = closed(world, phone="13800139999")
    jobs.run_until_idle(ctx)
    assert do_record_sms_status(ctx, str(made["id"]), "UNDELIV") == "failed"
    ctx.clock.advance(days=4)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    assert len(sms_provider.forms) == 1
    assert status_of(ctx, str(made["id"])) == "failed"


def test_a_provider_refusing_the_number_bounces_the_sms(
        ctx: Context, world: World, sms_provider: SmsProvider) -> None:
    sms_provider.status = 400
    add_rule(ctx, world, channel="sms", delay_minutes=0)
    [made] = closed(world, phone="13800139999")
    jobs.run_until_idle(ctx)
    assert status_of(ctx, str(made["id"])) == "bounced"


def test_an_invitation_whose_link_expired_before_sending_is_not_sent(
        ctx: Context, world: World, mail_server: MailServer) -> None:
    add_rule(ctx, world, delay_minutes=0, expires_days=1, reminder_days=())
    [made] = closed(world)
    ctx.clock.advance(days=2)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    assert status_of(ctx, str(made["id"])) == "expired"
    assert mail_server.messages == []


def test_the_link_in_the_email_opens_the_survey_once_and_then_no_reminder_follows(
        ctx: Context, world: World, mail_server: MailServer, client: TestClient) -> None:
    from tests.integration.test_respond import post

    add_rule(ctx, world, delay_minutes=0)
    [made] = closed(world)
    jobs.run_until_idle(ctx)
    [mail] = mail_server.to("li@example.test")
    path = "/i/" + LINK.search(mail.get_content()).group(1)  # type: ignore[union-attr]
    page = client.get(path)
    assert page.status_code == 200 and status_of(ctx, str(made["id"])) == "opened"
    for _ in range(4):  # answer page by page until the thank-you page
        if status_of(ctx, str(made["id"])) == "completed":
            break
        page = post(client, path, page.text, {"nps": "9", "overall": "5", "comment": "好"})
    assert status_of(ctx, str(made["id"])) == "completed"
    assert client.get(path).status_code == 409  # used: the link works once
    ctx.clock.advance(days=4)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    assert len(mail_server.to("li@example.test")) == 1
    with ctx.db.read() as conn:
        stored = conn.execute(sa.select(t.response.c.invitation_id, t.response.c.staff_id)
                              .where(t.response.c.invitation_id.is_not(None))).all()
    assert len(stored) == 1 and stored[0].staff_id is not None


def test_a_piped_survey_title_reads_in_the_invitation_as_on_the_survey_page(
        ctx: Context, world: World, mail_server: MailServer) -> None:
    """The subject names the survey by its title filled in for the customer (it carried the
    placeholder '{customer:first_name|you}' as typed)."""
    from tiyan.domain.surveys import parse_definition
    from tiyan.store.surveys import insert_survey

    definition = parse_definition({
        "title": {"zh-CN": "{customer:first_name|您}的回访",
                  "en": "A word for {customer:first_name|you}"},
        "questions": [{"key": "nps", "type": "nps", "required": True,
                       "text": {"zh-CN": "推荐吗？", "en": "Would you recommend us?"}}]})
    with ctx.db.write() as conn:
        unit = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == "north")) \
            .scalar_one()
        insert_survey(conn, code="piped", name="Piped", unit_id=unit, definition=definition,
                      now=ctx.now(), created_by=None)
    do_create_rule(ctx, world.actor("admin@t.test"), dataclasses.replace(EMAIL_RULE,
                   delay_minutes=0), survey_code="piped", unit_code="north")
    closed(world, language="en-GB", email="jane@example.test", external_id="C-JD",
           name="Jane Doe")
    closed(world, language="zh-CN", email="li@example.test", external_id="C-LL")
    jobs.run_until_idle(ctx)
    [mail] = mail_server.to("jane@example.test")
    assert mail["Subject"] == "How did we do? A word for Jane"
    [mail] = mail_server.to("li@example.test")
    assert "李雷的回访" in str(mail["Subject"]) and "{" not in str(mail["Subject"])
