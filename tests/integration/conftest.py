from __future__ import annotations

from collections.abc import Iterator

import pytest
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
    with TestClient(create_app(ctx), base_url="http://testserver") as test_client:
        yield test_client


def sign_in(client: TestClient, email: str, password: str) -> None:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    reply = client.post("/login", data={"email": email, "password": password,
                                        "csrf_token": token, "next": "/"},
                        follow_redirects=False)
    assert reply.status_code == 303, reply.text
