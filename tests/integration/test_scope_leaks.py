"""Every role at every unit of the fixture world sees exactly its own subtree: in the API, the
pages and the exports (on SQLite and PostgreSQL)."""

import csv
import io

import pytest

from tests.integration.conftest import sign_in
from tests.world import (
    PASSWORD,
    RESPONSES,
    STAFF,
    SUBTREE,
    USERS,
    comment_for,
    visible_responses,
    visible_units,
)
from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role

EMAILS = [u[0] for u in USERS]


def can(email, permission):
    role = next(u[1] for u in USERS if u[0] == email)
    return permission in ROLE_PERMISSIONS[Role(role)]


def api(client, world, email):
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def all_response_comments(client, headers):
    comments, cursor = set(), None
    while True:
        url = "/api/v1/responses?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers).json()
        for item in page["items"]:
            comments |= {a["value_text"] for a in item["answers"] if a["question_key"] == "comment"}
        cursor = page["next_cursor"]
        if not cursor:
            return comments


@pytest.mark.parametrize("email", EMAILS)
def test_api_responses_are_exactly_the_users_scope(world, client, email):
    headers = api(client, world, email)
    expected = {comment_for(i) for i in visible_responses(email)}
    if not can(email, Permission.VIEW_RESPONSES):
        assert client.get("/api/v1/responses", headers=headers).status_code == 403
        return
    assert all_response_comments(client, headers) == expected
    for index, public_id in world.response_ids.items():
        status = client.get(f"/api/v1/responses/{public_id}", headers=headers).status_code
        assert status == (200 if index in visible_responses(email) else 404), (index, status)


@pytest.mark.parametrize("email", EMAILS)
def test_api_units_staff_and_customers_stay_in_scope(world, client, email):
    headers = api(client, world, email)
    units = {u["code"] for u in client.get("/api/v1/units", headers=headers).json()}
    assert units == visible_units(email)
    staff = client.get("/api/v1/staff", headers=headers)
    if can(email, Permission.VIEW_STAFF):
        assert {s["code"] for s in staff.json()} == {
            code for code, unit, _ in STAFF if unit in visible_units(email)}
    else:
        assert staff.status_code == 403
    customers = client.get("/api/v1/customers", headers=headers)
    if not can(email, Permission.VIEW_CUSTOMERS):
        assert customers.status_code == 403
        return
    seen = {c["id"] for c in customers.json()["items"]}
    assert seen == {cid for store, cid in world.customer_ids.items()
                    if store in visible_units(email)}
    for store, cid in world.customer_ids.items():
        status = client.get(f"/api/v1/customers/{cid}", headers=headers).status_code
        assert status == (200 if store in visible_units(email) else 404)


@pytest.mark.parametrize("email", EMAILS)
def test_exports_hold_only_the_users_scope(world, client, email):
    reply = client.get("/api/v1/exports/responses.csv", headers=api(client, world, email))
    if not can(email, Permission.EXPORT):
        assert reply.status_code == 403
        return
    rows = list(csv.DictReader(io.StringIO(reply.text.lstrip("\ufeff"))))
    comments = {r["value_text"] for r in rows if r["question_key"] == "comment"}
    assert comments == {comment_for(i) for i in visible_responses(email)}


@pytest.mark.parametrize("email", EMAILS)
def test_pages_show_only_the_users_scope(world, client, email):
    sign_in(client, email, PASSWORD)
    page = client.get("/responses")
    if not can(email, Permission.VIEW_RESPONSES):
        assert page.status_code == 403
    else:
        shown = {comment_for(i) for i in range(len(RESPONSES)) if comment_for(i) in page.text}
        assert shown == {comment_for(i) for i in visible_responses(email)}
    staff_page = client.get("/staff")
    if can(email, Permission.VIEW_STAFF):
        shown_staff = {name for _, _, name in STAFF if name in staff_page.text}
        assert shown_staff == {name for _, unit, name in STAFF if unit in visible_units(email)}


@pytest.mark.parametrize("email", EMAILS)
def test_home_figures_count_only_the_users_scope(world, client, email):
    from tiyan.services.jobs import run_until_idle

    run_until_idle(world.ctx)  # the dashboards read the aggregates the jobs keep current
    months = client.get("/api/v1/kpis/monthly?months=1", headers=api(client, world, email))
    role = next(u[1] for u in USERS if u[0] == email)
    expected = len(visible_responses(email)) if role != "viewer" else sum(
        1 for unit, *_ in RESPONSES if unit in visible_units(email))
    assert months.json()[0]["responses"] == expected


def test_customer_pii_is_masked_for_roles_without_the_pii_permission(world, client):
    analyst = client.get("/api/v1/customers", headers=api(client, world, "analyst.south@t.test"))
    manager = client.get("/api/v1/customers", headers=api(client, world, "mgr.s1@t.test"))
    assert analyst.json()["items"][0]["attributes"]["phone"] == "138****8000"
    assert analyst.json()["items"][0]["name"].startswith("客*")
    assert manager.json()["items"][0]["attributes"]["phone"] == "13800138000"


def test_personal_data_in_comments_is_masked_for_roles_without_the_pii_permission(world, client):
    from tiyan.services.responses import ResponseRequest, do_submit_response

    do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code="s1",
        answers={"nps": 3, "comment": "请回电 13912345678 或写信 li.lei@example.com"}))

    def comments(email, url="/api/v1/responses"):
        page = client.get(url, headers=api(client, world, email))
        return page.text if url.endswith(".csv") else "".join(
            a["value_text"] or "" for item in page.json()["items"] for a in item["answers"])

    assert "13912345678" in comments("mgr.s1@t.test")
    for text in (comments("analyst.south@t.test"),
                 comments("analyst.south@t.test", "/api/v1/exports/responses.csv")):
        assert "13912345678" not in text and "li.lei@example.com" not in text
        assert "[手机号]" in text and "[邮箱]" in text


def expected_for(role: Role, unit: str) -> dict[str, set[str]]:
    """What a user holding `role` at `unit` (and no staff record) may see, from the tree alone."""
    units = SUBTREE[unit]
    perms = ROLE_PERMISSIONS[role]
    sees_responses = Permission.VIEW_RESPONSES in perms and role != Role.FRONTLINE
    return {
        "responses": {comment_for(i) for i, r in enumerate(RESPONSES)
                      if sees_responses and r[0] in units},
        "customers": {s for s in ("n1", "n2", "s1")
                      if Permission.VIEW_CUSTOMERS in perms and s in units},
        "staff": {code for code, u, _ in STAFF if Permission.VIEW_STAFF in perms and u in units},
        "export": {comment_for(i) for i, r in enumerate(RESPONSES)
                   if Permission.EXPORT in perms and r[0] in units},
    }


def seen_by(client, world, headers) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    responses = client.get("/api/v1/responses?limit=500", headers=headers)
    seen["responses"] = set() if responses.status_code == 403 else {
        a["value_text"] for item in responses.json()["items"] for a in item["answers"]
        if a["question_key"] == "comment"}
    customers = client.get("/api/v1/customers", headers=headers)
    ids = {cid: store for store, cid in world.customer_ids.items()}
    seen["customers"] = set() if customers.status_code == 403 else {
        ids[c["id"]] for c in customers.json()["items"]}
    staff = client.get("/api/v1/staff", headers=headers)
    seen["staff"] = set() if staff.status_code == 403 else {s["code"] for s in staff.json()}
    export = client.get("/api/v1/exports/responses.csv", headers=headers)
    seen["export"] = set() if export.status_code == 403 else {
        r["value_text"] for r in csv.DictReader(io.StringIO(export.text.lstrip("\ufeff")))
        if r["question_key"] == "comment"}
    return seen


def test_every_role_at_every_unit_sees_exactly_its_subtree(world, client):
    from tests.world import SUBTREE as TREE
    from tests.world import token_for
    from tiyan.services.accounts import do_create_user

    for role in Role:
        for unit in TREE:
            email = f"{role.value}.{unit}@grid.test"
            do_create_user(world.ctx, None, email=email, name=email, password=PASSWORD,
                           role=role.value, unit_code=unit)
            headers = {"Authorization": f"Bearer {token_for(world.ctx, email)}"}
            assert seen_by(client, world, headers) == expected_for(role, unit), (role, unit)
            units = {u["code"] for u in client.get("/api/v1/units", headers=headers).json()}
            assert units == (set() if role == Role.FRONTLINE else TREE[unit]), (role, unit)
            client.cookies.clear()
            sign_in(client, email, PASSWORD)
            page = client.get("/responses")
            shown = {comment_for(i) for i in range(len(RESPONSES)) if comment_for(i) in page.text}
            assert shown == expected_for(role, unit)["responses"], (role, unit)
