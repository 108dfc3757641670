"""Customer histories for the churn model, read in bulk: answers (NPS 0–10, CSAT 1–5), negative
aspects from text analysis, cases, callbacks, complaints, transactions and product kinds.

Only what happened up to ``until`` is read, so a history at a past moment does not see the
future. No actor: callers (the model's training and scoring jobs) work on every customer; pages
read one customer through ``customer_ids`` after checking scope.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.predict.customer_history import (
    CASE_STATUSES,
    AspectMention,
    CallbackRecord,
    CaseRecord,
    ComplaintRecord,
    CustomerHistory,
    SurveyAnswer,
    TransactionRecord,
)
from tiyan.store import tables as t

CHUNK = 900


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _where_customers(column: Any, ids: Sequence[int] | None) -> list[Any]:
    return [] if ids is None else [column.in_(ids)]


def load_histories(conn: Connection, until: dt.datetime,
                   customer_ids: Sequence[int] | None = None) -> dict[int, CustomerHistory]:
    """Histories up to ``until`` of the given customers (all non-erased ones when None) who have
    at least one transaction or response by then."""
    if customer_ids is not None and len(customer_ids) > CHUNK:
        found: dict[int, CustomerHistory] = {}
        for part in _chunks(list(customer_ids)):
            found.update(load_histories(conn, until, part))
        return found
    ids = None if customer_ids is None else list(customer_ids)
    C, T, R, A = t.customer, t.customer_transaction, t.response, t.answer
    since = dict(conn.execute(sa.select(C.c.id, C.c.created_at).where(
        C.c.erased_at.is_(None), *_where_customers(C.c.id, ids))).all())

    transactions: dict[int, list[TransactionRecord]] = defaultdict(list)
    kinds: dict[int, set[str]] = defaultdict(set)
    for cid, at, amount, kind in conn.execute(
            sa.select(T.c.customer_id, T.c.occurred_at, T.c.amount, T.c.kind)
            .where(T.c.occurred_at <= until, *_where_customers(T.c.customer_id, ids))):
        transactions[cid].append(TransactionRecord(_utc(at), Decimal(amount)))
        kinds[cid].add(kind)

    answers: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for cid, rid, at, code, value in conn.execute(
            sa.select(R.c.customer_id, R.c.id, R.c.submitted_at, A.c.item_code, A.c.value_num)
            .join(A, A.c.response_id == R.c.id)
            .where(R.c.customer_id.is_not(None), R.c.submitted_at <= until,
                   A.c.item_code.in_(("nps", "csat")), A.c.value_num.is_not(None),
                   *_where_customers(R.c.customer_id, ids))):
        slot = answers[cid].setdefault(rid, {"at": _utc(at)})
        slot[code] = value

    mentions: dict[int, list[AspectMention]] = defaultdict(list)
    for cid, at, aspect in conn.execute(
            sa.select(R.c.customer_id, R.c.submitted_at, t.text_aspect.c.aspect_code)
            .join(t.text_aspect, t.text_aspect.c.response_id == R.c.id)
            .where(R.c.customer_id.is_not(None), R.c.submitted_at <= until,
                   t.text_aspect.c.label == "negative",
                   *_where_customers(R.c.customer_id, ids))):
        mentions[cid].append(AspectMention(_utc(at), aspect, "negative"))

    complaints: dict[int, list[ComplaintRecord]] = defaultdict(list)
    for cid, at in conn.execute(
            sa.select(R.c.customer_id, R.c.received_at)
            .where(R.c.customer_id.is_not(None), R.c.source == "complaint",
                   R.c.received_at <= until, *_where_customers(R.c.customer_id, ids))):
        complaints[cid].append(ComplaintRecord(_utc(at)))

    cases: dict[int, list[CaseRecord]] = defaultdict(list)
    K = t.cx_case
    for cid, opened, status, resolved, closed in conn.execute(
            sa.select(K.c.customer_id, K.c.created_at, K.c.status, K.c.resolved_at,
                      K.c.closed_at)
            .where(K.c.customer_id.is_not(None), K.c.created_at <= until,
                   *_where_customers(K.c.customer_id, ids))):
        cases[cid].append(_case(_utc(opened), status, resolved, closed, until))

    callbacks: dict[int, list[CallbackRecord]] = defaultdict(list)
    CT, CC = t.callback_task, t.callback_call
    for cid, at, recovered in conn.execute(
            sa.select(CT.c.customer_id, CC.c.at, CC.c.recovered)
            .join(CC, CC.c.task_id == CT.c.id)
            .where(CT.c.customer_id.is_not(None), CC.c.at <= until,
                   CC.c.recovered.is_not(None), *_where_customers(CT.c.customer_id, ids))):
        callbacks[cid].append(CallbackRecord(_utc(at), bool(recovered)))

    histories: dict[int, CustomerHistory] = {}
    for cid, created in since.items():
        visits = transactions.get(cid, [])
        answered = answers.get(cid, {})
        if not visits and not answered:
            continue
        moments = [_utc(created)] + [v.occurred_at for v in visits] + \
            [a["at"] for a in answered.values()]
        histories[cid] = CustomerHistory(
            customer_since=min(moments),
            answers=[_answer(a) for a in answered.values()],
            aspect_mentions=mentions.get(cid, []), cases=cases.get(cid, []),
            callbacks=callbacks.get(cid, []), complaints=complaints.get(cid, []),
            transactions=visits, products=sorted(kinds.get(cid, ())))
    return histories


def _answer(slot: dict[str, Any]) -> SurveyAnswer:
    nps, csat = slot.get("nps"), slot.get("csat")
    nps_value = int(round(nps)) if nps is not None and 0 <= nps <= 10 else None
    csat_value = int(round(csat)) if csat is not None and 1 <= csat <= 5 else None
    return SurveyAnswer(slot["at"], nps=nps_value, csat=csat_value)


def _case(opened: dt.datetime, status: str, resolved: dt.datetime | None,
          closed: dt.datetime | None, until: dt.datetime) -> CaseRecord:
    """The case as it stood at ``until``: resolved only if that happened by then."""
    done = resolved or closed
    if status not in CASE_STATUSES:
        status = "in_progress"
    if done is None or _utc(done) > until or status not in ("resolved", "closed"):
        return CaseRecord(opened, "in_progress" if status in ("resolved", "closed") else status)  # type: ignore[arg-type]
    return CaseRecord(opened, status, _utc(done))  # type: ignore[arg-type]
