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
from tiyan.errors import Conflict, NotFound, Phrase
from tiyan.services.jobs import LaneBacklog, job_backlog, load_handlers, runs_one_at_a_time
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
    require_org_wide(actor, Permission.MANAGE_JOBS, units, Phrase("job_admin.the_job_queue"))


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
    load_handlers()  # which kinds run one at a time
    with ctx.db.write() as conn:
        _require(conn, actor)
        known = store.kind_of(conn, job_id)
        if known is None:
            raise NotFound("job_admin.no_job", job_id=job_id, where="job")
        unique_key = None
        if runs_one_at_a_time(known):
            # a periodic job: its failed run gave up the key and the next run took it; a second
            # queued run would do the periodic work twice from now on
            holder = store.key_holder(conn, known, other_than=job_id)
            if holder is not None:
                raise Conflict("job_admin.job_runs_time_job", job_id=job_id, known=known,
                               holder=holder,
                               where="job")
            unique_key = known
        kind = store.retry(conn, job_id, now, unique_key=unique_key)
        if kind is None:
            raise Conflict("job_admin.job_neither_failed_nor", job_id=job_id, where="job")
        audit.record(conn, at=now, user_id=actor.user_id, action="job.retry", entity="job",
                     entity_id=str(job_id), detail={"kind": kind})
    return kind
