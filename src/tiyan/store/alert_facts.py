"""Gathers what alert rules look at for one response: answers, text analysis, the customer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.alerts import ResponseFacts
from tiyan.domain.surveys import CHOICE, SCALED, QuestionType, SurveyDefinition
from tiyan.errors import NotFound
from tiyan.store import tables as t
from tiyan.store.id_lists import among
from tiyan.store.surveys import version_definition

COMPLAINT_SOURCES = ("complaint", "hotline")


def response_row(conn: Connection, response_id: int) -> RowMapping:
    row = conn.execute(sa.select(t.response).where(t.response.c.id == response_id)) \
        .mappings().first()
    if row is None:
        raise NotFound("alert_facts.response_does_not_exist", response_id=response_id,
                       where="response")
    return row


def response_rows(conn: Connection, response_ids: Sequence[int]) -> list[RowMapping]:
    """The responses, in the order asked (each once); NotFound names the first one missing."""
    ids = list(dict.fromkeys(int(i) for i in response_ids))
    found = {row.id: row for row in conn.execute(
        sa.select(t.response).where(among(conn, t.response.c.id, ids))).mappings()}
    for response_id in ids:
        if response_id not in found:
            raise NotFound("alert_facts.response_does_not_exist", response_id=response_id,
                           where="response")
    return [found[i] for i in ids]


def response_facts(conn: Connection, row: RowMapping,
                   cache: dict[object, object] | None = None) -> ResponseFacts:
    return responses_facts(conn, [row], cache)[row.id]


def responses_facts(conn: Connection, rows: Sequence[RowMapping],
                    cache: dict[object, object] | None = None) -> dict[int, ResponseFacts]:
    """The facts of many responses, their answers and analyses read in one query each."""
    ids = [row.id for row in rows]
    answers = _grouped(conn, sa.select(t.answer).where(among(conn, t.answer.c.response_id, ids))
                       .order_by(t.answer.c.response_id, t.answer.c.question_key))
    analyses = _grouped(conn, sa.select(t.text_analysis.c.response_id,
                                        t.text_analysis.c.sentiment_label)
                        .where(among(conn, t.text_analysis.c.response_id, ids)))
    aspects = _grouped(conn, sa.select(t.text_aspect.c.response_id, t.text_aspect.c.aspect_code,
                                       t.text_aspect.c.label)
                       .where(among(conn, t.text_aspect.c.response_id, ids)))
    customer_ids = sorted({row.customer_id for row in rows if row.customer_id is not None})
    customers = _customers(conn, customer_ids)
    churn = _churn_risks(conn, customer_ids)
    complaints = _complaints(conn, customer_ids)
    out: dict[int, ResponseFacts] = {}
    for row in rows:
        definition = (version_definition(conn, row.survey_version_id, cache)
                      if row.survey_version_id else None)
        scores, rated, yes_no, choices, texts = _answers(answers.get(row.id, []), definition)
        found: dict[str, set[str]] = {}
        for a in aspects.get(row.id, []):
            found.setdefault(a.aspect_code, set()).add(a.label)
        segment, attributes = _customer(customers, row)
        at = row.submitted_at or row.received_at
        out[row.id] = ResponseFacts(
            at=at, scores=scores, rated_items=rated, yes_no=yes_no, choices=choices,
            sentiments=frozenset(a.sentiment_label for a in analyses.get(row.id, [])),
            negative_aspects=frozenset(code for code, labels in found.items()
                                       if "negative" in labels),
            aspects={code: frozenset(labels) for code, labels in found.items()},
            text="\n".join(texts), customer_segment=segment, customer_attributes=attributes,
            earlier_complaints=_earlier_complaints(complaints, row, at),
            churn_risk=None if row.customer_id is None else churn.get(row.customer_id),
        )
    return out


def _grouped(conn: Connection, query: sa.Select[Any]) -> dict[int, list[RowMapping]]:
    grouped: dict[int, list[RowMapping]] = {}
    for row in conn.execute(query).mappings():
        grouped.setdefault(row["response_id"], []).append(row)
    return grouped


def _answers(answers: list[RowMapping], definition: SurveyDefinition | None) -> tuple[
        dict[str, float], dict[str, float], dict[str, bool], dict[str, frozenset[str]],
        list[str]]:
    types = {q.key: q.type for q in definition.questions} if definition else {}
    scores: dict[str, float] = {}
    rated: dict[str, float] = {}
    yes_no: dict[str, bool] = {}
    choices: dict[str, frozenset[str]] = {}
    texts: list[str] = []
    for a in answers:
        base = a.question_key.split(".", 1)[0]
        kind = types.get(base)
        names = [n for n in (a.question_key, a.item_code) if n]
        if kind in CHOICE:
            picked = a.value_json if isinstance(a.value_json, list) else []
            for name in names:
                choices[name] = choices.get(name, frozenset()) | {str(c) for c in picked}
        elif kind == QuestionType.YESNO and a.value_num is not None:
            yes_no.update(dict.fromkeys(names, a.value_num >= 1))
        elif a.value_num is not None:
            scores.update(dict.fromkeys(names, a.value_num))
            if kind in SCALED and kind != QuestionType.NPS and a.item_code != "nps":
                rated[a.question_key] = a.value_num
        if a.value_text and (kind == QuestionType.TEXT or kind is None):
            texts.append(a.value_text)
    return scores, rated, yes_no, choices, texts


def _customers(conn: Connection, ids: Sequence[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {r.id: r for r in conn.execute(
        sa.select(t.customer.c.id, t.customer.c.segment, t.customer.c.attributes)
        .where(t.customer.c.id.in_(list(ids))))}


def _customer(customers: dict[int, Any], row: RowMapping) -> tuple[str | None, dict[str, Any]]:
    attributes = dict(row.customer_snapshot or {})
    if row.customer_id is None:
        return attributes.get("segment"), attributes
    found = customers.get(row.customer_id)
    if found is None:
        return None, attributes
    return found.segment, {**(found.attributes or {}), **attributes}


def _churn_risks(conn: Connection, ids: Sequence[int]) -> dict[int, float | None]:
    """Each customer's latest stored churn probability (absent: not scored)."""
    if not ids:
        return {}
    S = t.churn_score
    latest: dict[int, float | None] = {}
    for customer_id, probability in conn.execute(
            sa.select(S.c.customer_id, S.c.probability).where(S.c.customer_id.in_(list(ids)))
            .order_by(S.c.customer_id, S.c.scored_at.desc(), S.c.id.desc())):
        if customer_id not in latest:
            latest[customer_id] = None if probability is None else float(probability)
    return latest


def _complaints(conn: Connection, ids: Sequence[int]) -> dict[int, list[tuple[int, Any]]]:
    """customer → (response id, when) of the responses that opened a case or came from a
    complaint channel; each response's earlier ones are picked from these."""
    if not ids:
        return {}
    when = sa.func.coalesce(t.response.c.submitted_at, t.response.c.received_at)
    with_case = sa.exists().where(t.cx_case.c.response_id == t.response.c.id)
    query = sa.select(t.response.c.customer_id, t.response.c.id, when).where(
        t.response.c.customer_id.in_(list(ids)),
        sa.or_(with_case, t.response.c.source.in_(COMPLAINT_SOURCES))).order_by(t.response.c.id)
    found: dict[int, list[tuple[int, Any]]] = {}
    for customer_id, response_id, at in conn.execute(query):
        found.setdefault(customer_id, []).append((response_id, at))
    return found


def _earlier_complaints(complaints: dict[int, list[tuple[int, Any]]], row: RowMapping,
                        at: Any) -> tuple[Any, ...]:
    """When the same customer complained before: earlier responses that opened a case, or
    feedback records from complaint channels."""
    if row.customer_id is None:
        return ()
    return tuple(when for response_id, when in complaints.get(row.customer_id, ())
                 if response_id != row.id and when <= at)
