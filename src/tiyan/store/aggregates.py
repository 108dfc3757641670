"""Score aggregates: the sums the dashboards read instead of scanning responses and answers.

`score_agg` holds, per day and per month (business time zone) × unit × survey × touchpoint ×
channel × item code: n, sum, sum of squares, top-box and bottom-box counts (and
`unit_day_agg` its day rows per unit subtree, store/unit_day_aggregates). Item code '' counts
responses. Sums and counts add up, so any roll-up (months, units of a subtree, channels) is a
sum of rows, and means, proportions, NPS and their confidence intervals follow exactly.

Folding is one SQL statement per grain and kind (answers, responses): INSERT … SELECT … GROUP BY
… ON CONFLICT DO UPDATE SET n = n + excluded.n, the same on SQLite and PostgreSQL. Every response
is folded exactly once: in bulk up to a watermark (`catch_up`, after `tiyan generate`/`demo`,
`tiyan aggregates rebuild`), or one by one by the `aggregates.fold` job, which records each id in
`score_agg_folded` in the same transaction (a rerun job adds nothing twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from tiyan.domain.surveys import QuestionType, SurveyDefinition
from tiyan.store import app_settings
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.id_lists import among
from tiyan.store.surveys import version_definition

BUSINESS_TIMEZONE = "Asia/Shanghai"
WATERMARK = "score_agg.watermark"
RESPONSES = ""  # the item code of the rows that count responses
CHUNK = 100_000

R, A, G, Q, F = t.response, t.answer, t.score_agg, t.score_agg_question, t.score_agg_folded
KEY = ("grain", "bucket", "unit_id", "survey_id", "touchpoint_id", "channel", "item_code")
SUMS = ("n", "total", "total_sq", "top", "bottom")


# --- periods in SQL ---------------------------------------------------------------------

def utc_offset_hours(tz: str) -> float:
    offset = dt.datetime.now(ZoneInfo(tz)).utcoffset() or dt.timedelta(0)
    return offset.total_seconds() / 3600


def day_of(dialect: str, column: sa.ColumnElement[dt.datetime], tz: str) -> sa.ColumnElement:
    """The local calendar day of a UTC timestamp column."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone(tz, column), sa.Date)
    return sa.func.date(column, f"{utc_offset_hours(tz):+.2f} hours")


def month_of(dialect: str, column: sa.ColumnElement[dt.datetime], tz: str) -> sa.ColumnElement:
    """The first day of the local calendar month of a UTC timestamp column."""
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc("month", sa.func.timezone(tz, column)), sa.Date)
    return sa.func.date(column, f"{utc_offset_hours(tz):+.2f} hours", "start of month")


# --- question facts -----------------------------------------------------------------------

def boxes(kind: QuestionType, bounds: tuple[int, int] | None) -> tuple[float | None, float | None]:
    """Where the top box starts and the bottom box ends for a question type and scale."""
    if kind == QuestionType.NPS:
        return 9.0, 6.0
    if kind == QuestionType.YESNO:
        return 1.0, 0.0
    if bounds is None:
        return None, None
    low, high = bounds
    return float(high - 1), float(low + 1)


def question_rows(definition: SurveyDefinition, version_id: int,
                  touchpoints: dict[str, int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for q in definition.questions:
        numeric = q.type not in (QuestionType.TEXT, QuestionType.DATE, QuestionType.SINGLE,
                                 QuestionType.MULTI)
        if not numeric and q.touchpoint is None:
            continue
        top, bottom = boxes(q.type, q.bounds()) if numeric else (None, None)
        tp = touchpoints.get(q.touchpoint) if q.touchpoint else None
        keys = [f"{q.key}.{row.code}" for row in q.rows] if q.type == QuestionType.MATRIX \
            else [q.key]
        rows.extend({"survey_version_id": version_id, "question_key": key, "touchpoint_id": tp,
                     "top_from": top, "bottom_to": bottom} for key in keys)
    return rows


def _journey_touchpoints(conn: Connection, survey_id: int) -> dict[str, int]:
    """Touchpoint codes of the survey's journeys (its own touchpoint's first, then listeners')."""
    journeys: list[int] = []
    own = conn.execute(sa.select(t.touchpoint.c.journey_id)
                       .join(t.survey, t.survey.c.touchpoint_id == t.touchpoint.c.id)
                       .where(t.survey.c.id == survey_id)).scalar_one_or_none()
    if own is not None:
        journeys.append(own)
    journeys += [j for (j,) in conn.execute(
        sa.select(t.touchpoint.c.journey_id).distinct()
        .join(t.touchpoint_listener, t.touchpoint_listener.c.touchpoint_id == t.touchpoint.c.id)
        .where(t.touchpoint_listener.c.survey_id == survey_id)) if j not in journeys]
    found: dict[str, int] = {}
    for journey_id in journeys:
        for code, tp_id in conn.execute(sa.select(t.touchpoint.c.code, t.touchpoint.c.id)
                                        .where(t.touchpoint.c.journey_id == journey_id)):
            found.setdefault(code, tp_id)
    return found


def ensure_questions(conn: Connection, version_ids: Iterable[int],
                     cache: dict[object, object]) -> None:
    """Record the question facts of survey versions the aggregates have not seen yet."""
    todo = sorted({int(v) for v in version_ids if v is not None
                   and not cache.get(("score_agg_question", int(v)))})
    if not todo:
        return
    have = {v for (v,) in conn.execute(sa.select(Q.c.survey_version_id).distinct()
                                       .where(Q.c.survey_version_id.in_(todo)))}
    for version_id in todo:
        if version_id not in have:
            survey_id = conn.execute(sa.select(t.survey_version.c.survey_id).where(
                t.survey_version.c.id == version_id)).scalar_one()
            definition = version_definition(conn, version_id, cache)
            rows = question_rows(definition, version_id, _journey_touchpoints(conn, survey_id))
            if rows:
                conn.execute(insert_for(conn.dialect.name, Q).values(rows).on_conflict_do_nothing())
        cache[("score_agg_question", version_id)] = True


# --- folding ------------------------------------------------------------------------------

def insert_for(dialect: str, table: sa.Table):  # type: ignore[no-untyped-def]
    """The dialect's INSERT, which has ON CONFLICT."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def add_into(dialect: str, table: sa.Table, columns: Sequence[str], select: sa.Select,
             key: Sequence[str], sums: Sequence[str], sign: int = 1) -> sa.Executable:
    """INSERT the rows of `select` into `table`, adding `sums` into the row of an existing key
    (sign -1: taking them out of it)."""
    if sign < 0:
        rows = select.subquery()
        select = sa.select(*[c * -1 if name in sums else c
                             for c, name in zip(rows.c, columns, strict=True)]
                           ).where(sa.true())  # SQLite: else ON CONFLICT reads as a join's ON
    insert = insert_for(dialect, table).from_select(list(columns), select)
    return insert.on_conflict_do_update(
        index_elements=list(key), set_={name: table.c[name] + insert.excluded[name]
                                        for name in sums})


def _answers_select(dialect: str, grain: str, where: sa.ColumnElement[bool],
                    tz: str, *, by_segment: bool = False) -> sa.Select:
    """Answer sums per KEY; `by_segment` adds the customer's segment as the last column (only
    responses of a customer in a segment)."""
    bucket = (day_of if grain == "d" else month_of)(dialect, R.c.submitted_at, tz)
    value = A.c.value_num
    top_from = sa.func.coalesce(Q.c.top_from, sa.case((A.c.item_code == "nps", 9.0), else_=4.0))
    bottom_to = sa.func.coalesce(Q.c.bottom_to,
                                 sa.case((A.c.item_code == "nps", 6.0), else_=2.0))
    dims = (sa.literal(grain), bucket, R.c.unit_id, sa.func.coalesce(R.c.survey_id, 0),
            sa.func.coalesce(Q.c.touchpoint_id, R.c.touchpoint_id, 0), R.c.channel, A.c.item_code)
    source = (R.join(A, A.c.response_id == R.c.id)
              .outerjoin(Q, sa.and_(Q.c.survey_version_id == R.c.survey_version_id,
                                    Q.c.question_key == A.c.question_key)))
    segment = [t.customer.c.segment] if by_segment else []
    if by_segment:
        source = source.join(t.customer, t.customer.c.id == R.c.customer_id)
        where = sa.and_(where, t.customer.c.segment.is_not(None))
    return (
        sa.select(*dims, sa.func.count(), sa.func.sum(value), sa.func.sum(value * value),
                  sa.func.sum(sa.case((value >= top_from, 1), else_=0)),
                  sa.func.sum(sa.case((value <= bottom_to, 1), else_=0)), *segment)
        .select_from(source)
        .where(where, R.c.status == "complete", R.c.submitted_at.is_not(None),
               A.c.value_num.is_not(None),
               # `|| ''` keeps the planner off the index on (item_code, response_id), which
               # without table statistics it takes to read every answer ever given instead of
               # the answers of the responses `where` selects
               A.c.item_code.concat("").is_not(None))
        .group_by(*dims[1:], *segment)
    )


def _responses_select(dialect: str, grain: str, where: sa.ColumnElement[bool],
                      tz: str, *, by_segment: bool = False) -> sa.Select:
    bucket = (day_of if grain == "d" else month_of)(dialect, R.c.submitted_at, tz)
    dims = (sa.literal(grain), bucket, R.c.unit_id, sa.func.coalesce(R.c.survey_id, 0),
            sa.func.coalesce(R.c.touchpoint_id, 0), R.c.channel, sa.literal(RESPONSES))
    zero = sa.literal(0)
    segment = [t.customer.c.segment] if by_segment else []
    query = sa.select(*dims, sa.func.count(), zero, zero, zero, zero, *segment)
    if by_segment:
        query = query.select_from(R.join(t.customer, t.customer.c.id == R.c.customer_id))
        where = sa.and_(where, t.customer.c.segment.is_not(None))
    return (query.where(where, R.c.status == "complete", R.c.submitted_at.is_not(None))
            .group_by(*dims[1:6], *segment))


def fold_statements(dialect: str, where: sa.ColumnElement[bool],
                    tz: str = BUSINESS_TIMEZONE, sign: int = 1) -> list[sa.Executable]:
    """The statements that add (sign -1: take out) the responses `where` selects (on table
    response) into the aggregates, in the order they run."""
    from tiyan.store.driver_aggregates import pair_statements
    from tiyan.store.segment_aggregates import segment_statements
    from tiyan.store.staff_aggregates import staff_statements
    from tiyan.store.unit_day_aggregates import unit_day_statements

    statements = [add_into(dialect, G, [*KEY, *SUMS], select, KEY, SUMS, sign)
                  for grain in ("d", "m")
                  for select in (_answers_select(dialect, grain, where, tz),
                                 _responses_select(dialect, grain, where, tz))]
    return [*statements,
            *pair_statements(dialect, where, tz, sign),  # item-pair sums for the key drivers
            *segment_statements(dialect, where, tz, sign=sign),  # the same per customer segment
            *unit_day_statements(dialect, where, tz, sign),  # day sums per unit subtree (trends)
            *staff_statements(dialect, where, tz, sign)]  # NPS and CSAT per staff member


def fold(conn: Connection, where: sa.ColumnElement[bool], *,
         tz: str = BUSINESS_TIMEZONE, sign: int = 1) -> None:
    """Add (sign -1: take out) the responses `where` selects (on table response) into the
    aggregates."""
    for statement in fold_statements(conn.dialect.name, where, tz, sign):
        conn.execute(statement)


IDS = "ids"  # the parameter of the statements run_with_ids keeps
Among = Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]
_BUILT: dict[tuple[Hashable, str], list[sa.Executable]] = {}


def run_with_ids(conn: Connection, name: Hashable, ids: Sequence[int],
                 build: Callable[[str, Among], list[sa.Executable]]) -> None:
    """Run the statements `build(dialect, among)` gives, where `among(column)` selects the rows
    whose column is one of the ids, built once per `name` and dialect and run again with each
    list of ids: building the aggregates' statements costs several times what running them
    does for the few rows a job adds."""
    key = (name, conn.dialect.name)
    statements = _BUILT.get(key)
    if statements is None:
        statements = _BUILT.setdefault(key, build(conn.dialect.name, among_ids(conn.dialect.name)))
    for statement in statements:
        conn.execute(statement, {IDS: list(ids)})


def among_ids(dialect: str) -> Among:
    """`column IN (the ids)` with the ids given at execution as IDS: on PostgreSQL one array
    parameter (`= ANY(%(ids)s)`), so the statement's text and its parsing stay the same for
    any number of ids (an IN list of 200 placeholders made the driver re-parse a 10 kB
    statement on every run); elsewhere an expanding IN."""
    if dialect == "postgresql":
        array = sa.bindparam(IDS, type_=sa.ARRAY(sa.BigInteger))
        return lambda column: column == sa.any_(array)
    expanding: sa.BindParameter[Any] = sa.bindparam(IDS, expanding=True)
    return lambda column: column.in_(expanding)


def fold_ids(conn: Connection, ids: Sequence[int], *, tz: str = BUSINESS_TIMEZONE,
             sign: int = 1) -> None:
    """`fold` for the responses with these ids (sign -1: take them out)."""
    run_with_ids(conn, ("fold", tz, sign), ids,
                 lambda dialect, among: fold_statements(dialect, among(R.c.id), tz, sign))


def _versions(conn: Connection, where: sa.ColumnElement[bool]) -> list[int]:
    return [v for (v,) in conn.execute(sa.select(R.c.survey_version_id).distinct().where(where))
            if v is not None]


def watermark(conn: Connection) -> int:
    return int(app_settings.get_value(conn, WATERMARK) or 0)


def fold_responses(conn: Connection, response_ids: Sequence[int],
                   cache: dict[object, object]) -> int:
    """Fold these responses unless already folded (in bulk or by an earlier run); returns how
    many were added. Runs inside the caller's transaction."""
    mark = watermark(conn)
    ids = sorted({int(i) for i in response_ids if int(i) > mark})
    if not ids:
        return 0
    done = {i for (i,) in conn.execute(sa.select(F.c.response_id)
                                       .where(among(conn, F.c.response_id, ids)))}
    todo = [i for i in ids if i not in done]
    if not todo:
        return 0
    from tiyan.store.segment_aggregates import lock_customers

    lock_customers(conn, todo)  # their segments stay put until this fold commits
    ensure_questions(conn, _versions(conn, among(conn, R.c.id, todo)), cache)
    fold_ids(conn, todo)
    conn.execute(F.insert(), [{"response_id": i} for i in todo])
    return len(todo)


def catch_up(db: Database, now: Callable[[], dt.datetime], *, chunk: int = CHUNK,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Fold, in bulk and in chunks of ids, every stored response not folded yet; returns the
    number of responses examined. Each chunk is one transaction that moves the watermark."""
    with db.read() as conn:
        start = watermark(conn)
        last = conn.execute(sa.select(sa.func.max(R.c.id))).scalar() or 0
    total = max(last - start, 0)
    position = start
    while position < last:
        end = min(position + chunk, last)
        with db.write() as conn:
            where = sa.and_(R.c.id > position, R.c.id <= end,
                            ~sa.exists().where(F.c.response_id == R.c.id))
            ensure_questions(conn, _versions(conn, sa.and_(R.c.id > position, R.c.id <= end)),
                             db.immutable_cache)
            fold(conn, where)
            conn.execute(F.delete().where(F.c.response_id <= end))
            app_settings.put_value(conn, WATERMARK, end, now())
        if progress is not None:
            progress(end - start, total)
        position = end
    return total


def clear(db: Database, now: dt.datetime) -> None:
    """Forget all aggregates (the next catch-up folds every response again)."""
    from tiyan.store.driver_aggregates import STALE as DRIVERS_STALE
    from tiyan.store.driver_aggregates import is_stale
    from tiyan.store.segment_aggregates import STALE as SEGMENTS_STALE
    from tiyan.store.staff_aggregates import STALE as STAFF_STALE

    with db.write() as conn:
        conn.execute(G.delete())
        conn.execute(t.driver_agg.delete())
        conn.execute(t.segment_agg.delete())
        conn.execute(t.unit_day_agg.delete())
        conn.execute(t.staff_agg.delete())
        conn.execute(F.delete())
        conn.execute(Q.delete())
        app_settings.put_value(conn, WATERMARK, 0, now)
        if is_stale(conn):
            app_settings.put_value(conn, DRIVERS_STALE, False, now)
        if app_settings.get_value(conn, SEGMENTS_STALE):
            app_settings.put_value(conn, SEGMENTS_STALE, False, now)
        if app_settings.get_value(conn, STAFF_STALE):
            app_settings.put_value(conn, STAFF_STALE, False, now)
    for key in [k for k in db.immutable_cache if isinstance(k, tuple)
                and k[:1] == ("score_agg_question",)]:
        del db.immutable_cache[key]


def rebuild(db: Database, now: Callable[[], dt.datetime], *, chunk: int = CHUNK,
            progress: Callable[[int, int], None] | None = None) -> int:
    clear(db, now())
    return catch_up(db, now, chunk=chunk, progress=progress)
