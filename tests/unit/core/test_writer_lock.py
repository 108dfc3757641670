"""SQLite's writer lock of one process: bulk work's writes let waiting writers go first."""

from __future__ import annotations

import threading

from tiyan.store.db import WriterLock


def _waiting(lock: WriterLock, count: int) -> bool:
    """`count` threads are inside acquire(), waiting on the lock's condition."""
    with lock._cond:
        return len(lock._cond._waiters) >= count  # type: ignore[attr-defined]


def _wait_until(check, what: str) -> None:
    for _ in range(5000):
        if check():
            return
        threading.Event().wait(0.002)
    raise AssertionError(f"never happened: {what}")


def test_a_waiting_writer_goes_before_a_yielding_one_that_waited_longer() -> None:
    lock = WriterLock()
    order: list[str] = []

    def take(name: str, yielding: bool) -> None:
        lock.acquire(name, yielding=yielding)
        order.append(name)
        lock.release(name)

    lock.acquire("holder")
    bulk = threading.Thread(target=take, args=("bulk", True))
    bulk.start()
    _wait_until(lambda: _waiting(lock, 1), "the bulk writer waits")
    live = threading.Thread(target=take, args=("live", False))
    live.start()
    _wait_until(lambda: _waiting(lock, 2), "the live writer waits")
    lock.release("holder")
    bulk.join(5)
    live.join(5)
    assert order == ["live", "bulk"]


def test_a_yielding_writer_takes_a_free_lock_and_its_owner_reenters() -> None:
    lock = WriterLock()
    lock.acquire("bulk", yielding=True)
    lock.acquire("bulk", yielding=True)  # reentrant: a nested write of the same owner
    lock.release("bulk")
    lock.release("bulk")
    lock.acquire("other")  # free again
    lock.release("other")
