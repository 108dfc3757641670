"""The survey builder's use cases on SQLite and PostgreSQL: drafts, versions, scope, audit."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa

from tests.world import SURVEY, World
from tiyan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tiyan.services import surveys as service
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import surveys as store
from tiyan.store import tables as t

WHAT_WENT_WRONG = {
    "key": "what_wrong", "type": "multi", "allow_other": True,
    "show_if": [{"question": "nps", "op": "<=", "value": 6}],
    "options": [{"code": "wait", "text": {"zh-CN": "等待", "en": "Waiting"}},
                {"code": "price", "text": {"zh-CN": "价格", "en": "Price"}}],
    "text": {"zh-CN": "哪里出了问题？", "en": "What went wrong?"},
}


def with_question(question: dict[str, object]) -> dict[str, object]:
    definition = copy.deepcopy(SURVEY)
    definition["questions"].append(question)  # type: ignore[attr-defined]
    return definition


def audit_actions(world: World) -> list[str]:
    with world.ctx.db.read() as conn:
        return list(conn.execute(sa.select(t.audit_log.c.action).where(
            t.audit_log.c.entity == "survey").order_by(t.audit_log.c.id)).scalars())


def version_of_responses(world: World) -> set[int]:
    with world.ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.survey_version.c.version).join(
            t.response, t.response.c.survey_version_id == t.survey_version.c.id)).scalars()
        return set(rows)


def test_a_new_survey_from_a_template_is_a_draft_until_published(world: World) -> None:
    cx = world.actor("cx@t.test")
    service.do_create_survey(world.ctx, cx, service.NewSurvey(
        code="north-nps", name="North NPS", unit_code="north", template="plain_nps"))
    with world.ctx.db.read() as conn:
        survey = store.get_survey(conn, cx, "north-nps")
        assert (survey["status"], survey["current_version"], survey["draft_version"]) == \
            ("draft", None, 1)
        with pytest.raises(NotFound):
            store.current_version(conn, survey["id"])
    with pytest.raises(NotFound, match="no published version"):
        do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
            survey_id=survey["id"], unit_code="n1", answers={"nps": 9}))

    assert service.do_publish(world.ctx, cx, "north-nps") == 1
    with world.ctx.db.read() as conn:
        survey = store.get_survey(conn, cx, "north-nps")
        assert (survey["status"], survey["current_version"], survey["draft_version"]) == \
            ("active", 1, None)
    assert audit_actions(world) == ["survey.create", "survey.publish"]


def test_publishing_a_change_makes_version_2_and_old_responses_keep_version_1(
        world: World) -> None:
    admin = world.actor("admin@t.test")
    assert service.do_save_draft(world.ctx, admin, "test", with_question(WHAT_WENT_WRONG)) == 2
    # The draft is not live: a response now still answers version 1.
    do_submit_response(world.ctx, admin, ResponseRequest(
        survey_id=world.survey_id, unit_code="n2", answers={"nps": 7}))
    assert version_of_responses(world) == {1}

    assert service.do_publish(world.ctx, admin, "test") == 2
    do_submit_response(world.ctx, admin, ResponseRequest(
        survey_id=world.survey_id, unit_code="n2",
        answers={"nps": 3, "what_wrong": ["wait"]}))
    assert version_of_responses(world) == {1, 2}
    with world.ctx.db.read() as conn:
        versions = store.list_versions(conn, admin, world.survey_id)
    assert [(v["version"], v["responses"]) for v in versions] == [(2, 1), (1, 8)]
    assert versions[0]["published_at"] is not None
    assert audit_actions(world) == ["survey.draft_save", "survey.publish"]


def test_saving_twice_edits_the_same_draft_and_published_versions_never_change(
        world: World) -> None:
    admin = world.actor("admin@t.test")
    service.do_save_draft(world.ctx, admin, "test", with_question(WHAT_WENT_WRONG))
    assert service.do_save_draft(world.ctx, admin, "test", SURVEY) == 2
    service.do_publish(world.ctx, admin, "test")
    with world.ctx.db.read() as conn:
        v1 = store.version_row(conn, world.survey_id, 1)
    assert v1["definition"]["questions"][-1]["key"] == "comment"
    with pytest.raises(Conflict, match="no draft"):
        service.do_publish(world.ctx, admin, "test")


@pytest.mark.parametrize(("question", "where", "rule"), [
    ({**WHAT_WENT_WRONG, "show_if": [{"question": "later", "op": "<=", "value": 6}]},
     'question "what_wrong".show_if', "not an earlier question"),
    ({**WHAT_WENT_WRONG, "options": [WHAT_WENT_WRONG["options"][0]]},  # type: ignore[index]
     'question "what_wrong"', "at least two options"),
    ({**WHAT_WENT_WRONG, "show_if": [{"question": "nps", "op": "≤", "value": 6}]},
     'question "what_wrong".show_if', "unknown operator"),
    ({**WHAT_WENT_WRONG, "text": {"zh-CN": "哪里出了问题？"}},
     'question "what_wrong".text', "missing the en text"),
])
def test_an_invalid_draft_is_refused_with_the_question_and_rule(
        world: World, question: dict[str, object], where: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule) as err:
        service.do_save_draft(world.ctx, world.actor("admin@t.test"), "test",
                              with_question(question))
    assert err.value.where == where
    with world.ctx.db.read() as conn:
        assert store.draft_row(conn, world.survey_id) is None


def test_a_store_manager_cannot_edit_hqs_survey_nor_a_region_cx_manager(world: World) -> None:
    for email in ("mgr.n1@t.test", "cx@t.test"):
        with pytest.raises(Forbidden, match="manage surveys"):
            service.do_save_draft(world.ctx, world.actor(email), "test", SURVEY)
        with pytest.raises(Forbidden):
            service.do_set_status(world.ctx, world.actor(email), "test", "closed")
    assert audit_actions(world) == []


def test_a_cx_manager_of_the_north_cannot_see_the_souths_surveys(world: World) -> None:
    admin, cx = world.actor("admin@t.test"), world.actor("cx@t.test")
    service.do_create_survey(world.ctx, admin, service.NewSurvey(
        code="south-only", name="South", unit_code="south", template="plain_nps"))
    service.do_create_survey(world.ctx, cx, service.NewSurvey(
        code="north-only", name="North", unit_code="north", template="plain_nps"))
    with world.ctx.db.read() as conn:
        assert {r["code"] for r in store.survey_overview(conn, cx)} == {"test", "north-only"}
        assert {r["code"] for r in store.survey_overview(conn, admin)} == \
            {"test", "north-only", "south-only"}
        with pytest.raises(NotFound):
            service.access_survey(conn, cx, "south-only")
    with pytest.raises(NotFound):
        service.do_publish(world.ctx, cx, "south-only")
    with pytest.raises(NotFound):  # a unit outside the manager's reads as no unit at all
        service.do_create_survey(world.ctx, cx, service.NewSurvey(
            code="sneaky", name="Sneaky", unit_code="s1", template="plain_nps"))


def test_response_counts_follow_the_readers_scope(world: World) -> None:
    with world.ctx.db.read() as conn:
        counts = {email: store.get_survey(conn, world.actor(email), "test")["responses"]
                  for email in ("admin@t.test", "cx@t.test", "mgr.s1@t.test")}
    assert counts == {"admin@t.test": 7, "cx@t.test": 5, "mgr.s1@t.test": 2}


def test_a_closed_survey_takes_no_responses_until_reopened(world: World) -> None:
    admin = world.actor("admin@t.test")
    service.do_set_status(world.ctx, admin, "test", "closed")
    request = ResponseRequest(survey_id=world.survey_id, unit_code="n2", answers={"nps": 9})
    with pytest.raises(InvalidInput, match="not accepting"):
        do_submit_response(world.ctx, admin, request)
    service.do_set_status(world.ctx, admin, "test", "active")
    assert do_submit_response(world.ctx, admin, request).created
    assert audit_actions(world) == ["survey.close", "survey.reopen"]


def test_a_survey_is_attached_to_a_touchpoint(world: World) -> None:
    from tiyan.services.journeys import do_add_touchpoint, do_create_journey

    admin = world.actor("admin@t.test")
    do_create_journey(world.ctx, admin, code="after_sales", name_zh="售后", name_en="After-sales")
    do_add_touchpoint(world.ctx, admin, "after_sales", code="follow_up", name_zh="回访",
                      name_en="Follow-up")
    service.do_attach_touchpoint(world.ctx, admin, "test",
                                 service.TouchpointRef("after_sales", "follow_up"))
    with world.ctx.db.read() as conn:
        survey = store.get_survey(conn, admin, "test")
    assert (survey["journey_code"], survey["touchpoint_code"]) == ("after_sales", "follow_up")
    with pytest.raises(NotFound, match="no touchpoint"):
        service.do_attach_touchpoint(world.ctx, admin, "test",
                                     service.TouchpointRef("after_sales", "nowhere"))


def test_a_survey_from_a_json_definition_and_bad_requests(world: World) -> None:
    admin = world.actor("admin@t.test")
    service.do_create_survey(world.ctx, admin, service.NewSurvey(
        code="json-one", name="JSON", unit_code="hq", definition=with_question(WHAT_WENT_WRONG)))
    bad = [
        (service.NewSurvey(code="Bad Code", name="x", unit_code="hq", template="plain_nps"),
         "code"),
        (service.NewSurvey(code="x", name="x", unit_code="hq", template="nope"), "template"),
        (service.NewSurvey(code="x", name="x", unit_code="hq"), "template"),
    ]
    for request, where in bad:
        with pytest.raises(InvalidInput) as err:
            service.do_create_survey(world.ctx, admin, request)
        assert err.value.where == where
    with pytest.raises(Conflict):
        service.do_create_survey(world.ctx, admin, service.NewSurvey(
            code="json-one", name="again", unit_code="hq", template="plain_nps"))


def test_two_editors_saving_at_once_leave_one_draft_and_no_server_error(world: World) -> None:
    import threading

    admin = world.actor("admin@t.test")
    barrier, outcomes = threading.Barrier(4), []

    def save(n: int) -> None:
        definition = copy.deepcopy(SURVEY)
        definition["title"] = {"zh-CN": f"版本{n}", "en": f"Edit {n}"}
        barrier.wait()
        try:
            service.do_save_draft(world.ctx, admin, "test", definition)
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 4 and "saved" in outcomes
    with world.ctx.db.read() as conn:
        drafts = conn.execute(sa.select(t.survey_version.c.version).where(
            t.survey_version.c.published_at.is_(None))).scalars().all()
    assert drafts == [2]
