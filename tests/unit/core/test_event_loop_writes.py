"""A web request's database writes never run on the event loop's thread: there a write would
stop the loop that must send the answer of the request holding the writer lock, and every
request would wait (see tiyan.store.db.RequestWork)."""

from __future__ import annotations

import contextvars
import threading
from pathlib import Path

import pytest

from tiyan.store.db import Database, enter_request_work, leave_request_work


def test_a_requests_write_on_its_loop_thread_is_refused_and_one_in_a_worker_thread_is_not(
        tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    work, token = enter_request_work(on_event_loop=True)  # as the middleware does
    try:
        with pytest.raises(RuntimeError, match="event loop"), db.write():
            pass
        with pytest.raises(RuntimeError, match="event loop"), db.write_apart():
            pass

        def handler() -> None:  # as FastAPI runs a plain handler: in a thread, same context
            with db.write() as conn:
                conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")

        thread = threading.Thread(target=contextvars.copy_context().run, args=(handler,))
        thread.start()
        thread.join()
        work.finish()
    finally:
        leave_request_work(token)
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    db.dispose()
