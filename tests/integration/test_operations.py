"""What operators and their tools read: /readyz, /metrics (Prometheus text), request ids and
JSON log lines."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests import conftest as base
from tests.integration.channel_fixtures import MailServer, SmsProvider, mail_server, sms_provider
from tiyan.channels import outbound
from tiyan.channels import webhooks as wire
from tiyan.channels.email import SmtpServer, deliver_email
from tiyan.channels.sms import SmsGateway, send_sms
from tiyan.context import Context
from tiyan.logs import log_handler
from tiyan.metrics import exposition
from tiyan.services.jobs import enqueue_many, job_handler, run_until_idle
from tiyan.services.readiness import expected_revision
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade
from tiyan.web.app import create_app

TOKEN = "metrics-token-for-tests-0123456789"
__all__ = ["mail_server", "sms_provider"]  # fixtures used here


def app_with(ctx: Context, **settings: Any) -> TestClient:
    """A client of an app on `ctx`'s database whose settings differ as given."""
    changed = Context(ctx.db, ctx.settings.model_copy(update=settings), ctx.clock)
    return TestClient(create_app(changed), base_url="http://testserver",
                      client=settings.pop("_client", ("127.0.0.1", 50000)))


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of /metrics, parsed by prometheus-client's own parser, by name and labels."""
    reply = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(reply.text)
            for sample in family.samples}


def test_ready_when_the_schema_is_current_with_the_backlog_per_lane(ctx: Context) -> None:
    now = ctx.now()
    with ctx.db.write() as conn:
        enqueue_many(conn, [("test.ops", {"n": n}) for n in range(3)],
                     run_at=now - dt.timedelta(seconds=120))
        enqueue_many(conn, [("test.ops", {"n": 9})], run_at=now + dt.timedelta(hours=1))
    with app_with(ctx) as client:
        reply = client.get("/readyz")
    body = reply.json()
    assert reply.status_code == 200
    assert (body["status"], body["database"], body["reason"]) == ("ready", "ok", None)
    assert body["schema_revision"] == body["expected_revision"] == expected_revision()
    assert sum(lane["due"] for lane in body["jobs"]) == 3  # the future one is not due
    assert max(lane["oldest_due_seconds"] for lane in body["jobs"]) == 120.0


def test_not_ready_while_the_schema_is_behind_and_it_says_which_revision(
        ctx: Context, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    db = Database(url)
    try:
        upgrade(db, "0021")
        with app_with(Context(db, base.test_settings(url), ctx.clock)) as client:
            reply = client.get("/readyz")
    finally:
        db.dispose()
    body = reply.json()
    assert reply.status_code == 503
    assert (body["status"], body["database"]) == ("unavailable", "ok")
    assert (body["schema_revision"], body["expected_revision"]) == ("0021", expected_revision())
    assert "revision 0021" in body["reason"] and "tiyan db upgrade" in body["reason"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_not_ready_when_the_database_is_gone(kind: str, tmp_path: Path) -> None:
    if kind == "postgres":
        base.require_service("PostgreSQL", base.postgres_available(), "see the report header")
        url = base.PG_ADMIN_URL.rsplit("/", 1)[0] + "/tiyan_no_such_database"
    else:
        url = f"sqlite:///{tmp_path / 'gone' / 'tiyan.db'}"
    db = Database(url) if kind == "postgres" else _database_whose_folder_went(tmp_path, url)
    try:
        with TestClient(create_app(Context(db, base.test_settings(url)))) as client:
            reply = client.get("/readyz")
    finally:
        db.dispose()
    assert reply.status_code == 503
    assert reply.json()["database"] == "unavailable" and reply.json()["jobs"] == []
    assert "tiyan_no_such_database" not in reply.text and str(tmp_path) not in reply.text


def _database_whose_folder_went(tmp_path: Path, url: str) -> Database:
    (tmp_path / "gone").mkdir()
    db = Database(url)
    (tmp_path / "gone").rmdir()
    return db


def test_metrics_are_off_unless_a_token_or_an_address_list_opens_them(ctx: Context) -> None:
    with app_with(ctx) as client:
        assert client.get("/metrics").status_code == 404
    with app_with(ctx, metrics_token=TOKEN) as client:
        assert client.get("/metrics").status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code \
            == 403
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}) \
            .status_code == 200
    with app_with(ctx, metrics_allow="10.1.0.0/16", _client=("10.1.2.3", 4000)) as client:
        assert client.get("/metrics").status_code == 200
    with app_with(ctx, metrics_allow="10.1.0.0/16", _client=("10.9.2.3", 4000)) as client:
        assert client.get("/metrics").status_code == 403


def test_metrics_count_requests_by_route_template_and_jobs_and_queue_per_lane(
        ctx: Context) -> None:
    ran: list[int] = []
    job_handler("test.ops")(lambda _ctx, payload: ran.append(payload["n"]))
    route = (("method", "GET"), ("route", "/api/v1/responses/{response_id}"), ("status", "4xx"))
    done = (("kind", "test.ops"), ("outcome", "done"))
    with app_with(ctx, metrics_token=TOKEN) as client:
        before = scrape(client)
        for secret_looking_id in ("r-13812345678", "r-other"):
            assert client.get(f"/api/v1/responses/{secret_looking_id}").status_code == 401
        with ctx.db.write() as conn:
            enqueue_many(conn, [("test.ops", {"n": n}) for n in range(4)], run_at=ctx.now())
        queued = scrape(client)
        run_until_idle(ctx)
        after = scrape(client)
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert sorted(ran) == [0, 1, 2, 3]
    requests = ("tiyan_http_requests_total", route)
    assert queued[requests] - before.get(requests, 0) == 2
    assert "13812345678" not in text and "r-other" not in text  # templates, not paths
    assert sum(v for (name, _), v in queued.items() if name == "tiyan_job_queue_depth") == 4
    assert sum(v for (name, _), v in after.items() if name == "tiyan_job_queue_depth") == 0
    jobs = ("tiyan_jobs_total", done)
    assert after[jobs] - queued.get(jobs, 0) == 4
    assert after[("tiyan_database_up", ())] == 1
    latency = ("tiyan_http_request_duration_seconds_bucket", (("le", "+Inf"), *route[:2]))
    assert queued[latency] - before.get(latency, 0) == 2


def test_a_sane_request_id_is_kept_and_another_is_replaced(ctx: Context) -> None:
    with app_with(ctx) as client:
        kept = client.get("/healthz", headers={"X-Request-ID": "edge-7f3a9c01.42"})
        forged = client.get("/healthz", headers={"X-Request-ID": "x\" level=ERROR fake line"})
        first, second = client.get("/healthz"), client.get("/login")
    assert kept.headers["X-Request-ID"] == "edge-7f3a9c01.42"
    new_ids = [r.headers["X-Request-ID"] for r in (forged, first, second)]
    assert all(len(rid) == 32 and int(rid, 16) >= 0 for rid in new_ids)
    assert len(set(new_ids)) == 3


@pytest.fixture
def json_log(ctx: Context) -> Iterator[io.StringIO]:
    """What tiyan logs while the test runs, as TIYAN_LOG_FORMAT=json writes it."""
    stream = io.StringIO()
    handler = log_handler(ctx.settings.model_copy(update={"log_format": "json"}), stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_json_log_lines_carry_the_request_id_and_an_access_line(
        ctx: Context, json_log: io.StringIO, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    db = Database(url)
    try:
        upgrade(db, "0021")
        with app_with(Context(db, base.test_settings(url), ctx.clock)) as client:
            reply = client.get("/readyz", headers={"X-Request-ID": "probe-0001-abcd"},
                               params={"email": "someone@example.com"})
    finally:
        db.dispose()
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    mine = [line for line in lines if line.get("request_id") == "probe-0001-abcd"]
    warning = next(line for line in mine if line["logger"] == "tiyan.web.operations")
    access = next(line for line in mine if line["logger"] == "tiyan.access")
    assert reply.status_code == 503 and warning["level"] == "WARNING"
    assert "revision 0021" in warning["message"]  # written in the handler's thread
    assert (access["method"], access["route"], access["status"]) == ("GET", "/readyz", 503)
    assert access["client"] == "127.0.0.1" and access["duration_ms"] >= 0
    assert "someone@example.com" not in json_log.getvalue()  # the query is never logged


def test_log_lines_mask_e_mail_addresses_and_phone_numbers(json_log: io.StringIO) -> None:
    logging.getLogger("tiyan.test").warning("could not reach %s or %s on %s",
                                            "li.lei@example.cn", "138 1234 5678", "2026-12-06")
    line = json.loads(json_log.getvalue().splitlines()[-1])
    assert line["message"] == "could not reach [e-mail] or [number] on 2026-12-06"


def delivery_counts() -> dict[tuple[str, str], float]:
    text = exposition(None)[0].decode()
    return {(s.labels["channel"], s.labels["outcome"]): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == "tiyan_deliveries_total"}


def test_deliveries_are_counted_by_channel_and_outcome_and_failures_logged_without_recipients(
        ctx: Context, mail_server: MailServer, sms_provider: SmsProvider,
        json_log: io.StringIO) -> None:
    s = ctx.settings
    smtp = SmtpServer("127.0.0.1", s.smtp_port, s.smtp_from)
    policy = outbound.policy_for(s)
    gateway = SmsGateway(url=sms_provider.url, to_field="mobile", text_field="content",
                         policy=policy)
    before = delivery_counts()
    assert deliver_email(smtp, "li.lei@example.cn", "Hi", "text").error is None
    assert deliver_email(smtp, "bounce.wang@example.cn", "Hi", "text").permanent
    assert send_sms(gateway, "+8613812345678", "hi", "ref-1").error is None
    assert wire.post(sms_provider.url, b"{}", {}, 5.0, policy).delivered
    sms_provider.status = 500
    assert send_sms(gateway, "+8613987654321", "hi", "ref-2").error is not None
    assert not wire.post(sms_provider.url, b"{}", {}, 5.0, policy, channel="chat").delivered
    after = delivery_counts()
    assert {key: after[key] - before.get(key, 0) for key in after
            if after[key] != before.get(key, 0)} == {
        ("email", "sent"): 1, ("email", "failed"): 1, ("sms", "sent"): 1,
        ("sms", "failed"): 1, ("webhook", "sent"): 1, ("chat", "failed"): 1}
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    failures = {line["channel"]: line for line in lines if "delivery failed" in line["message"]}
    assert set(failures) == {"email", "sms", "chat"}
    assert failures["email"]["smtp_code"] == 550 and failures["sms"]["error"] == "HTTP 500"
    logged = json_log.getvalue()
    assert "bounce.wang" not in logged and "13987654321" not in logged
