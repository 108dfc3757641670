"""Churn risk beyond the 360 page: the at-risk threshold (setting or automatic from the base
rate and the top decile), segments as a list filter, and churn risk in alert conditions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.world import PASSWORD
from tiyan.services import churn
from tiyan.services.customer360 import at_risk_threshold, at_risk_worklist
from tiyan.store import app_settings, customers
from tiyan.store import tables as t


def scored_customers(world, probabilities: list[float], *, store: str = "n1",
                     segment: str | None = None) -> list[int]:
    """Customers of ``store`` with a stored churn score each (and a year of spend)."""
    now = world.ctx.now()
    ids = []
    with world.ctx.db.write() as conn:
        for index, probability in enumerate(probabilities):
            cid = customers.insert_customer(conn, unit_id=world.unit_ids[store], now=now,
                                            name=f"风险{store}{index}", segment=segment)
            customers.insert_transaction(conn, customer_id=cid, unit_id=world.unit_ids[store],
                                         kind="visit", amount=100 + index, occurred_at=now)
            conn.execute(sa.insert(t.churn_score).values(
                customer_id=cid, model_version="m1", probability=probability,
                reasons=[], scored_at=now))
            ids.append(cid)
    return ids


def trained_on(world, rows: int, churners: int) -> None:
    with world.ctx.db.write() as conn:
        app_settings.put_value(conn, churn.MODEL_SETTING,
                               {"version": "m1", "rows": rows, "churners": churners},
                               world.ctx.now())


def test_the_automatic_threshold_is_the_top_decile_but_never_below_the_base_rate(world):
    assert at_risk_threshold(world.ctx) == 0.5  # nothing trained or scored yet
    trained_on(world, rows=100, churners=20)
    assert at_risk_threshold(world.ctx) == 0.2  # trained, nothing scored: the base rate
    scored_customers(world, [i / 20 for i in range(1, 21)])  # 0.05 … 1.00
    assert at_risk_threshold(world.ctx) == 0.95  # the 2nd highest of 20 = top decile
    trained_on(world, rows=100, churners=97)
    assert at_risk_threshold(world.ctx) == 0.97  # a base rate above the top decile wins

    manager = world.actor("mgr.n1@t.test")
    assert [round(r["probability"], 2) for r in at_risk_worklist(world.ctx, manager)] == [1.0]
    world.ctx.settings.at_risk_threshold = 0.8
    assert at_risk_threshold(world.ctx) == 0.8
    listed = at_risk_worklist(world.ctx, manager)
    assert sorted(round(r["probability"], 2) for r in listed) == [0.8, 0.85, 0.9, 0.95, 1.0]


def test_the_worklist_page_and_api_use_the_installation_threshold(world, client):
    trained_on(world, rows=10, churners=3)
    scored_customers(world, [0.1, 0.2, 0.35, 0.9])
    scored_customers(world, [0.99], store="s1")
    manager = {"Authorization": f"Bearer {world.tokens['mgr.n1@t.test']}"}
    rows = client.get("/api/v1/churn/at-risk", headers=manager).json()
    # top decile of 5 scores is the highest (0.99); base rate 0.3 → threshold 0.99: none in n1
    assert rows == []
    world.ctx.settings.at_risk_threshold = 0.3
    rows = client.get("/api/v1/churn/at-risk", headers=manager).json()
    assert [r["probability"] for r in rows] == [0.9, 0.35]
    explicit = client.get("/api/v1/churn/at-risk?min_risk=0.15", headers=manager).json()
    assert len(explicit) == 3
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    page = client.get("/customers/at-risk", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert "churn risk of 30% or more" in page.text and "风险n13" in page.text
    assert "风险n10" not in page.text and "风险s10" not in page.text


def segment_responses(world) -> None:
    """The n1 and s1 customers are VIPs, the n2 customer a champion; one response each."""
    from tiyan.services.responses import ResponseRequest, do_submit_response

    with world.ctx.db.write() as conn:
        for store, segment in (("n1", "vip"), ("s1", "vip"), ("n2", "champions")):
            conn.execute(sa.update(t.customer).where(
                t.customer.c.public_id == world.customer_ids[store]).values(segment=segment))
    admin = world.actor("admin@t.test")
    for store in ("n1", "n2", "s1"):
        do_submit_response(world.ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=store, answers={"nps": 7},
            customer_id=world.customer_ids[store]))


def test_responses_and_customers_filter_by_segment_within_scope(world, client):
    segment_responses(world)

    def get(path: str, email: str) -> list[dict]:
        reply = client.get(path, headers={"Authorization": f"Bearer {world.tokens[email]}"})
        assert reply.status_code == 200, reply.text
        return reply.json()["items"]

    assert {r["unit_code"] for r in get("/api/v1/responses?segment=vip", "admin@t.test")} \
        == {"n1", "s1"}
    assert {r["unit_code"] for r in get("/api/v1/responses?segment=vip", "mgr.n1@t.test")} \
        == {"n1"}
    assert [r["unit_code"] for r in get("/api/v1/responses?segment=champions&unit=north",
                                        "cx@t.test")] == ["n2"]
    assert get("/api/v1/responses?segment=at_risk", "admin@t.test") == []  # known, empty
    assert len(get("/api/v1/responses", "admin@t.test")) == 10  # no filter: all of them
    assert {c["id"] for c in get("/api/v1/customers?segment=vip", "admin@t.test")} \
        == {world.customer_ids["n1"], world.customer_ids["s1"]}
    assert [c["id"] for c in get("/api/v1/customers?segment=vip", "mgr.s1@t.test")] \
        == [world.customer_ids["s1"]]

    admin = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    for path in ("/api/v1/responses?segment=nobody", "/api/v1/customers?segment=nobody"):
        reply = client.get(path, headers=admin)
        assert reply.status_code == 422, reply.text
        error = reply.json()["error"]
        assert error["where"] == "segment" and "vip" in error["message"]


def test_list_pages_filter_by_segment_and_keep_it_in_the_address(world, client):
    segment_responses(world)
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/customers?segment=vip&lang=en")
    assert page.status_code == 200
    assert '<option value="vip" selected>' in page.text
    assert world.customer_ids["n1"] in page.text and world.customer_ids["n2"] not in page.text
    page = client.get("/responses?segment=champions&lang=zh-CN")
    assert page.status_code == 200 and '<option value="champions" selected>' in page.text
    rows = page.text.split('id="response-rows"')[1]
    assert rows.count(">n2单位</td>") == 1 and "n1单位" not in rows
    assert "清除筛选" in page.text
    empty = client.get("/responses?segment=lost&lang=en")
    assert "No responses match these filters." in empty.text
    assert client.get("/customers?segment=nobody").status_code in (400, 422)


def test_an_alert_rule_on_churn_risk_opens_cases_for_risky_customers_only(world):
    from tiyan.services import jobs
    from tiyan.services.alerts import RuleRequest, do_create_rule
    from tiyan.services.responses import ResponseRequest, do_submit_response
    from tiyan.store import cases

    admin = world.actor("admin@t.test")
    jobs.run_until_idle(world.ctx)  # the world's own responses, before the rule exists
    do_create_rule(world.ctx, admin, RuleRequest(
        name="at-risk passive", unit_code="hq", action={"kind": "case"},
        condition={"all": [{"score": {"item": "nps", "op": "<=", "value": 8}},
                           {"churn_risk": {">=": 0.7}}]}))
    with world.ctx.db.write() as conn:
        ids = dict(conn.execute(sa.select(t.customer.c.public_id, t.customer.c.id)).all())
        now = world.ctx.now()
        for store, risk in (("n1", 0.85), ("n2", 0.4)):
            cid = ids[world.customer_ids[store]]
            conn.execute(sa.insert(t.churn_score), [  # an old high score, then the latest
                {"customer_id": cid, "model_version": "m0", "probability": 0.99,
                 "reasons": [], "scored_at": now - dt.timedelta(days=7)},
                {"customer_id": cid, "model_version": "m1", "probability": risk,
                 "reasons": [], "scored_at": now}])
    for store in ("n1", "n2", "s1"):  # s1's customer was never scored
        do_submit_response(world.ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=store, answers={"nps": 7},
            customer_id=world.customer_ids[store]))
    jobs.run_until_idle(world.ctx)
    with world.ctx.db.read() as conn:
        opened = cases.list_cases(conn, admin, cases.CaseFilter())
    assert [(c.unit_code, c.title) for c in opened] == [("n1", "at-risk passive")]


def test_the_agent_of_a_phone_survey_shows_on_the_response_list_and_api(world, client):
    from tiyan.services import calls

    agent = world.actor("agent@t.test")
    call = calls.do_schedule_call(world.ctx, agent, survey_code="test",
                                  customer_id=world.customer_ids["n2"])
    stored = calls.do_complete_call(world.ctx, agent, call, answers={"nps": 9})
    headers = {"Authorization": f"Bearer {world.tokens['cx@t.test']}"}
    items = client.get("/api/v1/responses?channel=phone", headers=headers).json()["items"]
    assert [(r["id"], r["agent_id"], r["agent_name"]) for r in items] \
        == [(stored.public_id, agent.user_id, "agent")]
    others = client.get("/api/v1/responses", headers=headers).json()["items"]
    assert len(others) == 6 and sum(r["agent_name"] is None for r in others) == 5
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/responses?lang=en")
    assert "<th>Agent</th>" in page.text
    assert '<td class="agent" data-label="Agent">agent</td>' in page.text
