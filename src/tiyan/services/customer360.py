"""Customer 360 and the at-risk worklist: everything known about one customer, read within the
actor's scope (a customer outside it does not exist for them), personal data masked for roles
without VIEW_PII; and the customers of the actor's units ranked by risk × yearly value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.customer_value import Visit, rfm_of, score_rfm
from tiyan.domain.next_actions import CustomerSituation, load_rules, next_actions
from tiyan.services.audit_trail import Origin, do_audit_customer_read
from tiyan.services.churn import MODEL_SETTING, latest_scores, stored_edges
from tiyan.store import app_settings, customers, responses
from tiyan.store import tables as t
from tiyan.store.scoped import visible
from tiyan.store.text_analysis import analyses_for

TIMELINE_LIMIT = 200
OPEN_CASE_STATUSES = ("new", "acknowledged", "in_progress")
TOP_SHARE = 0.1  # the automatic at-risk threshold: the top decile of current scores
FALLBACK_THRESHOLD = 0.5  # before any model was trained or any customer scored


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def access_customer(ctx: Context, actor: Actor, public_id: str,
                    origin: Origin) -> dict[str, Any]:
    """One customer as the actor may see them (NotFound outside their scope); each read is
    audited (services/audit_trail), without personal data."""
    actor.require(Permission.VIEW_CUSTOMERS)
    with ctx.db.read() as conn:
        customer = customers.get_customer(conn, actor, public_id[:64])
    do_audit_customer_read(ctx, actor, customer["id"], customer["unit_id"],
                           masked=not actor.can(Permission.VIEW_PII), origin=origin)
    return customer


def customer_360(ctx: Context, actor: Actor, public_id: str, origin: Origin) -> dict[str, Any]:
    """The customer page's content (raises NotFound outside the actor's scope); audited."""
    customer = access_customer(ctx, actor, public_id, origin)
    now = ctx.now()
    with ctx.db.read() as conn:
        cid = int(conn.execute(sa.select(t.customer.c.id).where(
            t.customer.c.public_id == customer["id"])).scalar_one())
        transactions = _transactions(conn, cid)
        rfm = rfm_of([Visit(tx["occurred_at"], tx["amount"]) for tx in transactions], now)
        rfm_score = score_rfm(rfm, stored_edges(conn))
        timeline = _responses(conn, actor, cid)
        cases = _cases(conn, cid)
        callbacks = _callbacks(conn, cid)
        score = latest_scores(conn, [cid]).get(cid)
        timezone = conn.execute(sa.select(t.org_unit.c.timezone).where(
            t.org_unit.c.id == customer["unit_id"])).scalar_one()
    open_cases = sum(case["status"] in OPEN_CASE_STATUSES for case in cases)
    risk = None if score is None else float(score["probability"])
    situation = CustomerSituation(
        risk=risk, value=float(rfm.monetary),
        segment=customer["segment"], open_cases=open_cases,
        reasons=frozenset(r["feature"] for r in (score or {}).get("reasons", [])),
        at_risk=risk is not None and risk >= at_risk_threshold(ctx))
    actions = next_actions(situation, load_rules(ctx.settings.next_actions_file))
    return {"customer": customer, "rfm": rfm, "rfm_score": rfm_score, "responses": timeline,
            "cases": cases, "callbacks": callbacks, "transactions": transactions[:TIMELINE_LIMIT],
            "score": score, "open_cases": open_cases, "actions": actions,
            "timezone": timezone}


def _transactions(conn: Connection, cid: int) -> list[dict[str, Any]]:
    T = t.customer_transaction
    rows = conn.execute(sa.select(T.c.kind, T.c.amount, T.c.currency, T.c.occurred_at,
                                  T.c.external_id, t.org_unit.c.code.label("unit_code"))
                        .join(t.org_unit, t.org_unit.c.id == T.c.unit_id)
                        .where(T.c.customer_id == cid).order_by(T.c.occurred_at.desc()))
    return [{**row._asdict(), "occurred_at": _utc(row.occurred_at),
             "amount": Decimal(row.amount)} for row in rows]


def _responses(conn: Connection, actor: Actor, cid: int) -> list[dict[str, Any]]:
    """The customer's responses the actor may see, newest first, with scores, the comment
    (masked without VIEW_PII) and its sentiment and aspects."""
    R = t.response
    vis = actor.scope.visibility(Permission.VIEW_RESPONSES)
    rows = conn.execute(
        sa.select(R.c.id, R.c.public_id, R.c.source, R.c.channel, R.c.submitted_at,
                  R.c.received_at, t.survey.c.code.label("survey_code"),
                  t.org_unit.c.code.label("unit_code"))
        .outerjoin(t.survey, t.survey.c.id == R.c.survey_id)
        .join(t.org_unit, t.org_unit.c.id == R.c.unit_id)
        .where(R.c.customer_id == cid, visible(vis, R.c.unit_id, R.c.staff_id))
        .order_by(R.c.received_at.desc()).limit(TIMELINE_LIMIT)).mappings().all()
    ids = [r["id"] for r in rows]
    answers = responses.answers_for(conn, actor, ids)
    analyses = analyses_for(conn, ids)
    found = []
    for row in rows:
        by_code = {a["item_code"]: a for a in answers[row["id"]]}
        comment = next((a["value_text"] for a in answers[row["id"]] if a["value_text"]), None)
        analysis = next(iter(analyses[row["id"]]), None)
        found.append({
            "public_id": row["public_id"], "source": row["source"], "channel": row["channel"],
            "at": _utc(row["submitted_at"] or row["received_at"]),
            "survey": row["survey_code"], "unit": row["unit_code"],
            "nps": (by_code.get("nps") or {}).get("value_num"),
            "csat": (by_code.get("csat") or {}).get("value_num"),
            "comment": comment,
            "sentiment": analysis["sentiment_label"] if analysis else None,
            "aspects": analysis["aspects"] if analysis else []})
    return found


def _cases(conn: Connection, cid: int) -> list[dict[str, Any]]:
    K = t.cx_case
    rows = conn.execute(sa.select(K.c.public_id, K.c.title, K.c.status, K.c.created_at,
                                  K.c.due_at, K.c.resolved_at, K.c.root_cause)
                        .where(K.c.customer_id == cid).order_by(K.c.created_at.desc()))
    return [{**row._asdict(), "created_at": _utc(row.created_at), "due_at": _utc(row.due_at),
             "resolved_at": _utc(row.resolved_at)} for row in rows]


def _callbacks(conn: Connection, cid: int) -> list[dict[str, Any]]:
    CT, CC = t.callback_task, t.callback_call
    rows = conn.execute(sa.select(CT.c.public_id, CT.c.reason, CT.c.status, CT.c.due_at,
                                  CT.c.done_at, CC.c.at, CC.c.outcome, CC.c.recovered)
                        .outerjoin(CC, CC.c.task_id == CT.c.id)
                        .where(CT.c.customer_id == cid).order_by(CT.c.due_at.desc()))
    return [{**row._asdict(), "due_at": _utc(row.due_at), "at": _utc(row.at)} for row in rows]


def at_risk_threshold(ctx: Context) -> float:
    """The installation's at-risk threshold: TIYAN_AT_RISK_THRESHOLD when set, else automatic
    (see ``automatic_threshold``)."""
    if ctx.settings.at_risk_threshold is not None:
        return float(ctx.settings.at_risk_threshold)
    with ctx.db.read() as conn:
        return automatic_threshold(conn)


def automatic_threshold(conn: Connection) -> float:
    """The risk of the customer at the top decile of all current scores, but never below the
    base rate (share of churners in the current model's training data): a customer is "at risk"
    only when clearly riskier than the typical customer, whatever the installation's base rate.
    Installation-wide, so a store's worklist is measured against the same bar as every other."""
    info = app_settings.get_value(conn, MODEL_SETTING)
    base = None
    if isinstance(info, dict) and info.get("rows"):
        base = float(info.get("churners", 0)) / float(info["rows"])
    S = t.churn_score
    count = int(conn.execute(sa.select(sa.func.count()).select_from(S)).scalar_one())
    if count == 0:
        return round(base, 4) if base is not None else FALLBACK_THRESHOLD
    rank = max(0, int(count * TOP_SHARE) - 1)
    decile = float(conn.execute(sa.select(S.c.probability).order_by(S.c.probability.desc())
                                .offset(rank).limit(1)).scalar_one())
    return round(max(decile, base or 0.0), 4)


def at_risk_worklist(ctx: Context, actor: Actor, *, limit: int = 50,
                     min_risk: float | None = None) -> list[dict[str, Any]]:
    """Scored customers of the actor's units with risk ≥ ``min_risk`` (default: the
    installation's threshold), ranked by expected loss (risk × spend in 365 days), each with
    its first next action."""
    actor.require(Permission.VIEW_CUSTOMERS)
    threshold = at_risk_threshold(ctx)
    if min_risk is None:
        min_risk = threshold
    vis = actor.scope.visibility(Permission.VIEW_CUSTOMERS)
    C, S, T = t.customer, t.churn_score, t.customer_transaction
    year_ago = ctx.now() - dt.timedelta(days=365)
    value = (sa.select(T.c.customer_id, sa.func.sum(T.c.amount).label("value"))
             .where(T.c.occurred_at > year_ago).group_by(T.c.customer_id).subquery())
    spend = sa.func.coalesce(value.c.value, 0)
    query = (sa.select(C, S.c.probability, S.c.reasons, S.c.model_version,
                       spend.label("value"), t.org_unit.c.code.label("unit_code"))
             .join(S, S.c.customer_id == C.c.id)
             .join(t.org_unit, t.org_unit.c.id == C.c.unit_id)
             .outerjoin(value, value.c.customer_id == C.c.id)
             .where(visible(vis, C.c.unit_id), C.c.erased_at.is_(None),
                    S.c.probability >= min_risk)
             .order_by((S.c.probability * spend).desc(), C.c.id).limit(limit))
    rules = load_rules(ctx.settings.next_actions_file)
    with ctx.db.read() as conn:
        rows = conn.execute(query).mappings().all()
        open_cases = _open_case_counts(conn, [r["id"] for r in rows])
    found = []
    for row in rows:
        reasons = list(row["reasons"] or [])
        situation = CustomerSituation(float(row["probability"]), float(row["value"]),
                                      row["segment"], open_cases.get(row["id"], 0),
                                      frozenset(r["feature"] for r in reasons),
                                      at_risk=float(row["probability"]) >= threshold)
        actions = next_actions(situation, rules)
        found.append({**customers.present_customer(actor, row), "unit_code": row["unit_code"],
                      "probability": float(row["probability"]), "value": float(row["value"]),
                      "expected_loss": round(float(row["probability"]) * float(row["value"]), 2),
                      "reasons": reasons, "model_version": row["model_version"],
                      "action": actions[0] if actions else None})
    return found


def _open_case_counts(conn: Connection, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    K = t.cx_case
    return {int(cid): int(n) for cid, n in conn.execute(
        sa.select(K.c.customer_id, sa.func.count()).where(
            K.c.customer_id.in_(ids), K.c.status.in_(OPEN_CASE_STATUSES))
        .group_by(K.c.customer_id))}
