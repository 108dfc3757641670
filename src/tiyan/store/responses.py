"""Responses and their answers: the write path, scoped reads and cursor pagination."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.responses import AnswerValue, Source, Submission
from tiyan.errors import NotFound
from tiyan.security import new_public_id
from tiyan.store import response_slices as slices
from tiyan.store import tables as t
from tiyan.store.driver_insert import (
    driver_insert,
    driver_select,
    insert_returning,
    insert_rows,
    select_one,
)
from tiyan.store.scoped import visible
from tiyan.text.redact import redact

R = t.response


_BY_IDEMPOTENCY_KEY = sa.select(R.c.id, R.c.public_id).where(
    R.c.idempotency_key == sa.bindparam("key"))
_RESPONSE_COLUMNS = (
    "public_id", "source", "survey_id", "survey_version_id", "channel", "unit_id", "staff_id",
    "touchpoint_id", "customer_id", "agent_user_id", "invitation_id", "language", "status",
    "started_at", "submitted_at", "received_at", "idempotency_key", "customer_snapshot", "meta")
_ANSWER_COLUMNS = ("response_id", "question_key", "item_code", "value_num", "value_text",
                   "value_json")


def _scalar(query: sa.Select[Any]) -> sa.ScalarSelect[Any]:
    return query.scalar_subquery()


_V = t.survey_version
_REFS = sa.select(
    _scalar(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == sa.bindparam("unit"))
            ).label("unit_id"),
    _scalar(sa.select(_V.c.id).join(t.survey, t.survey.c.id == _V.c.survey_id).where(
        t.survey.c.id == sa.bindparam("survey"), _V.c.version == t.survey.c.current_version)
    ).label("version_id"),
    _scalar(sa.select(t.survey.c.status).where(t.survey.c.id == sa.bindparam("survey"))
            ).label("survey_status"),
    _scalar(sa.select(t.survey.c.touchpoint_id).where(t.survey.c.id == sa.bindparam("survey"))
            ).label("touchpoint_id"),
    _scalar(sa.select(t.staff.c.id).where(t.staff.c.code == sa.bindparam("staff"))
            ).label("staff_id"),
    _scalar(sa.select(t.staff.c.unit_id).where(t.staff.c.code == sa.bindparam("staff"))
            ).label("staff_unit_id"),
)


def submission_refs(conn: Connection, *, unit_code: str, survey_id: int,
                    staff_code: str | None) -> dict[str, Any]:
    """Unit, current survey version and staff of a submission, in one round trip."""
    params = {"unit": unit_code, "survey": survey_id, "staff": staff_code}
    return select_one(conn, driver_select(conn.dialect, _REFS), params)


def response_by_idempotency_key(conn: Connection, key: str) -> RowMapping | None:
    return conn.execute(_BY_IDEMPOTENCY_KEY, {"key": key}).mappings().first()


def insert_submission(conn: Connection, sub: Submission, now: dt.datetime) -> tuple[int, str]:
    public_id = new_public_id()
    spec = driver_insert(conn.dialect, R, _RESPONSE_COLUMNS, returning="id")
    response_id = int(insert_returning(conn, spec, spec.row((
        public_id, str(Source.SURVEY), sub.survey_id, sub.survey_version_id, str(sub.channel),
        sub.unit_id, sub.staff_id, sub.touchpoint_id, sub.customer_id, sub.agent_user_id,
        sub.invitation_id, sub.language, "complete", sub.started_at, sub.submitted_at, now,
        sub.idempotency_key, dict(sub.customer_snapshot), {},
    ))))
    insert_answers(conn, response_id, sub.answers)
    return response_id, public_id


def insert_answers(conn: Connection, response_id: int, answers: Sequence[AnswerValue]) -> None:
    if answers:
        spec = driver_insert(conn.dialect, t.answer, _ANSWER_COLUMNS)
        insert_rows(conn, spec, [spec.row((
            response_id, a.question_key, a.item_code, a.value_num, a.value_text, a.value_json,
        )) for a in answers])


@dataclass(frozen=True)
class ResponseFilter:
    """What a list of responses is narrowed to; `unit_id` includes the unit's subtree,
    `touchpoint_ids` are alternatives (a touchpoint and its sub-touchpoints), `sources` too."""

    survey_id: int | None = None
    unit_id: int | None = None
    touchpoint_id: int | None = None
    channel: str | None = None
    source: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    touchpoint_ids: tuple[int, ...] | None = None
    sources: tuple[str, ...] | None = None
    segment: str | None = None  # the customer's current segment
    # the slices of the responses list (and the dashboards): store/response_slices
    staff_id: int | None = None
    answer: tuple[str, str] | None = None  # question key, value
    aspect: str | None = None
    aspect_label: str | None = None
    attr: tuple[str, str] | None = None  # customer attribute key, value
    score_group: str | None = None  # of response_slices.SCORE_GROUPS
    sentiment: str | None = None  # a comment's sentiment
    words: str | None = None  # in a comment
    has_comment: bool | None = None
    status: str | None = None  # "complete": counted ones only (not flagged as ballot stuffing)


def _scoped_query(actor: Actor, f: ResponseFilter) -> sa.Select[Any]:
    vis = actor.scope.visibility(Permission.VIEW_RESPONSES)
    agent = t.app_user.alias("agent")
    query = (
        sa.select(R, t.org_unit.c.code.label("unit_code"), t.survey.c.code.label("survey_code"),
                  t.staff.c.code.label("staff_code"), t.staff.c.name.label("staff_name"),
                  t.touchpoint.c.code.label("touchpoint_code"),
                  agent.c.name.label("agent_name"), t.org_unit.c.name_zh.label("unit_name_zh"),
                  t.org_unit.c.name_en.label("unit_name_en"),
                  t.touchpoint.c.name_zh.label("touchpoint_name_zh"),
                  t.touchpoint.c.name_en.label("touchpoint_name_en"),
                  t.survey.c.name.label("survey_name"))
        .join(t.org_unit, t.org_unit.c.id == R.c.unit_id)
        .outerjoin(t.survey, t.survey.c.id == R.c.survey_id)
        .outerjoin(t.staff, t.staff.c.id == R.c.staff_id)
        .outerjoin(t.touchpoint, t.touchpoint.c.id == R.c.touchpoint_id)
        .outerjoin(agent, agent.c.id == R.c.agent_user_id)
        .where(visible(vis, R.c.unit_id, R.c.staff_id))
    )
    for column, value in ((R.c.survey_id, f.survey_id), (R.c.touchpoint_id, f.touchpoint_id),
                          (R.c.channel, f.channel), (R.c.source, f.source),
                          (R.c.status, f.status)):
        if value is not None:
            query = query.where(column == value)
    if f.unit_id is not None:
        query = query.where(R.c.unit_id.in_(_subtree_ids(f.unit_id)))
    if f.touchpoint_ids is not None:
        query = query.where(R.c.touchpoint_id.in_(list(f.touchpoint_ids)))
    if f.sources is not None:
        query = query.where(R.c.source.in_(list(f.sources)))
    if f.segment is not None:
        query = query.where(R.c.customer_id.in_(
            sa.select(t.customer.c.id).where(t.customer.c.segment == f.segment)))
    if f.since is not None:
        query = query.where(R.c.submitted_at >= f.since)
    if f.until is not None:
        query = query.where(R.c.submitted_at < f.until)
    return query.where(*_slices(actor, f))


def _slices(actor: Actor, f: ResponseFilter) -> list[sa.ColumnElement[bool]]:
    clauses = []
    if f.staff_id is not None:
        clauses.append(R.c.staff_id == f.staff_id)
    if f.answer is not None:
        clauses.append(slices.answered(*f.answer))
    if f.aspect is not None:
        clauses.append(slices.mentions_aspect(f.aspect, f.aspect_label))
    if f.attr is not None:
        clauses.append(slices.customer_attribute(*f.attr))
    if f.score_group is not None:
        clauses.append(slices.in_score_group(f.score_group))
    if f.sentiment is not None:
        clauses.append(slices.comment_sentiment(f.sentiment))
    if f.words:
        clauses.append(slices.comment_contains(f.words,
                                               masked=not actor.can(Permission.VIEW_PII)))
    if f.has_comment is not None:
        clauses.append(slices.has_comment(f.has_comment))
    return clauses


def _subtree_ids(unit_id: int) -> sa.Select[Any]:
    """Ids of a unit and its descendants, as a recursive CTE (works on SQLite and PostgreSQL)."""
    tree = sa.select(t.org_unit.c.id).where(t.org_unit.c.id == unit_id).cte(recursive=True)
    child = t.org_unit.alias()
    tree = tree.union_all(sa.select(child.c.id).where(child.c.parent_id == tree.c.id))
    return sa.select(tree.c.id)


Position = tuple[dt.datetime, int]  # (submitted_at, id) of the last row of a page


def list_responses(conn: Connection, actor: Actor, f: ResponseFilter, *,
                   after: Position | None = None, limit: int = 50) -> list[RowMapping]:
    """Submitted responses, newest first; `after` continues from the last row of a page."""
    query = _scoped_query(actor, f).where(R.c.submitted_at.is_not(None))
    if after is not None:
        submitted, last_id = after
        query = query.where(sa.or_(R.c.submitted_at < submitted,
                                   sa.and_(R.c.submitted_at == submitted, R.c.id < last_id)))
    ordered = query.order_by(R.c.submitted_at.desc(), R.c.id.desc()).limit(limit)
    return list(conn.execute(ordered).mappings())


def count_responses(conn: Connection, actor: Actor, f: ResponseFilter) -> int:
    """How many submitted responses `list_responses` would list, all pages together."""
    ids = _scoped_query(actor, f).where(R.c.submitted_at.is_not(None)).with_only_columns(R.c.id)
    return int(conn.execute(sa.select(sa.func.count()).select_from(ids.subquery())).scalar_one())


def position_of(row: RowMapping) -> Position:
    return (row["submitted_at"], row["id"])


def answers_for(conn: Connection, actor: Actor,
                response_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Answers by response; free text has personal data masked unless the actor may see PII."""
    mask = not actor.can(Permission.VIEW_PII)
    grouped: dict[int, list[dict[str, Any]]] = {rid: [] for rid in response_ids}
    if not response_ids:
        return grouped
    rows = conn.execute(
        sa.select(t.answer).where(t.answer.c.response_id.in_(list(response_ids)))
        .order_by(t.answer.c.response_id, t.answer.c.question_key)
    ).mappings()
    for row in rows:
        answer = dict(row)
        if mask and answer["value_text"]:
            answer["value_text"] = redact(answer["value_text"]).text
        grouped[row["response_id"]].append(answer)
    return grouped


def get_response(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    query = _scoped_query(actor, ResponseFilter()).where(R.c.public_id == public_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound("responses.response_does_not_exist", public_id=public_id,
                       where="response")
    return row


def iter_export_rows(conn: Connection, actor: Actor, f: ResponseFilter,
                     batch: int = 2000) -> Iterator[tuple[RowMapping, list[dict[str, Any]]]]:
    """Every visible response with its answers, newest first, in batches (bounded memory)."""
    for page, answers in iter_export_batches(conn, actor, f, batch):
        for row in page:
            yield row, answers[row["id"]]


def iter_export_batches(conn: Connection, actor: Actor, f: ResponseFilter, batch: int = 2000
                        ) -> Iterator[tuple[list[RowMapping], dict[int, list[dict[str, Any]]]]]:
    """The visible responses `f` selects, newest first, `batch` at a time with their answers
    (free text masked as in `answers_for`)."""
    after: Position | None = None
    while True:
        page = list_responses(conn, actor, f, after=after, limit=batch)
        if not page:
            return
        yield page, answers_for(conn, actor, [r["id"] for r in page])
        after = position_of(page[-1])


def survey_versions_of(conn: Connection, actor: Actor, f: ResponseFilter) -> list[int]:
    """The survey versions the selected responses answered, newest first."""
    query = _scoped_query(actor, f).where(R.c.submitted_at.is_not(None),
                                          R.c.survey_version_id.is_not(None))
    ids = query.with_only_columns(R.c.survey_version_id).distinct().subquery()
    return [int(i) for i in conn.execute(sa.select(ids.c.survey_version_id)
                                         .order_by(ids.c.survey_version_id.desc())).scalars()]


def unversioned_keys(conn: Connection, actor: Actor, f: ResponseFilter) -> list[str]:
    """The question keys answered by selected responses without a survey version (imported
    reviews, hotline records …), in key order."""
    ids = (_scoped_query(actor, f).where(R.c.submitted_at.is_not(None),
                                         R.c.survey_version_id.is_(None))
           .with_only_columns(R.c.id))
    return [str(k) for k in conn.execute(
        sa.select(t.answer.c.question_key).distinct()
        .where(t.answer.c.response_id.in_(ids)).order_by(t.answer.c.question_key)).scalars()]
