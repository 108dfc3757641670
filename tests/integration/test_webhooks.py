"""Outbound webhooks against a real HTTP server on 127.0.0.1: signed, retried, logged, scoped.

The signature check here is written from the Standard Webhooks spec, independently of tiyan's
signing code: HMAC-SHA256 keyed with base64-decode(secret minus "whsec_") over
"{webhook-id}.{webhook-timestamp}.{raw body}", sent as "v1,<base64>".
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from tests.integration.closed_loop_fixtures import allow_local_targets
from tests.local_http import QuietHandler, serving
from tiyan.context import Context
from tiyan.security import new_public_id
from tiyan.services import jobs
from tiyan.services.arrivals import after_feedback_stored
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import tables as t


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server that records every POST and answers with scripted status codes."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def receiver(ctx: Context) -> Iterator[Receiver]:
    state = Receiver()
    allow_local_targets(ctx)

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server naming
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.next_status()
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    with serving(Handler) as base:
        state.url = f"{base}/hooks/tiyan"
        yield state


def verify(secret: str, received: Received) -> bool:
    """The receiver's check with the `standardwebhooks` library: its signature of the message's
    id, timestamp and body against the ones offered. (The tests' clock stands still in the past,
    so the library's freshness window is checked on the real clock in a test of its own.)"""
    stamp = dt.datetime.fromtimestamp(int(received.headers["webhook-timestamp"]), dt.UTC)
    expected = Webhook(secret).sign(received.headers["webhook-id"], stamp, received.body)
    return any(hmac.compare_digest(expected, offered)
               for offered in received.headers["webhook-signature"].split())


def bearer(world, email: str = "admin@t.test") -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def create_hook(client, world, url: str, unit: str = "hq", email: str = "admin@t.test",
                events: tuple[str, ...] = ("response.submitted",)) -> dict:
    world.ctx.clock.advance(seconds=1)  # after the world's own responses: it hears none of them
    reply = client.post("/api/v1/webhooks", headers=bearer(world, email),
                        json={"url": url, "events": list(events), "unit_code": unit})
    assert reply.status_code == 201, reply.text
    return reply.json()


def submit(world, unit: str, comment: str = "服务很好，电话13812345678") -> str:
    return do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code=unit, answers={"nps": 9, "comment": comment},
    )).public_id


def test_a_receiver_on_the_real_clock_verifies_a_delivery_with_standardwebhooks(
        client, world, receiver):
    world.ctx.clock.now = dt.datetime.now(dt.UTC)
    hook = create_hook(client, world, receiver.url)
    submit(world, "n1-as")
    jobs.run_until_idle(world.ctx)
    got = receiver.requests[0]
    assert Webhook(hook["secret"]).verify(got.body, got.headers) == got.json


def test_an_emit_job_run_again_after_a_crash_sends_no_second_message(client, world, receiver):
    from tiyan.services.arrivals import WEBHOOK_EMIT
    from tiyan.services.webhooks import emit_job

    hook = create_hook(client, world, receiver.url)
    submit(world, "n1-as")
    jobs.run_until_idle(world.ctx)
    with world.ctx.db.read() as conn:
        payload = conn.execute(sa.select(t.job.c.payload).where(t.job.c.kind == WEBHOOK_EMIT)
                               .order_by(t.job.c.id.desc()).limit(1)).scalar_one()
    emit_job(world.ctx, dict(payload))  # as a worker would after losing the job's lock
    jobs.run_until_idle(world.ctx)
    assert len(receiver.requests) == 1
    assert len(deliveries(client, world, hook["id"])) == 1


def deliveries(client, world, hook_id: str) -> list[dict]:
    reply = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=bearer(world))
    assert reply.status_code == 200, reply.text
    return reply.json()["items"]


def test_a_submitted_response_is_posted_signed_per_standard_webhooks(client, world, receiver):
    hook = create_hook(client, world, receiver.url)
    assert hook["secret"].startswith("whsec_") and len(base64.b64decode(hook["secret"][6:])) == 32
    listed = client.get("/api/v1/webhooks", headers=bearer(world)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]

    public_id = submit(world, "n1-as")
    jobs.run_until_idle(world.ctx)

    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert verify(hook["secret"], got)
    assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), got)
    assert got.headers["webhook-timestamp"] == str(int(world.ctx.now().timestamp()))
    body = got.json
    assert body["type"] == "response.submitted"
    data = body["data"]
    assert (data["id"], data["unit"], data["survey"], data["channel"]) == (
        public_id, "n1-as", "test", "api")
    comment = next(a for a in data["answers"] if a["question_key"] == "comment")
    assert "13812345678" not in comment["value_text"]  # free text leaves redacted
    [log] = deliveries(client, world, hook["id"])
    assert log["id"] == got.headers["webhook-id"]
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("delivered", 1, 200)


def test_a_500_is_retried_with_back_off_and_then_delivered(client, world, receiver):
    hook = create_hook(client, world, receiver.url)
    receiver.statuses = [500, 200]
    submit(world, "n2")
    jobs.run_until_idle(world.ctx)
    [log] = deliveries(client, world, hook["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("pending", 1, 500)
    assert "HTTP 500" in log["last_error"]
    world.ctx.clock.advance(seconds=29)
    jobs.run_until_idle(world.ctx)
    assert len(receiver.requests) == 1  # not before the back-off is over
    world.ctx.clock.advance(seconds=1)
    jobs.run_until_idle(world.ctx)
    [log] = deliveries(client, world, hook["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("delivered", 2, 200)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert verify(hook["secret"], first) and verify(hook["secret"], second)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/down"


def test_an_endpoint_that_is_down_is_retried_and_each_attempt_shows_in_the_log(
        client, world, receiver):
    hook = create_hook(client, world, _closed_port_url())
    submit(world, "s1")
    jobs.run_until_idle(world.ctx)
    [log] = deliveries(client, world, hook["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("pending", 1, None)
    assert log["last_error"] and log["next_attempt_at"]
    for attempt in range(2, 11):
        world.ctx.clock.advance(hours=7)
        jobs.run_until_idle(world.ctx)
        [log] = deliveries(client, world, hook["id"])
        assert log["attempts"] == attempt
    assert log["status"] == "failed" and log["next_attempt_at"] is None
    # the receiver comes back: an admin redelivers, same message id
    with world.ctx.db.write() as conn:
        conn.execute(sa.update(t.webhook_endpoint).values(url=receiver.url))
    redo = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{log['id']}/redeliver",
                       headers=bearer(world))
    assert redo.status_code == 202 and redo.json()["status"] == "pending"
    jobs.run_until_idle(world.ctx)
    [log] = deliveries(client, world, hook["id"])
    assert (log["status"], log["attempts"]) == ("delivered", 11)
    assert receiver.requests[0].headers["webhook-id"] == log["id"]


def test_the_back_off_doubles_between_attempts(client, world):
    allow_local_targets(world.ctx)
    create_hook(client, world, _closed_port_url())
    submit(world, "s1")
    waits = []
    for _ in range(4):
        jobs.run_until_idle(world.ctx)
        with world.ctx.db.read() as conn:
            next_at = conn.execute(sa.select(t.webhook_delivery.c.next_attempt_at)).scalar_one()
        waits.append((next_at - world.ctx.now()).total_seconds())
        world.ctx.clock.advance(seconds=waits[-1])
    assert waits == [30, 60, 120, 240]


def test_a_unit_webhook_gets_only_events_of_its_subtree(client, world, receiver):
    north = create_hook(client, world, receiver.url + "/north", unit="north",
                        email="cx@t.test")
    submit(world, "n1-as")
    submit(world, "s1")
    jobs.run_until_idle(world.ctx)
    assert [r.json["data"]["unit"] for r in receiver.requests] == ["n1-as"]
    assert len(deliveries(client, world, north["id"])) == 1
    # a CX manager of the north cannot listen to the south; a store manager manages no webhooks
    south = client.post("/api/v1/webhooks", headers=bearer(world, "cx@t.test"),
                        json={"url": receiver.url, "events": ["response.submitted"],
                              "unit_code": "south"})
    assert south.status_code == 403
    store_manager = client.get("/api/v1/webhooks", headers=bearer(world, "mgr.n1@t.test"))
    assert store_manager.status_code == 403
    outside = client.get(f"/api/v1/webhooks/{north['id']}/deliveries",
                         headers=bearer(world, "analyst.south@t.test"))
    assert outside.status_code == 403


def test_a_deactivated_webhook_gets_nothing_more(client, world, receiver):
    hook = create_hook(client, world, receiver.url)
    receiver.statuses = [503]
    submit(world, "n2")
    jobs.run_until_idle(world.ctx)
    off = client.post(f"/api/v1/webhooks/{hook['id']}/deactivate", headers=bearer(world))
    assert off.status_code == 200 and off.json()["active"] is False
    submit(world, "n2")
    world.ctx.clock.advance(hours=1)
    jobs.run_until_idle(world.ctx)
    assert len(receiver.requests) == 1
    [log] = deliveries(client, world, hook["id"])
    assert log["status"] == "cancelled"


def test_bad_webhook_requests_say_what_is_wrong(client, world):
    def create(**body):
        base = {"url": "https://example.test/hook", "events": ["response.submitted"],
                "unit_code": "hq"}
        return client.post("/api/v1/webhooks", headers=bearer(world), json={**base, **body})

    assert create(url="ftp://example.test/x").json()["error"]["where"] == "url"
    assert create(events=["case.created"]).json()["error"]["where"] == "events"
    unknown_unit = create(unit_code="nowhere")
    assert unknown_unit.status_code == 404 and unknown_unit.json()["error"]["where"] == "unit"
    assert create(extra=1).status_code == 422
    missing = client.get("/api/v1/webhooks/nope/deliveries", headers=bearer(world))
    assert missing.status_code == 404


def _store_feedback(ctx, unit_ids: dict[str, int], rows: list[tuple[str, str]]) -> list[int]:
    now = ctx.now()
    ids = []
    with ctx.db.write() as conn:
        batch_id = conn.execute(sa.insert(t.import_batch).values(
            public_id=new_public_id(), source="review", filename="reviews.csv",
            file_format="csv", content_sha256="0" * 64, mapping={}, status="done",
            rejections=[], created_at=now)).inserted_primary_key[0]
        for n, (unit, text) in enumerate(rows):
            rid = conn.execute(sa.insert(t.response).values(
                public_id=new_public_id(), source="review", channel="import",
                unit_id=unit_ids[unit], status="complete", submitted_at=now, received_at=now,
                external_id=f"r-{n}", customer_snapshot={}, meta={})).inserted_primary_key[0]
            conn.execute(sa.insert(t.answer).values(response_id=rid, question_key="text",
                                                    item_code="comment", value_text=text))
            ids.append(int(rid))
        after_feedback_stored(conn, int(batch_id), ids, now)
    return ids


def test_imported_feedback_is_announced_per_unit_scope_and_analysed(client, world, receiver):
    hook = create_hook(client, world, receiver.url, unit="north",
                       events=("feedback.imported",))
    ids = _store_feedback(world.ctx, world.unit_ids, [
        ("n1", "房间很脏，前台态度差，联系我13912345678"), ("s1", "位置很好"),
        ("n2", "早餐很好吃")])
    jobs.run_until_idle(world.ctx)
    [got] = receiver.requests
    assert verify(hook["secret"], got)
    body = got.json
    assert body["type"] == "feedback.imported" and body["data"]["source"] == "review"
    assert [r["unit"] for r in body["data"]["records"]] == ["n1", "n2"]
    assert "13912345678" not in json.dumps(body, ensure_ascii=False)
    with world.ctx.db.read() as conn:
        analysed = conn.execute(sa.select(t.text_analysis.c.response_id, t.text_analysis
                                          .c.redacted_text)).all()
    by_id = dict(analysed)
    assert set(ids) <= set(by_id) and "13912345678" not in by_id[ids[0]]


def _csrf(page_text: str) -> str:
    return page_text.split('name="csrf_token" value="')[1].split('"')[0]


@pytest.mark.parametrize(("lang", "title"), [("en", "Webhooks"), ("zh-CN", "Webhook 推送")])
def test_a_cx_manager_manages_webhooks_on_the_web_page(client, world, receiver, lang, title):
    from tests.integration.conftest import sign_in
    from tests.world import PASSWORD

    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get(f"/admin/webhooks?lang={lang}")
    assert page.status_code == 200 and f"<h1>{title}</h1>" in page.text
    assert 'value="north"' in page.text and 'value="south"' not in page.text  # own subtree only
    world.ctx.clock.advance(seconds=1)
    created = client.post("/admin/webhooks", data={
        "url": receiver.url, "unit_code": "north", "events": ["response.submitted"],
        "csrf_token": _csrf(page.text)})
    assert created.status_code == 200
    secret = created.text.split('<code class="secret">')[1].split("<")[0]
    assert secret.startswith("whsec_") and receiver.url in created.text
    assert secret not in client.get("/admin/webhooks").text  # shown once
    hook_id = created.text.split('href="/admin/webhooks/')[1].split('"')[0]

    submit(world, "n2")
    jobs.run_until_idle(world.ctx)
    assert verify(secret, receiver.requests[0])
    detail = client.get(f"/admin/webhooks/{hook_id}")
    assert detail.status_code == 200 and receiver.requests[0].headers["webhook-id"] in detail.text
    bad = client.post("/admin/webhooks", data={"url": "not a url", "unit_code": "north",
                                               "events": ["response.submitted"],
                                               "csrf_token": _csrf(page.text)})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    off = client.post(f"/admin/webhooks/{hook_id}/deactivate",
                      data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert off.status_code == 303
    with world.ctx.db.read() as conn:
        assert conn.execute(sa.select(t.webhook_endpoint.c.active)).scalar_one() is False


def test_the_webhook_page_is_only_for_those_who_manage_webhooks(client, world):
    from tests.integration.conftest import sign_in
    from tests.world import PASSWORD

    sign_in(client, "mgr.n1@t.test", PASSWORD)
    assert client.get("/admin/webhooks").status_code == 403
    assert "/admin/webhooks" not in client.get("/responses").text


def test_a_large_feedback_batch_goes_out_in_several_messages(client, world, receiver,
                                                              monkeypatch):
    from tiyan.services import webhooks

    monkeypatch.setattr(webhooks, "RECORDS_PER_DELIVERY", 2)
    create_hook(client, world, receiver.url, events=("feedback.imported",))
    ids = _store_feedback(world.ctx, world.unit_ids, [("n1", "一"), ("n2", "二"), ("s1", "三")])
    jobs.run_until_idle(world.ctx)
    parts = [r.json["data"]["records"] for r in receiver.requests]
    assert sorted(len(p) for p in parts) == [1, 2]  # sent side by side: in either order
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 2
    assert len(ids) == 3
