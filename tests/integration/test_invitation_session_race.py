"""Two first opens of one invitation at the same moment create one survey session.

Each open reads "no session yet" and inserts one; the unique index on
survey_session.invitation_id refuses all but the first insert and the refused opens read the
session that won. On SQLite the threads of one process are serialised by tiyan's write lock; on
PostgreSQL the transactions really overlap.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from tests.integration.test_respond import invitation, setup  # noqa: F401 - fixture
from tiyan.context import Context
from tiyan.services import survey_sessions as sessions
from tiyan.store import tables as t

THREADS = 8


def test_concurrent_first_opens_of_an_invitation_share_one_session(
        ctx: Context, setup: dict[str, int]) -> None:  # noqa: F811 - the fixture
    invitation_id, path = invitation(ctx, setup)
    token = path.rsplit("/", 1)[1]
    start = threading.Barrier(THREADS)
    sids: list[str] = []
    failures: list[BaseException] = []

    def open_link() -> None:
        try:
            start.wait()
            sids.append(sessions.access_invitation(ctx, token, language="zh-CN").sid)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=open_link) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with ctx.db.read() as conn:
        stored = conn.execute(sa.select(t.survey_session.c.public_id).where(
            t.survey_session.c.invitation_id == invitation_id)).scalars().all()
        status = conn.execute(sa.select(t.invitation.c.status).where(
            t.invitation.c.id == invitation_id)).scalar_one()
    assert len(stored) == 1
    assert set(sids) == {stored[0]} and len(sids) == THREADS
    assert status == "opened"


def test_a_second_session_for_one_invitation_is_refused_by_the_database(
        ctx: Context, setup: dict[str, int]) -> None:  # noqa: F811 - the fixture
    invitation_id, path = invitation(ctx, setup)
    first = sessions.access_invitation(ctx, path.rsplit("/", 1)[1], language="en")
    with ctx.db.read() as conn:
        row = dict(conn.execute(sa.select(t.survey_session).where(
            t.survey_session.c.public_id == first.sid)).mappings().one())
    row.pop("id")
    row["public_id"] = "f" * 32
    try:
        with ctx.db.write() as conn:
            conn.execute(t.survey_session.insert().values(**row))
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("a second session for one invitation was stored")
