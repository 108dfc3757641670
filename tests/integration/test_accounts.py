import pytest
import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.world import PASSWORD
from tiyan.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from tiyan.services.accounts import do_create_user
from tiyan.services.accounts import sign_in as do_sign_in
from tiyan.store import tables as t


def count(ctx, table):
    with ctx.db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_passwords_are_stored_as_argon2_hashes(world):
    with world.ctx.db.read() as conn:
        hashes = conn.execute(sa.select(t.app_user.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


@pytest.mark.parametrize(
    ("kwargs", "error", "where"),
    [
        ({"email": "admin@t.test"}, Conflict, "email"),
        ({"unit_code": "nowhere"}, NotFound, "unit"),
        ({"role": "superuser"}, InvalidInput, "role"),
        ({"password": "short"}, InvalidInput, "password"),
        ({"email": "not-an-email"}, InvalidInput, "email"),
    ],
)
def test_bad_user_requests_are_refused_and_nothing_is_written(world, kwargs, error, where):
    users_before, grants_before = count(world.ctx, t.app_user), count(world.ctx, t.role_grant)
    request = {"email": "new@t.test", "name": "New", "password": "long enough 1",
               "role": "viewer", "unit_code": "n1", **kwargs}
    with pytest.raises(error) as err:
        do_create_user(world.ctx, None, **request)
    assert err.value.where == where
    assert count(world.ctx, t.app_user) == users_before
    assert count(world.ctx, t.role_grant) == grants_before


def test_a_store_manager_cannot_create_users_at_another_store(world):
    with pytest.raises(Forbidden):
        do_create_user(world.ctx, world.actor("mgr.n1@t.test"), email="x@t.test", name="X",
                       password="long enough 1", role="viewer", unit_code="s1")


def test_sign_in_and_failed_sign_in_are_audited(world):
    do_sign_in(world.ctx, "cx@t.test", PASSWORD, ip="10.0.0.1")
    with pytest.raises(NotAuthenticated):
        do_sign_in(world.ctx, "cx@t.test", "wrong password", ip="10.0.0.2")
    with world.ctx.db.read() as conn:
        actions = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.ip)
                               .where(t.audit_log.c.action.like("signin%"))).all()
    assert ("signin", "10.0.0.1") in actions and ("signin.failed", "10.0.0.2") in actions


def test_user_creation_is_audited_with_who_did_it(world):
    admin = world.actor("admin@t.test")
    do_create_user(world.ctx, admin, email="new@t.test", name="New", password="long enough 1",
                   role="analyst", unit_code="north")
    with world.ctx.db.read() as conn:
        row = conn.execute(sa.select(t.audit_log).where(t.audit_log.c.action == "user.create")
                           .order_by(t.audit_log.c.id.desc())).mappings().first()
    assert row["user_id"] == admin.user_id and row["detail"]["role"] == "analyst"


def test_web_sign_in_sets_a_session_and_sign_out_ends_it(world, client):
    sign_in(client, "cx@t.test", PASSWORD)
    home = client.get("/")
    assert home.status_code == 200 and "NPS" in home.text
    csrf = home.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_sign_in_form_without_its_csrf_token_is_refused(world, client):
    client.get("/login")
    reply = client.post("/login", data={"email": "cx@t.test", "password": PASSWORD,
                                        "csrf_token": "forged"}, follow_redirects=False)
    assert reply.status_code == 403


def test_logout_without_csrf_token_is_refused(world, client):
    sign_in(client, "cx@t.test", PASSWORD)
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


def test_api_writes_with_the_browser_session_need_the_csrf_header(world, client):
    sign_in(client, "admin@t.test", PASSWORD)
    body = {"code": "n3", "name_zh": "北三", "name_en": "North 3", "kind": "store",
            "parent_code": "north"}
    assert client.post("/api/v1/units", json=body).status_code == 403
    home = client.get("/")
    csrf = home.text.split('"X-CSRF-Token": "')[1].split('"')[0]
    assert client.post("/api/v1/units", json=body,
                       headers={"X-CSRF-Token": csrf}).status_code == 201


def test_redirect_after_sign_in_stays_on_this_site(world, client):
    page = client.get("/login?next=https://evil.example/")
    assert 'name="next" value="/"' in page.text


def test_api_unit_creation_refuses_duplicate_codes_and_unknown_parents(world, client):
    headers = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    body = {"code": "n1", "name_zh": "重复", "name_en": "Dup", "kind": "store",
            "parent_code": "north"}
    duplicate = client.post("/api/v1/units", json=body, headers=headers)
    orphan = client.post("/api/v1/units", json={**body, "code": "n9", "parent_code": "atlantis"},
                         headers=headers)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["where"] == "code"
    assert orphan.status_code == 404 and "atlantis" in orphan.json()["error"]["message"]
    bad_kind = client.post("/api/v1/units", json={**body, "code": "n9", "kind": "castle"},
                           headers=headers)
    assert bad_kind.status_code == 422 and bad_kind.json()["error"]["where"] == "kind"
