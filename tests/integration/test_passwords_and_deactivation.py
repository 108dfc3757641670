"""Changing one's password ends every other session; administrators reset passwords and
deactivate users (who then cannot sign in, and whose sessions and tokens stop at once); all of
it audited, refused clearly when it may not happen."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.demo_db import run_tiyan
from tests.integration.conftest import app_for, sign_in
from tests.world import PASSWORD, World, token_for
from tiyan.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from tiyan.services import accounts
from tiyan.services.accounts import do_create_user, do_set_active
from tiyan.store import tables as t
from tiyan.store.db import Database

NEW = "a new password 2"


def csrf(page_html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found is not None
    return found[1]


def audit_actions(world: World, action: str) -> list[sa.RowMapping]:
    with world.ctx.db.read() as conn:
        return list(conn.execute(sa.select(t.audit_log).where(t.audit_log.c.action == action)
                                 .order_by(t.audit_log.c.id)).mappings())


def password_hash(world: World, email: str) -> str:
    with world.ctx.db.read() as conn:
        return str(conn.execute(sa.select(t.app_user.c.password_hash)
                                .where(t.app_user.c.email == email)).scalar_one())


def change_on_page(client: TestClient, current: str, new: str,
                   confirm: str | None = None) -> httpx.Response:
    token = csrf(client.get("/account").text)
    return client.post("/account/password", follow_redirects=False, data={
        "current": current, "new": new, "confirm": new if confirm is None else confirm,
        "csrf_token": token})


def test_a_password_change_keeps_this_session_under_a_new_cookie_and_ends_the_others(world):
    app = app_for(world.ctx)
    with TestClient(app) as here, TestClient(app) as elsewhere:
        sign_in(here, "cx@t.test", PASSWORD)
        sign_in(elsewhere, "cx@t.test", PASSWORD)
        old_cookie = here.cookies["tiyan_session"]
        reply = change_on_page(here, PASSWORD, NEW)
        assert reply.status_code == 303 and reply.headers["location"] == "/account?done=password"
        assert here.cookies["tiyan_session"] != old_cookie
        assert here.get("/account").status_code == 200
        assert elsewhere.get("/account", follow_redirects=False).status_code == 303  # signed out
    with TestClient(app, cookies={"tiyan_session": old_cookie}) as stale:
        assert stale.get("/account", follow_redirects=False).status_code == 303
    assert password_hash(world, "cx@t.test").startswith("$argon2id$")
    with pytest.raises(NotAuthenticated):
        accounts.sign_in(world.ctx, "cx@t.test", PASSWORD)
    assert accounts.sign_in(world.ctx, "cx@t.test", NEW).user_id
    assert audit_actions(world, "password.change")[-1]["detail"] == {"sessions_ended": 2}


@pytest.mark.parametrize(
    ("current", "new", "confirm", "en", "zh"),
    [
        ("wrong one", NEW, None, "current password is wrong", "当前密码不正确"),
        (PASSWORD, "short", None, "8 to 1024 characters", "8 到 1024 个字符"),
        (PASSWORD, "x" * 1025, None, "8 to 1024 characters", "8 到 1024 个字符"),
        (PASSWORD, PASSWORD, None, "differ from the current one", "不能与当前密码相同"),
        (PASSWORD, NEW, "another one", "two new passwords differ", "两次输入的新密码不一致"),
    ],
)
def test_a_refused_password_change_says_why_in_both_languages_and_changes_nothing(
        world, client, current, new, confirm, en, zh):
    before = password_hash(world, "cx@t.test")
    sign_in(client, "cx@t.test", PASSWORD)
    for lang, text in (("en", en), ("zh-CN", zh)):
        client.cookies.set("tiyan_lang", lang)
        reply = change_on_page(client, current, new, confirm)
        assert reply.status_code in (422, 200) and text in reply.text, reply.text[-2000:]
    assert reply.status_code == 422
    assert password_hash(world, "cx@t.test") == before
    assert client.get("/account").status_code == 200  # still signed in


def test_guessing_the_current_password_is_limited_like_signing_in(world, client):
    world.ctx.settings.signin_failures_per_account = 2
    sign_in(client, "cx@t.test", PASSWORD)
    assert [change_on_page(client, f"guess {i}", NEW).status_code for i in range(3)] == \
        [422, 422, 429]
    assert change_on_page(client, PASSWORD, NEW).status_code == 429
    assert len(audit_actions(world, "password.change_failed")) == 2


def test_the_password_api_needs_the_current_password_and_an_admin_scoped_token(world, client):
    admin_token = token_for(world.ctx, "cx@t.test", "admin")
    write_token = token_for(world.ctx, "cx@t.test", "write")
    body = {"current_password": PASSWORD, "new_password": NEW}
    refused = client.post("/api/v1/me/password", json=body,
                          headers={"Authorization": f"Bearer {write_token}"})
    assert refused.status_code == 403 and refused.json()["error"]["where"] == "token"
    wrong = client.post("/api/v1/me/password", json={**body, "current_password": "nope"},
                        headers={"Authorization": f"Bearer {admin_token}"})
    assert wrong.status_code == 422 and wrong.json()["error"]["where"] == "current_password"
    extra = client.post("/api/v1/me/password", json={**body, "admin": True},
                        headers={"Authorization": f"Bearer {admin_token}"})
    assert extra.status_code == 422
    done = client.post("/api/v1/me/password", json=body,
                       headers={"Authorization": f"Bearer {admin_token}"})
    assert done.status_code == 204
    assert accounts.sign_in(world.ctx, "cx@t.test", NEW).user_id


def test_the_password_api_from_the_browser_rotates_the_session_cookie(world, client):
    sign_in(client, "cx@t.test", PASSWORD)
    old = client.cookies["tiyan_session"]
    token = csrf(client.get("/account").text)
    reply = client.post("/api/v1/me/password", headers={"X-CSRF-Token": token},
                        json={"current_password": PASSWORD, "new_password": NEW})
    assert reply.status_code == 204 and client.cookies["tiyan_session"] != old
    assert client.get("/api/v1/me").status_code == 200


def test_an_admin_resets_a_password_which_ends_all_of_that_users_sessions(world):
    app = app_for(world.ctx)
    with TestClient(app) as admin, TestClient(app) as user:
        sign_in(user, "mgr.n1@t.test", PASSWORD)
        sign_in(admin, "admin@t.test", PASSWORD)
        user_id = world.actor("mgr.n1@t.test").user_id
        page = admin.get("/admin/users")
        reply = admin.post(f"/admin/users/{user_id}/password",
                           data={"new": NEW, "csrf_token": csrf(page.text)})
        assert reply.status_code == 200 and "该用户的所有登录会话都已退出" in reply.text
        assert user.get("/", follow_redirects=False).status_code == 303
    assert accounts.sign_in(world.ctx, "mgr.n1@t.test", NEW).user_id
    entry = audit_actions(world, "password.reset")[-1]
    assert entry["user_id"] == world.actor("admin@t.test").user_id
    assert entry["entity_id"] == str(user_id) and entry["detail"] == {"sessions_ended": 1}


def test_only_an_admin_over_every_unit_of_a_user_resets_or_deactivates_them(world):
    do_create_user(world.ctx, None, email="admin.n1@t.test", name="n1 admin", password=PASSWORD,
                   role="admin", unit_code="n1")
    store_admin = world.actor("admin.n1@t.test")
    for email in ("cx@t.test", "admin@t.test"):  # granted at north and hq: above n1
        target = world.actor(email).user_id
        with pytest.raises(NotFound):
            accounts.do_reset_password(world.ctx, store_admin, user_id=target, new=NEW)
        with pytest.raises(NotFound):
            do_set_active(world.ctx, store_admin, user_id=target, active=False)
    for email in ("cx@t.test", "viewer@t.test"):
        with pytest.raises(Forbidden):
            accounts.do_reset_password(world.ctx, world.actor(email),
                                       user_id=world.actor("mgr.n1@t.test").user_id, new=NEW)
    accounts.do_reset_password(world.ctx, store_admin,
                               user_id=world.actor("mgr.n1@t.test").user_id, new=NEW)
    with pytest.raises(NotFound):
        accounts.do_reset_password(world.ctx, store_admin, user_id=10**15, new=NEW)
    with pytest.raises(InvalidInput):
        accounts.do_reset_password(world.ctx, store_admin,
                                   user_id=world.actor("mgr.n1@t.test").user_id, new="short")


def test_a_deactivated_user_cannot_sign_in_and_their_session_and_tokens_stop_at_once(world):
    app = app_for(world.ctx)
    token = world.tokens["cx@t.test"]
    with TestClient(app) as admin, TestClient(app) as user:
        sign_in(user, "cx@t.test", PASSWORD)
        assert user.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}) \
            .status_code == 200
        sign_in(admin, "admin@t.test", PASSWORD)
        page = admin.get("/admin/users")
        user_id = world.actor("cx@t.test").user_id
        assert f'/admin/users/{user_id}/deactivate' in page.text
        reply = admin.post(f"/admin/users/{user_id}/deactivate",
                           data={"csrf_token": csrf(page.text)}, follow_redirects=False)
        assert reply.status_code == 303
        assert user.get("/", follow_redirects=False).status_code == 303
        user.cookies.clear()
        api = user.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 401
        assert api.json()["error"]["key"] == "api_tokens.api_token_revoked"
        page = user.get("/login")
        refused = user.post("/login", data={"email": "cx@t.test", "password": PASSWORD,
                                            "csrf_token": csrf(page.text)})
        assert refused.status_code == 401 and "该账号已停用" in refused.text
    entry = audit_actions(world, "user.deactivate")[-1]
    assert entry["detail"] == {"sessions_ended": 1, "tokens_revoked": 1}
    assert entry["user_id"] == world.actor("admin@t.test").user_id


def test_a_reactivated_user_signs_in_again_but_their_old_tokens_stay_revoked(world, client):
    user_id = world.actor("cx@t.test").user_id
    do_set_active(world.ctx, None, user_id=user_id, active=False)
    do_set_active(world.ctx, None, user_id=user_id, active=True)
    assert accounts.sign_in(world.ctx, "cx@t.test", PASSWORD).user_id == user_id
    token = world.tokens["cx@t.test"]
    reply = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 401
    assert [e["action"] for e in audit_actions(world, "user.activate")] == ["user.activate"]


def test_nobody_deactivates_themselves_or_the_last_active_administrator(world, client):
    admin = world.actor("admin@t.test")
    with pytest.raises(Forbidden) as own:
        do_set_active(world.ctx, admin, user_id=admin.user_id, active=False)
    assert own.value.where == "user"
    with pytest.raises(Conflict) as last:
        do_set_active(world.ctx, None, user_id=admin.user_id, active=False)
    assert last.value.where == "user"
    api = client.post(f"/api/v1/users/{admin.user_id}/deactivate",
                      headers={"Authorization": f"Bearer {world.tokens['admin@t.test']}"})
    assert api.status_code == 403 and api.json()["error"]["where"] == "user"
    with world.ctx.db.read() as conn:
        assert conn.execute(sa.select(t.app_user.c.active)
                            .where(t.app_user.c.id == admin.user_id)).scalar_one()
    do_create_user(world.ctx, None, email="admin2@t.test", name="Second", password=PASSWORD,
                   role="admin", unit_code="hq")
    do_set_active(world.ctx, world.actor("admin2@t.test"), user_id=admin.user_id, active=False)


def test_the_users_page_says_why_it_refuses_in_both_languages(world, client):
    sign_in(client, "admin@t.test", PASSWORD)
    admin_id = world.actor("admin@t.test").user_id
    for lang, text in (("en", "cannot deactivate your own account"),
                       ("zh-CN", "不能停用自己的账号")):
        client.cookies.set("tiyan_lang", lang)
        page = client.get("/admin/users")
        assert f"/admin/users/{admin_id}/deactivate" not in page.text  # no button for oneself
        reply = client.post(f"/admin/users/{admin_id}/deactivate",
                            data={"csrf_token": csrf(page.text)})
        assert reply.status_code == 403 and text in reply.text
    page = client.get("/admin/users")
    for hostile in ("0", "-1", "99999999999999999999999", "abc"):
        reply = client.post(f"/admin/users/{hostile}/deactivate",
                            data={"csrf_token": csrf(page.text)})
        assert reply.status_code in (404, 422), (hostile, reply.status_code)
    forged = client.post(f"/admin/users/{admin_id}/activate", data={"csrf_token": "forged"})
    assert forged.status_code == 403


def test_users_are_deactivated_and_activated_from_the_command_line(world, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_tiyan("db", "upgrade", "--db", url).returncode == 0
    assert run_tiyan("units", "create", "--code", "hq", "--name-zh", "总部", "--name-en", "HQ",
                     "--kind", "group", "--db", url).returncode == 0
    for email in ("a@b.cn", "c@d.cn"):
        assert run_tiyan("users", "create", "--email", email, "--password", PASSWORD,
                         "--role", "admin", "--unit", "hq", "--db", url).returncode == 0
    done = run_tiyan("users", "deactivate", "C@d.cn", "--db", url)
    assert done.returncode == 0 and "deactivated" in done.stdout
    last = run_tiyan("users", "deactivate", "a@b.cn", "--db", url)
    assert last.returncode == 1 and "last active administrator" in last.stderr
    unknown = run_tiyan("users", "deactivate", "nobody@b.cn", "--db", url)
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    assert run_tiyan("users", "activate", "c@d.cn", "--db", url).returncode == 0
    db = Database(url)
    with db.read() as conn:
        assert conn.execute(sa.select(t.app_user.c.active)).scalars().all() == [True, True]
        actions = conn.execute(sa.select(t.audit_log.c.action)
                               .where(t.audit_log.c.action.like("user.%activate"))).scalars()
        assert list(actions) == ["user.deactivate", "user.activate"]
    db.dispose()
