"""The administrators' jobs page: the backlog of each lane, failed and stuck background jobs,
and a retry button (services/job_admin.py checks who may and audit-logs the retry)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.services import job_admin as service
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)


@router.get("/admin/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, ctx: ContextDep, actor: PageActor,
              retried: int | None = None) -> HTMLResponse:
    overview = service.access_jobs_overview(ctx, actor)
    return render(request, "jobs.html", actor=actor, overview=overview, now=ctx.now(),
                  retried=retried)


@router.post("/admin/jobs/{job_id}/retry")
def retry_job(request: Request, job_id: int, ctx: ContextDep, actor: PageActor) -> Response:
    service.do_retry_job(ctx, actor, job_id)
    return RedirectResponse(f"/admin/jobs?retried={job_id}", status_code=303)
