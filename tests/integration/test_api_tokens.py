"""API tokens have a name, a scope (read / write / admin), an expiry and a last use; they are
stored hashed, listed and revoked through the CLI, the API and the account page, and an
expired or revoked one gets a 401 that says so."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from tests.demo_db import run_tiyan
from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World, token_for
from tiyan.errors import InvalidInput, NotFound
from tiyan.services.api_tokens import TokenRequest, do_create_token, do_revoke_token
from tiyan.store import tables as t

UNIT = {"code": "n9", "name_zh": "北九", "name_en": "North 9", "kind": "store",
        "parent_code": "north"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(world: World, email: str, scope: str, **kwargs: object) -> str:
    return do_create_token(world.ctx, None, TokenRequest("t", scope, **kwargs),  # type: ignore[arg-type]
                           email=email).secret


def token_rows(world: World) -> list[sa.RowMapping]:
    with world.ctx.db.read() as conn:
        return list(conn.execute(sa.select(t.api_token).order_by(t.api_token.c.id)).mappings())


def test_tokens_are_stored_as_hashes_only(world):
    secrets = set(world.tokens.values())
    for row in token_rows(world):
        assert len(row["token_hash"]) == 64 and row["token_hash"] not in secrets
        assert not any(secret in str(dict(row)) for secret in secrets)


def test_a_read_token_only_reads(world, client):
    token = issue(world, "admin@t.test", "read")
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/responses", headers=bearer(token)).status_code == 200
    for method, path, body in (("post", "/api/v1/units", UNIT),
                               ("post", "/api/v1/tokens", {"name": "more"}),
                               ("delete", "/api/v1/tokens/1", None)):
        reply = client.request(method, path, json=body, headers=bearer(token))
        assert reply.status_code == 403 and reply.json()["error"]["key"] == \
            "access.api_token_read_scope"


def test_a_write_token_writes_but_reaches_no_administrative_endpoint(world, client):
    token = issue(world, "admin@t.test", "write")
    survey = client.post("/api/v1/responses", headers=bearer(token), json={
        "survey_id": world.survey_id, "unit_code": "n2", "answers": {"nps": 7}})
    assert survey.status_code == 201, survey.text
    for method, path, body in (("get", "/api/v1/users", None), ("post", "/api/v1/units", UNIT),
                               ("post", "/api/v1/users", {
                                   "email": "x@t.test", "name": "X", "password": PASSWORD * 2,
                                   "role": "admin", "unit_code": "hq"}),
                               ("get", "/api/v1/webhooks", None),
                               ("get", "/api/v1/tokens?all_users=true", None),
                               ("post", "/api/v1/tokens", {"name": "escalate", "scope": "admin"})):
        reply = client.request(method, path, json=body, headers=bearer(token))
        assert reply.status_code == 403, (path, reply.status_code, reply.text)
    me = client.get("/api/v1/me", headers=bearer(token)).json()
    assert "manage_users" not in me["permissions"] and "view_responses" in me["permissions"]


def test_an_admin_token_does_everything_its_user_may(world, client):
    token = issue(world, "admin@t.test", "admin")
    assert client.post("/api/v1/units", json=UNIT, headers=bearer(token)).status_code == 201
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200
    # but never more than its user: a viewer's admin token still cannot manage users
    viewer = issue(world, "viewer@t.test", "admin")
    assert client.get("/api/v1/users", headers=bearer(viewer)).status_code == 403


def test_tokens_expire_after_the_default_days_or_those_asked_for(world, client):
    default, week = issue(world, "cx@t.test", "read"), issue(world, "cx@t.test", "read",
                                                             expires_days=7)
    never = issue(world, "cx@t.test", "read", never_expires=True)
    rows = token_rows(world)[-3:]
    assert [r["expires_at"] - r["created_at"] for r in rows[:2]] == [
        dt.timedelta(days=90), dt.timedelta(days=7)]
    assert rows[2]["expires_at"] is None
    world.ctx.clock.advance(days=8)
    expired = client.get("/api/v1/me", headers=bearer(week))
    assert expired.status_code == 401 and expired.headers["www-authenticate"] == "Bearer"
    assert expired.json()["error"]["key"] == "api_tokens.api_token_expired_create"
    assert expired.json()["error"]["where"] == "token"
    assert client.get("/api/v1/me", headers=bearer(default)).status_code == 200
    world.ctx.clock.advance(days=90)
    assert client.get("/api/v1/me", headers=bearer(default)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(never)).status_code == 200


def test_a_revoked_or_unknown_token_gets_a_401_that_says_which(world, client):
    token = issue(world, "cx@t.test", "read")
    token_id = token_rows(world)[-1]["id"]
    do_revoke_token(world.ctx, None, token_id)
    revoked = client.get("/api/v1/me", headers=bearer(token))
    assert revoked.status_code == 401
    assert revoked.json()["error"]["key"] == "api_tokens.api_token_revoked"
    for garbage in ("ty_" + "x" * 43, "x" * 5000, "ty_∞", "' OR 1=1 --", "Bearer", "\x00"):
        header = f"Bearer {garbage}".encode()  # as bytes: not all of it is ASCII
        reply = client.get("/api/v1/me", headers={"Authorization": header})
        assert reply.status_code == 401 and reply.json()["error"]["key"] == \
            "api_tokens.api_token_unknown", garbage


def test_the_last_use_is_recorded_at_most_once_a_minute(world, client):
    token = issue(world, "cx@t.test", "read")
    assert token_rows(world)[-1]["last_used_at"] is None
    client.get("/api/v1/me", headers=bearer(token))
    first = token_rows(world)[-1]["last_used_at"]
    assert first == world.ctx.now()
    world.ctx.clock.advance(seconds=30)
    client.get("/api/v1/me", headers=bearer(token))
    assert token_rows(world)[-1]["last_used_at"] == first
    world.ctx.clock.advance(seconds=31)
    client.get("/api/v1/me", headers=bearer(token))
    assert token_rows(world)[-1]["last_used_at"] == world.ctx.now()


def test_users_manage_their_own_tokens_through_the_api_and_admins_everyones(world, client):
    cx = bearer(world.tokens["cx@t.test"])
    made = client.post("/api/v1/tokens", headers=cx, json={"name": "ci", "scope": "write",
                                                            "expires_days": 30})
    assert made.status_code == 201 and made.json()["token"].startswith("ty_")
    assert client.get("/api/v1/me", headers=bearer(made.json()["token"])).status_code == 200
    own = client.get("/api/v1/tokens", headers=cx).json()
    assert {row["email"] for row in own} == {"cx@t.test"} and len(own) == 2
    assert all("token" not in row and "token_hash" not in row for row in own)
    assert client.get("/api/v1/tokens?all_users=true", headers=cx).status_code == 403
    viewer_token = token_rows(world)[[r["user_id"] for r in token_rows(world)].index(
        world.actor("viewer@t.test").user_id)]["id"]
    assert client.delete(f"/api/v1/tokens/{viewer_token}", headers=cx).status_code == 404
    admin = bearer(world.tokens["admin@t.test"])
    everyone = client.get("/api/v1/tokens?all_users=true", headers=admin).json()
    assert {row["email"] for row in everyone} >= {"cx@t.test", "viewer@t.test"}
    assert client.delete(f"/api/v1/tokens/{viewer_token}", headers=admin).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(world.tokens["viewer@t.test"])) \
        .status_code == 401
    assert client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=cx).status_code == 204
    with world.ctx.db.read() as conn:
        actions = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.user_id)
                               .where(t.audit_log.c.action == "token.revoke")
                               .order_by(t.audit_log.c.id)).all()
    assert [a.user_id for a in actions] == [world.actor("admin@t.test").user_id,
                                            world.actor("cx@t.test").user_id]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": ""}, "body.name"),
        ({"name": "x" * 101}, "body.name"),
        ({"name": "tab\there"}, "name"),
        ({"name": "\u202eevil"}, "name"),
        ({"name": "ok", "scope": "root"}, "body.scope"),
        ({"name": "ok", "expires_days": 0}, "body.expires_days"),
        ({"name": "ok", "expires_days": -5}, "body.expires_days"),
        ({"name": "ok", "expires_days": 10**20}, "body.expires_days"),
        ({"name": "ok", "expires_days": "soon"}, "body.expires_days"),
        ({"name": "ok", "expires_days": 30, "never_expires": True}, "expires_days"),
        ({"name": "ok", "user_id": 1}, "body.user_id"),
    ],
)
def test_bad_token_requests_are_refused_naming_the_field_and_nothing_is_stored(
        world, client, body, where):
    before = len(token_rows(world))
    reply = client.post("/api/v1/tokens", headers=bearer(world.tokens["cx@t.test"]), json=body)
    assert reply.status_code == 422 and reply.json()["error"]["where"] == where, reply.text
    assert len(token_rows(world)) == before


def test_the_account_page_shows_a_new_secret_once_and_revokes(world, client):
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/account")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    made = client.post("/account/tokens", data={"name": "<b>robot</b>", "scope": "write",
                                                "expires_days": "14", "csrf_token": csrf})
    secret = re.search(r'<code class="secret">(ty_[^<]+)</code>', made.text)
    assert made.status_code == 200 and secret is not None
    assert "&lt;b&gt;robot&lt;/b&gt;" in made.text and "<b>robot" not in made.text
    assert client.get("/api/v1/me", headers=bearer(secret[1])).status_code == 200
    again = client.get("/account")
    assert secret[1] not in again.text and "&lt;b&gt;robot" in again.text
    token_id = token_rows(world)[-1]["id"]
    gone = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert gone.status_code == 200 and client.get("/api/v1/me", headers=bearer(secret[1])) \
        .status_code == 401
    for bad, text in (({"name": "x", "expires_days": "abc"}, "1 到 3650 天"),
                      ({"name": "x", "scope": "root"}, "只读、读写或管理"),
                      ({"name": "x", "expires_days": "9", "never_expires": "on"}, "二者只能选一")):
        reply = client.post("/account/tokens", data={**bad, "csrf_token": csrf})
        assert reply.status_code == 422 and text in reply.text
    foreign = token_rows(world)[0]["id"]  # admin's token
    assert client.post(f"/account/tokens/{foreign}/revoke",
                       data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/account/tokens/{10**30}/revoke",
                       data={"csrf_token": csrf}).status_code == 404


def test_the_command_line_creates_lists_and_revokes_tokens(world, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for args in (("db", "upgrade"),
                 ("units", "create", "--code", "hq", "--name-zh", "总部", "--name-en", "HQ",
                  "--kind", "group"),
                 ("users", "create", "--email", "a@b.cn", "--password", PASSWORD, "--role",
                  "admin", "--unit", "hq")):
        assert run_tiyan(*args, "--db", url).returncode == 0
    made = run_tiyan("token", "create", "--email", "a@b.cn", "--name", "nightly", "--scope",
                     "write", "--expires-days", "30", "--db", url)
    assert made.returncode == 0 and made.stdout.strip().startswith("ty_")
    assert "(write, expires" in made.stderr
    forever = run_tiyan("token", "create", "--email", "a@b.cn", "--never-expires", "--db", url)
    assert forever.returncode == 0 and "(read, never expires)" in forever.stderr
    listed = run_tiyan("token", "list", "--db", url)
    lines = [line.split("\t") for line in listed.stdout.strip().splitlines()]
    assert [(c[0], c[2], c[3], c[6]) for c in lines] == [("2", "cli", "read", "live"),
                                                         ("1", "nightly", "write", "live")]
    assert made.stdout.strip() not in listed.stdout
    assert run_tiyan("token", "revoke", "1", "--db", url).returncode == 0
    assert "\trevoked" in run_tiyan("token", "list", "--db", url).stdout
    for args, text in ((("revoke", "99"), "does not exist"),
                       (("revoke", "0"), "Invalid value"),
                       (("create", "--email", "a@b.cn", "--scope", "root"), "not a token scope"),
                       (("create", "--email", "a@b.cn", "--expires-days", "0"), "1 to 3650"),
                       (("create", "--email", "nobody@b.cn"), "no user")):
        result = run_tiyan("token", *args, "--db", url)
        assert result.returncode != 0 and text in result.stderr, (args, result.stderr)


def test_services_refuse_what_the_api_schema_would_catch(world):
    with pytest.raises(InvalidInput):
        do_create_token(world.ctx, None, TokenRequest("x", "read", expires_days=4000),
                        email="cx@t.test")
    with pytest.raises(NotFound):
        do_revoke_token(world.ctx, world.actor("cx@t.test"), 10**12)
    assert token_for(world.ctx, "cx@t.test", "read").startswith("ty_")
