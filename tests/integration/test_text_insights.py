"""Text insights page and export: heat map counts, trends and quotes from the real text analysis
of submitted comments, for every role only within its scope (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.integration.conftest import sign_in
from tests.snapshots import world_with
from tests.world import PASSWORD, USERS, build_world, visible_units
from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import tables as t

PERIOD = "from=2026-11-01&to=2026-11-30"
COMMENTS = (  # unit, staff, nps, comment, days before now
    ("n1-as", "n1-e1", 2, "服务顾问态度很差，等了三个小时才修好", 1),
    ("n1-as", "n1-e2", 3, "维修质量太差，价格还贵", 2),
    ("n2", "n2-e1", 9, "师傅技术不错，服务顾问很热情", 3),
    ("n2", "n2-e1", 4, "等了太久，休息区也很吵", 4),
    ("s1", "s1-e1", 1, "价格太贵，收费不透明，态度恶劣", 5),
    ("s1", "s1-e1", 10, "洗车洗得很干净，服务很好", 6),
    ("s1", "s1-e1", 3, "等了两个小时没人管", 40),  # October: the previous period
)


@pytest.fixture
def texts(ctx):
    return world_with(ctx, with_comments)


def with_comments(world):
    ctx = world.ctx
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "hq")
                     .values(attributes={"industry": "car_aftersales"}))
    admin = world.actor("admin@t.test")
    ids = {}
    for index, (unit, staff, nps, comment, days) in enumerate(COMMENTS):
        stored = do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=unit, staff_code=staff,
            answers={"nps": nps, "comment": comment},
            submitted_at=ctx.now() - dt.timedelta(days=days)))
        ids[index] = stored.public_id
    run_until_idle(ctx)
    world.comment_ids = ids  # type: ignore[attr-defined]


def expected_mentions(ctx, email: str, since: dt.datetime) -> dict[str, int]:
    """Aspect mentions of this period in the user's scope, straight from the tables."""
    role = next(u[1] for u in USERS if u[0] == email)
    units = visible_units(email)
    r, x, u, s = t.response, t.text_aspect, t.org_unit, t.staff
    query = (sa.select(x.c.aspect_code, u.c.code, s.c.code)
             .select_from(x.join(r, r.c.id == x.c.response_id).join(u, u.c.id == r.c.unit_id)
                          .outerjoin(s, s.c.id == r.c.staff_id))
             .where(r.c.submitted_at >= since))
    out: dict[str, int] = {}
    with ctx.db.read() as conn:
        for aspect, unit, staff in conn.execute(query):
            if unit in units and (role != "frontline" or staff == "n1-e1"):
                out[aspect] = out.get(aspect, 0) + 1
    return out


def csv_rows(reply) -> list[list[str]]:
    assert reply.status_code == 200, reply.text
    return list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("email", [u[0] for u in USERS])
def test_text_insights_keep_to_each_users_scope(texts, client, email):
    sign_in(client, email, PASSWORD)
    role = Role(next(u[1] for u in USERS if u[0] == email))
    page = client.get(f"/dashboard/text?{PERIOD}&lang=en")
    if Permission.VIEW_DASHBOARD not in ROLE_PERMISSIONS[role]:
        assert page.status_code == 403
        return
    assert page.status_code == 200, page.text[:300]
    since = dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)  # 1 November, Asia/Shanghai
    expected = expected_mentions(texts.ctx, email, since)
    units = visible_units(email)
    reads_responses = Permission.VIEW_RESPONSES in ROLE_PERMISSIONS[role]
    for index, (unit, staff, *_rest) in enumerate(COMMENTS):
        public_id = texts.comment_ids[index]
        if unit not in units or (role == Role.FRONTLINE and staff != "n1-e1") \
                or not reads_responses:
            assert public_id not in page.text  # no quote from outside the scope
    if not reads_responses:  # e.g. a viewer: figures, but no one's own words
        assert 'id="negative-quotes"' not in page.text
    if Permission.EXPORT not in ROLE_PERMISSIONS[role]:
        assert client.get(f"/dashboard/text/export.csv?{PERIOD}").status_code == 403
        return
    rows = csv_rows(client.get(f"/dashboard/text/export.csv?{PERIOD}&lang=en"))
    assert rows[0][:3] == ["Aspect code", "Aspect", "Mentions"]
    assert {row[0]: int(row[2]) for row in rows[1:] if int(row[2])} == expected
    book = load_workbook(io.BytesIO(client.get(
        f"/dashboard/text/export.xlsx?{PERIOD}&lang=zh-CN").content))
    sheet = list(book.active.iter_rows(values_only=True))
    assert sheet[0][0] == "方面代码"
    assert {r[0]: r[2] for r in sheet[1:] if r[2]} == expected


def test_heat_map_trends_quotes_and_filters(texts, client):
    ctx = texts.ctx
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/dashboard/text?{PERIOD}&lang=en")
    assert page.status_code == 200
    html = page.text
    assert 'id="aspect-heatmap"' in html and 'id="aspect-table"' in html
    quotes = html.split('id="negative-quotes"')[1].split("</ol>")[0]
    # the most negative comments of November are quoted and linked; October's is not
    assert f'href="/responses/{texts.comment_ids[4]}"' in quotes
    assert texts.comment_ids[6] not in quotes
    assert texts.comment_ids[5] not in quotes  # a positive comment is never a negative quote
    # every figure follows the filters: a unit, a channel nobody used, and the empty state
    since = dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)
    rows = csv_rows(client.get(f"/dashboard/text/export.csv?{PERIOD}&unit=s1&lang=en"))
    south = {row[0]: int(row[2]) for row in rows[1:] if int(row[2])}
    assert south == expected_mentions(ctx, "mgr.s1@t.test", since)
    assert sum(south.values()) > 0
    empty = client.get(f"/dashboard/text?{PERIOD}&channel=kiosk&lang=zh-CN")
    assert 'id="dash-empty"' in empty.text and "没有已分析的评论" in empty.text
    # the tab keeps the filters in the URL
    assert 'href="/dashboard/text?from=2026-11-01&amp;to=2026-11-30&amp;unit=s1"' in client.get(
        f"/dashboard?{PERIOD}&unit=s1").text
    # bad filters name themselves
    bad = client.get("/dashboard/text?from=2026-13-01")
    assert bad.status_code == 422 and "from" in bad.text
    assert client.get(f"/dashboard/text/export.pdf?{PERIOD}").status_code == 422


def test_trend_is_marked_only_when_significant(ctx):
    """With enough comments, an aspect that jumps from rare to common is marked ▲."""
    from tiyan.analytics import dashboard as d
    from tiyan.analytics.cube import Filters
    from tiyan.analytics.insights import text_insights

    world = build_world(ctx)
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "hq")
                     .values(attributes={"industry": "car_aftersales"}))
    admin = world.actor("admin@t.test")
    plan = ([("等了太久，太慢了", 5)] * 30 + [("很好", 5)] * 10      # November: waiting 30 of 40
            + [("等了太久", 40)] * 3 + [("很好", 40)] * 37)          # October: waiting 3 of 40
    for comment, days in plan:
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code="s1", answers={"nps": 5, "comment": comment},
            submitted_at=ctx.now() - dt.timedelta(days=days)))
    run_until_idle(ctx)
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, admin)
        data = text_insights(conn, scope, Filters(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
                             min_n=30)
    assert data.comments == 40 + 7 and data.previous_comments == 40
    top = data.aspects[0]
    assert top.total >= 30 and top.previous_total >= 3
    assert top.change.significant and top.change.direction == "up"
    assert all(not a.change.significant for a in data.aspects if a.previous_total == 0
               and a.total < 5)


def test_a_quoted_response_opens_within_the_scope_only(texts, client):
    public_id = texts.comment_ids[0]  # n1-as, staff n1-e1
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/responses/{public_id}?lang=zh-CN")
    assert page.status_code == 200
    assert "服务顾问态度很差" in page.text and 'id="response-analysis"' in page.text
    assert "n1-as" in page.text
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    assert client.get(f"/responses/{public_id}").status_code == 404
    assert client.get("/responses/no-such-response").status_code == 404
    sign_in(client, "viewer@t.test", PASSWORD)
    assert client.get(f"/responses/{public_id}").status_code == 403
