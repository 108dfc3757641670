"""REST API for behaviour data and churn: transaction import, customer 360, at-risk worklist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from tiyan.services.customer360 import at_risk_worklist, customer_360
from tiyan.services.erasure import do_erase_customer
from tiyan.services.table_files import FileRow
from tiyan.services.transactions import import_transactions
from tiyan.web.api.schemas import ProblemOut, problems_out
from tiyan.web.client_address import client_address
from tiyan.web.deps import ApiActor, ContextDep
from tiyan.web.errors import error_locale
from tiyan.web.request_origin import OriginDep

ERRORS: dict[int | str, dict[str, Any]] = {code: {"description": "error"}
                                           for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS)
FIELDS = ["customer", "time", "amount", "kind", "unit", "external_id", "currency"]


class TransactionIn(BaseModel):
    customer: str = Field(max_length=320, description="External id, public id or phone/e-mail "
                                                      "identity of the customer.")
    time: str = Field(max_length=64, description="ISO 8601; without an offset, unit time.")
    amount: Decimal | str = Field(description="Amount ≥ 0 (a refund is kind refund).")
    kind: str | None = Field(default=None, max_length=32)
    unit: str | None = Field(default=None, max_length=64,
                             description="Unit code (default: the customer's unit).")
    external_id: str | None = Field(default=None, max_length=128,
                                    description="Your id; the same (kind, id) is stored once.")
    currency: str | None = Field(default=None, max_length=3)


class TransactionsIn(BaseModel):
    transactions: list[TransactionIn] = Field(min_length=1, max_length=5000)


class ImportOut(BaseModel):
    rows: int
    imported: int
    already_imported: int
    rejected: int
    problems: list[ProblemOut]


@router.post("/transactions", response_model=ImportOut, tags=["customers"])
def post_transactions(body: TransactionsIn, request: Request, ctx: ContextDep,
                      actor: ApiActor) -> ImportOut:
    """Store transactions/visits; rejected records are listed by position (line = 1-based
    index in the list) and field. Good records are stored even when others are rejected."""
    rows = [FileRow(index, {k: v for k, v in item.model_dump().items() if v is not None})
            for index, item in enumerate(body.transactions, start=1)]
    report = import_transactions(ctx, actor, rows, FIELDS)
    data = report.to_json()
    return ImportOut(rows=data["rows"], imported=data["imported"],
                     already_imported=data["already_imported"], rejected=data["rejected"],
                     problems=problems_out(data["problems"], error_locale(request)))


class ReasonOut(BaseModel):
    feature: str
    contribution: float
    zh: str
    en: str


class ActionOut(BaseModel):
    code: str
    owner: str
    label_zh: str
    label_en: str
    priority: int
    expected_impact: float | None
    impact_basis: str | None = Field(
        default=None, description='"assumed": the uplift behind expected_impact is a guess '
                                  "written in the rules, not a measured effect")


class ScoreOut(BaseModel):
    probability: float
    model_version: str
    scored_at: dt.datetime
    reasons: list[ReasonOut]


class Customer360Out(BaseModel):
    customer: dict[str, Any]
    segment: str | None
    rfm: dict[str, Any]
    rfm_score: str
    score: ScoreOut | None
    next_actions: list[ActionOut]
    responses: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    callbacks: list[dict[str, Any]]
    transactions: list[dict[str, Any]]


@router.get("/customers/{customer_id}/360", response_model=Customer360Out, tags=["customers"])
def get_customer_360(customer_id: str, ctx: ContextDep, actor: ApiActor,
                     origin: OriginDep) -> Customer360Out:
    """Everything known about one customer (PII masked without view_pii); each read is in the
    audit log."""
    view = customer_360(ctx, actor, customer_id[:64], origin)
    score = view["score"]
    return Customer360Out(
        customer=view["customer"], segment=view["customer"]["segment"],
        rfm=view["rfm"].to_json(), rfm_score=view["rfm_score"].code,
        score=None if score is None else ScoreOut(
            probability=score["probability"], model_version=score["model_version"],
            scored_at=score["scored_at"], reasons=score["reasons"]),
        next_actions=[ActionOut(**a.to_json()) for a in view["actions"]],
        responses=view["responses"], cases=view["cases"], callbacks=view["callbacks"],
        transactions=[{**x, "amount": str(x["amount"])} for x in view["transactions"]])


class AtRiskOut(BaseModel):
    id: str
    name: str
    unit_code: str
    segment: str | None
    probability: float
    value: float
    expected_loss: float
    reasons: list[ReasonOut]
    model_version: str
    next_action: ActionOut | None


@router.get("/churn/at-risk", response_model=list[AtRiskOut], tags=["customers"])
def get_at_risk(ctx: ContextDep, actor: ApiActor,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                min_risk: Annotated[float | None, Query(
                    ge=0, le=1, description="Lowest churn risk listed (default: the "
                                            "installation's at-risk threshold)")] = None,
                ) -> list[AtRiskOut]:
    """The caller's units' customers with churn risk ≥ min_risk (default: the installation's
    at-risk threshold, TIYAN_AT_RISK_THRESHOLD or automatic), by risk × 12-month spend."""
    rows = at_risk_worklist(ctx, actor, limit=limit, min_risk=min_risk)
    return [AtRiskOut(id=r["id"], name=r["name"], unit_code=r["unit_code"],
                      segment=r["segment"], probability=r["probability"], value=r["value"],
                      expected_loss=r["expected_loss"], reasons=r["reasons"],
                      model_version=r["model_version"],
                      next_action=ActionOut(**r["action"].to_json()) if r["action"] else None)
            for r in rows]


class ErasureOut(BaseModel):
    customer_id: str
    erased_at: dt.datetime
    changed: bool = Field(description="false when the customer had been erased before")
    message: str
    counts: dict[str, int] = Field(description="rows changed by kind (responses kept "
                                               "anonymous, comments removed, …)")


@router.delete("/customers/{customer_id}", response_model=ErasureOut, tags=["customers"])
def erase_customer(customer_id: str, request: Request, ctx: ContextDep,
                   actor: ApiActor) -> ErasureOut:
    """Erase the customer (right to erasure): personal data, comments and their analyses,
    contacts and notes are removed everywhere; the anonymous scores stay, so KPIs do not move.
    Needs erase_customers at the customer's unit; audited. Erasing again changes nothing."""
    done = do_erase_customer(ctx, actor, customer_id[:64],
                             ip=client_address(request))
    return ErasureOut(customer_id=done.customer_id, erased_at=done.erased_at,
                      changed=done.changed, message=done.message, counts=done.counts)
