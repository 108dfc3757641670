"""The response rate on the overview and in the unit league (SQLite and PostgreSQL).

Invitations are written by the real use case (create_invitation) and moved on by the real status
record (sent, completed, bounced), some at the edge of a local day; the figures are compared with
counts taken straight from table invitation, in Python, for users of different scopes (the
fixture tree's, not the code's) and with each filter an invitation can follow.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, SUBTREE, visible_units
from tiyan.analytics import dashboard as d
from tiyan.analytics import response_rate as rr
from tiyan.analytics.cube import Filters
from tiyan.services.invitations import Audience, Plan, create_invitation
from tiyan.services.journeys import do_add_touchpoint, do_create_journey
from tiyan.store import outreach
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE
from tiyan.store.invitations import record_invitation_status

ZONE = ZoneInfo(BUSINESS_TIMEZONE)
PLACES = (("n1-as", "n1-e1", "n1"), ("n1-as", "n1-e2", "n1"), ("n2", "n2-e1", "n2"),
          ("s1", "s1-e1", "s1"), ("north", None, "n2"))
TOUCHPOINTS = (None, "visit", "visit_desk")
COUNT = 60
FROM, TO = dt.date(2026, 6, 1), dt.date(2026, 11, 30)  # the previous period: 2025-12 to 2026-05
PERIOD = f"from={FROM}&to={TO}"


@pytest.fixture
def invited(world):
    """COUNT invitations sent every 6 days back from now (half completed, a quarter bounced, some
    never sent), by SMS and e-mail, at a touchpoint, its sub-touchpoint or none."""
    ctx = world.ctx
    admin = world.actor("admin@t.test")
    do_create_journey(ctx, admin, code="j", name_zh="旅程", name_en="Journey")
    do_add_touchpoint(ctx, admin, "j", code="visit", name_zh="到店", name_en="Visit")
    do_add_touchpoint(ctx, admin, "j", code="visit_desk", name_zh="前台", name_en="Desk",
                      parent="visit")
    with ctx.db.write() as conn:
        ids = {r.public_id: r.id for r in conn.execute(sa.select(t.customer))}
        customers = {store: ids[pid] for store, pid in world.customer_ids.items()}
        for store, segment in (("n1", "champions"), ("n2", "at_risk")):
            conn.execute(sa.update(t.customer).where(t.customer.c.id == customers[store])
                         .values(segment=segment))
        for store, cid in customers.items():
            outreach.add_identity(conn, cid, "email", f"{store}@customer.test")
        staff = dict(conn.execute(sa.select(t.staff.c.code, t.staff.c.id)).all())
        points = dict(conn.execute(sa.select(t.touchpoint.c.code, t.touchpoint.c.id)).all())
        for k in range(COUNT):
            unit, staff_code, store = PLACES[k % len(PLACES)]
            sent = ctx.now() - dt.timedelta(days=6 * k, hours=(k % 4) * 5 + 1)
            if k % 4 == 0:  # 00:xx the next day in China
                sent = sent.replace(hour=16, minute=30)
            audience = Audience(world.survey_id, world.unit_ids[unit], customers[store],
                                staff.get(staff_code), points.get(TOUCHPOINTS[k % 3]))
            plan = Plan(("sms", "email")[k % 2], sent, quarantine_days=0)
            made = create_invitation(conn, ctx, audience, plan, sent)
            row_id = conn.execute(sa.select(t.invitation.c.id).where(
                t.invitation.c.public_id == made.public_id)).scalar_one()
            if k % 7 == 6:
                continue  # never sent: not counted
            record_invitation_status(conn, row_id, "sent", sent)
            if k % 4 < 2:
                record_invitation_status(conn, row_id, "completed", sent + dt.timedelta(days=2))
            elif k % 4 == 2:
                record_invitation_status(conn, row_id, "bounced", sent + dt.timedelta(hours=1))
    return world


def from_table(ctx, email: str, start: dt.date, end: dt.date, **want: str | None
               ) -> list[tuple[str, bool]]:
    """(unit code, completed) of each invitation the user may see sent in the local days
    start..end, straight from the table; `want` narrows by unit (its subtree), touchpoint (with
    its sub-touchpoint), channel, segment, staff and the customer's name."""
    i, u, s, c, tp = t.invitation, t.org_unit, t.staff, t.customer, t.touchpoint
    query = (sa.select(u.c.code, s.c.code, c.c.segment, c.c.name, tp.c.code, i.c.channel,
                       i.c.sent_at, i.c.completed_at)
             .select_from(i.join(u, u.c.id == i.c.unit_id).outerjoin(s, s.c.id == i.c.staff_id)
                          .outerjoin(c, c.c.id == i.c.customer_id)
                          .outerjoin(tp, tp.c.id == i.c.touchpoint_id)))
    with ctx.db.read() as conn:
        rows = conn.execute(query).all()
    units = visible_units(email) & SUBTREE[want.get("unit") or "hq"]
    frontline = email == "staff.n1@t.test"
    family = {"visit": {"visit", "visit_desk"}, "visit_desk": {"visit_desk"}}
    out = []
    for unit, staff, segment, name, point, channel, sent, completed in rows:
        if sent is None or not start <= sent.astimezone(ZONE).date() <= end:
            continue
        if unit not in units or (frontline and staff != "n1-e1"):
            continue
        if (want.get("touchpoint") and point not in family[want["touchpoint"] or ""]
                or want.get("channel") and channel != want["channel"]
                or want.get("segment") and segment != want["segment"]
                or want.get("staff") and staff != want["staff"]
                or want.get("name") and name != want["name"]):
            continue
        out.append((unit, completed is not None))
    return out


def filters_for(conn, want: dict[str, str | None]) -> Filters:
    def id_of(table: sa.Table, code: str | None) -> int | None:
        return None if code is None else conn.execute(
            sa.select(table.c.id).where(table.c.code == code)).scalar_one()

    return Filters(FROM, TO, unit_id=id_of(t.org_unit, want.get("unit")),
                   touchpoint_id=id_of(t.touchpoint, want.get("touchpoint")),
                   channel=want.get("channel"), segment=want.get("segment"),
                   staff_id=id_of(t.staff, want.get("staff")),
                   attr=("name", want["name"] or "") if want.get("name") else None)


SLICES: tuple[dict[str, str | None], ...] = (
    {}, {"unit": "n1"}, {"touchpoint": "visit"}, {"channel": "email"},
    {"segment": "champions"}, {"staff": "n1-e1"}, {"name": "客户n2"},
    {"unit": "north", "channel": "email", "touchpoint": "visit_desk"},
)


def test_response_rate_counts_equal_the_invitation_table(invited):
    ctx = invited.ctx
    for want in SLICES:  # each slice holds completed and unanswered invitations
        rows = from_table(ctx, "admin@t.test", FROM, TO, **want)
        assert {completed for _, completed in rows} == {True, False}, want
    assert len(from_table(ctx, "admin@t.test", dt.date(2020, 1, 1), TO)) < COUNT  # never sent
    before = Filters(FROM, TO).previous()
    for email in ("admin@t.test", "cx@t.test", "mgr.n1@t.test", "staff.n1@t.test"):
        with ctx.db.read() as conn:
            scope = d.dashboard_scope(conn, invited.actor(email))
            for want in SLICES:
                if want.get("unit") and want["unit"] not in visible_units(email):
                    continue
                filters = filters_for(conn, want)
                now = from_table(ctx, email, FROM, TO, **want)
                then = from_table(ctx, email, before.date_from, before.date_to, **want)
                got = d.overview(conn, scope, filters, min_n=1).response_rate
                assert got is not None
                assert (got.value.n, got.previous.n) == (len(now), len(then)), (email, want)
                if now:
                    done = sum(completed for _, completed in now)
                    assert got.value.value == pytest.approx(100 * done / len(now))
                if email != "staff.n1@t.test":  # a frontline user's league is their unit
                    assert_league_rates(d.league(conn, scope, filters, min_n=1), now)


def assert_league_rates(league: d.League, rows: list[tuple[str, bool]]) -> None:
    assert league.rows
    for row in league.rows:
        subtree = {row.code} if row.own_only else SUBTREE[row.code]
        mine = [c for unit, c in rows if unit in subtree]
        assert row.values["response_rate"].n == len(mine), row.code
        assert row.values["response_rate"].value == (
            pytest.approx(100 * sum(mine) / len(mine)) if mine else None), row.code


def test_tile_and_league_export_for_a_store_manager(invited, client):
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    expected = from_table(invited.ctx, "mgr.n1@t.test", FROM, TO, channel="sms")
    page = client.get(f"/dashboard?{PERIOD}&channel=sms&lang=en")
    assert page.status_code == 200, page.text[:300]
    tile = page.text.split('id="response-rate-tile"')[1].split("</article>")[0]
    assert "Response rate" in tile and f"n = {len(expected)}" in tile
    zh = client.get(f"/dashboard?{PERIOD}&channel=sms&lang=zh-CN")
    assert "回复率" in zh.text.split('id="response-rate-tile"')[1].split("</article>")[0]

    reply = client.get(f"/dashboard/units/export.csv?{PERIOD}&channel=sms&lang=en")
    assert reply.status_code == 200
    head, *rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    rate, n = head.index("Response rate"), head.index("Invitations sent (Response rate)")
    assert rows
    for row in rows:  # under min n: the count, and no rate
        mine = [c for unit, c in expected if unit in SUBTREE[row[0]]]
        assert int(row[n]) == len(mine), row
        assert (float(row[rate]) if row[rate] else None) == (
            pytest.approx(100 * sum(mine) / len(mine), abs=1e-3)
            if len(mine) >= invited.ctx.settings.min_n else None)


def test_answer_and_aspect_slices_say_the_rate_is_not_available(invited, client):
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get(f"/dashboard?{PERIOD}&answer=nps:10&lang=en")
    assert page.status_code == 200, page.text[:300]
    tile = page.text.split('id="response-rate-tile"')[1].split("</article>")[0]
    assert "Not available when sliced by a survey answer" in tile and "%" not in tile
    for query in ("answer=nps:10", "aspect=price"):
        reply = client.get(f"/dashboard/units/export.csv?{PERIOD}&{query}&lang=en")
        head, *rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
        rate = head.index("Response rate")
        assert rows and all(row[rate] == row[rate + 1] == "" for row in rows), query
    with invited.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, invited.actor("cx@t.test"))
        for sliced, name in ((Filters(FROM, TO, answer=("nps", "10")), "answer"),
                             (Filters(FROM, TO, aspect="price"), "aspect")):
            assert d.overview(conn, scope, sliced, min_n=1).response_rate is None
            assert d.overview(conn, scope, sliced, min_n=1).rate_unavailable == name
            assert d.league(conn, scope, sliced, min_n=1).rate_unavailable == name


def test_the_counts_read_the_response_rate_index_alone(invited):
    """SQLite's plan for the counts, unsliced, sliced and for a frontline user, is a range read
    of the index that holds every filtered column (not the channel's or the customers' index).
    PostgreSQL's planner picks by table size (a sequential scan of a test's few rows), so there
    the index itself is checked."""
    ctx = invited.ctx
    columns = ["unit_id", "sent_at", "completed_at", "channel", "touchpoint_id", "staff_id",
               "customer_id"]
    with ctx.db.read() as conn:
        if conn.dialect.name != "sqlite":
            indexes = {i["name"]: i["column_names"]
                       for i in sa.inspect(conn).get_indexes("invitation")}
            assert indexes["ix_invitation_response_rate"] == columns
            return
        for email, want in (("admin@t.test", {}), ("staff.n1@t.test", {}),
                            ("cx@t.test", {"channel": "sms", "touchpoint": "visit"}),
                            ("cx@t.test", {"segment": "champions", "staff": "n1-e1"}),
                            ("mgr.n1@t.test", {"name": "客户n1"})):
            scope = d.dashboard_scope(conn, invited.actor(email))
            where = rr.invitation_where(conn, scope.vis, scope.parent_of, filters_for(conn, want))
            query = sa.select(sa.func.count(), sa.func.count(t.invitation.c.completed_at)
                              ).where(where)
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "COVERING INDEX ix_invitation_response_rate (unit_id=? AND sent_at>? AND " \
                "sent_at<?)" in plan, (email, plan)
