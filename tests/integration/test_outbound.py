"""Webhooks, notifications and the SMS gateway reach only the internet, or the on-premises hosts
an administrator lists (TIYAN_OUTBOUND_ALLOWED_HOSTS): refused when the address is saved, and
again when it is sent to (a DNS answer may change in between), against a real receiver on
127.0.0.1 that must never hear from a refused target."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.closed_loop_fixtures import allow_local_targets
from tests.integration.test_closed_loop import add_detractor_rule
from tests.integration.test_closed_loop import submit as submit_response
from tests.integration.test_webhooks import bearer, submit
from tests.local_http import QuietHandler, serving
from tests.world import World
from tiyan.channels import outbound
from tiyan.channels.sms import SmsGateway, send_sms
from tiyan.context import Context
from tiyan.errors import InvalidInput
from tiyan.services import jobs
from tiyan.services.notifications import CHANNELS, do_set_preference
from tiyan.store import tables as t
from tiyan.store import webhooks as hooks


@dataclass
class Listener:
    """A real HTTP server on 127.0.0.1 that answers with a secret a refused target must not
    leak; it counts what it heard."""

    port: int = 0
    heard: list[str] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    state = Listener()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", 0)))
            state.heard.append(self.path)
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal secret: root password hunter2")

    with serving(Handler) as base:
        state.port = int(base.rsplit(":", 1)[1])
        yield state


def hostile(port: int) -> dict[str, str]:
    """Addresses inside tiyan's network, with the reason each is refused."""
    return {f"http://127.0.0.1:{port}/in": "loopback", "http://10.0.0.1/in": "private",
            "http://169.254.169.254/latest/meta-data/": "link-local",
            f"http://[::1]:{port}/in": "loopback", f"http://localhost:{port}/in": "loopback",
            f"http://2130706433:{port}/in": "loopback"}


def test_webhook_addresses_inside_the_network_are_refused_when_saved(
        client: TestClient, world: World, listener: Listener) -> None:
    for url, reason in hostile(listener.port).items():
        reply = client.post("/api/v1/webhooks", headers={**bearer(world), "Accept-Language": "en"},
                            json={"url": url, "events": ["response.submitted"], "unit_code": "hq"})
        error = reply.json()["error"]
        assert (reply.status_code, error["where"], error["key"]) == (422, "url", "outbound.refused")
        assert reason in error["message"], (url, error)
    for url in ("ftp://example.test/x", "file:///etc/passwd", "https://u:p@example.test/"):
        reply = client.post("/api/v1/webhooks", headers=bearer(world), json={
            "url": url, "events": ["response.submitted"], "unit_code": "hq"})
        assert (reply.status_code, reply.json()["error"]["where"]) == (422, "url"), url
    with world.ctx.db.read() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(t.webhook_endpoint))
        assert stored.scalar() == 0
    assert listener.heard == []


@pytest.mark.parametrize(("lang", "words"), [("en", "link-local address"),
                                             ("zh-CN", "链路本地地址")])
def test_the_webhook_page_says_why_an_address_is_refused_in_its_language(
        client: TestClient, world: World, lang: str, words: str) -> None:
    from tests.integration.conftest import sign_in
    from tests.world import PASSWORD

    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get(f"/admin/webhooks?lang={lang}")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = client.post("/admin/webhooks", data={
        "url": "http://169.254.169.254/latest/meta-data/", "unit_code": "north",
        "events": ["response.submitted"], "csrf_token": token})
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert words in refused.text and "TIYAN_OUTBOUND_ALLOWED_HOSTS" in refused.text


def test_webhooks_saved_before_are_refused_when_sent_and_the_target_never_hears(
        world: World, listener: Listener) -> None:
    ctx = world.ctx
    targets = hostile(listener.port)
    ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]  # after the world's own responses
    with ctx.db.write() as conn:  # as if saved when the name pointed elsewhere
        for url in targets:
            hooks.insert_endpoint(conn, url=url, secret="whsec_" + "A" * 44,
                                  events=["response.submitted"], unit_id=world.unit_ids["hq"],
                                  created_by=None, now=ctx.now())
    submit(world, "n2")
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        logged = {row.url: (row.last_status_code, row.last_error) for row in conn.execute(
            sa.select(t.webhook_endpoint.c.url, t.webhook_delivery.c.last_status_code,
                      t.webhook_delivery.c.last_error)
            .join(t.webhook_delivery, t.webhook_delivery.c.endpoint_id == t.webhook_endpoint.c.id))}
    assert logged == {url: (None, f"refused: {reason} address") for url, reason in targets.items()}
    assert listener.heard == []


def test_the_allow_list_lets_an_on_premises_receiver_in(
        client: TestClient, world: World, listener: Listener) -> None:
    allow_local_targets(world.ctx)
    world.ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]  # after the world's own
    url = f"http://127.0.0.1:{listener.port}/in"
    reply = client.post("/api/v1/webhooks", headers=bearer(world), json={
        "url": url, "events": ["response.submitted"], "unit_code": "hq"})
    assert reply.status_code == 201
    submit(world, "n2")
    jobs.run_until_idle(world.ctx)
    assert listener.heard == ["/in"]
    [log] = client.get(f"/api/v1/webhooks/{reply.json()['id']}/deliveries",
                       headers=bearer(world)).json()["items"]
    assert (log["last_status_code"], log["last_error"]) == (500, "HTTP 500")  # not the body


def test_notification_addresses_inside_the_network_are_refused_when_saved(
        client: TestClient, world: World, listener: Listener) -> None:
    actor = world.actor("mgr.s1@t.test")
    refused = 0
    for channel in (c for c in CHANNELS if c != "email"):
        for url in hostile(listener.port):
            with pytest.raises(InvalidInput) as error:
                do_set_preference(world.ctx, actor, channel=channel, target=url)
            assert error.value.where == "target"
            refused += 1
    reply = client.put("/api/v1/me/notifications", headers=bearer(world), json={
        "channel": "wecom", "target": "http://169.254.169.254/latest/meta-data/"})
    assert (reply.status_code, reply.json()["error"]["where"]) == (422, "target")
    assert refused == 30 and listener.heard == []


def test_notifications_to_addresses_saved_before_are_refused_when_sent(
        world: World, listener: Listener) -> None:
    ctx = world.ctx
    first, *more = hostile(listener.port).items()
    user_id = world.actor("mgr.s1@t.test").user_id
    chat = [c for c in CHANNELS if c != "email"]
    with ctx.db.write() as conn:  # one address per channel, as if saved before
        for channel, (url, _) in zip(chat, more, strict=True):
            conn.execute(sa.insert(t.notification_preference).values(
                user_id=user_id, channel=channel, target=url, events=[], active=True,
                created_at=ctx.now()))
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    with ctx.db.write() as conn:  # the sixth address, for a later case
        conn.execute(sa.update(t.notification_preference).where(
            t.notification_preference.c.channel == "slack").values(target=first[0]))
    submit_response(ctx, world, "s1", "s1-e1", 0)
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        errors = {row.target: row.last_error for row in conn.execute(
            sa.select(t.notification.c.target, t.notification.c.last_error)
            .where(t.notification.c.channel != "email"))}
    assert errors == {url: f"refused: {reason} address" for url, reason in (first, *more)}
    assert listener.heard == []


def test_the_sms_gateway_is_refused_inside_the_network_when_sending(
        ctx: Context, listener: Listener) -> None:
    policy = outbound.policy_for(ctx.settings)
    for url, reason in hostile(listener.port).items():
        sent = send_sms(SmsGateway(url=url, policy=policy), "+8613800138000", "hi", "ref")
        assert (sent.error, sent.status_code, sent.permanent) == (
            f"refused: {reason} address", None, False)
    assert listener.heard == []
    allowed = SmsGateway(url=f"http://127.0.0.1:{listener.port}/sms",
                         policy=outbound.Policy.parse("127.0.0.1"))
    assert send_sms(allowed, "+8613800138000", "hi", "ref").error == "HTTP 500"
    assert listener.heard == ["/sms"]


def test_errors_stored_before_show_only_their_status(client: TestClient, world: World) -> None:
    ctx = world.ctx
    with ctx.db.write() as conn:
        endpoint_id, public_id = hooks.insert_endpoint(
            conn, url="https://hooks.example.test/in", secret="whsec_" + "A" * 44,
            events=["response.submitted"], unit_id=world.unit_ids["hq"], created_by=None,
            now=ctx.now())
        conn.execute(sa.insert(t.webhook_delivery).values(
            endpoint_id=endpoint_id, message_id="msg_old", event_type="response.submitted",
            payload={}, status="failed", attempts=1, last_status_code=500,
            last_error="HTTP 500: internal secret: root password hunter2", created_at=ctx.now()))
    [log] = client.get(f"/api/v1/webhooks/{public_id}/deliveries",
                       headers=bearer(world)).json()["items"]
    assert log["last_error"] == "HTTP 500"
    from tests.integration.conftest import sign_in
    from tests.world import PASSWORD

    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/admin/webhooks/{public_id}")
    assert page.status_code == 200 and "hunter2" not in page.text and "msg_old" in page.text
