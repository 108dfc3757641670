"""Chat robots as they behave: a local server that acts as a WeCom, DingTalk or Feishu robot,
checks the signature (加签) the way those apps document it and answers HTTP 200 with an error code
when it refuses a message. A refused case notification is retried and shown as failed, never
logged as sent; mentions reach the robot; the test-message button says what happened
(SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tests.integration.closed_loop_fixtures import allow_local_targets
from tests.integration.conftest import sign_in
from tests.integration.test_closed_loop import add_detractor_rule
from tests.local_http import QuietHandler, serving
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.errors import InvalidInput
from tiyan.services import jobs
from tiyan.services.notifications import delivery_log, do_send_test, do_set_preference
from tiyan.store import tables as t

SECRET = "SEC0123456789abcdef"


@dataclass
class Robot:
    """One robot of `app` with signing secret `secret` (None: unsigned); `refuse` makes it
    refuse everything with that code (a blocked keyword, too many messages)."""

    app: str
    secret: str | None
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    refuse: int | None = None

    def verdict(self, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
        if self.refuse is not None:
            return self._error(self.refuse)
        if self.secret is not None and not self._signed_right(query, body):
            return self._error({"dingtalk": 310000, "feishu": 19021}[self.app])
        self.received.append(body)
        return {"code": 0, "msg": "success"} if self.app == "feishu" else \
            {"errcode": 0, "errmsg": "ok"}

    def _error(self, code: int) -> dict[str, Any]:
        if self.app == "feishu":
            return {"code": code, "msg": "sign match fail or timestamp is not within one hour"}
        return {"errcode": code, "errmsg": "refused"}

    def _signed_right(self, query: dict[str, list[str]], body: dict[str, Any]) -> bool:
        assert self.secret is not None
        if self.app == "dingtalk":  # timestamp (ms) and sign in the query
            stamp = query.get("timestamp", [""])[0]
            mac = hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(),
                           hashlib.sha256)
            return bool(stamp) and query.get("sign", [""])[0] == \
                base64.b64encode(mac.digest()).decode()
        stamp = str(body.get("timestamp", ""))  # Feishu: in the body, key = "timestamp\nsecret"
        mac = hmac.new(f"{stamp}\n{self.secret}".encode(), b"", hashlib.sha256)
        return bool(stamp) and body.get("sign") == base64.b64encode(mac.digest()).decode()


@pytest.fixture
def robot_server(ctx: Context) -> Iterator[dict[str, Robot]]:
    robots: dict[str, Robot] = {}
    allow_local_targets(ctx)

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            robot = robots[parts.path.strip("/")]
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            answer = json.dumps(robot.verdict(parse_qs(parts.query), body)).encode()
            self.send_response(200)  # these robots answer 200 even when they refuse
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

    with serving(Handler) as base:
        for name, app, secret in (("ding", "dingtalk", SECRET), ("ding-plain", "dingtalk", None),
                                  ("feishu", "feishu", SECRET), ("wecom", "wecom", None)):
            robots[name] = Robot(app, secret, f"{base}/{name}?access_token=abc123")
        yield robots


def notifications_of(ctx: Context) -> list[sa.RowMapping]:
    """The notifications sent to robots (the other people the rule tells get e-mail)."""
    with ctx.db.read() as conn:
        return list(conn.execute(sa.select(t.notification)
                                 .where(t.notification.c.channel != "email")
                                 .order_by(t.notification.c.id)).mappings())


def test_a_signed_dingtalk_robot_takes_the_case_and_mentions_by_mobile(
        ctx: Context, world: World, robot_server: dict[str, Robot]) -> None:
    robot = robot_server["ding"]
    do_set_preference(ctx, world.actor("mgr.s1@t.test"), channel="dingtalk", target=robot.url,
                      robot_secret=SECRET, mentions=["138 0013 8000"])
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    assert [n.status for n in notifications_of(ctx)] == ["sent"]
    body = robot.received[0]
    assert body["at"] == {"atMobiles": ["13800138000"], "isAtAll": False}
    assert "@13800138000" in body["markdown"]["text"]


@pytest.mark.parametrize(("name", "secret", "code"), [
    ("ding", "SECwrong", 310000), ("feishu", "SECwrong", 19021), ("wecom", None, 93000)])
def test_a_robot_that_refuses_is_retried_and_shown_as_failed(
        ctx: Context, world: World, robot_server: dict[str, Robot], name: str,
        secret: str | None, code: int) -> None:
    robot = robot_server[name]
    if code == 93000:
        robot.refuse = code  # e.g. the robot's keyword is missing from the message
    do_set_preference(ctx, world.actor("mgr.s1@t.test"), channel=robot.app, target=robot.url,
                      robot_secret=secret)
    add_detractor_rule(ctx, world)
    from tiyan.metrics import DELIVERIES

    def chat_count(outcome: str) -> float:
        return DELIVERIES.labels("chat", outcome)._value.get()

    sent, failed = chat_count("sent"), chat_count("failed")
    jobs.run_until_idle(ctx)
    (row,) = notifications_of(ctx)
    assert row.status == "retrying" and row.last_error == f"refused by the robot (code {code})"
    # the metrics count the refusal as a failed delivery, not as sent
    assert (chat_count("sent"), chat_count("failed")) == (sent, failed + 1)
    assert robot.received == []
    with ctx.db.read() as conn:
        shown = delivery_log(conn, row.case_id)
    assert shown[0]["last_error"] == f"refused by the robot (code {code})"
    # the robot is fixed: the retry goes through
    robot.refuse, robot.secret = None, secret
    ctx.clock.advance(minutes=5)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    assert notifications_of(ctx)[0].status == "sent" and len(robot.received) == 1


def test_a_signed_feishu_robot_and_wecom_mentions(ctx: Context, world: World,
                                                  robot_server: dict[str, Robot]) -> None:
    user = world.actor("mgr.s1@t.test")
    do_set_preference(ctx, user, channel="feishu", target=robot_server["feishu"].url,
                      robot_secret=SECRET)
    do_set_preference(ctx, user, channel="wecom", target=robot_server["wecom"].url,
                      mentions=["13800138000", "+86 139 0000 0000"])
    assert do_send_test(ctx, user, "feishu") is None
    assert do_send_test(ctx, user, "wecom") is None
    assert robot_server["feishu"].received[0]["msg_type"] == "post"
    text = robot_server["wecom"].received[0]["text"]
    assert text["mentioned_mobile_list"] == ["13800138000", "13900000000"]


@pytest.mark.parametrize(("channel", "values", "where"), [
    ("wecom", {"robot_secret": SECRET}, "secret"),
    ("feishu", {"mentions": ["13800138000"]}, "mentions"),
    ("dingtalk", {"mentions": ["not a phone"]}, "mentions"),
])
def test_robot_settings_that_cannot_work_are_refused(
        ctx: Context, world: World, robot_server: dict[str, Robot], channel: str,
        values: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        do_set_preference(ctx, world.actor("mgr.s1@t.test"), channel=channel,
                          target=robot_server["ding"].url, **values)
    assert raised.value.where == where


def test_the_notifications_page_sets_a_robot_and_sends_a_test_message(
        ctx: Context, client: Any, world: World, robot_server: dict[str, Robot]) -> None:
    from tests.integration.conftest import app_for

    app_for(ctx)  # the page's app reads this test's settings (loopback allowed)
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get("/account/notifications?lang=zh-CN")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    robot = robot_server["ding"]
    reply = client.post("/account/notifications", data={
        "csrf_token": token, "channel": "dingtalk", "target": robot.url,
        "robot_secret": SECRET, "mentions": "13800138000，13900000000", "active": "1",
        "events": ["case.opened"]}, follow_redirects=False)
    assert reply.status_code == 303, reply.text
    page = client.get("/account/notifications?lang=zh-CN")
    assert "已加签" in page.text and "access_token=…" in page.text and "abc123" not in page.text
    reply = client.post("/account/notifications/test",
                        data={"csrf_token": token, "channel": "dingtalk"})
    assert "测试消息已发送" in reply.text
    assert robot.received[-1]["at"]["atMobiles"] == ["13800138000", "13900000000"]
    robot.refuse = 130101  # sending too fast
    reply = client.post("/account/notifications/test",
                        data={"csrf_token": token, "channel": "dingtalk"})
    # the refusal in the reader's language, with the robot's code
    assert "发往钉钉的测试消息失败：机器人拒收了消息（错误码 130101）。" in reply.text
    reply = client.post("/account/notifications/test?lang=en",
                        data={"csrf_token": token, "channel": "dingtalk"})
    assert "The test message to DingTalk failed: the robot refused the message (code 130101)." \
        in reply.text
    # a secret for a robot that has no signing is refused in the reader's language
    reply = client.post("/account/notifications?lang=zh-CN", data={
        "csrf_token": token, "channel": "wecom", "target": robot.url, "robot_secret": "x"})
    assert reply.status_code == 422 and "只有钉钉和飞书机器人可以加签" in reply.text
    # paused and resumed without typing the address and secret again
    reply = client.post("/account/notifications/active",
                        data={"csrf_token": token, "channel": "dingtalk"},
                        follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"].endswith("done=stopped")
    with ctx.db.read() as conn:
        pref = conn.execute(sa.select(t.notification_preference).where(
            t.notification_preference.c.channel == "dingtalk")).mappings().one()
    assert pref.active is False and pref.secret == SECRET and pref.target == robot.url
    page = client.get("/account/notifications?done=stopped&lang=zh-CN")
    assert "已暂停：" in page.text and ">恢复</button>" in page.text
    client.post("/account/notifications/active",
                data={"csrf_token": token, "channel": "dingtalk", "active": "1"})
    with ctx.db.read() as conn:
        assert conn.execute(sa.select(t.notification_preference.c.active).where(
            t.notification_preference.c.channel == "dingtalk")).scalar_one() is True
    # removed on the page: no longer listed, and a test to it is refused in words
    reply = client.post("/account/notifications/remove",
                        data={"csrf_token": token, "channel": "dingtalk"},
                        follow_redirects=False)
    assert reply.status_code == 303
    page = client.get("/account/notifications?done=removed")
    assert "已删除" in page.text and 'data-channel="dingtalk"' not in page.text
    reply = client.post("/account/notifications/remove",
                        data={"csrf_token": token, "channel": "dingtalk"})
    assert reply.status_code == 404 and "请先设置这个渠道" in reply.text


def test_the_notifications_page_reads_numbers_typed_with_spaces_as_one_number_each(
        ctx: Context, client: Any, world: World, robot_server: dict[str, Robot]) -> None:
    """"138 0013 8000" is one mobile, as the unit page reads it: numbers are split by commas,
    semicolons, 、 or lines, never by the spaces people type inside them."""
    from tests.integration.conftest import app_for

    app_for(ctx)
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get("/account/notifications?lang=en")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    robot = robot_server["ding"]
    reply = client.post("/account/notifications", data={
        "csrf_token": token, "channel": "dingtalk", "target": robot.url,
        "robot_secret": SECRET, "mentions": "138 0013 8000, +86 139 0000 0000；137-0000-0000",
        "active": "1",
        "events": ["case.opened"]}, follow_redirects=False)
    assert reply.status_code == 303, reply.text
    reply = client.post("/account/notifications/test",
                        data={"csrf_token": token, "channel": "dingtalk"})
    assert "Test message sent" in reply.text, reply.text
    assert robot.received[-1]["at"]["atMobiles"] == ["13800138000", "13900000000",
                                                     "13700000000"]
    # a wrong number among them is still refused, and the page keeps what was typed
    reply = client.post("/account/notifications", data={
        "csrf_token": token, "channel": "dingtalk", "target": robot.url,
        "mentions": "138 0013 8000, 12", "active": "1", "events": ["case.opened"]})
    assert reply.status_code == 422
    assert 'value="138 0013 8000, 12"' in reply.text
