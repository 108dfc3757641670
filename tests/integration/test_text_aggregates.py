"""Text aggregates equal the analyses they sum (SQLite and PostgreSQL).

The reference is the same page computed from the analyses joined to their responses (the path
frontline users and a stale aggregate take): the text insights and the journey's sentiment are
compared for every dashboard user, with filters and partial months, after comments are analysed
on arrival, after a comment is analysed again with different results, and after a rebuild.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from tests.snapshots import world_with
from tests.world import USERS
from tiyan.analytics import dashboard as d
from tiyan.analytics import journey_view as jv
from tiyan.analytics.cube import Filters
from tiyan.analytics.insights import text_insights
from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role
from tiyan.services import aggregates as agg_service
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.services.text_analysis import analyze_responses
from tiyan.store import app_settings
from tiyan.store import tables as t
from tiyan.store.migrate import alembic_config, upgrade
from tiyan.store.text_aggregates import STALE

COMMENTS = (  # unit, staff, channel, touchpoint, comment, days before now
    ("n1-as", "n1-e1", "sms", "visit", "服务顾问态度很差，等了三个小时才修好", 1),
    ("n1-as", "n1-e2", "email", "wait", "维修质量太差，价格还贵", 2),
    ("n2", "n2-e1", "sms", "pay", "师傅技术不错，服务顾问很热情", 3),
    ("n2", "n2-e1", "email", None, "等了太久，休息区也很吵", 20),
    ("s1", "s1-e1", "sms", "wait", "价格太贵，收费不透明，态度恶劣", 5),
    ("s1", "s1-e1", "email", "pay", "洗车洗得很干净，服务很好", 33),
    ("s1", "s1-e1", "sms", "visit", "等了两个小时没人管", 40),
    ("n1", None, "sms", "visit", "The advisor was rude and the price was too high", 70),
)
PERIODS = (
    Filters(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),   # whole month (October before it)
    Filters(dt.date(2026, 9, 1), dt.date(2026, 11, 30)),    # whole months
    Filters(dt.date(2026, 10, 12), dt.date(2026, 11, 25)),  # partial months: day rows too
)
DASHBOARD_USERS = [u[0] for u in USERS
                   if Permission.VIEW_DASHBOARD in ROLE_PERMISSIONS[Role(u[1])]]


@pytest.fixture
def texts(ctx):
    return world_with(ctx, with_journey_comments)


def with_journey_comments(world):
    ctx = world.ctx
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "hq")
                     .values(attributes={"industry": "car_aftersales"}))
        journey = conn.execute(sa.insert(t.journey).values(
            code="aftersales", name_zh="售后", name_en="After-sales", created_at=ctx.now())
        ).inserted_primary_key[0]
        tps: dict[str, int] = {}
        for position, (code, parent) in enumerate((("visit", None), ("wait", "visit"),
                                                   ("pay", None))):
            tps[code] = conn.execute(sa.insert(t.touchpoint).values(
                journey_id=journey, parent_id=tps.get(parent or ""), code=code, name_zh=code,
                name_en=code, position=position)).inserted_primary_key[0]
    admin = world.actor("admin@t.test")
    ids = []
    for unit, staff, channel, tp, comment, days in COMMENTS:
        stored = do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=unit, staff_code=staff, channel=channel,
            touchpoint_id=tps[tp] if tp else None, answers={"nps": 5, "comment": comment},
            submitted_at=ctx.now() - dt.timedelta(days=days)))
        ids.append(stored.public_id)
    run_until_idle(ctx)
    world.text_ids = ids  # type: ignore[attr-defined]
    world.touchpoints = tps  # type: ignore[attr-defined]
    world.journey_id = journey  # type: ignore[attr-defined]


def pages(world, email: str, filters: Filters) -> tuple[object, object]:
    with world.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, world.actor(email))
        insights = text_insights(conn, scope, filters, min_n=1)
        journey = jv.journey_view(conn, scope, filters, world.journey_id, min_n=1)
    return insights, journey


def rounded(value: object) -> object:
    """Floats to 9 places (sums of scores add up in a different order)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(rounded(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, (list, tuple)):
        return tuple(rounded(v) for v in value)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def from_analyses(world, email: str, filters: Filters) -> tuple[object, object]:
    """The same pages computed from the analyses (the aggregate marked stale meanwhile)."""
    with world.ctx.db.write() as conn:
        app_settings.put_value(conn, STALE, True, world.ctx.now())
    try:
        return pages(world, email, filters)
    finally:
        with world.ctx.db.write() as conn:
            conn.execute(t.app_setting.delete().where(t.app_setting.c.key == STALE))


def assert_matches(world, filters_list=PERIODS, users=DASHBOARD_USERS) -> None:
    for email in users:
        for filters in filters_list:
            got = pages(world, email, filters)
            assert rounded(got) == rounded(from_analyses(world, email, filters)), (email, filters)


def totals(world) -> tuple[int, int, int, int]:
    """(comments, aspect mentions) summed over the day rows and over the month rows, and the
    numbers of stored analyses and aspects."""
    g = t.text_agg
    with world.ctx.db.read() as conn:
        sums = dict(conn.execute(sa.select(g.c.grain, sa.func.sum(g.c.n))
                                 .where(g.c.aspect_code == "").group_by(g.c.grain)).all())
        mentions = dict(conn.execute(sa.select(g.c.grain, sa.func.sum(g.c.n))
                                     .where(g.c.aspect_code != "").group_by(g.c.grain)).all())
        analyses = conn.execute(sa.select(sa.func.count()).select_from(t.text_analysis)
                                ).scalar_one()
        aspects = conn.execute(sa.select(sa.func.count()).select_from(t.text_aspect)
                               ).scalar_one()
    assert sums["d"] == sums["m"] and mentions["d"] == mentions["m"]
    return int(sums["d"]), int(mentions["d"]), int(analyses), int(aspects)


def test_aggregate_equals_the_analyses_for_every_user_and_filter(texts):
    comments, mentions, analyses, aspects = totals(texts)
    assert comments == analyses >= len(COMMENTS) and mentions == aspects > 0
    assert_matches(texts)
    tps = texts.touchpoints
    north = texts.unit_ids["north"]
    november = PERIODS[0]
    filtered = [dataclasses.replace(november, unit_id=north),
                dataclasses.replace(PERIODS[2], touchpoint_id=tps["visit"]),
                dataclasses.replace(PERIODS[1], channel="sms", touchpoint_id=tps["pay"]),
                dataclasses.replace(november, channel="kiosk")]
    assert_matches(texts, filtered, ["admin@t.test", "cx@t.test"])
    _, journey = pages(texts, "admin@t.test", november)
    steps = {s.code: s for s in journey.steps}  # type: ignore[attr-defined]
    assert steps["visit"].comments == 3 and steps["wait"].comments == 2  # visit holds wait
    assert steps["pay"].comments == 1


def test_a_reanalysis_replaces_its_counts_once_and_a_rebuild_changes_nothing(texts):
    ctx = texts.ctx
    r, a = t.response, t.answer
    with ctx.db.write() as conn:
        first = conn.execute(sa.select(r.c.id).where(r.c.public_id == texts.text_ids[0])
                             ).scalar_one()
        conn.execute(sa.update(a).where(a.c.response_id == first, a.c.question_key == "comment")
                     .values(value_text="洗车很干净，师傅技术很好，价格也公道"))
    before = totals(texts)
    was, _ = pages(texts, "admin@t.test", PERIODS[0])
    analyze_responses(ctx, [first])
    analyze_responses(ctx, [first])  # again: still counted once
    after = totals(texts)
    assert after[0] == before[0] == after[2] and after[1] == after[3]
    data, _ = pages(texts, "admin@t.test", PERIODS[0])
    assert data.comments == was.comments  # type: ignore[attr-defined]
    assert data.negative_comments == was.negative_comments - 1  # type: ignore[attr-defined]
    assert_matches(texts)

    def rows(g: sa.Table = t.text_agg) -> list[tuple[object, ...]]:
        with ctx.db.read() as conn:
            return sorted((*row[:-2], row.n, round(row.total, 9)) for row in conn.execute(
                sa.select(g).where(g.c.n != 0)))

    kept, kept_units = rows(), rows(t.unit_text_agg)
    assert kept_units
    agg_service.rebuild(ctx)
    assert rows() == kept and rows(t.unit_text_agg) == kept_units
    assert_matches(texts, PERIODS[:1])
    command.downgrade(alembic_config(ctx.db), "0015")  # the upgrade fills it from text_agg
    upgrade(ctx.db)
    assert rows(t.unit_text_agg) == kept_units


def test_a_stale_aggregate_is_read_around_and_filled_by_catch_up(texts):
    ctx = texts.ctx
    was, _ = pages(texts, "admin@t.test", PERIODS[0])
    with ctx.db.write() as conn:
        conn.execute(t.text_agg.delete())
        app_settings.put_value(conn, STALE, True, ctx.now())
    data, _ = pages(texts, "admin@t.test", PERIODS[0])
    assert data.comments == was.comments > 0  # type: ignore[attr-defined]  # from the analyses
    agg_service.catch_up(ctx)
    with ctx.db.read() as conn:
        assert app_settings.get_value(conn, STALE) is None
    assert totals(texts)[0] == totals(texts)[2]
    assert_matches(texts, PERIODS[:1], ["admin@t.test"])
