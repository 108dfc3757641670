"""The administrators' jobs page: the backlog of each lane, failed and stuck background jobs,
and a retry button (services/job_admin.py checks who may and audit-logs the retry)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.services import job_admin as service
from tiyan.store import tables as t
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)


def viewer_timezone(ctx: Context, actor: Actor) -> str:
    """The time zone of the unit the viewer is granted at (their place in the organisation),
    else the installation's."""
    if actor.scope.grants:
        with ctx.db.read() as conn:
            zone = conn.execute(sa.select(t.org_unit.c.timezone).where(
                t.org_unit.c.id == actor.scope.grants[0].unit_id)).scalar()
        if zone:
            return str(zone)
    return ctx.settings.timezone


@router.get("/admin/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, ctx: ContextDep, actor: PageActor,
              retried: int | None = None) -> HTMLResponse:
    overview = service.access_jobs_overview(ctx, actor)
    return render(request, "jobs.html", actor=actor, overview=overview, now=ctx.now(),
                  timezone=viewer_timezone(ctx, actor), retried=retried)


@router.post("/admin/jobs/{job_id}/retry")
def retry_job(request: Request, job_id: int, ctx: ContextDep, actor: PageActor) -> Response:
    service.do_retry_job(ctx, actor, job_id)
    return RedirectResponse(f"/admin/jobs?retried={job_id}", status_code=303)
