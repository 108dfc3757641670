import datetime as dt

import pytest
import sqlalchemy as sa

from tiyan.errors import Forbidden, InvalidInput, NotFound
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import tables as t


def counts(ctx):
    with ctx.db.read() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                     for table in (t.response, t.answer))


def request(world, **overrides):
    fields = {"survey_id": world.survey_id, "unit_code": "n2", "staff_code": "n2-e1",
              "answers": {"nps": 4, "why": "等太久了", "comment": "👍🏻 mixed 中文 text"}}
    return ResponseRequest(**{**fields, **overrides})


def test_a_response_is_stored_with_its_version_unit_staff_and_typed_answers(world):
    agent = world.actor("agent@t.test")
    stored = do_submit_response(world.ctx, agent, request(world, channel="phone"))
    with world.ctx.db.read() as conn:
        row = conn.execute(sa.select(t.response).where(t.response.c.public_id == stored.public_id)
                           ).mappings().one()
        answers = dict(conn.execute(sa.select(t.answer.c.question_key, t.answer.c.value_text)
                                    .where(t.answer.c.response_id == row["id"])).all())
    assert row["unit_id"] == world.unit_ids["n2"] and row["survey_version_id"] is not None
    assert row["channel"] == "phone" and row["agent_user_id"] == agent.user_id
    assert row["submitted_at"].tzinfo is not None
    assert answers == {"nps": None, "why": "等太久了", "comment": "👍🏻 mixed 中文 text"}


def test_the_same_idempotency_key_never_creates_a_second_response(world):
    admin = world.actor("admin@t.test")
    before = counts(world.ctx)
    first = do_submit_response(world.ctx, admin, request(world, idempotency_key="abc-1"))
    again = do_submit_response(world.ctx, admin, request(world, idempotency_key="abc-1"))
    assert first.created and not again.created and first.public_id == again.public_id
    assert counts(world.ctx) == (before[0] + 1, before[1] + 3)


@pytest.mark.parametrize(
    ("overrides", "error", "where"),
    [
        ({"answers": {"nps": "ten"}}, InvalidInput, "answers.nps"),
        ({"answers": {"nps": 5, "ghost": 1}}, InvalidInput, "answers.ghost"),
        ({"answers": {"nps": 5, "comment": "长" * 100_001}}, InvalidInput, "answers.comment"),
        ({"unit_code": "nowhere"}, NotFound, "unit"),
        ({"staff_code": "s1-e1"}, InvalidInput, "staff"),
        ({"survey_id": 999}, NotFound, "survey"),
        ({"channel": "pigeon"}, InvalidInput, "channel"),
        ({"language": "fr"}, InvalidInput, "language"),
        ({"submitted_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, InvalidInput, "submitted_at"),
        ({"submitted_at": dt.datetime(2026, 1, 1)}, InvalidInput, "submitted_at"),
    ],
)
def test_bad_responses_are_refused_whole_and_nothing_is_written(world, overrides, error, where):
    before = counts(world.ctx)
    with pytest.raises(error) as err:
        do_submit_response(world.ctx, world.actor("admin@t.test"), request(world, **overrides))
    assert err.value.where == where
    assert counts(world.ctx) == before


def test_a_unit_manager_cannot_enter_responses_at_another_store(world):
    with pytest.raises(Forbidden):
        do_submit_response(world.ctx, world.actor("mgr.s1@t.test"), request(world))


def test_api_submission_and_replay_with_idempotency_key(world, client):
    headers = {"Authorization": f"Bearer {world.tokens['agent@t.test']}",
               "Idempotency-Key": "retry-42"}
    body = {"survey_id": world.survey_id, "unit_code": "s1", "answers": {"nps": 9},
            "channel": "phone"}
    first = client.post("/api/v1/responses", json=body, headers=headers)
    second = client.post("/api/v1/responses", json=body, headers=headers)
    assert first.status_code == 201 and first.json()["created"] is True
    assert second.json() == {"id": first.json()["id"], "created": False}


def test_api_errors_share_one_json_shape(world, client):
    headers = {"Authorization": f"Bearer {world.tokens['agent@t.test']}"}
    wrong_type = client.post("/api/v1/responses", headers=headers,
                             json={"survey_id": "many", "unit_code": "s1", "answers": {}})
    unknown_field = client.post("/api/v1/responses", headers=headers,
                                json={"survey_id": 1, "unit_code": "s1", "answers": {},
                                      "colour": "red"})
    bad_score = client.post("/api/v1/responses", headers={**headers, "Accept-Language": "en"},
                            json={"survey_id": world.survey_id, "unit_code": "s1",
                                  "answers": {"nps": 42}})
    no_token = client.get("/api/v1/responses")
    assert wrong_type.status_code == 422 and wrong_type.json()["error"]["where"] == "body.survey_id"
    assert unknown_field.status_code == 422 and "colour" in unknown_field.json()["error"]["where"]
    assert bad_score.json() == {"error": {"code": "invalid_input", "where": "answers.nps",
                                          "key": "responses.not_whole_number",
                                          "message": "42 is not a whole number from 0 to 10"}}
    assert no_token.status_code == 401 and no_token.json()["error"]["code"] == "not_authenticated"


def test_responses_page_through_with_an_opaque_cursor(world, client):
    headers = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    first = client.get("/api/v1/responses?limit=4", headers=headers).json()
    rest = client.get(f"/api/v1/responses?limit=4&cursor={first['next_cursor']}",
                      headers=headers).json()
    ids = [r["id"] for r in first["items"] + rest["items"]]
    assert ids == [world.response_ids[i] for i in range(7)]  # newest first, no gaps or repeats
    assert rest["next_cursor"] is None
    forged = client.get("/api/v1/responses?cursor=bm9wZQ", headers=headers)
    assert forged.status_code == 422 and forged.json()["error"]["where"] == "cursor"


def test_health_check(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_values_the_database_cannot_take_are_a_client_error(world, client):
    headers = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    nul = client.get("/api/v1/responses?channel=%00", headers=headers)
    huge = client.get(f"/api/v1/responses?survey_id={2**63}", headers=headers)
    assert nul.status_code in (200, 422) and huge.status_code == 422
    if nul.status_code == 422:
        assert nul.json()["error"]["code"] == "invalid_input"
