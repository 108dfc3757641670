"""No database write runs on an event loop's thread: there it would stop the loop that must
send the answer of the request holding the writer lock, and every request would wait."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tiyan.store.db import Database


def test_a_write_on_the_event_loop_is_refused_and_one_in_a_thread_is_not(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")

    async def on_the_loop() -> None:
        with db.write():
            pass

    async def in_a_thread() -> None:
        def write() -> None:
            with db.write() as conn:
                conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")

        await asyncio.to_thread(write)

    try:
        with pytest.raises(RuntimeError, match="event loop"):
            asyncio.run(on_the_loop())
        asyncio.run(in_a_thread())
    finally:
        db.dispose()
