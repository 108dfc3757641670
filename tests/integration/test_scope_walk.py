"""Every route of the API (its OpenAPI) and of the web app, walked as each demo role of the
fixture world with ids, codes and filter values from outside the role's units — including the
create endpoints, with bodies that name another unit's customer, unit, staff member, survey,
journey and item code. Each answer must be a refusal (403 / 404, or 422 for a body the route
cannot take), or — for a route that names nothing of another unit — a page of the role's own; no
answer may carry another unit's names, phone numbers or comments, and nothing is written.
(On SQLite and PostgreSQL.)"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.integration.test_case_pages import with_cases
from tests.integration.test_closed_loop import cases_by_unit
from tests.world import PASSWORD, RESPONSES, STAFF, World, comment_for
from tiyan.context import Context
from tiyan.store import tables as t

# Each role, and the store whose objects lie outside its units.
ROLES = {"cx@t.test": "s1", "mgr.n1@t.test": "s1", "staff.n1@t.test": "s1",
         "viewer@t.test": "s1", "mgr.s1@t.test": "n1", "analyst.south@t.test": "n1"}
# Routes that no role reaches: respondents' signed links, sign-in, the SMS gateway's callbacks.
PUBLIC = re.compile(r"^/(u|s|i)/\{token\}$|^/log(in|out)$|^/lang/|^/healthz$|^/api/v1/channels/")
# Creates that name nothing of another unit: a new journey is the organisation's.
OWN_CREATES = {("POST", "/api/v1/journeys"), ("POST", "/journeys")}
# Rows a refused request may leave: sign-ins, sessions, tokens' last use, the audit trail.
NOT_WRITES = {"audit_log", "web_session", "api_token", "signin_failure", "app_user"}
REFUSED = {403, 404, 422}


@dataclass
class Side:
    """One store's objects, and what of them must never reach a role of another unit."""

    unit: str
    staff: str
    customer: str
    response: str
    survey: str
    survey_id: int
    journey: str
    call: str
    invitation: str
    plan: str
    rule: int
    case: str
    phone: str
    user: int
    secrets: tuple[str, ...]


def admin(world: World) -> dict[str, str]:
    return {"authorization": f"Bearer {world.tokens['admin@t.test']}"}


def made(reply: Any) -> Any:
    assert reply.status_code in (200, 201, 204), reply.text
    return reply.json() if reply.content else None


def build_side(client: TestClient, ctx: Context, world: World, unit: str,
               cases: dict[str, Any]) -> Side:
    """A survey, a journey used only by it, a call, an invitation, a plan and an invitation
    rule of the store, made by the administrator through the API."""
    h, survey, journey = admin(world), f"only-{unit}", f"j_{unit}"
    made(client.post("/api/v1/surveys", headers=h, json={
        "code": survey, "name": f"Only {unit} 私有问卷", "unit_code": unit, "definition": {
            "title": {"zh-CN": f"{unit}问卷", "en": f"{unit} survey"}, "questions": [
                {"key": "q", "type": "csat", "item_code": f"{unit}_item",
                 "text": {"zh-CN": f"{unit}私有题", "en": f"{unit} private item"}}]}}))
    made(client.post(f"/api/v1/surveys/{survey}/publish", headers=h))
    made(client.put(f"/api/v1/surveys/{survey}/status", headers=h, json={"status": "active"}))
    made(client.post("/api/v1/journeys", headers=h, json={
        "code": journey, "name_zh": f"{unit}旅程", "name_en": f"{unit} journey"}))
    made(client.post(f"/api/v1/journeys/{journey}/touchpoints", headers=h, json={
        "code": "tp", "name_zh": "触点", "name_en": "Touchpoint"}))
    made(client.put(f"/api/v1/surveys/{survey}/touchpoint", headers=h,
                    json={"touchpoint": {"journey": journey, "touchpoint": "tp"}}))
    customer = world.customer_ids[unit]
    call = made(client.post("/api/v1/calls", headers=h,
                            json={"survey": "test", "customer_id": customer}))["id"]
    invitation = made(client.post("/api/v1/invitations", headers=h, json={
        "survey": "test", "unit": unit, "customer": customer, "channel": "sms"}))["id"]
    plan = made(client.post("/api/v1/plans", headers=h, json={
        "title": f"{unit} 秘密计划", "kpi": "nps", "units": [unit],
        "start_date": "2026-01-01"}))["id"]
    rule = made(client.post("/api/v1/invitation-rules", headers=h, json={
        "name": f"{unit} 规则", "event_type": "repair_order_closed", "survey": "test",
        "unit": unit, "channel": "email"}))["id"]
    case_unit = "n1-as" if unit == "n1" else unit
    with ctx.db.read() as conn:
        survey_id = conn.execute(sa.select(t.survey.c.id).where(
            t.survey.c.code == survey)).scalar_one()
        user = conn.execute(sa.select(t.app_user.c.id).where(
            t.app_user.c.email == f"mgr.{unit}@t.test")).scalar_one()
        phone = conn.execute(sa.select(t.customer_identity.c.value).join(
            t.customer, t.customer.c.id == t.customer_identity.c.customer_id).where(
            t.customer.c.public_id == customer)).scalar_one()
    staff = [code for code, at, _ in STAFF if at.startswith(unit)]
    index = next(i for i, row in enumerate(RESPONSES) if row[0].startswith(unit))
    secrets = (f"客户{unit}", phone[-8:], f"Only {unit} 私有问卷", f"{unit}私有题",
               f"{unit} private item", f"{unit} 秘密计划",
               *(name for code, at, name in STAFF if at.startswith(unit)),
               *(comment_for(i) for i, row in enumerate(RESPONSES) if row[0].startswith(unit)))
    return Side(unit, staff[0], customer, world.response_ids[index], survey, survey_id, journey,
                call, invitation, plan, rule, cases[case_unit].public_id, phone, user, secrets)


def path_value(path: str, name: str, side: Side) -> str:
    """The value of path parameter `name` that names something of `side`."""
    by_name: dict[str, Any] = {
        "customer_id": side.customer, "response_id": side.response, "call_id": side.call,
        "case_id": side.case, "plan_id": side.plan, "invitation_id": side.invitation,
        "user_id": side.user, "touchpoint": "tp", "survey": side.survey, "version": 1,
        "fmt": "csv", "kind": "png", "page": "units", "task_id": 1}
    if name == "code":
        return side.journey if "journeys" in path else side.survey
    if name == "public_id":
        return side.customer if path.startswith("/customers") else side.response
    if name == "rule_id" and "invitation" in path:
        return str(side.rule)
    return str(by_name.get(name, 999_999))


# The fields that name something of a unit: always sent, with `side`'s values.
REFERENCES = {"unit", "unit_code", "units", "customer", "customer_id", "survey", "survey_code",
              "survey_id", "staff", "staff_code", "journey", "touchpoint", "definition"}


# Journeys and touchpoints are the organisation's: any unit's survey may listen at them.
ORGANISATION_WIDE = {"journey", "touchpoint"}


# Body and form fields by name: every reference names `side`.
def field_value(name: str, schema: dict[str, Any], side: Side) -> Any:
    refs: dict[str, Any] = {
        "unit": side.unit, "unit_code": side.unit, "units": [side.unit],
        "customer": side.customer, "customer_id": side.customer, "survey": side.survey,
        "survey_code": side.survey, "staff": side.staff, "staff_code": side.staff,
        "journey": side.journey, "touchpoint": f"{side.journey}/tp", "code": "walk",
        "answers": {"q": 5}, "channel": "sms", "channels": ["link"], "type": "repair_order_closed",
        "event_type": "repair_order_closed", "kpi": "nps", "start_date": "2026-01-01",
        "name": "walk", "name_zh": "walk", "name_en": "walk", "title": "walk",
        "definition": {"title": {"zh-CN": "w", "en": "w"}, "questions": [
            {"key": "q", "type": "csat", "item_code": f"{side.unit}_item",
             "text": {"zh-CN": "w", "en": "w"}}]},
        "status": "closed", "outcome": "no_answer", "note": "walk", "phone": "13800130000"}
    if name in refs:
        return refs[name]
    if name == "survey_id":
        return side.survey_id
    if name == "id" or name.endswith("_id"):
        return side.response
    return typed_default(schema)


def typed_default(schema: dict[str, Any]) -> Any:
    """A value of the schema's type that passes its own checks, naming nothing."""
    if "enum" in schema:
        return schema["enum"][0]
    kind, form = schema.get("type"), schema.get("format")
    if form in ("date", "date-time"):
        return "2026-01-01" if form == "date" else "2026-01-01T00:00:00Z"
    return {"integer": 1, "number": 1, "boolean": False, "array": ["walk"],
            "object": {}}.get(kind, "walk-walk-walk") if isinstance(kind, str) \
        else "walk-walk-walk"


def schema_of(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in ref:
        ref = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    for key in ("anyOf", "allOf", "oneOf"):
        if key in ref:
            return schema_of(spec, next((s for s in ref[key] if s.get("type") != "null"),
                                        {}))
    return ref


def json_body(spec: dict[str, Any], path: str, method: str, side: Side) -> dict[str, Any]:
    """A body for the API operation with every field it knows filled with `side`'s values."""
    operation = spec["paths"].get(path, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return {}
    schema = schema_of(spec, content["schema"])
    body, required = {}, set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        prop = schema_of(spec, prop)
        if name not in required and name not in REFERENCES:
            continue
        value = field_value(name, prop, side)
        if name == "customer" and prop.get("type") == "object":
            value = {"id": side.customer, "phone": "13800130000"}
        if name == "touchpoint" and prop.get("type") == "object":
            value = {"journey": side.journey, "touchpoint": "tp"}
        body[name] = value
    if path == "/api/v1/events":
        body["customer"] = {"phone": side.phone}  # the store's customer's number
    return body


def routes(app: Any) -> list[tuple[str, str, bool]]:
    """(method, path, is_api) of every route, pages and API alike."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute):
            continue
        path = route.path_format
        if PUBLIC.search(path):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            if (method, path) not in OWN_CREATES:
                found.append((method, path, path.startswith("/api/")))
    return found


def digest(ctx: Context) -> dict[str, str]:
    """A fingerprint of every table's rows, but those a refused request may leave."""
    prints = {}
    with ctx.db.read() as conn:
        for table in t.metadata.sorted_tables:
            if table.name in NOT_WRITES:
                continue
            rows = conn.execute(sa.select(table)).all()
            text = "\n".join(sorted(repr(tuple(row)) for row in rows))
            prints[table.name] = hashlib.sha256(text.encode()).hexdigest()
    return prints


def page_token(client: TestClient) -> str:
    page = client.get("/surveys").text + client.get("/").text
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def mixed_bodies(spec: dict[str, Any], path: str, method: str, own: Side,
                 side: Side) -> list[dict[str, Any]]:
    """Bodies of the role's own references but one, which names `side`'s: the way in when
    each reference is checked on its own (another unit's customer invited in one's own unit)."""
    mine, theirs = json_body(spec, path, method, own), json_body(spec, path, method, side)
    return [{**mine, name: theirs[name]} for name in mine
            if name in REFERENCES - ORGANISATION_WIDE and mine[name] != theirs[name]]


def walk_role(client: TestClient, world: World, email: str, sides: tuple[Side, Side],
              spec: dict[str, Any], tally: Counter[str]) -> list[str]:
    """Every route as `email` with the outside side's values (and, for the creates, bodies
    of the role's own values but one); the problems found."""
    own, side = sides
    problems: list[str] = []
    sign_in(client, email, PASSWORD)
    token, bearer = page_token(client), {"authorization": f"Bearer {world.tokens[email]}"}
    filters = {"unit": side.unit, "staff": side.staff, "survey": side.survey,
               "customer": side.customer}
    for method, path, is_api in routes(client.app):
        names = re.findall(r"{(\w+)}", path)
        url = path.format(**{n: path_value(path, n, side) for n in names})
        kwargs: dict[str, Any] = {"params": filters, "follow_redirects": False}
        if is_api:
            kwargs["headers"] = bearer
            if method not in ("GET", "DELETE"):
                kwargs["json"] = json_body(spec, path, method, side)
        elif method != "GET":
            kwargs["data"] = {"csrf_token": token, "confirm": "yes", **{
                k: str(field_value(k, {}, side)) for k in (
                    "unit", "unit_code", "customer", "survey", "staff", "journey",
                    "touchpoint", "code", "kpi", "title", "name_zh", "name_en", "status",
                    "start_date", "outcome", "name", "event_type", "channels",
                    "units")},
                "template": "plain_nps",
                "period_start": "2026-01-01", "period_end": "2026-12-31", "target": "50"}
        reply = client.request(method, url, **kwargs)
        tally[f"{reply.status_code}"] += 1
        problems += check(reply, method, path, names, side)
        if is_api and method != "GET" and not names:
            for body in mixed_bodies(spec, path, method, own, side):
                reply = client.request(method, url, headers=bearer, json=body)
                tally[f"{reply.status_code}"] += 1
                problems += check(reply, method, path, ["mixed"], side)
    return problems


# Routes that name nothing of another unit may answer with the role's own page or list.
OWN = {200, 201, 204, 303}


def check(reply: Any, method: str, path: str, names: list[str], side: Side) -> list[str]:
    where = f"{method} {path} -> {reply.status_code}"
    found = [f"{where}: shows {secret!r}" for secret in side.secrets if secret in reply.text]
    org_wide = "journeys" in path and method == "GET"  # journeys are the organisation's
    if reply.status_code in REFUSED or (reply.status_code in OWN and (
            org_wide or not (set(names) - {"fmt", "kind", "page", "version"}))):
        return found
    return [*found, f"{where}: {reply.text[:200]}"]


def assert_walk(ctx: Context, world: World, client: TestClient, tmp_path: Path) -> None:
    with_cases(ctx, world, tmp_path)
    cases = cases_by_unit(ctx, world)
    sides = {u: build_side(client, ctx, world, u, cases) for u in ("n1", "s1")}
    spec = client.get("/api/v1/openapi.json").json()
    tally: Counter[str] = Counter()
    problems: list[str] = []
    ctx.signing_key()  # made on first use by whichever request signs a link first
    before = digest(ctx)
    for email, outside in ROLES.items():
        mine = sides["s1" if outside == "n1" else "n1"]
        problems += [f"{email}: {p}" for p in walk_role(client, world, email,
                                                        (mine, sides[outside]), spec, tally)]
    changed = {name for name, value in digest(ctx).items() if before[name] != value}
    tried = sum(tally.values())
    print(f"scope walk: {tried} requests ({len(routes(client.app))} routes x {len(ROLES)} "
          f"roles), answers {dict(sorted(tally.items()))}")
    assert not problems, "\n".join(problems)
    assert not changed, f"refused requests wrote to {sorted(changed)}"


def test_every_route_refuses_every_role_another_units_ids_and_writes_nothing(
        ctx: Context, world: World, client: TestClient, tmp_path: Path) -> None:
    assert_walk(ctx, world, client, tmp_path)


def test_every_unsafe_page_request_without_the_csrf_token_is_refused(
        world: World, client: TestClient) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    unsafe = [(m, p) for m, p, is_api in routes(client.app) if not is_api and m != "GET"]
    for method, path in unsafe:
        url = re.sub(r"{(\w+)}", "x", path)
        reply = client.request(method, url, data={"status": "closed"}, follow_redirects=False)
        assert reply.status_code == 403, (method, path, reply.status_code)
    assert len(unsafe) >= 45  # every unsafe page route (48 today), so none is skipped


def test_a_cx_manager_cannot_plan_a_call_for_their_customer_in_another_unit(
        ctx: Context, world: World, client: TestClient) -> None:
    cx = {"authorization": f"Bearer {world.tokens['cx@t.test']}"}
    before = digest(ctx)
    reply = client.post("/api/v1/calls", headers=cx, json={
        "survey": "test", "customer_id": world.customer_ids["n1"], "unit_code": "s1"})
    assert reply.status_code == 404 and "客户" not in reply.text
    assert digest(ctx) == before
