"""The journey editor's use cases on SQLite and PostgreSQL: order, listeners, scope, audit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.world import World
from tiyan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tiyan.services import journeys as service
from tiyan.services.surveys import NewSurvey, TouchpointRef, do_attach_touchpoint, do_create_survey
from tiyan.store import tables as t


def order(world: World, email: str = "admin@t.test") -> list[str]:
    with world.ctx.db.read() as conn:
        view = service.journey_view(conn, world.actor(email), "after_sales")
    return [s.row["code"] for s in view.steps]


def after_sales(world: World) -> None:
    admin = world.actor("admin@t.test")
    service.do_create_journey(world.ctx, admin, code="after_sales", name_zh="售后",
                              name_en="After-sales")
    for code in ("appointment", "reception", "repair", "follow_up"):
        service.do_add_touchpoint(world.ctx, admin, "after_sales", code=code, name_zh=code,
                                  name_en=code.title())


def test_touchpoints_keep_their_order_through_adds_and_moves(world: World) -> None:
    admin = world.actor("admin@t.test")
    after_sales(world)
    assert order(world) == ["appointment", "reception", "repair", "follow_up"]
    service.do_add_touchpoint(world.ctx, admin, "after_sales", code="delivery", name_zh="交车",
                              name_en="Delivery", position=4)
    assert order(world) == ["appointment", "reception", "repair", "delivery", "follow_up"]
    service.do_move_touchpoint(world.ctx, admin, "after_sales", "follow_up", -1)
    assert order(world) == ["appointment", "reception", "repair", "follow_up", "delivery"]
    service.do_update_touchpoint(world.ctx, admin, "after_sales", "delivery", position=1,
                                 name_en="Car handover")
    assert order(world) == ["delivery", "appointment", "reception", "repair", "follow_up"]
    service.do_move_touchpoint(world.ctx, admin, "after_sales", "delivery", -1)  # already first
    assert order(world)[0] == "delivery"
    with world.ctx.db.read() as conn:
        positions = conn.execute(sa.select(t.touchpoint.c.position)
                                 .where(t.touchpoint.c.parent_id.is_(None))
                                 .order_by(t.touchpoint.c.position)).scalars().all()
    assert positions == [1, 2, 3, 4, 5]


def test_sub_touchpoints_are_ordered_under_their_parent(world: World) -> None:
    admin = world.actor("admin@t.test")
    after_sales(world)
    for code in ("greeting", "diagnosis", "estimate"):
        service.do_add_touchpoint(world.ctx, admin, "after_sales", code=code, name_zh=code,
                                  name_en=code, parent="reception")
    service.do_move_touchpoint(world.ctx, admin, "after_sales", "estimate", -2)
    with world.ctx.db.read() as conn:
        view = service.journey_view(conn, admin, "after_sales")
    reception = next(s for s in view.steps if s.row["code"] == "reception")
    assert [c.row["code"] for c in reception.children] == ["estimate", "greeting", "diagnosis"]
    assert order(world) == ["appointment", "reception", "repair", "follow_up"]
    with pytest.raises(InvalidInput, match="cannot have sub-touchpoints"):
        service.do_add_touchpoint(world.ctx, admin, "after_sales", code="deeper", name_zh="x",
                                  name_en="x", parent="estimate")
    with pytest.raises(Conflict, match="sub-touchpoints"):
        service.do_delete_touchpoint(world.ctx, admin, "after_sales", "reception")


def test_a_touchpoint_in_use_cannot_be_deleted_an_unused_one_can(world: World) -> None:
    admin = world.actor("admin@t.test")
    after_sales(world)
    do_attach_touchpoint(world.ctx, admin, "test", TouchpointRef("after_sales", "follow_up"))
    with pytest.raises(Conflict, match="1 survey"):
        service.do_delete_touchpoint(world.ctx, admin, "after_sales", "follow_up")
    service.do_delete_touchpoint(world.ctx, admin, "after_sales", "appointment")
    assert order(world) == ["reception", "repair", "follow_up"]
    with pytest.raises(Conflict):
        service.do_delete_journey(world.ctx, admin, "after_sales")
    do_attach_touchpoint(world.ctx, admin, "test", None)
    service.do_delete_journey(world.ctx, admin, "after_sales")
    with world.ctx.db.read() as conn, pytest.raises(NotFound):
        service.journey_view(conn, admin, "after_sales")


def test_listeners_say_which_surveys_listen_where_and_by_which_channels(world: World) -> None:
    admin = world.actor("admin@t.test")
    after_sales(world)
    do_create_survey(world.ctx, admin, NewSurvey(code="south-qr", name="South QR",
                                                 unit_code="south", template="plain_nps"))
    assert service.do_set_listener(world.ctx, admin, "after_sales", "follow_up", "test",
                                   ["sms", "phone", "sms"])
    assert not service.do_set_listener(world.ctx, admin, "after_sales", "follow_up", "test",
                                       ["phone", "email"])
    service.do_set_listener(world.ctx, admin, "after_sales", "reception", "south-qr", ["qr"])

    def heard(email: str) -> dict[str, list[tuple[str, list[str]]]]:
        with world.ctx.db.read() as conn:
            view = service.journey_view(conn, world.actor(email), "after_sales")
        return {s.row["code"]: [(li["survey_code"], list(li["channels"])) for li in s.listeners]
                for s in view.steps if s.listeners}

    assert heard("admin@t.test") == {"follow_up": [("test", ["email", "phone"])],
                                     "reception": [("south-qr", ["qr"])]}
    assert heard("cx@t.test") == {"follow_up": [("test", ["email", "phone"])]}
    with pytest.raises(InvalidInput, match="unknown channel"):
        service.do_set_listener(world.ctx, admin, "after_sales", "repair", "test", ["fax"])
    with pytest.raises(Forbidden):  # the north CX manager may not change HQ's survey
        service.do_set_listener(world.ctx, world.actor("cx@t.test"), "after_sales", "repair",
                                "test", ["qr"])
    with pytest.raises(Conflict, match="touchpoint_listener"):
        service.do_delete_touchpoint(world.ctx, admin, "after_sales", "reception")
    service.do_remove_listener(world.ctx, admin, "after_sales", "reception", "south-qr")
    service.do_delete_touchpoint(world.ctx, admin, "after_sales", "reception")


def test_who_may_edit_journeys_and_the_audit_trail(world: World) -> None:
    after_sales(world)
    for email in ("mgr.n1@t.test", "analyst.south@t.test", "viewer@t.test"):
        with pytest.raises(Forbidden, match="manage surveys"):
            service.do_add_touchpoint(world.ctx, world.actor(email), "after_sales", code="x",
                                      name_zh="x", name_en="x")
    cx = world.actor("cx@t.test")
    service.do_update_journey(world.ctx, cx, "after_sales", name_en="Car after-sales")
    service.do_update_touchpoint(world.ctx, cx, "after_sales", "repair", name_zh="维修保养")
    with world.ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.user_id,
                                      t.audit_log.c.detail)
                            .order_by(t.audit_log.c.id.desc()).limit(2)).all()
    assert [r.action for r in rows] == ["touchpoint.update", "journey.update"]
    assert {r.user_id for r in rows} == {cx.user_id}
    assert rows[0].detail["changes"] == {"name_zh": "维修保养"}


def test_bad_codes_and_names_are_refused(world: World) -> None:
    admin = world.actor("admin@t.test")
    with pytest.raises(InvalidInput) as err:
        service.do_create_journey(world.ctx, admin, code="After Sales", name_zh="售后",
                                  name_en="x")
    assert err.value.where == "code"
    after_sales(world)
    with pytest.raises(Conflict):
        service.do_add_touchpoint(world.ctx, admin, "after_sales", code="repair", name_zh="x",
                                  name_en="x")
    with pytest.raises(InvalidInput) as err:
        service.do_update_touchpoint(world.ctx, admin, "after_sales", "repair", name_zh="  ")
    assert err.value.where == "name_zh"


def test_deleting_a_journey_tells_a_user_of_another_unit_nothing_of_its_data(
        world: World, client: TestClient) -> None:
    """A south survey at a journey's touchpoint: the north CX manager's delete is refused with
    no counts, no table names (the API, the page and the use case alike)."""
    import html
    import re

    from tests.integration.conftest import sign_in
    from tests.world import PASSWORD

    admin = world.actor("admin@t.test")
    after_sales(world)
    do_create_survey(world.ctx, admin, NewSurvey(code="south-qr", name="South QR",
                                                 unit_code="south", template="plain_nps",
                                                 touchpoint=TouchpointRef("after_sales",
                                                                          "follow_up")))

    def tells_nothing(message: str) -> bool:
        return not re.search(r"\d|survey|response|invitation|listener", message)

    for call in (lambda: service.do_delete_journey(world.ctx, world.actor("cx@t.test"),
                                                   "after_sales"),
                 lambda: service.do_delete_touchpoint(world.ctx, world.actor("cx@t.test"),
                                                      "after_sales", "follow_up")):
        with pytest.raises((Conflict, Forbidden)) as refused:
            call()
        assert tells_nothing(refused.value.message), refused.value.message
    api = client.delete("/api/v1/journeys/after_sales",
                        headers={"Authorization": f"Bearer {world.tokens['cx@t.test']}"})
    message = api.json()["error"]["message"]
    assert api.status_code in (403, 409) and tells_nothing(message), message
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/journeys/after_sales")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    deleted = client.post("/journeys/after_sales/delete", data={"csrf_token": token})
    alert = html.unescape(deleted.text.split('role="alert">')[1].split("</p>")[0])
    assert deleted.status_code in (403, 409) and tells_nothing(alert), alert
    with pytest.raises(Conflict, match="1 survey"):  # who manages every unit is told what
        service.do_delete_journey(world.ctx, admin, "after_sales")


def test_the_use_of_a_touchpoint_is_described_only_within_the_readers_units(
        world: World) -> None:
    from tiyan.domain.journeys import Use, check_unused
    from tiyan.store import journeys as store

    admin = world.actor("admin@t.test")
    after_sales(world)
    for code, unit in (("south-qr", "south"), ("north-qr", "north")):
        do_create_survey(world.ctx, admin, NewSurvey(
            code=code, name=code, unit_code=unit, template="plain_nps",
            touchpoint=TouchpointRef("after_sales", "follow_up")))
    north = {world.unit_ids[c] for c in ("north", "n1", "n1-as", "n2")}
    with world.ctx.db.read() as conn:
        ids = [r["id"] for r in store.touchpoints(conn, store.journey_by_code(
            conn, "after_sales")["id"])]
        everything = store.touchpoint_use(conn, ids)
        theirs = store.touchpoint_use(conn, ids, north)
    assert everything.counts["survey"] == 2 and everything.hidden == 0
    assert theirs.counts["survey"] == 1 and theirs.hidden == 1
    with pytest.raises(Conflict, match=r"\(1 survey\)"):
        check_unused(theirs, "x", "journey")
    with pytest.raises(Conflict) as refused:
        check_unused(Use({"survey": 0}, hidden=1), 'journey "after_sales"', "journey")
    assert refused.value.message == 'journey "after_sales" is still in use'
