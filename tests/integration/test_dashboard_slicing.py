"""Dashboards sliced by customer segment and by staff, and the overview trend by day, ISO week,
month and quarter (SQLite and PostgreSQL).

Sliced figures are compared with counts taken straight from the tables (worked out from the
fixture world's scopes, not from the code's), for every user; the trend grains built from the
aggregates are compared with the same trend read from the responses, and with buckets counted in
Python from the submission times in the business time zone.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.snapshots import world_with
from tests.world import PASSWORD, USERS, visible_units
from tiyan.analytics import dashboard as d
from tiyan.analytics.cube import Filters, from_aggregates, raw_where, sums
from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role, Visibility
from tiyan.services.aggregates import catch_up
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import app_settings, segment_aggregates
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE, _answers_select
from tiyan.store.scoped import parent_map

ZONE = ZoneInfo(BUSINESS_TIMEZONE)
SEGMENTS = {"n1": "champions", "n2": "at_risk"}  # s1's customer has no segment
PLACES = (("n1-as", "n1-e1", "n1"), ("n1-as", "n1-e2", "n1"), ("n2", "n2-e1", "n2"),
          ("s1", "s1-e1", "s1"), ("north", None, "n2"))
COUNT = 60
FROM, TO = dt.date(2026, 1, 1), dt.date(2026, 11, 30)
PERIOD = f"from={FROM}&to={TO}"


@pytest.fixture
def spread(ctx):
    return world_with(ctx, add_spread)


def add_spread(world):
    """COUNT more responses over ~10 months, some at the edge of a local day (UTC 16:00-16:59 is
    00:00-00:59 the next day in China), most from a customer of the store."""
    ctx = world.ctx
    with ctx.db.write() as conn:
        for store, segment in SEGMENTS.items():
            conn.execute(sa.update(t.customer).where(
                t.customer.c.public_id == world.customer_ids[store]).values(segment=segment))
    admin = world.actor("admin@t.test")
    for k in range(COUNT):
        unit, staff, store = PLACES[k % len(PLACES)]
        when = dt.datetime(2026, 11, 19, 16, 30, tzinfo=dt.UTC) - dt.timedelta(
            days=5 * k, hours=(k % 4) * 7)
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=unit, staff_code=staff,
            customer_id=world.customer_ids[store] if k % 3 else None,
            channel=("api", "sms")[k % 2], answers={"nps": k % 11, "overall": k % 5 + 1},
            submitted_at=when))
    run_until_idle(ctx)


def role_of(email: str) -> Role:
    return Role(next(u[1] for u in USERS if u[0] == email))


def from_tables(ctx, email: str, *, segment: str | None = None,
                staff: str | None = None) -> list[tuple[str | None, int | None, dt.datetime]]:
    """(staff code, nps, submitted_at) of the responses the user may see in the period, straight
    from the tables: units from the fixture tree, frontline users only their own."""
    r, u, s, c, a = t.response, t.org_unit, t.staff, t.customer, t.answer
    low = dt.datetime.combine(FROM, dt.time(), ZONE)
    high = dt.datetime.combine(TO + dt.timedelta(days=1), dt.time(), ZONE)
    nps = (sa.select(a.c.value_num).where(a.c.response_id == r.c.id, a.c.item_code == "nps")
           .scalar_subquery())
    query = (sa.select(u.c.code, s.c.code, c.c.segment, nps, r.c.submitted_at)
             .select_from(r.join(u, u.c.id == r.c.unit_id).outerjoin(s, s.c.id == r.c.staff_id)
                          .outerjoin(c, c.c.id == r.c.customer_id))
             .where(r.c.submitted_at >= low, r.c.submitted_at < high))
    units = visible_units(email)
    frontline = role_of(email) == Role.FRONTLINE
    with ctx.db.read() as conn:
        rows = conn.execute(query).all()
    return [(code, None if value is None else int(value), when)
            for unit, code, seg, value, when in rows
            if unit in units and (not frontline or code == "n1-e1")
            and (segment is None or seg == segment) and (staff is None or code == staff)]


def csv_rows(reply) -> list[list[str]]:
    assert reply.status_code == 200, reply.text[:300]
    return list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("email", [u[0] for u in USERS])
def test_sliced_pages_and_exports_equal_counts_from_the_tables(spread, client, email):
    sign_in(client, email, PASSWORD)
    can_export = Permission.EXPORT in ROLE_PERMISSIONS[role_of(email)]
    for query in ("segment=champions", "segment=at_risk", "staff=n1-e1",
                  "segment=champions&staff=n1-e2"):
        params = dict(p.split("=") for p in query.split("&"))
        if "staff" in params and params["staff"] != "n1-e1" and \
                role_of(email) == Role.FRONTLINE:
            continue
        staff_unit = {"n1-e1": "n1-as", "n1-e2": "n1-as"}.get(params.get("staff", ""))
        outside = staff_unit is not None and staff_unit not in visible_units(email)
        for path in ("/dashboard", "/dashboard/units", "/dashboard/journey",
                     "/dashboard/drivers", "/dashboard/staff", "/dashboard/text",
                     "/dashboard/competitors"):
            page = client.get(f"{path}?{PERIOD}&{query}&lang=en")
            if outside:
                assert page.status_code == 404, (path, query)  # as if there were none
                continue
            assert page.status_code == 200, (path, query, page.text[:300])
            assert 'id="dash-sliced"' in page.text
            for name, value in params.items():  # kept in the links of the tabs
                assert f"{name}={value}" in page.text.split('class="dash-tabs"')[1]
        if outside or not can_export:
            continue
        expected = from_tables(spread.ctx, email, segment=params.get("segment"),
                               staff=params.get("staff"))
        assert expected or email != "admin@t.test", query  # every slice holds responses
        overview = csv_rows(client.get(f"/dashboard/overview/export.csv?{PERIOD}&{query}"))
        assert sum(int(row[1]) for row in overview[1:]) == len(expected), query
        league = csv_rows(client.get(f"/dashboard/units/export.csv?{PERIOD}&{query}"))
        if role_of(email) != Role.FRONTLINE:  # a frontline user's league is their own unit
            assert sum(int(row[2]) for row in league[1:]) == len(expected), query
        staff = csv_rows(client.get(f"/dashboard/staff/export.csv?{PERIOD}&{query}&kpi=nps"))
        per_staff = Counter(code for code, value, _ in expected
                            if code is not None and value is not None)
        assert {row[0]: int(row[4]) for row in staff[1:]} == dict(per_staff), query


def test_sliced_overview_figures_equal_the_tables(spread):
    ctx = spread.ctx
    for email in ("admin@t.test", "cx@t.test", "staff.n1@t.test"):
        with ctx.db.read() as conn:
            scope = d.dashboard_scope(conn, spread.actor(email))
            for segment, staff_code in (("champions", None), ("at_risk", None),
                                        (None, "n1-e1"), ("champions", "n1-e1")):
                staff_id = None if staff_code is None else conn.execute(
                    sa.select(t.staff.c.id).where(t.staff.c.code == staff_code)).scalar_one()
                filters = Filters(FROM, TO, segment=segment, staff_id=staff_id)
                got = d.overview(conn, scope, filters, min_n=1)
                rows = from_tables(ctx, email, segment=segment, staff=staff_code)
                assert got.responses == len(rows), (email, segment, staff_code)
                answered = [v for _, v, _ in rows if v is not None]
                nps = next((k for k in got.kpis if k.kpi == "nps"), None)
                if not answered:
                    assert nps is None or nps.value.n == 0
                    continue
                promoters = sum(v >= 9 for v in answered)
                detractors = sum(v <= 6 for v in answered)
                assert nps is not None and nps.value.n == len(answered)
                assert nps.value.value == pytest.approx(
                    100 * (promoters - detractors) / len(answered))


def test_slicing_errors_name_the_filter(spread, client):
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    bad = client.get("/dashboard?segment=martians")
    assert bad.status_code == 422
    assert "segment" in bad.text and "champions" in bad.text and "at_risk" in bad.text
    assert client.get("/dashboard/units/export.csv?segment=martians").status_code == 422
    nobody = client.get("/dashboard/staff?staff=nobody")
    assert nobody.status_code == 404 and "staff" in nobody.text
    # works in north: reads exactly as a staff member who does not exist
    assert client.get("/dashboard?staff=n1-e1").status_code == 404
    assert client.get("/dashboard/text/export.csv?staff=n1-e1").status_code == 404
    assert client.get("/dashboard?staff=s1-e1").status_code == 200
    grain = client.get("/dashboard?grain=year")
    assert grain.status_code == 422 and "grain" in grain.text
    long = client.get("/dashboard?grain=day&from=2024-01-01&to=2026-11-30")
    assert long.status_code == 422 and "grain" in long.text


def reference_vis(vis: Visibility) -> Visibility:
    """The same scope forced onto the responses (a staff row that matches nothing)."""
    return Visibility(vis.unit_ids, (*vis.staff_rows, (frozenset({-1}), -1)))


def pages(conn, scope: d.Scope, filters: Filters) -> list[object]:
    """The overview with its month and day trends, and the sums behind the league (by unit) and
    the journey (by touchpoint, every item)."""
    items = [i for (i,) in conn.execute(sa.select(t.answer.c.item_code).distinct())
             if i is not None]
    return [d.overview(conn, scope, filters, min_n=1),
            d.trend(conn, scope, filters, min_n=1, grain="day"),
            *[sums(conn, scope.vis, scope.parent_of, filters, by, [*items, ""])
              for by in (["unit_id"], ["touchpoint_id"], ["month", "channel"])]]


SEGMENT_VIEWS = (Filters(FROM, TO), Filters(dt.date(2026, 8, 13), dt.date(2026, 11, 19)),
                 Filters(FROM, TO, channel="sms"))


def assert_segment_sums_equal_the_responses(world, segments=("champions", "at_risk", "loyal")):
    """For the whole company and one region, every segment and view: the pages read from
    segment_agg equal the same pages read from the responses."""
    for email in ("admin@t.test", "cx@t.test"):
        with world.ctx.db.read() as conn:
            scope = d.dashboard_scope(conn, world.actor(email))
            raw = d.Scope(reference_vis(scope.vis), scope.parent_of)
            for segment in segments:
                for view in SEGMENT_VIEWS:
                    filters = dataclasses.replace(view, segment=segment)
                    assert from_aggregates(conn, scope.vis, filters)
                    for got, want in zip(pages(conn, scope, filters),
                                         pages(conn, raw, filters), strict=True):
                        assert got == want, (email, segment, view)


def test_segment_slices_read_from_segment_agg_equal_the_responses(spread):
    assert_segment_sums_equal_the_responses(spread)
    with spread.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, spread.actor("admin@t.test"))
        champions = d.overview(conn, scope, Filters(FROM, TO, segment="champions"), min_n=1)
    assert champions.responses == len(from_tables(spread.ctx, "admin@t.test",
                                                  segment="champions")) > 0


def test_segment_sums_follow_customers_that_change_segment(spread):
    """Customers move (one to a new segment, one out of any, one into one) after their
    responses were folded, then more responses arrive: the sums still equal the responses, and
    equal a rebuild from scratch."""
    ctx = spread.ctx
    with ctx.db.write() as conn:
        ids = dict(conn.execute(sa.select(t.customer.c.public_id, t.customer.c.id)).all())
        segment_aggregates.set_segments(conn, [
            {"cid": ids[spread.customer_ids["n1"]], "seg": "loyal"},
            {"cid": ids[spread.customer_ids["n2"]], "seg": None},
            {"cid": ids[spread.customer_ids["s1"]], "seg": "champions"}])
    admin = spread.actor("admin@t.test")
    for k in range(6):
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=spread.survey_id, unit_code=("n1-as", "s1")[k % 2],
            customer_id=spread.customer_ids[("n1", "s1")[k % 2]], channel="sms",
            answers={"nps": k + 4, "overall": 4}, submitted_at=dt.datetime(
                2026, 10, 2 + k, 3, tzinfo=dt.UTC)))
    run_until_idle(ctx)
    assert_segment_sums_equal_the_responses(spread)
    assert from_tables(ctx, "admin@t.test", segment="loyal")
    kept = agg_rows(ctx)
    segment_aggregates.rebuild(ctx.db, ctx.now)
    assert agg_rows(ctx) == kept


def agg_rows(ctx) -> set[tuple[object, ...]]:
    g = t.segment_agg
    with ctx.db.read() as conn:
        return {tuple(row) for row in conn.execute(sa.select(g).where(g.c.n != 0))}


def test_stale_segment_sums_read_the_responses_until_caught_up(spread):
    """A database upgraded with responses already folded has no segment sums yet: segment
    slices read the responses until the catch-up rebuilds them."""
    ctx = spread.ctx
    with ctx.db.write() as conn:
        conn.execute(t.segment_agg.delete())
        app_settings.put_value(conn, segment_aggregates.STALE, True, ctx.now())
    filters = Filters(FROM, TO, segment="champions")
    expected = len(from_tables(ctx, "admin@t.test", segment="champions"))
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, spread.actor("admin@t.test"))
        assert not from_aggregates(conn, scope.vis, filters)
        assert d.overview(conn, scope, filters, min_n=1).responses == expected
    catch_up(ctx)
    with ctx.db.read() as conn:
        assert from_aggregates(conn, scope.vis, filters)
        assert d.overview(conn, scope, filters, min_n=1).responses == expected


def test_staff_slice_reads_the_responses_through_the_staff_and_time_index(spread):
    """SQLite's plan for a staff member's period goes through (staff_id, submitted_at), not
    through every response of the period by time. PostgreSQL's planner picks by table size
    (a sequential scan of a test's few rows), so there the index itself is checked."""
    ctx = spread.ctx
    with ctx.db.read() as conn:
        if conn.dialect.name != "sqlite":
            indexes = {i["name"]: i["column_names"]
                       for i in sa.inspect(conn).get_indexes("response")}
            assert indexes["ix_response_staff_submitted"] == ["staff_id", "submitted_at"]
            return
        scope = d.dashboard_scope(conn, spread.actor("admin@t.test"))
        staff_id = conn.execute(sa.select(t.staff.c.id).where(t.staff.c.code == "n1-e1")
                                ).scalar_one()
        filters = Filters(FROM, TO, staff_id=staff_id)
        assert not from_aggregates(conn, scope.vis, filters)
        where = raw_where(scope.vis, scope.parent_of, filters, BUSINESS_TIMEZONE)
        query = _answers_select("sqlite", "d", where, BUSINESS_TIMEZONE)
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_response_staff_submitted (staff_id=? AND submitted_at>? AND submitted_at<?)" \
        in plan, plan


@pytest.mark.parametrize("grain", d.GRAINS)
def test_trend_grains_equal_the_responses(spread, grain):
    ctx = spread.ctx
    ranges = [(dt.date(2026, 6, 1), dt.date(2026, 11, 30)),  # whole months
              (dt.date(2026, 8, 13), dt.date(2026, 11, 19))]  # partial months at both ends
    for email in ("admin@t.test", "cx@t.test"):
        with ctx.db.read() as conn:
            scope = d.dashboard_scope(conn, spread.actor(email))
            raw = d.Scope(reference_vis(scope.vis), parent_map(conn))
            for start, end in ranges:
                for filters in (Filters(start, end), Filters(start, end, channel="sms")):
                    got = d.trend(conn, scope, filters, min_n=1, grain=grain)
                    want = d.trend(conn, raw, filters, min_n=1, grain=grain)
                    assert got == want
                    assert got[-1].start == d.bucket_start(end, grain)
                    assert got[0].start <= start
    # buckets counted in Python from the submission times, in the business time zone
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, spread.actor("admin@t.test"))
        filters = Filters(dt.date(2026, 8, 13), dt.date(2026, 11, 19))
        got = d.trend(conn, scope, filters, min_n=1, grain=grain)
        times = [when for (when,) in conn.execute(sa.select(t.response.c.submitted_at))]
    first, end = d.trend_window(filters, grain)
    counted = Counter(d.bucket_start(day, grain) for day in (
        when.astimezone(ZONE).date() for when in times) if first <= day <= end)
    assert {p.start: p.responses for p in got if p.responses} == dict(counted)
    assert sum(counted.values()) > 0


def test_week_and_quarter_labels_and_bounds():
    monday_local = dt.date(2026, 11, 16)
    assert d.bucket_start(dt.date(2026, 11, 22), "week") == monday_local  # a Sunday
    assert d.bucket_label(monday_local, "week") == "2026-W47"
    assert d.bucket_label(dt.date(2025, 12, 29), "week") == "2026-W01"  # ISO year
    assert d.bucket_start(dt.date(2026, 11, 20), "quarter") == dt.date(2026, 10, 1)
    assert d.bucket_label(dt.date(2026, 10, 1), "quarter") == "2026-Q4"
    assert d.bucket_after(dt.date(2026, 10, 1), "quarter") == dt.date(2027, 1, 1)
    window = d.trend_window(Filters(dt.date(2026, 11, 1), dt.date(2026, 11, 30)), "quarter")
    assert window == (dt.date(2026, 1, 1), dt.date(2026, 11, 30))  # at least 4 quarters
