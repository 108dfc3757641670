"""REST API v1: token auth, unit-scoped like everything else, one JSON error shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from sqlalchemy.engine import RowMapping

from tiyan.analytics.kpis import monthly_kpis
from tiyan.context import Context
from tiyan.domain.access import Actor, Permission, Role
from tiyan.domain.metrics import Estimate
from tiyan.services.accounts import do_create_user
from tiyan.services.customer360 import access_customer
from tiyan.services.org import do_create_unit
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import customers, org, responses, text_analysis, users
from tiyan.web.api import schemas as s
from tiyan.web.api.cursor import decode_cursor, decode_time_cursor, encode_cursor
from tiyan.web.api.response_filters import ListFilters, build_filter, list_filters
from tiyan.web.deps import ApiActor, ContextDep
from tiyan.web.request_origin import OriginDep

ERRORS = {code: {"model": s.ErrorBody} for code in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/me", response_model=s.MeOut, tags=["access"])
def me(ctx: ContextDep, actor: ApiActor) -> s.MeOut:
    with ctx.db.read() as conn:
        grants = users.grants_of(conn, actor.user_id)
    permissions = sorted(p.value for p in Permission if actor.can(p))
    return s.MeOut(id=actor.user_id, email=actor.email, name=actor.name,
                   grants=[s.GrantOut(role=g["role"], unit_code=g["unit_code"]) for g in grants],
                   permissions=permissions)


@router.get("/units", response_model=list[s.UnitOut], tags=["organisation"])
def list_units(ctx: ContextDep, actor: ApiActor) -> list[s.UnitOut]:
    with ctx.db.read() as conn:
        return [s.UnitOut.model_validate(dict(u)) for u in org.list_units(conn, actor)]


@router.post("/units", response_model=s.Created, status_code=201, tags=["organisation"])
def create_unit(body: s.UnitIn, ctx: ContextDep, actor: ApiActor) -> s.Created:
    unit_id = do_create_unit(ctx, actor, code=body.code, name_zh=body.name_zh,
                             name_en=body.name_en, kind=body.kind, parent_code=body.parent_code)
    return s.Created(id=unit_id)


@router.get("/staff", response_model=list[s.StaffOut], tags=["organisation"])
def list_staff(ctx: ContextDep, actor: ApiActor) -> list[s.StaffOut]:
    actor.require(Permission.VIEW_STAFF)
    with ctx.db.read() as conn:
        return [s.StaffOut.model_validate(dict(r)) for r in org.list_staff(conn, actor)]


@router.get("/users", response_model=list[s.UserOut], tags=["access"])
def list_users(ctx: ContextDep, actor: ApiActor) -> list[s.UserOut]:
    actor.require(Permission.MANAGE_USERS)
    with ctx.db.read() as conn:
        rows = users.list_users(conn, actor)
        grants = users.grants_for(conn, [r["id"] for r in rows])
    return [_user_out(r, grants[r["id"]]) for r in rows]


def _user_out(row: RowMapping, grants: list[RowMapping]) -> s.UserOut:
    return s.UserOut(id=row["id"], email=row["email"], name=row["name"], active=row["active"],
                     grants=[s.GrantOut(role=g["role"], unit_code=g["unit_code"]) for g in grants])


@router.post("/users", response_model=s.Created, status_code=201, tags=["access"])
def create_user(body: s.UserIn, ctx: ContextDep, actor: ApiActor) -> s.Created:
    user_id = do_create_user(ctx, actor, email=body.email, name=body.name, password=body.password,
                             role=body.role, unit_code=body.unit_code)
    return s.Created(id=user_id)


@router.get("/roles", response_model=list[str], tags=["access"])
def list_roles(actor: ApiActor) -> list[str]:
    return [r.value for r in Role]


@router.get("/responses", response_model=s.ResponsePage, tags=["responses"])
def list_responses(
    ctx: ContextDep, actor: ApiActor, filters: Annotated[ListFilters, Depends(list_filters)],
    cursor: Annotated[str | None, Query(max_length=64)] = None, limit: Limit = 50,
) -> s.ResponsePage:
    """Survey responses and feedback records, newest first, filtered (see the parameters);
    pass `next_cursor` back as `cursor` with the same filters for the next page."""
    return _page(ctx, actor, filters, cursor, limit, feedback=False)


@router.get("/feedback", response_model=s.ResponsePage, tags=["responses"])
def list_feedback(
    ctx: ContextDep, actor: ApiActor, filters: Annotated[ListFilters, Depends(list_filters)],
    cursor: Annotated[str | None, Query(max_length=64)] = None, limit: Limit = 50,
) -> s.ResponsePage:
    """Imported feedback only (reviews, hotline records, social posts, complaints)."""
    return _page(ctx, actor, filters, cursor, limit, feedback=True)


def _page(ctx: Context, actor: Actor, filters: ListFilters, cursor: str | None, limit: int,
          *, feedback: bool) -> s.ResponsePage:
    actor.require(Permission.VIEW_RESPONSES)
    after = decode_time_cursor(cursor)
    with ctx.db.read() as conn:
        f = build_filter(conn, actor, filters, feedback=feedback)
        rows = responses.list_responses(conn, actor, f, after=after, limit=limit)
        answers = responses.answers_for(conn, actor, [r["id"] for r in rows])
        texts = text_analysis.analyses_for(conn, [r["id"] for r in rows])
    items = [_response_out(r, answers[r["id"]], texts[r["id"]]) for r in rows]
    last = rows[-1] if len(rows) == limit else None
    next_cursor = encode_cursor(last["id"], last["submitted_at"]) if last else None
    return s.ResponsePage(items=items, next_cursor=next_cursor)


@router.get("/responses/{response_id}", response_model=s.ResponseOut, tags=["responses"])
def get_response(response_id: str, ctx: ContextDep, actor: ApiActor) -> s.ResponseOut:
    actor.require(Permission.VIEW_RESPONSES)
    with ctx.db.read() as conn:
        row = responses.get_response(conn, actor, str(response_id)[:64])
        answers = responses.answers_for(conn, actor, [row["id"]])
        texts = text_analysis.analyses_for(conn, [row["id"]])
    return _response_out(row, answers[row["id"]], texts[row["id"]])


def _response_out(row: RowMapping, answers: list[dict[str, Any]],
                  texts: list[dict[str, Any]]) -> s.ResponseOut:
    return s.ResponseOut(
        id=row["public_id"], source=row["source"], survey_code=row["survey_code"],
        survey_version_id=row["survey_version_id"], channel=row["channel"],
        unit_code=row["unit_code"], staff_code=row["staff_code"],
        agent_id=row["agent_user_id"], agent_name=row["agent_name"],
        touchpoint_id=row["touchpoint_id"], touchpoint=row["touchpoint_code"],
        external_id=row["external_id"], language=row["language"], status=row["status"],
        started_at=row["started_at"], submitted_at=row["submitted_at"],
        answers=[s.AnswerOut.model_validate(a) for a in answers],
        text_analysis=[s.TextAnalysisOut.model_validate(a) for a in texts],
    )


@router.post("/responses", response_model=s.ResponseCreated, status_code=201,
             tags=["responses"])
def submit_response(
    body: s.ResponseIn, ctx: ContextDep, actor: ApiActor,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> s.ResponseCreated:
    request = ResponseRequest(
        survey_id=body.survey_id, unit_code=body.unit_code, answers=body.answers,
        channel=body.channel, language=body.language, staff_code=body.staff_code,
        customer_id=body.customer_id, idempotency_key=idempotency_key,
        submitted_at=body.submitted_at, started_at=body.started_at,
    )
    stored = do_submit_response(ctx, actor, request)
    return s.ResponseCreated(id=stored.public_id, created=stored.created)


@router.get("/customers", response_model=s.CustomerPage, tags=["customers"])
def list_customers(ctx: ContextDep, actor: ApiActor,
                   cursor: Annotated[str | None, Query(max_length=64)] = None,
                   limit: Limit = 50,
                   segment: Annotated[str | None, Query(
                       max_length=64, description="only customers in this segment")] = None,
                   contact: Annotated[str | None, Query(
                       max_length=320, description="only the customer with this phone number "
                                                   "(however written) or e-mail address; needs "
                                                   "view_pii")] = None,
                   q: Annotated[str | None, Query(
                       max_length=200, description="search: a name (starting with), a phone "
                       "in any format, an e-mail address or an external id; names, phones "
                       "and e-mails only where the caller has view_pii")] = None,
                   ) -> s.CustomerPage:
    actor.require(Permission.VIEW_CUSTOMERS)
    with ctx.db.read() as conn:
        rows = customers.list_customers(conn, actor, after_id=decode_cursor(cursor), limit=limit,
                                        segment=customers.check_segment(conn, segment),
                                        contact=contact, region=ctx.settings.phone_region,
                                        q=q)
    next_cursor = encode_cursor(rows[-1]["cursor_id"]) if len(rows) == limit else None
    return s.CustomerPage(items=[s.CustomerOut.model_validate(r) for r in rows],
                          next_cursor=next_cursor)


@router.get("/customers/{customer_id}", response_model=s.CustomerOut, tags=["customers"])
def get_customer(customer_id: str, ctx: ContextDep, actor: ApiActor,
                 origin: OriginDep) -> s.CustomerOut:
    """One customer (personal data masked without view_pii); each read is in the audit log."""
    return s.CustomerOut.model_validate(access_customer(ctx, actor, customer_id[:64], origin))


@router.get("/kpis/monthly", response_model=list[s.MonthOut], tags=["analytics"])
def kpis_monthly(ctx: ContextDep, actor: ApiActor,
                 months: Annotated[int, Query(ge=1, le=36)] = 12) -> list[s.MonthOut]:
    actor.require(Permission.VIEW_DASHBOARD)
    with ctx.db.read() as conn:
        rows = monthly_kpis(conn, actor, now=ctx.now(), tz="Asia/Shanghai", months=months,
                            min_n=ctx.settings.min_n)
    return [s.MonthOut(month=m.month, responses=m.responses, nps=_estimate(m.nps),
                       csat=_estimate(m.csat)) for m in rows]


def _estimate(e: Estimate) -> s.EstimateOut:
    return s.EstimateOut(value=e.value, low=e.low, high=e.high, n=e.n, too_few=e.too_few)
