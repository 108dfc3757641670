"""Opting out, on SQLite and PostgreSQL: the one-click link in every invitation e-mail (RFC 8058
headers, GET shows, POST opts out, idempotent), an SMS reply "T", the API and an opt-out list;
each is audited, and e-mail, SMS, reminders, the call worklist and event rules all honour it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.integration.channel_fixtures import MailServer, SmsProvider, mail_server, sms_provider
from tests.integration.test_invitations import add_rule, closed, status_of, steps
from tests.integration.test_invitations_api import auth
from tests.world import World
from tiyan.context import Context
from tiyan.services import calls, jobs
from tiyan.services.links import unsubscribe_url
from tiyan.store import calls as call_store
from tiyan.store import tables as t

__all__ = ["mail_server", "sms_provider"]  # fixtures used below

UNSUBSCRIBE = re.compile(r"http://testserver(/u/\S+)")


def customer(ctx: Context, external_id: str = "C-001") -> sa.RowMapping:
    with ctx.db.read() as conn:
        return conn.execute(sa.select(t.customer).where(t.customer.c.external_id == external_id)
                            ).mappings().one()


def opt_out_audits(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.entity_id,
                                      t.audit_log.c.detail, t.audit_log.c.user_id)
                            .where(t.audit_log.c.entity == "customer")
                            .order_by(t.audit_log.c.id)).mappings()
        return [dict(r) for r in rows]


def test_every_invitation_email_carries_a_one_click_unsubscribe_that_stops_all_mail(
        ctx: Context, world: World, mail_server: MailServer, client: TestClient) -> None:
    add_rule(ctx, world, delay_minutes=0, reminder_days=(3,))
    [made] = closed(world)
    jobs.run_until_idle(ctx)
    [mail] = mail_server.to("li@example.test")
    path = UNSUBSCRIBE.search(mail.get_content()).group(1)  # type: ignore[union-attr]
    assert mail["List-Unsubscribe"] == f"<http://testserver{path}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page = client.get(path)  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and 'data-kind="confirm"' in page.text
    assert "退订调查邀请" in page.text and customer(ctx)["opted_out_at"] is None
    # the mail program's one-click POST (RFC 8058), then the respondent's button: idempotent
    one_click = client.post(path, content="List-Unsubscribe=One-Click",
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert one_click.status_code == 200 and "已成功退订" in one_click.text
    assert client.post(path, data={"confirm": "1"}).status_code == 200
    assert customer(ctx)["opted_out_at"] == ctx.now()
    [entry] = opt_out_audits(ctx)
    assert entry["action"] == "customer.opt_out" and entry["detail"]["source"] == "one_click"
    assert entry["entity_id"] == customer(ctx)["public_id"] and entry["user_id"] is None
    assert steps(ctx, str(made["id"])) == ["queued", "sent", "opted_out"]
    assert 'data-kind="done"' in client.get(path).text
    ctx.clock.advance(days=40)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)  # the day-3 reminder is not sent
    [again] = closed(world, event_id="next")  # nor a new invitation by rule
    assert (again["status"], again["reason"]) == ("suppressed", "opted_out")
    jobs.run_until_idle(ctx)
    assert len(mail_server.to("li@example.test")) == 1


def test_the_unsubscribe_page_speaks_the_customers_language_and_refuses_bad_links(
        ctx: Context, world: World, client: TestClient) -> None:
    add_rule(ctx, world, delay_minutes=0)
    closed(world, language="en-GB", email="jane@example.test", external_id="C-EN")
    url = unsubscribe_url(ctx, customer(ctx, "C-EN")["public_id"])
    path = url[url.index("/u/"):]
    page = client.get(path)
    assert "Unsubscribe from survey invitations?" in page.text and 'lang="en"' in page.text
    assert "退订调查邀请" in client.get(path + "?lang=zh-CN").text
    tampered = client.get(path[:-3] + "abc", headers={"accept-language": "en-US,en;q=0.8"})
    assert tampered.status_code == 404 and "This link does not work" in tampered.text
    assert client.post(path[:-3] + "abc", data={"confirm": "1"}).status_code == 404
    invitation_link = client.get(path.replace("/u/", "/i/"))  # a /u token is no /i token
    assert invitation_link.status_code == 404
    assert customer(ctx, "C-EN")["opted_out_at"] is None and opt_out_audits(ctx) == []


def test_sms_ends_with_the_opt_out_hint_and_a_reply_t_suppresses_what_is_queued(
        ctx: Context, world: World, sms_provider: SmsProvider, client: TestClient) -> None:
    add_rule(ctx, world, channel="sms", delay_minutes=0)
    [first] = closed(world, phone="13800139999")
    jobs.run_until_idle(ctx)
    assert sms_provider.forms[0]["content"].endswith("回T退订")
    ctx.clock.advance(days=40)  # type: ignore[attr-defined]
    add_rule(ctx, world, name="later", channel="sms", delay_minutes=60)
    queued = closed(world, event_id="second", phone="13800139999")
    assert {m["status"] for m in queued} == {"queued", "suppressed"}
    reply = client.post("/api/v1/channels/sms/replies?key=cb-key",
                        data={"from": "+8613800139999", "text": " t "})
    assert reply.status_code == 200 and reply.json() == {"result": "opted_out"}
    again = client.post("/api/v1/channels/sms/replies?key=cb-key",
                        json={"from": "13800139999", "text": "退订"})
    assert again.json() == {"result": "already"}
    other = client.post("/api/v1/channels/sms/replies?key=cb-key",
                        data={"from": "13800139999", "text": "thanks, great service"})
    assert other.json() == {"result": "ignored"}
    stranger = client.post("/api/v1/channels/sms/replies?key=cb-key",
                           data={"from": "13900000000", "text": "T"})
    assert stranger.json() == {"result": "unknown_number"}
    assert client.post("/api/v1/channels/sms/replies?key=wrong",
                       data={"from": "1", "text": "T"}).status_code == 403
    missing = client.post("/api/v1/channels/sms/replies?key=cb-key", data={"text": "T"})
    assert missing.status_code == 422 and missing.json()["error"]["where"] == "from"
    [waiting] = [m for m in queued if m["status"] == "queued"]
    assert status_of(ctx, str(waiting["id"])) == "suppressed"
    ctx.clock.advance(hours=2)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    assert len(sms_provider.forms) == 1 and status_of(ctx, str(first["id"])) == "sent"
    [entry] = opt_out_audits(ctx)
    assert entry["detail"]["source"] == "sms_reply"
    assert entry["detail"]["suppressed_invitations"] == 1


def test_staff_opt_out_and_in_through_the_api_within_their_scope(
        ctx: Context, world: World, client: TestClient) -> None:
    agent = world.actor("agent@t.test")
    call = calls.do_schedule_call(ctx, agent, survey_code="test",
                                  customer_id=world.customer_ids["n1"])
    with ctx.db.read() as conn:
        assert [r["public_id"] for r in call_store.worklist(conn, agent, ctx.now())] == [call]
    path = f"/api/v1/customers/{world.customer_ids['n1']}/opt-out"
    outside = client.post(path, json={}, headers=auth(world, "mgr.s1@t.test"))
    assert outside.status_code == 404  # a south manager does not see a north customer
    no_pii = client.post(path, json={}, headers=auth(world, "analyst.south@t.test"))
    assert no_pii.status_code == 404
    frontline = client.post(path, json={}, headers=auth(world, "staff.n1@t.test"))
    assert frontline.status_code in (403, 404)
    bad = client.post(path, json={"reason": "x"}, headers=auth(world))
    assert bad.status_code == 422
    done = client.post(path, json={"note": "asked by phone"}, headers=auth(world, "mgr.n1@t.test"))
    assert done.status_code == 200, done.text
    assert done.json()["opted_out"] and done.json()["changed"]
    repeat = client.post(path, headers=auth(world, "mgr.n1@t.test"))
    assert repeat.json()["opted_out"] and not repeat.json()["changed"]
    with ctx.db.read() as conn:  # gone from the agents' worklist, the call suppressed
        assert call_store.worklist(conn, agent, ctx.now()) == []
        status = conn.execute(sa.select(t.invitation.c.status)
                              .where(t.invitation.c.public_id == call)).scalar_one()
    assert status == "suppressed"
    back = client.delete(path + "?note=asked again", headers=auth(world, "mgr.n1@t.test"))
    assert back.status_code == 200 and not back.json()["opted_out"] and back.json()["changed"]
    audits = opt_out_audits(ctx)
    assert [a["action"] for a in audits] == ["customer.opt_out", "customer.opt_in"]
    assert audits[0]["detail"] == {"source": "api", "note": "asked by phone",
                                   "suppressed_invitations": 1}
    assert audits[0]["user_id"] is not None


def test_an_opt_out_list_from_the_command_line_reports_unknown_and_bad_rows(
        ctx: Context, world: World, tmp_path: Path) -> None:
    from tiyan.cli import app

    add_rule(ctx, world, delay_minutes=0)
    closed(world, email="li@example.test")
    n2_phone = customer_phone(ctx, world.customer_ids["n2"])
    listing = tmp_path / "退订名单.csv"
    listing.write_bytes(("手机,邮箱\n"
                         f"+86 {n2_phone},\n"
                         ",LI@example.test\n"
                         "13911112222,\n"
                         "not a number,\n"
                         f"{n2_phone},\n").encode("gb18030"))
    runner = CliRunner()
    result = runner.invoke(app, ["customers", "opt-out", str(listing), "--report",
                                 str(tmp_path / "report.json"), "--db", ctx.settings.db_url])
    assert result.exit_code == 0, result.output
    assert "5 rows: 2 opted out, 1 already opted out, 1 unknown, 1 invalid" in result.output
    assert "line 4: no customer has 13911112222" in result.output
    assert 'line 5: "not a number" is neither a mobile number nor an e-mail address' \
        in result.output
    assert customer(ctx)["opted_out_at"] is not None
    second = runner.invoke(app, ["customers", "opt-out", str(listing), "--db",
                                 ctx.settings.db_url])
    assert "0 opted out, 3 already opted out" in second.output
    sources = [a["detail"]["source"] for a in opt_out_audits(ctx)]
    assert sources == ["import", "import"]
    missing = runner.invoke(app, ["customers", "opt-out", str(tmp_path / "none.csv")])
    assert missing.exit_code == 1


def customer_phone(ctx: Context, public_id: str) -> str:
    """The customer's mobile number as people write it at home (stored: +86…, E.164)."""
    with ctx.db.read() as conn:
        return str(conn.execute(
            sa.select(t.customer_identity.c.value)
            .join(t.customer, t.customer.c.id == t.customer_identity.c.customer_id)
            .where(t.customer.c.public_id == public_id,
                   t.customer_identity.c.kind == "phone")).scalar_one()).removeprefix("+86")
