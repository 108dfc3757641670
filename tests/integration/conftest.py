from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.snapshots import as_built, world_with
from tests.world import World
from tiyan.context import Context
from tiyan.web.app import create_app


@pytest.fixture
def world(ctx: Context) -> World:
    return world_with(ctx, as_built)


@pytest.fixture
def client(ctx: Context) -> Iterator[TestClient]:
    with TestClient(app_for(ctx), base_url="http://testserver") as test_client:
        yield test_client


_APPS: dict[str, FastAPI] = {}


def app_for(ctx: Context) -> FastAPI:
    """One app per database and worker, given this test's context: FastAPI sets up each route
    on an app's first request to it (about 0.1 s an app)."""
    app = _APPS.get(ctx.db.url) or _APPS.setdefault(ctx.db.url, create_app(ctx))
    app.state.ctx = ctx
    return app


def sign_in(client: TestClient, email: str, password: str) -> None:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    reply = client.post("/login", data={"email": email, "password": password,
                                        "csrf_token": token, "next": "/"},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
