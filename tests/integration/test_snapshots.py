"""The restored fixture world is the built one: every row, the ids to come, the clock."""

import pytest
import sqlalchemy as sa

from tests.conftest import empty_all_tables
from tests.snapshots import take, world_with
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import tables as t


def with_a_day_of_jobs(world):
    run_until_idle(world.ctx)
    world.ctx.clock.advance(days=1)
    world.extra = {"added": 1}


def next_response_id(world) -> int:
    stored = do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code="n2", answers={"nps": 7}))
    with world.ctx.db.read() as conn:
        return conn.execute(sa.select(t.response.c.id)
                            .where(t.response.c.public_id == stored.public_id)).scalar_one()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_restored_world_holds_the_same_rows_ids_and_time(ctx):
    built = world_with(ctx, with_a_day_of_jobs)
    rows, now = take(ctx.db).rows, ctx.now()
    built.extra["added"] = 2  # a test changing its world changes no later test's
    following = next_response_id(built)

    empty_all_tables(ctx.db)
    ctx.clock.advance(days=30)
    restored = world_with(ctx, with_a_day_of_jobs)
    assert restored.ctx is ctx and restored.extra == {"added": 1}
    assert (restored.response_ids, restored.tokens) == (built.response_ids, built.tokens)
    assert take(ctx.db).rows == rows and ctx.now() == now
    assert sum(map(len, rows.values())) > 50
    assert next_response_id(restored) == following
