"""Times in e-mails and chat messages are written for their reader (issue 16): in the
recipient's zone (a person's home unit, a unit channel's unit, else TIYAN_TIMEZONE) and
language, with Babel, naming the zone; an escalation names its timer in words. Real SMTP
server and a real local chat robot (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.integration.closed_loop_fixtures import Mailbox, smtp
from tests.integration.test_chat_robots import SECRET, Robot, robot_server
from tests.integration.test_closed_loop import add_detractor_rule, use_smtp
from tests.world import World
from tiyan.context import Context
from tiyan.services import jobs
from tiyan.services.unit_channels import do_add_channel
from tiyan.store import tables as t

__all__ = ["robot_server", "smtp"]


def text_of(mail: object) -> str:
    body = mail.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    return body.replace("\u202f", " ").replace("\r\n", "\n")  # CLDR: narrow space before PM


def test_case_mails_and_robot_messages_carry_times_in_the_readers_zone_and_language(
        ctx: Context, world: World, smtp: Mailbox, robot_server: dict[str, Robot]) -> None:
    use_smtp(ctx, smtp.port)
    with ctx.db.write() as conn:  # north's store n1 (and its department) keep Tokyo time
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code.in_(["n1", "n1-as"]))
                     .values(timezone="Asia/Tokyo"))
        conn.execute(sa.update(t.app_user).where(t.app_user.c.email == "mgr.n1@t.test")
                     .values(locale="en"))
    robot = robot_server["ding"]
    do_add_channel(ctx, world.actor("mgr.n1@t.test"), "n1-as", channel="dingtalk",
                   target=robot.url, robot_secret=SECRET, locale="zh-CN")
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    # the n1-as detractor came 2026-11-20 07:00 UTC; the case, opened at 10:00 UTC, is first due
    # (first contact) 24 h later
    (mail,) = smtp.to("mgr.n1@t.test")  # home unit n1 (Tokyo), English
    body = text_of(mail)
    assert "Received: Nov 20, 2026, 4:00 PM (Asia/Tokyo)" in body
    assert "Due: Nov 21, 2026, 7:00 PM (Asia/Tokyo)" in body
    assert "Unit: Unit n1-as\n" in body and "n1-as单位" not in body  # a name, no code
    (s1,) = smtp.to("mgr.s1@t.test")  # home unit s1 (Shanghai), Chinese
    body = text_of(s1)
    assert "反馈时间: 2026年11月20日 11:00（Asia/Shanghai）" in body
    assert "处理期限: 2026年11月21日 18:00（Asia/Shanghai）" in body
    assert "单位: s1单位\n" in body
    # the store's robot: its unit's zone (n1-as: Tokyo) in the channel's language
    (message,) = robot.received
    text = message["markdown"]["text"]
    assert "反馈时间: 2026年11月20日 16:00（Asia/Tokyo）" in text
    assert "处理期限: 2026年11月21日 19:00（Asia/Tokyo）" in text
    ctx.clock.advance(hours=25)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    # the escalation goes to north's CX manager: home unit north (Shanghai), Chinese; the
    # timer that ran out in words, and when it was due
    escalations = smtp.to("cx@t.test")
    assert escalations and all(str(m["Subject"]).endswith(("(首次联系)", "(确认)", "(关闭)"))
                               for m in escalations)
    up = next(m for m in escalations if "n1-as单位" in text_of(m))
    assert str(up["Subject"]) == "[tiyan] 工单已升级: 贬损者 detractor (首次联系)"
    body = text_of(up)
    assert "处理期限: 2026年11月21日 18:00（Asia/Shanghai）" in body
    assert "(contact)" not in body and "UTC" not in body


def test_a_user_without_a_unit_reads_the_installations_zone(ctx: Context, world: World) -> None:
    from tiyan.store.scoped import home_zones

    with ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "n1")
                     .values(timezone="Asia/Tokyo"))
        conn.execute(sa.delete(t.role_grant).where(t.role_grant.c.user_id == world.actor(
            "viewer@t.test").user_id))
    with ctx.db.read() as conn:
        zones = home_zones(conn, [world.actor("mgr.n1@t.test").user_id,
                                  world.actor("viewer@t.test").user_id], "Europe/Berlin")
    assert zones == {world.actor("mgr.n1@t.test").user_id: "Asia/Tokyo",
                     world.actor("viewer@t.test").user_id: "Europe/Berlin"}
