"""A unit's own channels: a store's signed DingTalk robot (with @-mentions) and e-mail address,
told once per case of the store and the units below it, beside the people the rules route to;
a test message to a real local robot; scope (a unit manager's units only, 404 elsewhere), the
page in both languages, errors in words (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.closed_loop_fixtures import Mailbox, smtp
from tests.integration.conftest import sign_in
from tests.integration.test_chat_robots import SECRET, Robot, robot_server
from tests.integration.test_closed_loop import add_detractor_rule, use_smtp
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.errors import Forbidden, InvalidInput, NotFound
from tiyan.services import jobs
from tiyan.services.unit_channels import do_add_channel, do_remove_channel, do_send_test
from tiyan.store import tables as t

__all__ = ["robot_server", "smtp"]


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def test_a_stores_robot_and_address_are_told_of_its_cases_once(
        ctx: Context, world: World, robot_server: dict[str, Robot], smtp: Mailbox) -> None:
    use_smtp(ctx, smtp.port)
    robot = robot_server["ding"]
    manager = world.actor("mgr.n1@t.test")
    do_add_channel(ctx, manager, "n1", channel="dingtalk", target=robot.url,
                   robot_secret=SECRET)
    # the same robot set again on the department below: still one message per case, as the
    # nearest unit set it
    do_add_channel(ctx, manager, "n1-as", channel="dingtalk", target=robot.url,
                   robot_secret=SECRET, mentions=["138 0013 8000"])
    do_add_channel(ctx, manager, "n1", channel="email", target="n1-team@t.test",
                   events=["case.opened"], locale="en")
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)  # the world's detractors: n1-as (3), n2 (6), s1 (2)
    assert len(robot.received) == 1  # n1-as's case only; n2 and s1 are not below n1
    body = robot.received[0]
    assert body["at"] == {"atMobiles": ["13800138000"], "isAtAll": False}
    assert "贬损者" in body["markdown"]["text"]
    team = smtp.to("n1-team@t.test")
    assert len(team) == 1 and str(team[0]["Subject"]).startswith("[tiyan] New case")
    assert len(smtp.to("mgr.n1@t.test")) == 1  # the person the rule routes to, as before
    with ctx.db.read() as conn:
        unit_rows = list(conn.execute(sa.select(t.notification).where(
            t.notification.c.unit_channel_id.is_not(None))).mappings())
    assert {(n.channel, n.status) for n in unit_rows} == {("dingtalk", "sent"),
                                                          ("email", "sent")}
    assert all(n.case_id is not None and n.user_id is None for n in unit_rows)


def test_a_test_message_reaches_the_robot_signed(
        ctx: Context, world: World, robot_server: dict[str, Robot]) -> None:
    manager = world.actor("mgr.s1@t.test")
    feishu = robot_server["feishu"]
    channel_id = do_add_channel(ctx, manager, "s1", channel="feishu", target=feishu.url,
                                robot_secret=SECRET)
    assert do_send_test(ctx, manager, "s1", channel_id) is None
    assert len(feishu.received) == 1  # the robot checked the signature (加签)
    wrong = do_add_channel(ctx, manager, "s1", channel="feishu", target=feishu.url,
                           robot_secret="SECwrong")
    assert "19021" in (do_send_test(ctx, manager, "s1", wrong) or "")  # refused, said so
    do_remove_channel(ctx, manager, "s1", wrong)
    with ctx.db.read() as conn:
        actions = list(conn.execute(sa.select(t.audit_log.c.action).where(
            t.audit_log.c.entity == "unit_channel").order_by(t.audit_log.c.id)).scalars())
    assert actions == ["unit_channel.add", "unit_channel.add", "unit_channel.remove"]


def test_only_a_units_managers_and_administrators_set_its_channels(
        ctx: Context, world: World) -> None:
    import pytest

    url = "https://oapi.dingtalk.com/robot/send?access_token=abc"
    with pytest.raises(NotFound):  # another store: as if it did not exist
        do_add_channel(ctx, world.actor("mgr.n1@t.test"), "s1", channel="dingtalk", target=url)
    with pytest.raises(Forbidden):  # a CX manager sets no unit channels
        do_add_channel(ctx, world.actor("cx@t.test"), "north", channel="dingtalk", target=url)
    with pytest.raises(InvalidInput):  # WeCom has no signing
        do_add_channel(ctx, world.actor("admin@t.test"), "s1", channel="wecom", target=url,
                       robot_secret="SEC1")
    with pytest.raises(InvalidInput):  # a unit has no generic webhook here
        do_add_channel(ctx, world.actor("admin@t.test"), "s1", channel="webhook", target=url)
    assert do_add_channel(ctx, world.actor("admin@t.test"), "s1", channel="dingtalk",
                          target=url)


def test_the_page_adds_a_robot_sends_a_test_and_says_errors_in_both_languages(
        ctx: Context, world: World, client: TestClient, robot_server: dict[str, Robot]) -> None:
    robot = robot_server["ding"]
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    page = client.get("/unit-notifications", follow_redirects=True)
    assert page.status_code == 200 and "单位通知" in page.text
    code = page.url.path.split("/")[2]
    assert code in ("n1", "n1-as")
    bad = client.post(f"/units/{code}/notifications?lang=en", data={
        "csrf_token": csrf(page.text), "channel": "wecom", "target": robot.url,
        "robot_secret": "SEC1"})
    assert bad.status_code == 422
    assert "Only DingTalk and Feishu robots take a signing secret" in bad.text
    bad_zh = client.post(f"/units/{code}/notifications?lang=zh-CN", data={
        "csrf_token": csrf(page.text), "channel": "email", "target": "nobody"})
    assert bad_zh.status_code == 422 and 'value="nobody"' in bad_zh.text
    added = client.post(f"/units/{code}/notifications", data={
        "csrf_token": csrf(page.text), "channel": "dingtalk", "target": robot.url,
        "robot_secret": SECRET, "mentions": "13800138000", "events": ["case.opened"]})
    assert added.status_code == 200 and "已添加渠道" in added.text
    assert "access_token=…" in added.text and "abc123" not in added.text  # key masked
    channel_id = added.text.split('id="channel-')[1].split('"')[0]
    tested = client.post(f"/units/{code}/notifications/{channel_id}/test",
                         data={"csrf_token": csrf(added.text)})
    assert 'id="test-result"' in tested.text and "钉钉" in tested.text
    assert len(robot.received) == 1
    assert client.get("/units/s1/notifications").status_code == 404
    assert client.post(f"/units/s1/notifications/{channel_id}/test",
                       data={"csrf_token": csrf(added.text)}).status_code == 404
    removed = client.post(f"/units/{code}/notifications/{channel_id}/delete",
                          data={"csrf_token": csrf(added.text)})
    assert "已删除渠道" in removed.text and f'id="channel-{channel_id}"' not in removed.text
