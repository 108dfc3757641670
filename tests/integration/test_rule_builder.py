"""The alert-rule builder as a browser posts it (no JSON): rows in groups, scope, action and
SLA as fields; errors at the field in both languages; a rule the rows cannot hold stays
read-only; the preview counts what the worker's evaluation matches, on the actor's units."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.integration.test_closed_loop import submit
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.errors import Forbidden
from tiyan.services import jobs
from tiyan.services.alerts import RuleRequest, do_create_rule, evaluate_rules_for_responses
from tiyan.services.rule_builder import preview
from tiyan.store import tables as t


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def builder_fields(page: str, **changes: Any) -> dict[str, Any]:
    """The builder's inputs as the page shows them (selected options, checked boxes), changed."""
    form = page.split('id="builder"')[1].split("</form>")[0]
    fields: dict[str, Any] = {}
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "action":
            continue
        key = name.group(1)
        if tag.startswith("<select"):
            body = form.split(tag, 1)[1].split("</select>")[0]
            chosen = re.search(r'<option value="([^"]*)" selected>', body) or \
                re.search(r'<option value="([^"]*)"', body)
            fields[key] = chosen.group(1) if chosen else ""
        elif 'type="checkbox"' in tag:
            if " checked" in tag:
                value = re.search(r'value="([^"]*)"', tag)
                fields.setdefault(key, []).append(value.group(1) if value else "on")
        else:
            value = re.search(r'value="([^"]*)"', tag)
            fields[key] = value.group(1) if value else ""
    fields = {k: [html.unescape(x) for x in v] if isinstance(v, list) else html.unescape(v)
              for k, v in fields.items()}
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def stored_rules(ctx: Context) -> list[Any]:
    with ctx.db.read() as conn:
        return list(conn.execute(sa.select(t.alert_rule).order_by(t.alert_rule.c.id)).mappings())


def test_a_rule_built_from_rows_is_saved_and_shown_again_as_rows(
        ctx: Context, world: World, client: TestClient) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/alert-rules/new").text
    assert "textarea" not in page.split('id="builder"')[1].split("</form>")[0]  # no JSON
    assert "推荐 · Test" in page  # the item picker says the question text
    # add a second group with the button (nothing saved), as a browser without JS posts it
    more = client.post("/alert-rules/build", data=builder_fields(page, action="add-group"))
    assert more.status_code == 200 and 'id="group-1"' in more.text and not stored_rules(ctx)
    more2 = client.post("/alert-rules/build", data=builder_fields(more.text, action="add-row:1"))
    fields = builder_fields(
        more2.text, name="贬损且抱怨", unit_code="north", join="all",
        # the rows as the page shows them once each field was changed (the page redraws a row
        # whose field changes: `shown` is the field it was drawn for)
        **{"g1.join": "any", "g1.r0.field": "keywords", "g1.r0.value": "退款，投诉",
           "g1.r0.shown": "keywords", "g1.r1.shown": "churn_risk",
           "g1.r1.field": "churn_risk", "g1.r1.op": ">=", "g1.r1.value": "70",
           "kind": "case", "route_role": "cx_manager", "callback": ["yes"],
           "channels": ["qr", "link"], "surveys": ["test"],
           "sla.acknowledge.hours": "2", "sla.acknowledge.working": [],
           "sla.contact.hours": "", "sla.close.hours": "48", "sla.close.working": ["yes"],
           "action": "save"})
    saved = client.post("/alert-rules/build", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    (rule,) = stored_rules(ctx)
    assert rule.condition == {"all": [
        {"score": {"item": "nps", "op": "<=", "value": 6.0}},
        {"any": [{"keywords": ["退款", "投诉"]}, {"churn_risk": {"op": ">=", "value": 0.7}}]}]}
    assert rule.action == {"kind": "case", "route_role": "cx_manager", "callback": True}
    assert rule.scope == {"channels": ["link", "qr"], "surveys": [world.survey_id]}
    assert rule.sla == {"acknowledge": {"hours": 2.0, "working": False},
                        "close": {"hours": 48.0, "working": True}}
    listing = client.get("/alert-rules").text
    assert "推荐 · Test 不高于 6" in listing and "流失风险 不低于 70%" in listing  # words, not JSON
    edit = client.get(f"/alert-rules/{rule.public_id}?lang=en").text
    again = builder_fields(edit, action="save")
    assert again["g1.r0.value"] == "退款, 投诉" and again["g1.r1.value"] == "70"
    assert again["channels"] == ["link", "qr"] and again["sla.close.working"] == ["yes"]
    assert client.post("/alert-rules/build", data=again,
                       follow_redirects=False).status_code == 303
    assert stored_rules(ctx)[0].condition == rule.condition  # saved again unchanged


def test_wrong_inputs_are_named_at_their_field_in_both_languages(
        ctx: Context, world: World, client: TestClient) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/alert-rules/new").text
    bad = builder_fields(page, name="", unit_code="north", action="save",
                         **{"g0.r0.value": "六", "sla.close.hours": "9999"})
    zh = client.post("/alert-rules/build", data=bad)
    assert zh.status_code == 422 and not stored_rules(ctx)
    assert 'id="err-g0-r0-value"' in zh.text and "请输入数字。" in zh.text
    assert 'id="err-name"' in zh.text and 'id="err-sla-close-hours"' in zh.text
    assert 'value="六"' in zh.text  # the input is kept
    en = client.post("/alert-rules/build?lang=en", data=bad)
    assert "Enter a number." in en.text and "Fill this in." in en.text
    # with htmx the form swaps itself: 200 with the errors
    hx = client.post("/alert-rules/build?lang=zh-CN", data=bad, headers={"HX-Request": "true"})
    assert hx.status_code == 200 and "请输入数字。" in hx.text
    # a unit outside one's reach is refused
    outside = builder_fields(page, name="x", unit_code="hq", action="save")
    assert client.post("/alert-rules/build", data=outside).status_code == 403


def test_a_rule_the_rows_cannot_hold_is_read_only_with_json_for_administrators(
        ctx: Context, world: World, client: TestClient) -> None:
    nested = {"any": [{"sentiment": "negative"},
                      {"all": [{"score": {"item": "nps", "op": "<=", "value": 6}},
                               {"any": [{"keywords": ["退款"]}, {"answered_no": "fixed"}]}]}]}
    public_id = do_create_rule(ctx, world.actor("admin@t.test"), RuleRequest(
        name="深层", unit_code="north", condition=nested, action={"kind": "both"}))
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get(f"/alert-rules/{public_id}").text
    assert 'id="read-only-condition"' in page and "评论包含任一关键词：退款" in page
    assert 'id="advanced"' not in page  # JSON for administrators only
    renamed = client.post("/alert-rules/build", data=builder_fields(
        page, name="深层 2", action="save"), follow_redirects=False)
    assert renamed.status_code == 303
    (rule,) = stored_rules(ctx)
    assert rule.name == "深层 2" and rule.condition == nested  # kept as it was
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/alert-rules/{public_id}").text
    assert 'id="advanced"' in page
    changed = client.post(f"/alert-rules/{public_id}/json", data={
        "csrf_token": csrf(page), "condition": '{"sentiment": "positive"}'},
        follow_redirects=False)
    assert changed.status_code == 303
    assert stored_rules(ctx)[0].condition == {"sentiment": "positive"}
    assert 'id="read-only-condition"' not in client.get(f"/alert-rules/{public_id}").text


def _rule(**kw: Any) -> RuleRequest:
    return RuleRequest(name="预览", action={"kind": "case"}, **kw)


def test_the_preview_counts_what_the_evaluation_matches_on_the_actors_units(
        ctx: Context, world: World, client: TestClient) -> None:
    jobs.run_until_idle(ctx)  # the world's responses analysed
    extra = [submit(ctx, world, "n2", "n2-e1", 4, "等太久了，我要退款"),
             submit(ctx, world, "s1", "s1-e1", 9, "很好")]
    jobs.run_until_idle(ctx)
    condition = {"any": [{"score": {"item": "nps", "op": "<=", "value": 6}},
                         {"keywords": ["退款"]}]}
    admin = world.actor("admin@t.test")
    shown = preview(ctx, admin, _rule(unit_code="hq", condition=condition))
    # the world's detractors n1-as (3), n2 (6), s1 (2) and the new n2 answer (4)
    assert (shown.matched, shown.examined, shown.complete) == (4, 9, True)
    assert len(shown.examples) == 4 and shown.examples[0].score == "4"
    assert "退款" in shown.examples[0].comment and shown.examples[0].timezone
    # the same rule, saved, opens exactly these cases when the worker's evaluation runs
    do_create_rule(ctx, admin, _rule(unit_code="hq", condition=condition))
    with ctx.db.read() as conn:
        ids = list(conn.execute(sa.select(t.response.c.id)).scalars())
    opened = evaluate_rules_for_responses(ctx, ids)
    assert len(opened) == shown.matched
    with ctx.db.read() as conn:
        cased = set(conn.execute(sa.select(t.response.c.public_id).join(
            t.cx_case, t.cx_case.c.response_id == t.response.c.id)).scalars())
    assert {e.public_id for e in shown.examples} == cased
    # scope: a CX manager of north sees north's responses only, and only rules on their units
    cx = world.actor("cx@t.test")
    north = preview(ctx, cx, _rule(unit_code="north", condition=condition))
    assert north.matched == 3 and north.examined == 6  # n1-as ×3, n2 ×3 (one new)
    with pytest.raises(Forbidden):
        preview(ctx, cx, _rule(unit_code="hq", condition=condition))
    # a scope narrows it: no response came by SMS
    assert preview(ctx, admin, _rule(unit_code="hq", condition=condition,
                                     scope={"channels": ["sms"]})).matched == 0
    assert extra


def test_the_preview_button_shows_the_count_and_examples(
        ctx: Context, world: World, client: TestClient) -> None:
    jobs.run_until_idle(ctx)
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/alert-rules/new?lang=en").text
    shown = client.post("/alert-rules/build?lang=en", data=builder_fields(
        page, name="detractors", unit_code="hq", action="preview"))
    assert shown.status_code == 200 and not stored_rules(ctx)
    assert "Would have matched 3 of 7 responses in the last 30 days." in shown.text
    assert shown.text.count('<a href="/responses/') == 3
    # a condition can be tried before the rule has a name; saving still needs one
    unnamed = client.post("/alert-rules/build?lang=en", data=builder_fields(
        page, name="", unit_code="hq", action="preview"))
    assert unnamed.status_code == 200
    assert "Would have matched 3 of 7 responses in the last 30 days." in unnamed.text
    refused = client.post("/alert-rules/build?lang=en", data=builder_fields(
        page, name="", unit_code="hq", action="save"))
    assert 'id="err-name"' in refused.text and not stored_rules(ctx)


def test_changing_a_rows_field_redraws_it_without_the_old_fields_meaning(
        ctx: Context, world: World, client: TestClient) -> None:
    """A score row on "nps" changed to an aspect came back with an aspect "nps" chosen (an
    option of its own), so the preview looked for a comment aspect nobody has."""
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/alert-rules/new?lang=en").text
    redrawn = client.post("/alert-rules/build?lang=en", data=builder_fields(
        page, action="refresh", **{"g0.r0.field": "aspect"})).text
    aspect = redrawn.split('id="g0-r0-item"')[1].split("</select>")[0]
    assert '<option value="*" selected>' in aspect and 'value="nps"' not in aspect
    assert 'name="g0.r0.shown" value="aspect"' in redrawn
