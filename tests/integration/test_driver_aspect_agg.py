"""Key drivers with comment aspects from driver_aspect_agg (SQLite and PostgreSQL): the pairs that
involve an aspect equal those read from the responses for every user and filter, after a
re-analysis that changes a comment's aspects, after a rebuild, and while the aggregate is stale;
the weights on the page are the same either way."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.integration.driver_fixtures import GOOD, add_comment_driver_responses, assert_same_pairs
from tests.snapshots import world_with
from tests.world import USERS
from tiyan.analytics import dashboard as d
from tiyan.analytics import drivers_view as dv
from tiyan.analytics.cube import Filters
from tiyan.services import aggregates as agg_service
from tiyan.services.jobs import run_until_idle
from tiyan.services.text_analysis import analyze_responses, reanalyze
from tiyan.store import app_settings, driver_aspect_aggregates
from tiyan.store import tables as t

COUNT = 60
PERIOD = Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
CASES = [PERIOD, Filters(dt.date(2026, 7, 20), dt.date(2026, 10, 5)),  # days, months, days
         Filters(dt.date(2026, 8, 1), dt.date(2026, 10, 31), channel="sms")]


@pytest.fixture
def commented(ctx):
    return world_with(ctx, with_comment_drivers)


def with_comment_drivers(world):
    run_until_idle(world.ctx)
    world.comment_survey = add_comment_driver_responses(world, COUNT)


def assert_aggregate_equals_the_responses(world, emails=None) -> int:
    """Every user (or those named) and filter; returns how many comparisons had aspects."""
    compared = 0
    for email in emails or [u[0] for u in USERS if u[1] != "agent"]:
        with world.ctx.db.read() as conn:
            scope = d.dashboard_scope(conn, world.actor(email))
            north = world.unit_ids["north"]
            units = [Filters(PERIOD.date_from, PERIOD.date_to, unit_id=north)] \
                if north in scope.vis.all_units else []
            for filters in [*CASES, *units]:
                got = dv.aspect_pair_sums(conn, scope, filters)
                assert_same_pairs(got, dv.value_pair_sums(conn, scope, filters, aspects=True,
                                                    repurchase=None, days=90))
                compared += bool(got)
    return compared


def weights(world, *, raw: bool) -> dict[str, float]:
    with world.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, world.actor("admin@t.test"))
        analysis = dv.key_drivers(conn, scope, PERIOD, "nps", min_n=5, aspects=True, raw=raw,
                                   per_item=5)
    assert not analysis.reads_raw and not analysis.too_few
    return {x.item: x.weight for x in analysis.drivers}


def parts(world) -> list[tuple]:
    """The aggregate's rows that hold anything (a re-analysis leaves zero rows behind); the
    values are whole numbers, so the sums are exact."""
    with world.ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.driver_aspect_agg)
                            .where(t.driver_aspect_agg.c.n != 0)).all()
    return sorted(tuple(r) for r in rows)


def test_aspect_pairs_from_the_aggregate_equal_the_responses_for_every_user_and_filter(
        commented):
    assert parts(commented)  # folded when the comments were analysed
    assert assert_aggregate_equals_the_responses(commented) > 0
    from_aggregate = weights(commented, raw=False)
    assert any(item.startswith("aspect:") for item in from_aggregate)
    assert from_aggregate == pytest.approx(weights(commented, raw=True))


def test_reanalysis_replaces_a_comments_contribution_once(commented):
    ctx = commented.ctx
    before = parts(commented)
    reanalyze(ctx, restart=True)  # the same results again: the sums must not double
    assert parts(commented) == before
    # a comment that blamed the advisor now praises them: the old balance is taken out
    a = t.answer
    with ctx.db.read() as conn:
        rid = conn.execute(
            sa.select(a.c.response_id).join(t.text_aspect, t.text_aspect.c.response_id
                                            == a.c.response_id)
            .where(a.c.question_key == "comment", t.text_aspect.c.label == "negative",
                   t.text_aspect.c.aspect_code == "advisor_attitude")
            .order_by(a.c.response_id).limit(1)).scalar_one()
    with ctx.db.write() as conn:
        conn.execute(sa.update(a).where(a.c.response_id == rid, a.c.question_key == "comment")
                     .values(value_text=GOOD[0]))
    analyze_responses(ctx, [rid])
    assert parts(commented) != before
    assert_aggregate_equals_the_responses(commented, ["admin@t.test", "staff.n1@t.test"])
    changed = parts(commented)
    agg_service.rebuild_text(ctx)
    assert parts(commented) == changed


def test_a_stale_aggregate_reads_the_responses_until_caught_up(commented):
    """The schema upgrade marks driver_aspect_agg stale where results already existed: the page
    must not read the (empty) parts, and the next catch-up rebuilds them."""
    ctx = commented.ctx
    kept = parts(commented)
    with ctx.db.write() as conn:
        conn.execute(t.driver_aspect_agg.delete())
        app_settings.put_value(conn, driver_aspect_aggregates.STALE, True, ctx.now())
    assert_aggregate_equals_the_responses(commented, ["admin@t.test"])
    agg_service.catch_up(ctx)
    with ctx.db.read() as conn:
        assert not driver_aspect_aggregates.is_stale(conn)
    assert parts(commented) == kept
