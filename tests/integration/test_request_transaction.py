"""One transaction per web request (tiyan.web.transactions): what a request wrote stays only if
the request succeeds — on SQLite and PostgreSQL, with a real app and a real database."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tiyan.context import Context
from tiyan.errors import NotFound
from tiyan.store import app_settings
from tiyan.store import tables as t
from tiyan.web.errors import install_error_handlers
from tiyan.web.transactions import RequestTransaction


def app_writing(ctx: Context) -> FastAPI:
    """Routes that write a setting in two separate write blocks, then end as they are told."""
    app = FastAPI()
    app.add_middleware(RequestTransaction)
    install_error_handlers(app)

    def write_twice(key: str) -> None:
        with ctx.db.write() as conn:
            app_settings.put_value(conn, f"{key}.1", 1, ctx.now())
        with ctx.db.write() as conn:
            app_settings.put_value(conn, f"{key}.2", 2, ctx.now())
        with ctx.db.read() as conn:  # a read after the writes sees them
            assert app_settings.get_value(conn, f"{key}.1") == 1

    @app.post("/api/ok")
    def ok() -> dict[str, str]:
        write_twice("ok")
        return {"status": "ok"}

    @app.post("/api/refused")
    def refused() -> None:
        write_twice("refused")
        raise NotFound("there is nothing here", where="thing")

    @app.post("/api/crash")
    def crash() -> None:
        write_twice("crash")
        raise RuntimeError("a fault after the writes")

    return app


def stored_keys(ctx: Context) -> set[str]:
    with ctx.db.read() as conn:
        return set(conn.execute(sa.select(t.app_setting.c.key)).scalars())


def test_a_request_that_fails_after_writing_keeps_nothing_it_wrote(ctx: Context) -> None:
    client = TestClient(app_writing(ctx), raise_server_exceptions=False)
    assert client.post("/api/refused").status_code == 404
    assert client.post("/api/crash").status_code == 500
    assert client.post("/api/ok").status_code == 200
    assert {k for k in stored_keys(ctx) if k[:2] in ("ok", "re", "cr")} == {"ok.1", "ok.2"}


def test_writes_outside_a_request_commit_on_their_own(ctx: Context) -> None:
    with ctx.db.write() as conn:
        app_settings.put_value(conn, "cli.1", 1, ctx.now())
    assert "cli.1" in stored_keys(ctx)
