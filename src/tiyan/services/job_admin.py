"""The administrators' view of background work: failed and stuck jobs, the backlog per lane,
and retrying a job (audit-logged). Jobs belong to the whole installation, so only someone whose
MANAGE_JOBS permission covers every unit (an administrator at the top) sees or retries them:
a job's payload and error may name any unit's data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import Conflict, NotFound
from tiyan.services.jobs import LaneBacklog, job_backlog
from tiyan.store import audit
from tiyan.store import job_queue as store
from tiyan.store import tables as t
from tiyan.store.scoped_refs import require_org_wide


@dataclass(frozen=True)
class JobsOverview:
    backlog: dict[str, LaneBacklog]
    failed: list[store.ProblemJob]
    stuck: list[store.ProblemJob]
    failed_total: int
    stuck_minutes: int


def _require(conn: sa.Connection, actor: Actor) -> None:
    units = conn.execute(sa.select(t.org_unit.c.id)).scalars().all()
    require_org_wide(actor, Permission.MANAGE_JOBS, units, "the job queue")


def access_jobs_overview(ctx: Context, actor: Actor, limit: int = 200) -> JobsOverview:
    now = ctx.now()
    minutes = ctx.settings.job_stuck_minutes
    with ctx.db.read() as conn:
        _require(conn, actor)
        failed = store.failed_jobs(conn, now, limit)
        stuck = store.stuck_jobs(conn, now, dt.timedelta(minutes=minutes), limit)
        total = store.count_failed(conn)
    return JobsOverview(job_backlog(ctx), failed, stuck, total, minutes)


def do_retry_job(ctx: Context, actor: Actor, job_id: int) -> str:
    """Run a failed job (or one whose worker died) again now; its kind."""
    now = ctx.now()
    with ctx.db.write() as conn:
        _require(conn, actor)
        kind = store.retry(conn, job_id, now)
        if kind is None:
            exists = conn.execute(sa.select(t.job.c.id).where(t.job.c.id == job_id)).first()
            if exists is None:
                raise NotFound(f"there is no job {job_id}", where="job")
            raise Conflict(f"job {job_id} is neither failed nor left by a stopped worker; "
                           "there is nothing to retry", where="job")
        audit.record(conn, at=now, user_id=actor.user_id, action="job.retry", entity="job",
                     entity_id=str(job_id), detail={"kind": kind})
    return kind
