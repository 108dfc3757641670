"""The staff aggregate (staff_agg) gives the scorecards exactly what the responses give, for every
user of the fixture world, with filters, after a rebuild, and while it is marked stale
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.integration.driver_fixtures import add_driver_responses
from tests.world import USERS
from tiyan.analytics import dashboard as d
from tiyan.analytics import staff_view as sv
from tiyan.analytics.cube import Filters
from tiyan.services import aggregates as agg_service
from tiyan.services.jobs import run_until_idle
from tiyan.store import app_settings, staff_aggregates
from tiyan.store import tables as t

YEAR = Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))


@pytest.fixture
def ready(world):
    run_until_idle(world.ctx)
    add_driver_responses(world, 60)
    return world


def both_ways(conn, scope, filters, kpi):
    got = sorted(sv._per_staff_from_aggregates(conn, scope, filters, kpi), key=lambda s: s.id)
    want = sorted(sv._per_staff_from_responses(conn, scope, filters, kpi, "Asia/Shanghai"),
                  key=lambda s: s.id)
    return got, want


def test_staff_sums_equal_the_responses_for_every_user_and_filter(ready):
    """One world for all the comparisons (building it is what costs)."""
    with ready.ctx.db.read() as conn:
        for email in [u[0] for u in USERS]:
            scope = d.dashboard_scope(conn, ready.actor(email))
            assert sv.from_aggregates(conn, scope, YEAR) == (not scope.vis.staff_rows)
            for kpi in sv.KPIS:
                got, want = both_ways(conn, scope, YEAR, kpi)
                assert scope.vis.staff_rows or got == want, email
        scope = d.dashboard_scope(conn, ready.actor("admin@t.test"))
        staff_id = conn.execute(sa.select(t.response.c.staff_id).where(
            t.response.c.staff_id.is_not(None)).limit(1)).scalar_one()
        touchpoint = conn.execute(sa.select(t.response.c.touchpoint_id).where(
            t.response.c.touchpoint_id.is_not(None)).limit(1)).scalar()
        cases = [
            Filters(dt.date(2026, 10, 15), dt.date(2026, 12, 3)),  # days + months + days
            Filters(dt.date(2026, 11, 20), dt.date(2026, 11, 20)),
            Filters(YEAR.date_from, YEAR.date_to, unit_id=ready.unit_ids["north"]),
            Filters(YEAR.date_from, YEAR.date_to, channel="api"),
            Filters(YEAR.date_from, YEAR.date_to, staff_id=staff_id),
            Filters(YEAR.date_from, YEAR.date_to, touchpoint_id=touchpoint),
        ]
        for filters in cases:
            for kpi in sv.KPIS:
                got, want = both_ways(conn, scope, filters, kpi)
                assert got == want, filters
        assert any(both_ways(conn, scope, YEAR, kpi)[0] for kpi in sv.KPIS)

    ctx = ready.ctx  # a rebuild changes nothing; a stale aggregate is not read

    def rows():
        with ctx.db.read() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.select(t.staff_agg)))

    before = rows()
    assert before
    agg_service.rebuild(ctx)
    assert rows() == before
    with ctx.db.write() as conn:
        app_settings.put_value(conn, staff_aggregates.STALE, True, ctx.now())
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, ready.actor("admin@t.test"))
        assert not sv.from_aggregates(conn, scope, YEAR)
    staff_aggregates.rebuild(ctx.db, ctx.now, chunk=7)
    assert rows() == before
    with ctx.db.read() as conn:
        assert not staff_aggregates.is_stale(conn)
