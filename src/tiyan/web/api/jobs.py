"""REST API for background work (administrators): the backlog per lane, failed and stuck jobs,
and retrying one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from tiyan.services import job_admin as service
from tiyan.store.job_queue import ProblemJob
from tiyan.web.api.schemas import ErrorBody
from tiyan.web.deps import ApiActor, ContextDep
from tiyan.web.errors import error_locale

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409)}
router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=ERRORS)


class LaneOut(BaseModel):
    lane: str
    due: int
    running: int
    oldest_due_seconds: float


class JobOut(BaseModel):
    id: int
    kind: str
    lane: str
    status: str
    problem: str  # failed; lease: its worker stopped renewing it; waiting: due too long
    attempts: int
    created_at: dt.datetime
    run_at: dt.datetime
    lease_until: dt.datetime | None
    worker: str | None
    last_error: str | None  # in English, as the worker logged it
    reason: str | None = None  # the same in the caller's language
    reason_key: str | None = None  # its key of the error catalogue (docs/errors.md), if any
    payload: dict[str, Any]


class JobsOut(BaseModel):
    lanes: list[LaneOut]
    failed: list[JobOut]
    failed_total: int
    stuck: list[JobOut]
    stuck_minutes: int


class Retried(BaseModel):
    id: int
    kind: str
    status: str = "queued"


def _job(job: ProblemJob, locale: str) -> JobOut:
    return JobOut(**{name: getattr(job, name) for name in JobOut.model_fields
                     if name != "reason"}, reason=job.reason(locale))


@router.get("", response_model=JobsOut)
def jobs_overview(request: Request, ctx: ContextDep, actor: ApiActor) -> JobsOut:
    """The backlog of each lane, the latest failed jobs and the stuck ones (a running job whose
    worker stopped renewing its lease, or a due job waiting longer than
    TIYAN_JOB_STUCK_MINUTES)."""
    overview = service.access_jobs_overview(ctx, actor)
    locale = error_locale(request)
    return JobsOut(
        lanes=[LaneOut(lane=b.lane, due=b.due, running=b.running,
                       oldest_due_seconds=b.oldest_due_seconds)
               for b in overview.backlog.values()],
        failed=[_job(job, locale) for job in overview.failed],
        failed_total=overview.failed_total,
        stuck=[_job(job, locale) for job in overview.stuck], stuck_minutes=overview.stuck_minutes)


@router.post("/{job_id}/retry", response_model=Retried)
def retry_job(job_id: int, ctx: ContextDep, actor: ApiActor) -> Retried:
    """Queue a failed job (or one left by a stopped worker) to run now, attempts from zero."""
    return Retried(id=job_id, kind=service.do_retry_job(ctx, actor, job_id))
