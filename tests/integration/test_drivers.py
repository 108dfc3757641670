"""Key drivers from item-pair sums (SQLite and PostgreSQL): the aggregate gives exactly what the
responses give, for every user and filter; the weights and correlations match a computation on
the raw answers; rebuilds and repeated jobs change nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import sqlalchemy as sa

from tests.integration.driver_fixtures import ITEMS, add_driver_responses, assert_same_pairs
from tests.snapshots import world_with
from tests.world import USERS
from tiyan.analytics import dashboard as d
from tiyan.analytics import drivers_view as dv
from tiyan.analytics.cube import Filters
from tiyan.domain.drivers import correlations_from_rows, johnson_weights
from tiyan.services import aggregates as agg_service
from tiyan.services.jobs import run_until_idle
from tiyan.store import tables as t

COUNT = 60
PERIOD = Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))


@pytest.fixture
def driven(ctx):
    return world_with(ctx, with_driver_survey)


def with_driver_survey(world):
    run_until_idle(world.ctx)
    world.driver_survey = add_driver_responses(world, COUNT)


def test_pair_sums_equal_the_responses_for_every_user_and_filter(driven):
    north = driven.unit_ids["north"]
    cases = [PERIOD, Filters(dt.date(2026, 9, 20), dt.date(2026, 11, 5)),  # days, month, days
             Filters(dt.date(2026, 10, 1), dt.date(2026, 10, 31), channel="sms"),
             Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31), unit_id=north)]
    for email in [u[0] for u in USERS if u[1] != "agent"]:
        actor = driven.actor(email)
        with driven.ctx.db.read() as conn:
            scope = d.dashboard_scope(conn, actor)
            for filters in cases:
                if filters.unit_id is not None and filters.unit_id not in scope.vis.all_units:
                    continue
                assert_same_pairs(dv.pair_sums(conn, scope, filters),
                             dv.pair_sums(conn, scope, filters, raw=True))
    check_frontline_reads_only_their_own_pairs(driven)
    check_rebuild_and_repeated_jobs(driven)


def raw_matrix(ctx, survey_id):
    a, r = t.answer, t.response
    rows: dict[int, dict[str, float]] = {}
    with ctx.db.read() as conn:
        for rid, item, value in conn.execute(
                sa.select(a.c.response_id, a.c.item_code, a.c.value_num)
                .join(r, r.c.id == a.c.response_id)
                .where(r.c.survey_id == survey_id, a.c.value_num.is_not(None))):
            rows.setdefault(rid, {})[item] = float(value)
    return list(rows.values())


def test_weights_match_a_computation_on_the_raw_answers(driven):
    actor = driven.actor("admin@t.test")
    with driven.ctx.db.read() as conn:
        analysis = dv.key_drivers(conn, d.dashboard_scope(conn, actor), PERIOD, "nps", min_n=5)
    assert not analysis.too_few and analysis.outcomes == ["nps", "csat"]
    assert [x.item for x in analysis.drivers] == ["sat_quality", "sat_speed", "sat_price"]
    # the reference: complete cases only (every item answered) have the same pairwise bases
    # for quality and speed; on those two items the pairwise and complete-case models agree
    records = raw_matrix(driven.ctx, driven.driver_survey)
    both = [rec for rec in records if "sat_quality" in rec and "sat_speed" in rec]
    corr = correlations_from_rows([[rec["sat_quality"], rec["sat_speed"]] for rec in both],
                                  [rec["nps"] for rec in both], ["sat_quality", "sat_speed"])
    want = johnson_weights(corr)
    pairs = {}
    with driven.ctx.db.read() as conn:
        pairs = dv.pair_sums(conn, d.dashboard_scope(conn, actor), PERIOD)
    two = {k: v for k, v in pairs.items() if set(k) <= {"sat_quality", "sat_speed", "nps"}}
    got = dv.analyse(two, "nps", min_n=5)
    assert got.r_squared == pytest.approx(want.r_squared, abs=1e-9)
    assert {x.item: x.weight for x in got.drivers} == pytest.approx(want.by_predictor())
    assert sum(x.share for x in analysis.drivers) == pytest.approx(100.0)
    # performance: the share of 4s and 5s, from the raw answers
    quality = [rec["sat_quality"] for rec in records]
    top = next(x for x in analysis.drivers if x.item == "sat_quality")
    assert top.performance == pytest.approx(100 * sum(v >= 4 for v in quality) / len(quality))
    assert {x.quadrant for x in analysis.drivers} <= {"fix_first", "keep_up",
                                                       "over_invested", "low_priority"}
    # price was skipped by every sixth respondent: its base is smaller
    price = next(x for x in analysis.drivers if x.item == "sat_price")
    assert price.n == sum("sat_price" in rec for rec in records) < len(records)
    assert set(ITEMS) == {x.item for x in analysis.drivers}
    check_min_n_and_unknown_outcome(driven)


def check_min_n_and_unknown_outcome(driven):
    actor = driven.actor("admin@t.test")
    with driven.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        few = dv.key_drivers(conn, scope, PERIOD, "csat", min_n=1000)
        assert few.too_few and few.drivers == [] and few.n > 0
        assert {item for item, _ in few.left_out} == set(ITEMS)
        with pytest.raises(Exception, match="outcome"):
            dv.key_drivers(conn, scope, PERIOD, "churn", min_n=5)


def check_rebuild_and_repeated_jobs(driven):
    ctx = driven.ctx

    def rows():
        with ctx.db.read() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.select(t.driver_agg)))

    before = rows()
    assert before
    agg_service.rebuild(ctx)
    assert rows() == before
    from tiyan.store import aggregates

    with ctx.db.write() as conn:
        ids = [i for (i,) in conn.execute(sa.select(t.response.c.id))]
        assert aggregates.fold_responses(conn, ids, ctx.db.immutable_cache) == 0
    assert rows() == before


def check_frontline_reads_only_their_own_pairs(driven):
    actor = driven.actor("staff.n1@t.test")
    with driven.ctx.db.read() as conn:
        pairs = dv.pair_sums(conn, d.dashboard_scope(conn, actor), PERIOD)
    own = [rec for rec in range(COUNT) if rec % 5 == 0]  # PLACES[0] is n1-e1
    assert pairs[("sat_quality", "sat_quality")].n == len(own)
    assert np.isfinite(pairs[("nps", "sat_quality")].sum_ab)


def test_a_database_aggregated_before_the_pair_sums_reads_the_answers_until_caught_up(driven):
    """The schema upgrade marks driver_agg stale where score_agg already held rows: the page must
    not read the (empty) pair sums, and the next catch-up folds everything again."""
    from tiyan.store import app_settings, driver_aggregates

    ctx = driven.ctx
    with ctx.db.write() as conn:
        conn.execute(t.driver_agg.delete())
        app_settings.put_value(conn, driver_aggregates.STALE, True, ctx.now())
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, driven.actor("admin@t.test"))
        stale = dv.pair_sums(conn, scope, PERIOD)
        assert_same_pairs(stale, dv.pair_sums(conn, scope, PERIOD, raw=True))
    agg_service.catch_up(ctx)
    with ctx.db.read() as conn:
        assert not driver_aggregates.is_stale(conn)
        assert conn.execute(sa.select(sa.func.count()).select_from(t.driver_agg)).scalar_one()
        assert_same_pairs(dv.pair_sums(conn, scope, PERIOD), stale)
