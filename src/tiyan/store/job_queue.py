"""The job table seen by an administrator: failed and stuck jobs, and putting one back in line.

Installation-wide (jobs belong to no unit); services/job_admin.py lets only someone whose
MANAGE_JOBS covers every unit call these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.domain.jobs import JobState, stuck_reason
from tiyan.errors import stored_text
from tiyan.store import tables as t

J = t.job


@dataclass(frozen=True)
class ProblemJob:
    id: int
    kind: str
    lane: str
    status: str
    problem: str                 # failed, lease (its worker stopped renewing it), waiting
    attempts: int
    created_at: dt.datetime
    run_at: dt.datetime
    lease_until: dt.datetime | None
    worker: str | None
    last_error: str | None
    payload: dict[str, Any]
    # the reason as a message of the error catalogue (None: `last_error` as it is)
    reason_key: str | None = None
    reason_params: dict[str, Any] | None = None

    def reason(self, locale: str) -> str | None:
        """The reason in `locale` where it is one of tiyan's messages, else as stored."""
        if self.last_error is None:
            return None
        return stored_text({"reason": self.last_error, "key": self.reason_key,
                            "params": self.reason_params}, locale)


def _problem(row: Any, now: dt.datetime, waiting: dt.timedelta) -> ProblemJob:
    problem = "failed" if row.status == "failed" else stuck_reason(
        JobState(row.status, row.run_at, row.lease_until), now, waiting) or row.status
    return ProblemJob(row.id, row.kind, row.lane, row.status, problem, row.attempts,
                      row.created_at, row.run_at, row.lease_until, row.locked_by,
                      row.last_error, dict(row.payload or {}), row.last_error_key,
                      row.last_error_params)


def failed_jobs(conn: Connection, now: dt.datetime, limit: int = 200) -> list[ProblemJob]:
    """The failed jobs, latest first."""
    rows = conn.execute(sa.select(J).where(J.c.status == "failed")
                        .order_by(J.c.id.desc()).limit(limit)).all()
    return [_problem(row, now, dt.timedelta()) for row in rows]


def stuck_jobs(conn: Connection, now: dt.datetime, waiting: dt.timedelta,
               limit: int = 200) -> list[ProblemJob]:
    """Running jobs whose lease ran out, and due jobs waiting longer than `waiting`; oldest
    first."""
    rows = conn.execute(sa.select(J).where(sa.or_(
        sa.and_(J.c.status == "running", J.c.lease_until < now),
        sa.and_(J.c.status == "queued", J.c.run_at < now - waiting)))
        .order_by(J.c.run_at, J.c.id).limit(limit)).all()
    return [_problem(row, now, waiting) for row in rows]


def key_holder(conn: Connection, unique_key: str, other_than: int) -> int | None:
    """The queued or running job (other than `other_than`) that holds `unique_key`."""
    return conn.execute(sa.select(J.c.id).where(J.c.unique_key == unique_key,
                                                J.c.id != other_than)).scalar()


def kind_of(conn: Connection, job_id: int) -> str | None:
    return conn.execute(sa.select(J.c.kind).where(J.c.id == job_id)).scalar()


def count_failed(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(J)
                            .where(J.c.status == "failed")).scalar_one())


def retry(conn: Connection, job_id: int, now: dt.datetime, *,
          unique_key: str | None = None) -> str | None:
    """Queue a failed job, or a running one whose lease ran out, to run now with a fresh count
    of attempts (and `unique_key`, for a kind that runs one at a time); its kind, or None when
    the job is not (any longer) one of those."""
    keyed = {"unique_key": unique_key} if unique_key else {}
    row = conn.execute(J.update().where(J.c.id == job_id, sa.or_(
        J.c.status == "failed", sa.and_(J.c.status == "running", J.c.lease_until < now)))
        .values(status="queued", run_at=now, attempts=0, locked_by=None, locked_at=None,
                lease_until=None, **keyed).returning(J.c.kind)).first()
    return None if row is None else str(row.kind)
