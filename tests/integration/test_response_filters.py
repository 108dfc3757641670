"""Listing responses and feedback through the API: filters, stable cursor pages, scope, errors."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.world import RESPONSES, SUBTREE
from tiyan.security import new_public_id
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import surveys
from tiyan.store import tables as t

FEEDBACK = (("n1", "review", "房间不错"), ("n2", "hotline", "投诉等待太久"),
            ("s1", "complaint", "价格不透明"), ("n1-as", "social", "服务顾问很专业"))


def bearer(world, email: str = "admin@t.test") -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def add_feedback(world) -> dict[str, str]:
    """Feedback records as an importer stores them (source != survey), two days old."""
    ctx, now = world.ctx, world.ctx.now() - dt.timedelta(days=2)
    ids = {}
    with ctx.db.write() as conn:
        for n, (unit, source, text) in enumerate(FEEDBACK):
            public_id = new_public_id()
            rid = conn.execute(sa.insert(t.response).values(
                public_id=public_id, source=source, channel="import",
                unit_id=world.unit_ids[unit], status="complete",
                submitted_at=now - dt.timedelta(minutes=n), received_at=now,
                external_id=f"ext-{n}", customer_snapshot={}, meta={})).inserted_primary_key[0]
            conn.execute(sa.insert(t.answer).values(response_id=rid, question_key="text",
                                                    item_code="comment", value_text=text))
            ids[source] = public_id
    return ids


def every_page(client, world, query: str, email: str = "admin@t.test",
               path: str = "/api/v1/responses", limit: int = 2) -> list[dict]:
    items, cursor = [], None
    while True:
        url = f"{path}?limit={limit}{'&' + query if query else ''}"
        reply = client.get(url + (f"&cursor={cursor}" if cursor else ""),
                           headers=bearer(world, email))
        assert reply.status_code == 200, reply.text
        page = reply.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_a_unit_filter_covers_its_subtree_and_pages_through_without_gaps(world, client):
    add_feedback(world)
    items = every_page(client, world, "unit=north")
    units = {"n1", "n1-as", "n2"}
    expected = [world.response_ids[i] for i, r in enumerate(RESPONSES) if r[0] in units]
    assert [i["id"] for i in items if i["source"] == "survey"] == expected
    assert {i["unit_code"] for i in items} == units == SUBTREE["north"] - {"north"}
    assert len({i["id"] for i in items}) == len(items) == len(expected) + 3
    stamps = [i["submitted_at"] for i in items]
    assert stamps == sorted(stamps, reverse=True)


def test_feedback_has_its_own_list_and_filters_by_source(world, client):
    ids = add_feedback(world)
    feedback = every_page(client, world, "", path="/api/v1/feedback")
    assert {i["id"] for i in feedback} == set(ids.values())
    assert {i["source"] for i in feedback} == {"review", "hotline", "complaint", "social"}
    assert feedback[0]["external_id"] == "ext-0" and feedback[0]["survey_code"] is None
    hotline = every_page(client, world, "source=hotline", path="/api/v1/feedback")
    assert [i["id"] for i in hotline] == [ids["hotline"]]
    surveys_only = every_page(client, world, "source=survey")
    assert len(surveys_only) == len(RESPONSES)
    wrong = client.get("/api/v1/feedback?source=survey", headers=bearer(world))
    assert wrong.status_code == 422 and wrong.json()["error"]["where"] == "source"


def test_survey_channel_and_date_filters(world, client):
    add_feedback(world)
    do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code="s1", channel="qr", answers={"nps": 7}))
    qr = every_page(client, world, "channel=qr&survey=test")
    assert [(i["channel"], i["unit_code"]) for i in qr] == [("qr", "s1")]
    now = world.ctx.now()
    three_hours_ago = (now - dt.timedelta(hours=3)).isoformat().replace("+", "%2B")
    recent = every_page(client, world, f"submitted_from={three_hours_ago}")
    assert len(recent) == 4  # the qr one and the world's three newest (the bound is inclusive)
    window = every_page(client, world, "submitted_from="
                        f"{(now - dt.timedelta(days=2)).date()}&submitted_to="
                        f"{(now - dt.timedelta(days=2)).date()}")
    assert {i["source"] for i in window} == {"review", "hotline", "complaint", "social"}
    older = every_page(client, world, f"submitted_to={(now - dt.timedelta(days=1)).date()}")
    assert len(older) == len(FEEDBACK)


@pytest.mark.parametrize(("query", "where"), [
    ("unit=nowhere", "unit"), ("survey=nope", "survey"), ("touchpoint=nope", "touchpoint"),
    ("channel=pigeon", "channel"), ("source=fax", "source"),
    ("submitted_from=2026-13-01", "submitted_from"), ("submitted_to=yesterday", "submitted_to"),
    ("submitted_from=2026-11-02&submitted_to=2026-11-01", "submitted_to"),
    ("since=not-a-time", "query.since"), ("cursor=bm9wZQ", "cursor"),
])
def test_a_bad_filter_is_an_error_that_names_the_parameter(world, client, query, where):
    reply = client.get(f"/api/v1/responses?{query}", headers=bearer(world))
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["code"] == "invalid_input" and error["where"] == where


def test_filters_never_widen_the_scope(world, client):
    add_feedback(world)
    outside = client.get("/api/v1/responses?unit=n1", headers=bearer(world, "mgr.s1@t.test"))
    assert outside.status_code == 422 and outside.json()["error"]["where"] == "unit"
    own = every_page(client, world, "", email="mgr.n1@t.test", path="/api/v1/feedback")
    assert {i["unit_code"] for i in own} == {"n1", "n1-as"}
    everything = every_page(client, world, "source=review", email="mgr.s1@t.test")
    assert everything == []


def test_a_touchpoint_filter_includes_its_sub_touchpoints(world, client):
    ctx = world.ctx
    with ctx.db.write() as conn:
        journey = surveys.insert_journey(conn, code="after_sales", name_zh="售后",
                                         name_en="After-sales", now=ctx.now())
        repair = surveys.insert_touchpoint(conn, journey_id=journey, code="repair",
                                           name_zh="维修", name_en="Repair", position=1)
        lounge = surveys.insert_touchpoint(conn, journey_id=journey, code="lounge",
                                           name_zh="休息区", name_en="Lounge", position=1,
                                           parent_id=repair)
        other = surveys.insert_journey(conn, code="sales", name_zh="销售", name_en="Sales",
                                       now=ctx.now())
        surveys.insert_touchpoint(conn, journey_id=other, code="lounge", name_zh="展厅",
                                  name_en="Showroom", position=1)
        surveys.set_touchpoint(conn, world.survey_id, lounge)
    stored = do_submit_response(ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code="n2", answers={"nps": 8}))
    for ref in ("repair", "after_sales/repair", "after_sales/lounge"):
        items = every_page(client, world, f"touchpoint={ref}")
        assert [(i["id"], i["touchpoint"]) for i in items] == [(stored.public_id, "lounge")]
    ambiguous = client.get("/api/v1/responses?touchpoint=lounge",
                           headers={**bearer(world), "Accept-Language": "en"})
    assert ambiguous.status_code == 422 and "after_sales" not in ambiguous.text
    assert "journey/lounge" in ambiguous.json()["error"]["message"]


def test_a_page_costs_the_same_number_of_queries_whatever_its_size(world, client):
    add_feedback(world)
    engine = world.ctx.db.engine
    counted: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001 - SQLAlchemy event signature
        counted.append(statement)

    def queries(url: str) -> int:
        counted.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url, headers=bearer(world)).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(counted)

    queries("/api/v1/responses?limit=1")  # the token's first use this minute records it
    small = queries("/api/v1/responses?limit=1&unit=north&survey=test")
    large = queries("/api/v1/responses?limit=11&unit=north&survey=test")
    assert small == large <= 12  # sign-in and scope (5), filter codes (2), page, answers, texts
