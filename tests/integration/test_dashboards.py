"""Dashboard aggregates and the data behind the dashboards (SQLite and PostgreSQL).

The aggregates must give exactly what the responses give: the reference is the same query run
on the responses themselves (the path frontline users take), compared for every user of the
fixture world, with filters, and after bulk rebuilds and repeated jobs.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from tests.snapshots import world_with
from tests.world import RESPONSES, USERS, visible_units
from tiyan.analytics import cube
from tiyan.analytics import dashboard as d
from tiyan.domain.access import Permission, Visibility
from tiyan.services import aggregates as agg_service
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import aggregates
from tiyan.store import tables as t
from tiyan.store.migrate import alembic_config, upgrade
from tiyan.store.scoped import parent_map

DASHBOARD_USERS = [u[0] for u in USERS]
YEAR = cube.Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
ITEMS = ["", "nps", "csat"]


def reference(conn, vis: Visibility, filters, by):
    """The same sums read from the responses (a staff row that matches nothing forces it)."""
    forced = Visibility(vis.unit_ids, (*vis.staff_rows, (frozenset({-1}), -1)))
    return cube.sums(conn, forced, parent_map(conn), filters, by, ITEMS)


def table_rows(ctx):
    with ctx.db.read() as conn:
        return [sorted(tuple(r) for r in conn.execute(sa.select(table)))
                for table in (t.score_agg, t.unit_day_agg)]


@pytest.fixture
def folded(ctx):
    return world_with(ctx, with_jobs_run)


def with_jobs_run(world):
    run_until_idle(world.ctx)


@pytest.mark.parametrize("email", DASHBOARD_USERS)
def test_aggregates_equal_the_responses_for_every_user(folded, email):
    actor = folded.actor(email)
    vis = actor.scope.visibility(Permission.VIEW_DASHBOARD)
    with folded.ctx.db.read() as conn:
        for by in ([], ["month"], ["day"], ["unit_id"], ["month", "unit_id", "channel"]):
            got = cube.sums(conn, vis, parent_map(conn), YEAR, by, ITEMS)
            assert got == reference(conn, vis, YEAR, by)


def test_filters_and_partial_months_match_the_responses(folded):
    vis = folded.actor("admin@t.test").scope.visibility(Permission.VIEW_DASHBOARD)
    north = folded.unit_ids["north"]
    cases = [
        cube.Filters(dt.date(2026, 11, 20), dt.date(2026, 11, 20)),  # one day
        cube.Filters(dt.date(2026, 10, 15), dt.date(2026, 12, 3)),  # days + month + days
        cube.Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31), unit_id=north),
        cube.Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31), channel="api"),
        cube.Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31), channel="sms"),
    ]
    with folded.ctx.db.read() as conn:
        for filters in cases:
            for by in (["unit_id"], ["day"], []):
                got = cube.sums(conn, vis, parent_map(conn), filters, by, ITEMS)
                assert got == reference(conn, vis, filters, by)
        north_total = cube.total_by_item(cube.sums(conn, vis, parent_map(conn), cases[2], [],
                                                   ITEMS))
    assert north_total[""].n == sum(1 for unit, *_ in RESPONSES if unit in visible_units(
        "cx@t.test"))


def test_a_job_run_twice_and_a_rebuild_change_nothing(folded):
    ctx = folded.ctx
    before = table_rows(ctx)
    assert before
    with ctx.db.read() as conn:
        ids = [i for (i,) in conn.execute(sa.select(t.response.c.id))]
    with ctx.db.write() as conn:
        assert aggregates.fold_responses(conn, ids, ctx.db.immutable_cache) == 0
    assert table_rows(ctx) == before
    assert agg_service.rebuild(ctx) == len(ids)
    assert table_rows(ctx) == before
    with ctx.db.write() as conn:  # after a bulk fold the jobs of those responses add nothing
        assert aggregates.fold_responses(conn, ids, ctx.db.immutable_cache) == 0
    assert table_rows(ctx) == before


def test_the_schema_upgrade_fills_the_unit_day_sums_from_the_day_rows(folded):
    ctx = folded.ctx
    before = table_rows(ctx)[1]
    assert before
    command.downgrade(alembic_config(ctx.db), "0012")
    upgrade(ctx.db)
    assert table_rows(ctx)[1] == before


def test_a_new_response_shows_on_the_overview_once_its_job_ran(folded):
    ctx = folded.ctx
    actor = folded.actor("admin@t.test")
    filters = d.default_filters(dt.date(2026, 11, 20))

    def responses() -> int:
        with ctx.db.read() as conn:
            return d.overview(conn, d.dashboard_scope(conn, actor), filters, min_n=1).responses

    assert responses() == len(RESPONSES)
    do_submit_response(ctx, actor, ResponseRequest(
        survey_id=folded.survey_id, unit_code="s1", answers={"nps": 10, "overall": 5}))
    run_until_idle(ctx)
    assert responses() == len(RESPONSES) + 1


def test_overview_league_and_targets_for_a_regional_manager(folded):
    ctx = folded.ctx
    actor = folded.actor("cx@t.test")
    filters = d.default_filters(dt.date(2026, 11, 20))
    with ctx.db.write() as conn:
        conn.execute(t.kpi_target.insert().values(
            kpi="nps", unit_id=folded.unit_ids["north"], period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31), target=20.0))
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = d.overview(conn, scope, filters, min_n=1)
        table = d.league(conn, scope, filters, min_n=1)
    nps = next(k for k in view.kpis if k.kpi == "nps")
    # north: 10, 9, 3, 8, 6 -> 2 promoters, 2 detractors of 5
    assert (nps.value.value, nps.value.n) == (0.0, 5)
    [year] = nps.targets  # the year's target against the year so far (through the range's end)
    assert (year.actual.value, year.actual.n, year.target, year.gap, year.label,
            year.partial) == (0.0, 5, 20.0, -20.0, "2026", True)
    assert view.responses == 5
    assert table.parent is not None and table.parent.code == "north"
    assert {r.code: r.responses for r in table.rows} == {"n1": 3, "n2": 2}
    n1 = next(r for r in table.rows if r.code == "n1")
    assert n1.values["nps"].value == pytest.approx(100 / 3)  # 10, 9, 3
    assert n1.has_children


def test_league_drill_down_and_scope(folded):
    ctx = folded.ctx
    filters = d.default_filters(dt.date(2026, 11, 20))
    with ctx.db.read() as conn:
        manager = d.dashboard_scope(conn, folded.actor("mgr.s1@t.test"))
        rows = d.league(conn, manager, filters, min_n=1).rows
        admin = d.dashboard_scope(conn, folded.actor("admin@t.test"))
        drill = cube.Filters(filters.date_from, filters.date_to, unit_id=folded.unit_ids["n1"])
        n1_rows = d.league(conn, admin, drill, min_n=1).rows
    # s1 has no child units: one row with its own responses
    assert [(r.code, r.own_only, r.responses) for r in rows] == [("s1", True, 2)]
    assert {r.code for r in n1_rows} == {"n1-as"}


def test_frontline_sees_only_their_own_responses(folded):
    ctx = folded.ctx
    filters = d.default_filters(dt.date(2026, 11, 20))
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, folded.actor("staff.n1@t.test"))
        view = d.overview(conn, scope, filters, min_n=1)
    assert view.responses == sum(1 for _, staff, *_ in RESPONSES if staff == "n1-e1")


def test_journey_marks_peak_end_and_the_step_that_drags(ctx):
    from tiyan.analytics import journey_view as jv
    from tiyan.domain.metrics import ClusterSums, proportion

    def step(i, top, n):
        return jv.Step(i, f"s{i}", "", "", 0, n, proportion(top, n, min_n=1), None, 0, 0)

    steps = [step(1, 90, 100), step(2, 20, 100), step(3, 180, 300), step(4, 0, 0)]
    marked = jv.mark_peak_end(steps, ClusterSums(answers=500, top=290))
    assert [s.code for s in marked if s.best] == ["s1"]
    assert [s.code for s in marked if s.worst] == ["s2"]
    assert [s.code for s in marked if s.end] == ["s3"]
    assert [s.code for s in marked if s.drags_most] == ["s2"]
