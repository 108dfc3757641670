"""Every response carries the security headers; no page can run inline script or eval."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World

TEMPLATES = Path(__file__).parents[2] / "src" / "tiyan" / "web" / "templates"
PATHS = ["/", "/login", "/healthz", "/static/js/menu.js", "/api/v1/openapi.json",
         "/no-such-page", "/dashboard", "/responses", "/api/v1/surveys"]


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client: TestClient, world: World,
                                                     path: str) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    reply = client.get(path)
    policy = _directives(reply.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in reply.headers["permissions-policy"]
    assert "strict-transport-security" not in reply.headers  # only with secure cookies on


def test_the_api_docs_allow_exactly_their_own_inline_script(client: TestClient) -> None:
    reply = client.get("/api/docs")
    policy = _directives(reply.headers["content-security-policy"])
    scripts = re.findall(r"<script>(.*?)</script>", reply.text, flags=re.DOTALL)
    assert scripts
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]


def test_no_template_holds_inline_script_handlers_or_unescaped_data() -> None:
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{template.name}: inline script {tag}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{template.name}: inline handler"
        assert "javascript:" not in text, f"{template.name}: javascript: URL"
        assert "|safe" not in text, f"{template.name}: |safe on data"
        assert "hx-on" not in text and "hx-vars" not in text, f"{template.name}: htmx eval"
