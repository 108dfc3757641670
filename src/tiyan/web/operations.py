"""Endpoints for operators and their tools: `/readyz` (may this process take traffic, and how far
behind is the background work) and `/metrics` (Prometheus).

`/healthz` (in tiyan.web.app) only says whether the database answers; `/readyz` also checks
that the schema is at the revision this code expects and reports the job backlog per lane.
Both carry counts and revision names only. `/metrics` carries no personal data either (route
templates, job kinds, channel names and counts), yet it stays closed unless
`TIYAN_METRICS_TOKEN` or `TIYAN_METRICS_ALLOW` opens it (docs/deploy.md).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tiyan.errors import Forbidden, NotFound
from tiyan.metrics import exposition
from tiyan.services.readiness import Readiness, check_readiness
from tiyan.settings import Settings
from tiyan.web.client_address import client_address, parse_address, trusted_networks

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


class LaneOut(BaseModel):
    lane: str
    due: int
    oldest_due_seconds: float
    running: int


class ReadyOut(BaseModel):
    status: str  # ready | unavailable
    database: str  # ok | unavailable
    object_store: str | None = None  # ok | unavailable; None: files are in the database
    schema_revision: str | None
    expected_revision: str
    reason: str | None = None
    note: str | None = None
    jobs: list[LaneOut] = []


@router.get("/readyz", response_model=ReadyOut,
            responses={503: {"model": ReadyOut, "description": "not ready: see `reason`"}})
def readyz(request: Request) -> Response:
    """200 when the database answers and its schema is at the revision this code expects,
    with the job backlog per lane; else 503 and the reason (no address, no password)."""
    state = check_readiness(request.app.state.ctx)
    reason = _not_ready_because(state)
    if reason:
        log.warning("not ready: %s", reason)
    body = ReadyOut(
        status="unavailable" if reason else "ready",
        database="ok" if state.database else "unavailable",
        object_store=None if state.object_store_problem is None
        else "unavailable" if state.object_store_problem else "ok",
        schema_revision=state.schema_current, expected_revision=state.schema_head,
        reason=reason,
        note="the database schema is newer than this process: restart it with the new "
             "version" if state.schema_newer else None,
        jobs=[LaneOut(lane=b.lane, due=b.due, oldest_due_seconds=round(b.oldest_due_seconds, 3),
                      running=b.running) for b in state.backlog],
    )
    return JSONResponse(body.model_dump(), status_code=503 if reason else 200)


def _not_ready_because(state: Readiness) -> str | None:
    if not state.database:
        return "the database does not answer"
    if not state.schema_ok:
        return (f"the database schema is at revision {state.schema_current or '(none)'}, this "
                f"version of tiyan expects {state.schema_head}: run `tiyan db upgrade`")
    if state.object_store_problem:
        return f"the object store does not answer: {state.object_store_problem}"
    return None


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text exposition, for callers that TIYAN_METRICS_TOKEN or
    TIYAN_METRICS_ALLOW let in."""
    settings: Settings = request.app.state.ctx.settings
    if not settings.metrics_token and not settings.metrics_allow:
        raise NotFound("operations.metrics_off_set_tiyan",
                       where="metrics")
    if not may_read_metrics(request, settings):
        raise Forbidden("operations.client_may_not_read", where="metrics")
    body, content_type = exposition(request.app.state.ctx)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def may_read_metrics(request: Request, settings: Settings) -> bool:
    """The right bearer token, or a client address in TIYAN_METRICS_ALLOW."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if settings.metrics_token and scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), settings.metrics_token.encode()):
        return True
    address = parse_address(client_address(request))
    return address is not None and any(
        address.version == net.version and address in net
        for net in trusted_networks(settings.metrics_allow))
