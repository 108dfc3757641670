"""One transaction per web request: what a request wrote is committed just before its answer
starts, or rolled back when the request failed (a typed error, see tiyan.web.errors, or any
exception). So an error raised after a write never leaves half a change behind.

With a read replica (TIYAN_DB_READ_URL), a GET or HEAD reads from it unless the client wrote in
the last TIYAN_DB_READ_AFTER_WRITE_SECONDS: a request that wrote answers with a short-lived
cookie, and while the client sends it back, its requests read the primary (so it sees its own
writes however far the replica lags within that window). Any request that writes reads the
primary from its first write on."""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiyan.settings import Settings
from tiyan.store.db import enter_request_work, leave_request_work

# Commits get threads of their own: when every thread of the shared pool holds a request that
# waits for the writer lock (or a row lock), the request that holds it can still commit.
COMMIT_THREADS = anyio.CapacityLimiter(8)
READ_PRIMARY_COOKIE = "tiyan_read_primary"
READ_ONLY_METHODS = ("GET", "HEAD")


def sends_cookie(scope: Scope, name: str) -> bool:
    for key, value in scope.get("headers") or ():
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                if part.strip().split("=", 1)[0] == name:
                    return True
    return False


def read_primary_cookie(settings: Settings) -> tuple[bytes, bytes]:
    """The header that sends this client's reads to the primary for a while."""
    flags = "; Secure" if settings.secure_cookies else ""
    return (b"set-cookie", (f"{READ_PRIMARY_COOKIE}=1; Max-Age="
                            f"{settings.db_read_after_write_seconds}; Path=/; HttpOnly; "
                            f"SameSite=Lax{flags}").encode())


class RequestTransaction:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        work, token = enter_request_work(on_event_loop=True)
        app = scope.get("app")
        ctx = getattr(getattr(app, "state", None), "ctx", None)
        settings: Settings | None = ctx.settings if ctx is not None else None
        replica = ctx is not None and ctx.db.read_engine is not None
        if replica:
            work.may_use_replica = scope.get("method") in READ_ONLY_METHODS \
                and not sends_cookie(scope, READ_PRIMARY_COOKIE)

        async def finish() -> None:  # a thread only to commit what the request wrote
            if work.open:
                await anyio.to_thread.run_sync(work.finish, limiter=COMMIT_THREADS)
            else:
                work.finish()  # nothing to commit: only marks the work ended, no I/O

        async def send_after_commit(message: Message) -> None:
            if message["type"] == "http.response.start":
                await finish()
                if replica and work.wrote and settings is not None \
                        and settings.db_read_after_write_seconds:
                    message = {**message, "headers": [*message.get("headers", ()),
                                                      read_primary_cookie(settings)]}
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        except BaseException:
            work.fail()
            raise
        finally:
            leave_request_work(token)
            with anyio.CancelScope(shield=True):
                await finish()
