"""Every cookie tiyan sets is HttpOnly and SameSite (Strict for the sign-in form's, Lax for the
rest), and Secure when TIYAN_SECURE_COOKIES is on: the session, the sign-in form's CSRF cookie,
the language, and the respondent's cookies on survey links (the session, the device)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import app_for
from tests.world import PASSWORD, World
from tiyan.services.links import AnonymousTarget, anonymous_url


def set_cookies(world: World, client: TestClient) -> dict[str, str]:
    """Each Set-Cookie header tiyan sends on the way through its pages, by cookie name."""
    seen: dict[str, str] = {}

    def keep(reply) -> None:  # type: ignore[no-untyped-def]
        for header in reply.headers.get_list("set-cookie"):
            seen.setdefault(header.split("=", 1)[0], header)

    page = client.get("/login")
    keep(page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    keep(client.post("/login", follow_redirects=False, data={
        "email": "cx@t.test", "password": PASSWORD, "csrf_token": token}))
    keep(client.get("/lang/en?next=/", follow_redirects=False))
    seen["tiyan_lang (?lang=)"] = client.get("/responses?lang=zh-CN").headers["set-cookie"]
    link = anonymous_url(world.ctx, AnonymousTarget(world.survey_id, world.unit_ids["n1"]))
    keep(client.get(urlsplit(link).path))
    return seen


def attributes(header: str) -> set[str]:
    """The attributes of a Set-Cookie header, lower case; SameSite with its value."""
    parts = [part.strip().lower().replace(" ", "") for part in header.split(";")[1:]]
    return {part if part.startswith("samesite") else part.split("=")[0] for part in parts}


@pytest.mark.parametrize("secure", [True, False])
def test_every_cookie_is_httponly_and_samesite_and_secure_when_asked(world, secure):
    world.ctx.settings.secure_cookies = secure
    with TestClient(app_for(world.ctx), base_url="https://testserver") as client:
        seen = set_cookies(world, client)
    assert set(seen) == {"tiyan_login_csrf", "tiyan_session", "tiyan_lang",
                         "tiyan_lang (?lang=)", "tiyan_sid", "tiyan_dev"}, seen
    for name, header in seen.items():
        found = attributes(header)
        assert "httponly" in found, header
        wanted = "samesite=strict" if name == "tiyan_login_csrf" else "samesite=lax"
        assert wanted in found, header
        assert ("secure" in found) is secure, header
