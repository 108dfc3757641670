"""The FastAPI application: web pages, REST API, static files, health check."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from tiyan import __version__
from tiyan.context import Context
from tiyan.domain.jobs import parse_lanes
from tiyan.services.jobs import Worker
from tiyan.store.db import database_answers
from tiyan.web.api import accounts as accounts_api
from tiyan.web.api import calendars as calendars_api
from tiyan.web.api import calls as calls_api
from tiyan.web.api import cases as cases_api
from tiyan.web.api import customers as customers_api
from tiyan.web.api import exports, response_parquet, v1
from tiyan.web.api import feedback_imports as feedback_imports_api
from tiyan.web.api import invitations as invitations_api
from tiyan.web.api import jobs as jobs_api
from tiyan.web.api import journeys as journeys_api
from tiyan.web.api import opt_out as opt_out_api
from tiyan.web.api import plans as plans_api
from tiyan.web.api import survey_links as survey_links_api
from tiyan.web.api import surveys as surveys_api
from tiyan.web.api import text_corrections as text_corrections_api
from tiyan.web.api import voc as voc_api
from tiyan.web.api import webhooks as webhooks_api
from tiyan.web.api.schemas import Health
from tiyan.web.errors import install_error_handlers
from tiyan.web.json_depth import JsonDepthLimit
from tiyan.web.operations import router as operations_router
from tiyan.web.request_log import RequestLog
from tiyan.web.security_headers import SecurityHeaders, docs_policy
from tiyan.web.transactions import RequestTransaction
from tiyan.web.ui import (
    account_pages,
    auth_pages,
    behaviour_pages,
    builder,
    calendar_pages,
    call_pages,
    case_pages,
    customer_pages,
    dashboard_pages,
    driver_pages,
    home,
    index_pages,
    insight_pages,
    job_pages,
    journey_pages,
    lists,
    notification_pages,
    plan_pages,
    response_list,
    response_page,
    rule_pages,
    text_adaptation_pages,
    unit_channel_pages,
    voc_pages,
    webhook_pages,
)
from tiyan.web.ui import import_pages as feedback_import_pages
from tiyan.web.ui import invitation_pages as invitation_pages_ui
from tiyan.web.ui import link_pages as survey_link_pages
from tiyan.web.ui import respond as respond_pages
from tiyan.web.ui import unsubscribe as unsubscribe_pages

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)


def create_app(ctx: Context) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running: Context = app.state.ctx
        settings = running.settings
        worker = Worker(running, settings.worker_poll_seconds,
                        lanes=parse_lanes(settings.worker_lanes)) \
            if settings.worker_in_app else None
        app.state.worker = worker
        if worker is not None:
            worker.start()
        yield
        if worker is not None:  # drain: finish what runs, give back what was not started
            await asyncio.to_thread(worker.stop, settings.worker_drain_seconds)

    app = FastAPI(
        lifespan=lifespan,
        title="tiyan API", version=__version__,
        description="Customer experience management. Authenticate with "
                    "`Authorization: Bearer <token>` (create one with `tiyan token create`).",
        docs_url="/api/docs", openapi_url="/api/v1/openapi.json", redoc_url=None,
    )
    app.state.ctx = ctx
    app.add_middleware(JsonDepthLimit)  # innermost: its refusals get the security headers
    app.add_middleware(SecurityHeaders, hsts=ctx.settings.secure_cookies,
                       policies={app.docs_url or "/api/docs": docs_policy(app)})
    app.add_middleware(RequestTransaction)  # one transaction per request
    app.add_middleware(RequestLog)  # outermost: request id, access log and metrics of it all
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", response_model=Health, tags=["health"],
             responses={503: {"model": Health, "description": "the database does not answer"}})
    def healthz(request: Request) -> Response:
        """"ok" while the database answers a query; else 503, so a load balancer or an
        orchestrator takes this process out of service (the reason is logged, not shown)."""
        try:
            database_answers(request.app.state.ctx.db)
        except Exception:  # noqa: BLE001 - whatever the driver raises, the answer is the same
            log.exception("health check: the database does not answer")
            return JSONResponse(Health(status="unavailable").model_dump(), status_code=503)
        return JSONResponse(Health(status="ok").model_dump())

    app.include_router(operations_router)  # /readyz, /metrics
    for module in (response_parquet, insight_pages, driver_pages,
                   behaviour_pages, index_pages):  # before dashboard_pages
        app.include_router(module.router)
    app.include_router(response_list.router)
    app.include_router(response_page.router)
    app.include_router(notification_pages.router)
    app.include_router(text_corrections_api.router)
    app.include_router(text_adaptation_pages.router)
    for module in (v1, surveys_api, journeys_api, webhooks_api, cases_api, exports, auth_pages,
                   home, lists, builder, journey_pages, webhook_pages, case_pages, rule_pages,
                   unit_channel_pages,
                   voc_pages, plan_pages, dashboard_pages):
        app.include_router(module.router)
    for module in (calls_api, call_pages):
        app.include_router(module.router)
    for module in (customers_api, customer_pages):
        app.include_router(module.router)
    app.include_router(invitations_api.router)
    for module in (jobs_api, job_pages):
        app.include_router(module.router)
    app.include_router(invitation_pages_ui.router)
    for module in (opt_out_api, unsubscribe_pages):
        app.include_router(module.router)
    app.include_router(respond_pages.router)
    app.include_router(survey_link_pages.router)
    app.include_router(survey_links_api.router)
    for module in (feedback_imports_api, feedback_import_pages):
        app.include_router(module.router)
    app.include_router(plans_api.router)
    app.include_router(voc_api.router)
    for module in (accounts_api, account_pages):
        app.include_router(module.router)
    for module in (calendars_api, calendar_pages):
        app.include_router(module.router)
    return app


def app_from_environment() -> FastAPI:
    """The app as `tiyan serve --workers N` starts it in each of its processes (uvicorn's
    factory): settings from the TIYAN_* environment, logging set up as they say."""
    from tiyan.context import open_context
    from tiyan.logs import configure_logging

    ctx = open_context()
    configure_logging(ctx.settings)
    return create_app(ctx)
