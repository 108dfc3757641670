"""Two events for the same customer at the same moment: only one passes the quarantine.

The contact rules read the customer's last contact and then write the invitation; without
serialising per customer, concurrent transactions on PostgreSQL both read "never contacted".
Each invitation therefore locks its customer row first: SELECT … FOR UPDATE on PostgreSQL; on
SQLite a write that changes nothing takes the database's write lock before anything is read
(threads of one process are serialised by tiyan's write lock anyway, separate processes such as
the app and `tiyan worker` are not).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading

from tests.integration.test_invitations import add_rule
from tests.world import World
from tiyan.context import Context
from tiyan.services.events import EventCustomer, InboundEvent, do_receive_event
from tiyan.store.db import Database

THREADS = 8


def test_concurrent_events_for_one_customer_invite_them_once(ctx: Context, world: World) -> None:
    add_rule(ctx, world, channel="sms", delay_minutes=0)
    admin = world.actor("admin@t.test")
    start = threading.Barrier(THREADS)
    outcomes: list[str | None] = []
    failures: list[BaseException] = []

    def send(n: int) -> None:
        event = InboundEvent(type="repair_order_closed", unit="n1", id=f"RO-{n}",
                             customer=EventCustomer(id=world.customer_ids["n1"]))
        try:
            start.wait()
            [made] = do_receive_event(ctx, admin, event).invitations
            outcomes.append(made["reason"])  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(outcomes, key=str) == [None] + ["quarantined"] * (THREADS - 1)


def _event_in_another_process(url: str, now: dt.datetime, customer_id: str, n: int,
                              start: threading.Barrier, results: multiprocessing.Queue) -> None:
    from tests.conftest import Clock, test_settings

    ctx = Context(Database(url), test_settings(url), Clock(now))
    try:
        admin = World(ctx).actor("admin@t.test")
        event = InboundEvent(type="repair_order_closed", unit="n1", id=f"P-{n}",
                             customer=EventCustomer(id=customer_id))
        start.wait()
        [made] = do_receive_event(ctx, admin, event).invitations
        results.put(str(made["reason"]))
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        results.put(f"error: {exc!r}")
    finally:
        ctx.db.dispose()


def test_events_in_separate_processes_invite_the_customer_once(
        ctx: Context, world: World) -> None:
    add_rule(ctx, world, channel="sms", delay_minutes=0)
    processes = 4
    fork = multiprocessing.get_context("fork")
    start, results = fork.Barrier(processes), fork.Queue()
    children = [fork.Process(target=_event_in_another_process,
                             args=(ctx.settings.db_url, ctx.now(), world.customer_ids["n1"], n,
                                   start, results)) for n in range(processes)]
    for child in children:
        child.start()
    outcomes = sorted(results.get(timeout=120) for _ in children)
    for child in children:
        child.join(timeout=60)
    assert outcomes == ["None"] + ["quarantined"] * (processes - 1)
