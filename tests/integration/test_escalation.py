"""Escalation climbs the hierarchy one step per level, each step told by e-mail, until the top:
the region's manager, then the CX manager, then the administrators (fake clock, real SMTP
server, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.integration.closed_loop_fixtures import Mailbox, smtp  # noqa: F401 - fixture
from tests.integration.test_closed_loop import add_detractor_rule, cases_by_unit, use_smtp
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.services import jobs
from tiyan.services.accounts import do_create_user
from tiyan.store import cases as store
from tiyan.store import tables as t


def test_each_level_goes_one_step_further_up_and_is_told(ctx: Context, world: World,
                                                         smtp: Mailbox) -> None:  # noqa: F811
    do_create_user(ctx, None, email="mgr.north@t.test", name="north manager",
                   password=PASSWORD, role="unit_manager", unit_code="north")
    use_smtp(ctx, smtp.port)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    case = cases_by_unit(ctx, world)["n1-as"]  # owned by mgr.n1, who manages n1
    with ctx.db.read() as conn:
        due = sorted(x.due_at for x in store.timers_of(conn, case.id))
    told: list[str] = []
    for moment in due:  # every timer runs out in turn, and nobody acts
        ctx.clock.now = moment + dt.timedelta(minutes=1)  # type: ignore[attr-defined]
        jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        events = [e for e in store.events_of(conn, case.id) if e.kind == "escalated"]
        emails = dict(conn.execute(sa.select(t.app_user.c.id, t.app_user.c.email)).all())
        level = conn.execute(sa.select(t.cx_case.c.escalation_level)
                             .where(t.cx_case.c.id == case.id)).scalar_one()
    told = [emails[e.detail["to_user_id"]] for e in events]
    assert told == ["mgr.north@t.test", "cx@t.test", "admin@t.test"][:len(events)]
    assert len(events) == 3 and level == 3
    for address in told:
        subjects = [str(m["Subject"]) for m in smtp.to(address)]
        assert any("工单已升级" in s for s in subjects), address


def test_the_case_email_carries_the_complaint_and_proper_headers(
        ctx: Context, world: World, smtp: Mailbox) -> None:  # noqa: F811
    from email.utils import parsedate_to_datetime

    from tests.integration.test_closed_loop import submit

    use_smtp(ctx, smtp.port)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    before = len(smtp.messages)
    submit(ctx, world, "s1", "s1-e1", 2, comment="等了三个小时，电话 13812345678 没人接")
    jobs.run_until_idle(ctx)
    (mail,) = [m for m in smtp.messages[before:] if m["To"] == "mgr.s1@t.test"]
    body = mail.get_content()
    assert "评分: 推荐 2 · 满意 3" in body
    assert "评论: 等了三个小时，电话" in body and "13812345678" not in body
    assert parsedate_to_datetime(mail["Date"]) is not None
    with ctx.db.read() as conn:
        notification_id = conn.execute(
            sa.select(t.notification.c.id).where(t.notification.c.target == "mgr.s1@t.test")
            .order_by(t.notification.c.id.desc())).scalars().first()
    assert mail["Message-ID"].startswith(f"<notification.{notification_id}@")
