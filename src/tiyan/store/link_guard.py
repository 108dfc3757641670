"""Ballot-stuffing guard of anonymous links: each link's limits and what came through it.

A link is survey × unit (× staff × touchpoint), named by `link_key`. `survey_link_policy` holds
the limits a manager set (no row: the defaults of domain/link_guard); `link_submission` one row
per response stored through the link: its device (a random id kept in a signed cookie), a keyed
hash of the client's network and user agent, and a digest of the answers. The guard counts
these rows in the transaction that stores the response, after locking the link's row, so
twenty submissions at the same moment are judged one after another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.link_guard import LinkPolicy, Seen
from tiyan.store import tables as t

P, S = t.survey_link_policy, t.link_submission


def link_key(survey_id: int, unit_id: int, staff_id: int | None,
             touchpoint_id: int | None) -> str:
    return f"{survey_id}:{unit_id}:{staff_id or ''}:{touchpoint_id or ''}"


def policy(conn: Connection, key: str) -> LinkPolicy:
    row = conn.execute(sa.select(P).where(P.c.link_key == key)).mappings().first()
    return LinkPolicy() if row is None else _policy(row)


def _policy(row: RowMapping) -> LinkPolicy:
    return LinkPolicy(device_limit=row["device_limit"],
                      device_window_hours=row["device_window_hours"],
                      burst_limit=row["burst_limit"],
                      burst_window_minutes=row["burst_window_minutes"])


def put_policy(conn: Connection, key: str, *, survey_id: int, unit_id: int, value: LinkPolicy,
               now: dt.datetime, user_id: int | None) -> None:
    values = dict(device_limit=value.device_limit, device_window_hours=value.device_window_hours,
                  burst_limit=value.burst_limit,
                  burst_window_minutes=value.burst_window_minutes, updated_at=now,
                  updated_by=user_id)
    if not conn.execute(sa.update(P).where(P.c.link_key == key).values(**values)).rowcount:
        conn.execute(sa.insert(P).values(link_key=key, survey_id=survey_id, unit_id=unit_id,
                                         **values))


def lock_link(conn: Connection, key: str, *, survey_id: int, unit_id: int,
              now: dt.datetime) -> LinkPolicy:
    """The link's policy, its row locked until the caller's transaction ends (created with
    the defaults when missing), so the link's submissions are judged one at a time."""
    found = policy(conn, key)
    if conn.dialect.name != "postgresql":
        return found  # SQLite: the write transaction already holds the database
    defaults = LinkPolicy()
    insert = sa.dialects.postgresql.insert(P).values(
        link_key=key, survey_id=survey_id, unit_id=unit_id,
        device_limit=defaults.device_limit, device_window_hours=defaults.device_window_hours,
        burst_limit=defaults.burst_limit, burst_window_minutes=defaults.burst_window_minutes,
        updated_at=now, updated_by=None).on_conflict_do_nothing(index_elements=["link_key"])
    conn.execute(insert)
    row = conn.execute(sa.select(P).where(P.c.link_key == key).with_for_update()).mappings().one()
    return _policy(row)


def seen_before(conn: Connection, key: str, *, device_id: str | None, fingerprint: str,
                digest: str, now: dt.datetime, value: LinkPolicy) -> Seen:
    """What the link already took: from this device (its cookie or its network and browser)
    within the device window, and from anyone, and with these answers, within the burst
    window."""
    device_since = S.c.submitted_at > now - dt.timedelta(hours=value.device_window_hours)
    burst_since = now - dt.timedelta(minutes=value.burst_window_minutes)
    same_device = S.c.device_id == device_id if device_id else sa.false()
    in_burst = S.c.submitted_at > burst_since

    def count(*where: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
        return (sa.select(sa.func.count()).select_from(S)
                .where(S.c.link_key == key, *where).scalar_subquery())

    row = conn.execute(sa.select(
        count(same_device, device_since),
        count(S.c.fingerprint == fingerprint, device_since),
        count(in_burst),
        count(in_burst, S.c.answers_digest == digest))).one()
    return Seen(device=int(row[0]), network=int(row[1]), burst=int(row[2]),
                identical=int(row[3]))


def device_has_answered(conn: Connection, key: str, *, device_id: str | None,
                        now: dt.datetime, value: LinkPolicy) -> bool:
    """Whether this device's cookie already sent the link its allowed responses in the window
    (opening the link again then shows the "already answered" page)."""
    if not device_id or value.device_limit <= 0:
        return False
    since = now - dt.timedelta(hours=value.device_window_hours)
    n = conn.execute(sa.select(sa.func.count()).select_from(S).where(
        S.c.link_key == key, S.c.device_id == device_id, S.c.submitted_at > since)).scalar_one()
    return int(n) >= value.device_limit


def record(conn: Connection, key: str, *, response_id: int, device_id: str | None,
           fingerprint: str, digest: str, now: dt.datetime) -> None:
    conn.execute(sa.insert(S).values(link_key=key, response_id=response_id, device_id=device_id,
                                     fingerprint=fingerprint, answers_digest=digest,
                                     submitted_at=now))


def flag_response(conn: Connection, response_id: int, reasons: Sequence[str],
                  now: dt.datetime) -> None:
    """Store a just-inserted response as flagged (not yet folded into any aggregate)."""
    conn.execute(sa.update(t.response).where(t.response.c.id == response_id).values(
        status="flagged", flag_reasons=",".join(reasons), flag_changed_at=now))


def set_counted(conn: Connection, response_id: int, counted: bool, now: dt.datetime,
                cache: dict[object, object]) -> bool:
    """Count a flagged response after all (restore) or leave a counted one out again, moving
    its sums into or out of every aggregate in the caller's transaction; False when the
    response already was so.

    The score aggregates hold a response that was folded (up to the watermark, or listed in
    score_agg_folded) exactly when it is "complete". A response not folded yet is claimed here
    (listed as folded) and its sums added now if it counts; a fold job that took it meanwhile
    either finds it listed or, on PostgreSQL, waits on the listing and rolls back to try again.
    The text and aspect sums follow the analyses already stored."""
    from tiyan.store import aggregates, driver_aspect_aggregates, text_aggregates

    R = t.response
    query = sa.select(R.c.status).where(R.c.id == response_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    status = conn.execute(query).scalar_one()
    if (status == "complete") == counted or status not in ("complete", "flagged"):
        return False
    sign = 1 if counted else -1
    claimed = False
    if response_id > aggregates.watermark(conn):
        claim = aggregates.insert_for(conn.dialect.name, aggregates.F).values(
            response_id=response_id).on_conflict_do_nothing(index_elements=["response_id"])
        claimed = bool(conn.execute(claim).rowcount)
    where = R.c.id == response_id
    analyses = [int(i) for i in conn.execute(sa.select(t.text_analysis.c.id).where(
        t.text_analysis.c.response_id == response_id)).scalars()]
    analysed = [response_id] if analyses else []
    if not counted:  # take the sums out while the statements still count the response
        if not claimed:
            aggregates.fold(conn, where, sign=-1)
        if analysed:
            text_aggregates.unfold_responses(conn, analysed)
            driver_aspect_aggregates.unfold_responses(conn, analysed)
    conn.execute(sa.update(R).where(where).values(
        status="complete" if counted else "flagged", flag_changed_at=now))
    if counted:
        aggregates.ensure_questions(conn, [v for (v,) in conn.execute(
            sa.select(R.c.survey_version_id).where(where)) if v is not None], cache)
        aggregates.fold(conn, where)
        if analysed:
            text_aggregates.fold_analyses(conn, analyses, cache)
            driver_aspect_aggregates.fold_responses(conn, analysed, cache)
    _drop_empty_rows(conn, sign)
    return True


def _drop_empty_rows(conn: Connection, sign: int) -> None:
    """Rows a response left empty when taken out (n 0): the readers never see a bucket
    nobody answered in."""
    if sign > 0:
        return
    for table in (t.score_agg, t.driver_agg, t.segment_agg, t.unit_day_agg, t.staff_agg,
                  t.text_agg, t.unit_text_agg, t.driver_aspect_agg):
        conn.execute(sa.delete(table).where(table.c.n == 0))


def flagged_responses(conn: Connection, actor: Any, *, state: str, survey_id: int | None,
                      limit: int = 200) -> list[RowMapping]:
    """Responses the guard flagged, in the actor's scope, newest first: state "flagged" (left
    out now), "restored" (counted after all) or "all"; with their NPS and CSAT answers."""
    from tiyan.store.responses import ResponseFilter, _scoped_query

    R, A = t.response, t.answer

    def item(code: str) -> sa.ScalarSelect[Any]:
        return (sa.select(A.c.value_num).where(A.c.response_id == R.c.id, A.c.item_code == code)
                .limit(1).scalar_subquery())

    query = (_scoped_query(actor, ResponseFilter(survey_id=survey_id))
             .add_columns(t.org_unit.c.name_zh.label("unit_zh"),
                          t.org_unit.c.name_en.label("unit_en"),
                          item("nps").label("nps"), item("csat").label("csat"))
             .where(R.c.flag_reasons.is_not(None)))
    if state == "flagged":
        query = query.where(R.c.status == "flagged")
    elif state == "restored":
        query = query.where(R.c.status == "complete")
    query = query.order_by(R.c.submitted_at.desc(), R.c.id.desc()).limit(limit)
    return list(conn.execute(query).mappings())
