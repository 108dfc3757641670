"""What a case owner or call-centre agent needs on one page: the complaint in words (every
answer with its question text and option label, the comment with its aspects and sentiment,
channel, touchpoint, staff) and the customer (masked per role like the customer pages:
`store.customers.present_customer`; the phone and e-mail shown on request, audited), with their
segment, churn risk, earlier responses, cases and purchases."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.answer_labels import ReadAnswer, needs_item_texts, read_answers
from tiyan.domain.customer_value import segment_label
from tiyan.domain.privacy import mask_value
from tiyan.domain.survey_flow import title_for_staff
from tiyan.domain.surveys import SurveyDefinition
from tiyan.errors import NotFound
from tiyan.services.text_corrections import aspect_names
from tiyan.store import audit, customers, responses, text_analysis
from tiyan.store import cases as case_store
from tiyan.store import tables as t
from tiyan.store.scoped import visible
from tiyan.store.surveys import item_labels, version_definition

EARLIER = 5  # earlier responses, cases and purchases shown on a case
PHONE_KINDS = ("phone", "mobile")


def complaint(conn: Connection, actor: Actor, response_id: int | None,
              locale: str, default_industry: str | None = None) -> dict[str, Any] | None:
    """The response behind a case in words, or None when there is none the actor may see."""
    if response_id is None:
        return None
    public_id = conn.execute(sa.select(t.response.c.public_id)
                             .where(t.response.c.id == response_id)).scalar_one_or_none()
    if public_id is None or not actor.can(Permission.VIEW_RESPONSES):
        return None
    try:
        row = responses.get_response(conn, actor, public_id)
    except NotFound:
        return None
    stored = responses.answers_for(conn, actor, [row["id"]])[row["id"]]
    definition, answers = answers_in_words(conn, actor, row, stored, locale)
    industry = text_analysis.unit_industries(conn).get(row["unit_id"]) or default_industry
    names = _aspect_names(industry, locale)
    comments = []
    questions = {a.key: a.question for a in answers}
    for analysis in text_analysis.analyses_for(conn, [row["id"]])[row["id"]]:
        comments.append({
            "question": questions.get(analysis["question_key"], analysis["question_key"]),
            "text": analysis["redacted_text"], "sentiment": analysis["sentiment_label"],
            "aspects": [{"name": names.get(a["aspect"], a["aspect"]), "label": a["label"]}
                        for a in analysis["aspects"]]})
    touchpoint = None
    if row["touchpoint_id"] is not None:
        tp = conn.execute(sa.select(t.touchpoint.c.name_zh, t.touchpoint.c.name_en)
                          .where(t.touchpoint.c.id == row["touchpoint_id"])).one()
        touchpoint = tp.name_zh if locale == "zh-CN" else tp.name_en
    analysed = {c["question"] for c in comments}
    return {"public_id": row["public_id"], "submitted_at": row["submitted_at"],
            "channel": row["channel"], "touchpoint": touchpoint,
            "staff": row["staff_name"], "survey": title_for_staff(definition, locale),
            "scores": [a for a in answers if not a.is_comment],
            "comments": comments + [
                {"question": a.question, "text": a.value, "sentiment": None, "aspects": []}
                for a in answers if a.is_comment and a.value and a.question not in analysed]}


def answers_in_words(conn: Connection, actor: Actor, row: RowMapping,
                     stored: list[dict[str, Any]], locale: str
                     ) -> tuple[SurveyDefinition | None, list[ReadAnswer]]:
    """A response's survey version and its `stored` answers in words (question texts, option
    labels, scales); an answer with no question in that version (an imported review) is named by
    its item's question text. The case page and the response page read answers through this."""
    definition = (version_definition(conn, row["survey_version_id"])
                  if row["survey_version_id"] is not None else None)
    texts = item_labels(conn, actor, locale) if needs_item_texts(definition, stored) else {}
    return definition, read_answers(definition, stored, locale, texts)


def _aspect_names(industry: str | None, locale: str) -> dict[str, str]:
    from tiyan.text.taxonomy import INDUSTRIES

    return aspect_names(industry if industry in INDUSTRIES else None, locale)


def customer_card(conn: Connection, actor: Actor, case: RowMapping,
                  locale: str) -> dict[str, Any] | None:
    """The case's customer as this actor may see them, or None (no customer, or one outside
    the actor's customers)."""
    if case["customer_id"] is None:
        return None
    row = conn.execute(sa.select(t.customer).where(
        t.customer.c.id == case["customer_id"])).mappings().first()
    if row is None:
        return None
    seen = customers.present_customer(actor, row)  # the name masked without view_pii
    can_open = actor.scope.visibility(Permission.VIEW_CUSTOMERS).covers_unit(row["unit_id"])
    phone, email = contacts_of(conn, row)
    from tiyan.services.churn import latest_scores

    score = latest_scores(conn, [row["id"]]).get(row["id"])
    card = {
        "id": row["public_id"], "name": seen["name"], "erased": row["erased_at"] is not None,
        "segment": segment_label(row["segment"], locale), "can_open": can_open,
        "phone_masked": mask_value("phone", phone) if phone else None,
        "email_masked": mask_value("email", email) if email else None,
        "can_reveal": bool(phone or email) and _can_see_pii(actor, case["unit_id"]),
        "risk": None if score is None else float(score["probability"]),
        "responses": _earlier_responses(conn, actor, row["id"], case["response_id"]),
        "cases": _earlier_cases(conn, actor, row["id"], case["id"]),
        "purchases": _purchases(conn, row["id"]) if can_open else [],
    }
    return card


def _can_see_pii(actor: Actor, unit_id: int) -> bool:
    return actor.scope.visibility(Permission.VIEW_PII).covers_unit(unit_id)


def contacts_of(conn: Connection, customer: RowMapping) -> tuple[str | None, str | None]:
    """The customer's phone and e-mail: identities first, then attributes."""
    found = dict(conn.execute(sa.select(t.customer_identity.c.kind, t.customer_identity.c.value)
                              .where(t.customer_identity.c.customer_id == customer["id"])).all())
    attributes = customer["attributes"] or {}
    phone = next((str(v) for v in (found.get("phone"), found.get("mobile"),
                                   attributes.get("phone"), attributes.get("mobile")) if v), None)
    email = next((str(v) for v in (found.get("email"), attributes.get("email")) if v), None)
    return phone, email


def _earlier_responses(conn: Connection, actor: Actor, customer_id: int,
                       except_id: int | None) -> list[dict[str, Any]]:
    R = t.response
    vis = actor.scope.visibility(Permission.VIEW_RESPONSES)
    query = (sa.select(R.c.id, R.c.public_id, R.c.submitted_at, R.c.received_at, R.c.channel,
                       t.org_unit.c.name_zh, t.org_unit.c.name_en)
             .join(t.org_unit, t.org_unit.c.id == R.c.unit_id)
             .where(R.c.customer_id == customer_id, visible(vis, R.c.unit_id, R.c.staff_id))
             .order_by(R.c.received_at.desc()).limit(EARLIER))
    if except_id is not None:
        query = query.where(R.c.id != except_id)
    rows = conn.execute(query).mappings().all()
    scores = _headline_scores(conn, [r["id"] for r in rows])
    return [{**r, "score": scores.get(r["id"])} for r in rows]


def _headline_scores(conn: Connection, response_ids: list[int]) -> dict[int, float]:
    """Each response's NPS answer (else its first score), for a one-number summary."""
    if not response_ids:
        return {}
    found: dict[int, float] = {}
    rows = conn.execute(sa.select(t.answer.c.response_id, t.answer.c.item_code,
                                  t.answer.c.value_num)
                        .where(t.answer.c.response_id.in_(response_ids),
                               t.answer.c.value_num.is_not(None))
                        .order_by(t.answer.c.response_id, t.answer.c.question_key)).all()
    for rid, item, value in rows:
        if item == "nps" or rid not in found:
            found[rid] = float(value)
    return found


def _earlier_cases(conn: Connection, actor: Actor, customer_id: int,
                   except_id: int) -> list[dict[str, Any]]:
    C = t.cx_case
    vis = actor.scope.visibility(case_store.CASE_PERMISSION)
    rows = conn.execute(sa.select(C.c.public_id, C.c.title, C.c.status, C.c.created_at)
                        .where(C.c.customer_id == customer_id, C.c.id != except_id,
                               visible(vis, C.c.unit_id))
                        .order_by(C.c.created_at.desc()).limit(EARLIER)).mappings().all()
    return [dict(r) for r in rows]


def _purchases(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    T = t.customer_transaction
    rows = conn.execute(sa.select(T.c.kind, T.c.amount, T.c.currency, T.c.occurred_at,
                                  t.org_unit.c.name_zh, t.org_unit.c.name_en)
                        .join(t.org_unit, t.org_unit.c.id == T.c.unit_id)
                        .where(T.c.customer_id == customer_id)
                        .order_by(T.c.occurred_at.desc()).limit(EARLIER)).mappings().all()
    return [dict(r) for r in rows]


def do_reveal_contact(ctx: Context, actor: Actor, *, customer_id: int | None, unit_id: int,
                      entity: str, entity_id: str, ip: str | None) -> dict[str, str | None]:
    """The customer's full phone and e-mail for a user with view_pii at the unit (403 without);
    each reveal is in the audit log (action reveal_phone, on the case or callback task)."""
    actor.require(Permission.VIEW_PII, unit_id)
    if customer_id is None:
        raise NotFound("case_desk.no_customer", where="customer")
    with ctx.db.write() as conn:
        row = conn.execute(sa.select(t.customer).where(
            t.customer.c.id == customer_id)).mappings().one()
        phone, email = contacts_of(conn, row)
        if phone is None and email is None:
            raise NotFound("case_desk.no_phone_number_mail",
                           where="phone")
        audit.record(conn, at=ctx.now(), user_id=actor.user_id, action="reveal_phone",
                     entity=entity, entity_id=entity_id, unit_id=unit_id, ip=ip)
    return {"phone": phone, "email": email}


COMMENT_START = 80  # characters of the comment on a worklist row
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # how a date question's answer is stored


def present_tasks(conn: Connection, actor: Actor,
                  rows: list[RowMapping]) -> list[dict[str, Any]]:
    """Callback tasks as an agent reads them: whom to call (name masked without view_pii,
    phone masked, shown on request) and why (the score and the start of the comment)."""
    response_ids = [r["response_id"] for r in rows]
    scores = _headline_scores(conn, response_ids)
    comments: dict[int, str] = {}
    analysed = {rid: {a["question_key"] for a in found}
                for rid, found in text_analysis.analyses_for(conn, response_ids).items()}
    for rid, answers in responses.answers_for(conn, actor, response_ids).items():
        text = _comment_of(answers, analysed.get(rid, set()))
        if text:
            comments[rid] = text[:COMMENT_START] + ("…" if len(text) > COMMENT_START else "")
    phones = _phones(conn, [r["customer_id"] for r in rows if r["customer_id"] is not None])
    out = []
    for r in rows:
        can_see = _can_see_pii(actor, r["unit_id"])
        name = r["customer_name"] or ""
        attributes = r["customer_attributes"] or {}
        phone = phones.get(r["customer_id"]) or attributes.get("phone") or attributes.get(
            "mobile")
        out.append({**r, "customer_name": name if can_see else mask_value("name", name),
                    "phone_masked": mask_value("phone", str(phone)) if phone else None,
                    "can_reveal": bool(phone) and can_see,
                    "score": scores.get(r["response_id"]),
                    "comment": comments.get(r["response_id"])})
    return out


def _comment_of(answers: list[dict[str, Any]], analysed: set[str]) -> str | None:
    """The response's comment: an analysed text (as the responses list picks it), else the
    'comment' item, else any free text but a date (a date question's answer is text too and
    may come first by question key)."""
    texts = [a for a in answers
             if a["value_text"] and a["value_num"] is None and a["value_json"] is None]
    for found in ([a for a in texts if a["question_key"] in analysed],
                  [a for a in texts if a["item_code"] == "comment"],
                  [a for a in texts if not ISO_DATE.fullmatch(a["value_text"])]):
        if found:
            return str(found[0]["value_text"])
    return None


def _phones(conn: Connection, customer_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    if customer_ids:
        CI = t.customer_identity
        for cid, value in conn.execute(sa.select(CI.c.customer_id, CI.c.value).where(
                CI.c.customer_id.in_(customer_ids), CI.c.kind.in_(PHONE_KINDS))
                .order_by(CI.c.id)):
            found.setdefault(cid, value)
    return found
