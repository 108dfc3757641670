"""Failed sign-ins are limited per account and per client address, in the database: every app
process over the same database counts the same failures, and a made-up X-Forwarded-For does
not make a new client unless it comes through a trusted proxy."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.test_crash_safety import Server
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.errors import NotAuthenticated, TooManyRequests
from tiyan.services.accounts import sign_in
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.web.app import create_app


def limits(ctx: Context, *, account: int = 3, address: int = 100, proxies: str = "") -> None:
    ctx.settings.signin_failures_per_account = account
    ctx.settings.signin_failures_per_address = address
    ctx.settings.trusted_proxies = proxies


def try_sign_in(client: TestClient | httpx.Client, email: str, password: str,
                headers: dict[str, str] | None = None) -> int:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    reply = client.post("/login", headers=headers or {}, follow_redirects=False,
                        data={"email": email, "password": password, "csrf_token": token[1]})
    client.cookies.clear()
    return reply.status_code


@pytest.fixture
def two_apps(world: World) -> Iterator[tuple[TestClient, TestClient]]:
    """Two app instances, each with its own context and connection pool, on one database."""
    other = Context(Database(world.ctx.db.url), world.ctx.settings, world.ctx.clock)
    with TestClient(create_app(world.ctx)) as one, TestClient(create_app(other)) as two:
        yield one, two
    other.db.dispose()


def failures(ctx: Context) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.signin_failure))
                   .scalar_one())


def test_an_accounts_failures_count_in_every_app_over_the_database(world, two_apps):
    limits(world.ctx, account=3)
    one, two = two_apps
    assert [try_sign_in(app, "cx@t.test", "wrong guess") for app in (one, two, one)] == [401] * 3
    assert try_sign_in(two, "cx@t.test", PASSWORD) == 429  # even the right password, for now
    assert try_sign_in(one, "CX@t.test ", "wrong guess") == 429  # the same account, written so
    assert try_sign_in(two, "mgr.n1@t.test", PASSWORD) == 303  # other accounts are not held up
    world.ctx.clock.advance(minutes=15)
    assert try_sign_in(one, "cx@t.test", PASSWORD) == 303


def test_an_addresss_failures_count_in_every_app_and_a_made_up_forwarded_for_does_not_help(
        world, two_apps):
    limits(world.ctx, account=100, address=4)
    one, two = two_apps
    for index in range(4):
        spoofed = {"X-Forwarded-For": f"198.51.100.{index}"}
        assert try_sign_in((one, two)[index % 2], f"nobody{index}@t.test", "guess",
                           spoofed) == 401
    for app, spoofed in ((one, "203.0.113.1"), (two, "127.0.0.1"), (one, "")):
        assert try_sign_in(app, "admin@t.test", PASSWORD, {"X-Forwarded-For": spoofed}) == 429
    assert failures(world.ctx) == 4  # refused attempts are not counted again


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(world):
    limits(world.ctx, account=100, address=2, proxies="127.0.0.1")
    with TestClient(create_app(world.ctx), client=("127.0.0.1", 50000)) as proxy:
        for guess in ("one", "two"):
            assert try_sign_in(proxy, "cx@t.test", guess, {"X-Forwarded-For": "198.51.100.7"}) \
                == 401
        # the client writes an address of its own; the proxy appends the one it saw
        spoofed = {"X-Forwarded-For": "203.0.113.99, 198.51.100.7"}
        assert try_sign_in(proxy, "cx@t.test", PASSWORD, spoofed) == 429
        with world.ctx.db.read() as conn:
            addresses = set(conn.execute(sa.select(t.signin_failure.c.address)).scalars())
        assert addresses == {"198.51.100.7"}
        assert try_sign_in(proxy, "cx@t.test", PASSWORD, {"X-Forwarded-For": "198.51.100.8"}) \
            == 303


def test_old_failures_are_deleted_and_a_success_clears_its_accounts_failures(world):
    limits(world.ctx, account=5)
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            sign_in(world.ctx, "cx@t.test", "wrong guess", ip="192.0.2.1")
    world.ctx.clock.advance(minutes=16)
    with pytest.raises(NotAuthenticated):
        sign_in(world.ctx, "viewer@t.test", "wrong guess", ip="192.0.2.1")
    assert failures(world.ctx) == 1  # the three older ones were pruned by the fourth
    with pytest.raises(NotAuthenticated):
        sign_in(world.ctx, "cx@t.test", "wrong guess", ip="192.0.2.1")
    sign_in(world.ctx, "cx@t.test", PASSWORD, ip="192.0.2.1")
    with world.ctx.db.read() as conn:
        left = conn.execute(sa.select(t.signin_failure.c.account)).scalars().all()
    assert left == ["viewer@t.test"]


def test_a_refused_sign_in_does_not_check_the_password_or_lengthen_the_wait(world):
    limits(world.ctx, account=2)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            sign_in(world.ctx, "cx@t.test", "wrong guess", ip="192.0.2.1")
    for _ in range(5):
        world.ctx.clock.advance(minutes=2)
        with pytest.raises(TooManyRequests) as refused:
            sign_in(world.ctx, "cx@t.test", PASSWORD, ip="192.0.2.1")
    assert refused.value.where == "account" and "15 minutes" in refused.value.message
    world.ctx.clock.advance(minutes=5)  # 15 minutes after the failures, not after the refusals
    assert sign_in(world.ctx, "cx@t.test", PASSWORD, ip="192.0.2.1").user_id


def test_the_sign_in_page_says_why_it_refuses_in_both_languages(world, client):
    limits(world.ctx, account=1)
    assert try_sign_in(client, "cx@t.test", "wrong guess") == 401
    for lang, text in (("en", "wait 15 minutes"), ("zh-CN", "15 分钟后再试")):
        client.cookies.set("tiyan_lang", lang)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        reply = client.post("/login", data={"email": "cx@t.test", "password": PASSWORD,
                                            "csrf_token": token[1]})
        assert reply.status_code == 429 and text in reply.text


class Servers:
    def __init__(self, ctx: Context, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        for name, value in (("SIGNIN_FAILURES_PER_ACCOUNT", "3"),
                            ("SIGNIN_FAILURES_PER_ADDRESS", "5"), ("WORKER_IN_APP", "false"),
                            ("TRUSTED_PROXIES", "")):
            monkeypatch.setenv(f"TIYAN_{name}", value)
        self.all = [Server(ctx.db.url, tmp_path / f"serve{i}.log") for i in range(2)]
        self.clients: list[httpx.Client] = []

    def __enter__(self) -> list[httpx.Client]:
        for server in self.all:
            server.start()
            self.clients.append(httpx.Client(base_url=server.base, timeout=30))
        return self.clients

    def __exit__(self, *_: object) -> None:
        for client in self.clients:
            client.close()
        for server in self.all:
            server.stop()


def test_two_real_servers_share_the_limit_and_ignore_a_forwarded_for_from_loopback(
        world, tmp_path, monkeypatch):
    with Servers(world.ctx, tmp_path, monkeypatch) as (one, two):
        statuses = [try_sign_in(client, "cx@t.test", "wrong guess",
                                {"X-Forwarded-For": f"198.51.100.{i}"})
                    for i, client in enumerate((one, two, one))]
        assert statuses == [401, 401, 401]
        assert try_sign_in(two, "cx@t.test", PASSWORD) == 429
        assert try_sign_in(one, "mgr.n1@t.test", "wrong", {"X-Forwarded-For": "1.1.1.1"}) == 401
        assert try_sign_in(two, "viewer@t.test", "wrong", {"X-Forwarded-For": "2.2.2.2"}) == 401
        # five failures from 127.0.0.1, whatever the header said: the address is held up too
        assert try_sign_in(one, "admin@t.test", PASSWORD, {"X-Forwarded-For": "3.3.3.3"}) == 429
    with world.ctx.db.read() as conn:
        addresses = set(conn.execute(sa.select(t.signin_failure.c.address)).scalars())
    assert addresses == {"127.0.0.1"}
