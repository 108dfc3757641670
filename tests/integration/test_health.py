"""The health check answers "ok" only while the database answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import conftest as base
from tiyan.context import Context
from tiyan.store.db import Database
from tiyan.web.app import create_app


def test_the_health_check_is_ok_while_the_database_answers(client: TestClient) -> None:
    reply = client.get("/healthz")
    assert (reply.status_code, reply.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_health_check_is_503_when_the_database_is_gone(kind: str, tmp_path: Path) -> None:
    if kind == "postgres":
        base.require_service("PostgreSQL", base.postgres_available(), "see the report header")
        url = base.PG_ADMIN_URL.rsplit("/", 1)[0] + "/tiyan_no_such_database"
    else:
        (tmp_path / "gone").mkdir()
        url = f"sqlite:///{tmp_path / 'gone' / 'tiyan.db'}"
    db = Database(url)
    if kind == "sqlite":
        (tmp_path / "gone").rmdir()  # the disk holding the database went away
    try:
        with TestClient(create_app(Context(db, base.test_settings(url)))) as client:
            reply = client.get("/healthz")
    finally:
        db.dispose()
    assert (reply.status_code, reply.json()) == (503, {"status": "unavailable"})
    assert "tiyan_no_such_database" not in reply.text and "gone" not in reply.text
