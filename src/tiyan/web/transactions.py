"""One transaction per web request: what a request wrote is committed just before its answer
starts, or rolled back when the request failed (a typed error, see tiyan.web.errors, or any
exception). So an error raised after a write never leaves half a change behind."""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiyan.store.db import enter_request_work, leave_request_work

# Commits get threads of their own: when every thread of the shared pool holds a request that
# waits for the writer lock (or a row lock), the request that holds it can still commit.
COMMIT_THREADS = anyio.CapacityLimiter(8)


class RequestTransaction:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        work, token = enter_request_work(on_event_loop=True)

        async def finish() -> None:  # a thread only to commit what the request wrote
            if work.open:
                await anyio.to_thread.run_sync(work.finish, limiter=COMMIT_THREADS)
            else:
                work.finish()  # nothing to commit: only marks the work ended, no I/O

        async def send_after_commit(message: Message) -> None:
            if message["type"] == "http.response.start":
                await finish()
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
