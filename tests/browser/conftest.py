"""A real `tiyan serve` on the demo database, driven by Debian's chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, require_service
from tests.demo_db import TIYAN
from tiyan.demo.spec import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO / "var" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(db_url: str, log_path: Path) -> Iterator[str]:
    """A real `tiyan serve` on `db_url` at a free port; yields its address."""
    port = _free_port()
    with open(log_path, "w") as log:
        # every browser test signs in to this one server: lift the per-address sign-in limit
        env = {**os.environ, "TIYAN_LOGIN_RATE_PER_MINUTE": "10000"}
        process = subprocess.Popen([TIYAN, "serve", "--port", str(port), "--db", db_url],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a shared, busy machine may take a minute to import
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"tiyan serve did not start: {log_path.read_text()}")
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server(demo_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(demo_db_url, tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require_service("Debian's chromium", Path(CHROMIUM).exists(), f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server,
                                  locale="zh-CN")
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def htmx_settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until htmx has finished its last swap. htmx binds the hx-* attributes of swapped-in
    content only when it settles (about 20 ms later): a select changed before that fires a
    change event nothing listens to yet, so the row never redraws."""
    busy = page.locator(".htmx-request, .htmx-added, .htmx-settling, .htmx-swapping")
    busy.first.wait_for(state="detached")  # a locator, not a script: the CSP forbids eval


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """Sign in as a demo user on the Chinese sign-in page and leave them in Chinese (an earlier
    test on the shared server may have switched that user to English)."""
    page.goto("/login?lang=zh-CN")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    page.goto("/lang/zh-CN?next=/")
