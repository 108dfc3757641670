"""Every page, with an attack typed into every user-editable field, runs no script of it.

A small organisation is built through the API with a hostile string in each text a user can
type (unit, staff, user, customer, journey, touchpoint, survey, question and option texts,
comments, case notes, rule and plan names, imported reviews; see hostile_world.py). Then
chromium signs in as the administrator and as a store manager and walks every page it can reach
by following links, hovering over every chart so its tooltips render. A page fails when:
- an element an attack would create is in the DOM (`<img src=x>`, an `on…` attribute, an
  inline script) — so escaping is checked on its own, not only the Content-Security-Policy;
- the browser reports a Content-Security-Policy violation or a script error;
- `__xss(…)` ran, a dialog opened, or the page answered with a server error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import running_server, screenshot, sign_in
from tests.browser.hostile_world import (
    ADMIN,
    MANAGER,
    PASSWORD,
    HostileWorld,
    build_hostile_world,
)
from tests.conftest import (
    _create_pg_database,
    _drop_pg_database,
    postgres_available,
    postgres_problem,
    require_service,
)
from tiyan.context import Context
from tiyan.settings import load_settings
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade

pytestmark = pytest.mark.browser

PER_PATTERN = 1  # pages visited per route shape (path with ids taken out) with / without a query
MOST_PAGES = 140
SKIP = re.compile(r"^/(logout|lang/)|\.(csv|xlsx|pdf|parquet|png|svg)$|/export|/qr")
# pages a role must have reached for the walk to count (the hostile strings show on each)
MUST_REACH = {
    ADMIN: {"/", "/dashboard", "/dashboard/journey", "/dashboard/drivers", "/dashboard/text",
            "/responses", "/responses/{}", "/cases", "/cases/{}", "/customers",
            "/customers/{}", "/journeys", "/journeys/{}", "/surveys", "/plans", "/plans/{}",
            "/voc", "/staff", "/alert-rules", "/admin/users", "/admin/audit"},
    MANAGER: {"/", "/dashboard", "/responses", "/responses/{}", "/cases", "/cases/{}",
              "/customers/{}", "/plans/{}", "/voc"},
}
INIT_SCRIPT = "window.__xss_calls = []; window.__xss = function (l) { __xss_calls.push(l); };"
INJECTED = ('img[src="x"], svg[onload], [onerror], [onload], '
            'script:not([src]):not([type="application/json"])')


@pytest.fixture(scope="module")
def hostile_server(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HostileWorld]]:
    if request.param == "postgres":
        require_service("PostgreSQL", postgres_available(), postgres_problem() or "")
        url = _create_pg_database()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.db'}"
    db = Database(url)
    try:
        upgrade(db)
        settings = load_settings(db_url=url, argon2_time_cost=1, argon2_memory_kib=1024,
                                 worker_in_app=False)
        world = build_hostile_world(Context(db, settings))
    finally:
        db.dispose()
    log = tmp_path_factory.mktemp("hostile-serve") / "serve.log"
    try:
        with running_server(url, log) as base:
            yield base, world
    finally:
        if request.param == "postgres":
            _drop_pg_database(url)


def shape(url: str) -> str:
    """A page's route shape: ids and codes in the path become {} (the query is left out)."""
    parts = urlsplit(url).path.rstrip("/").split("/")
    return "/".join(p if not re.search(r"\d", p) and p not in {"after_sales", "visit"} else "{}"
                    for p in parts) or "/"


def _visit_key(url: str) -> str:
    """One page of a shape without a query and one with (a filtered view of the same page)."""
    return shape(url) + ("?" if urlsplit(url).query else "")


# pages render the same on both databases: the store manager's walk runs on SQLite only
@pytest.mark.parametrize(("hostile_server", "email"),
                         [("sqlite", ADMIN), ("sqlite", MANAGER), ("postgres", ADMIN)],
                         indirect=["hostile_server"])
def test_no_attack_runs_on_any_page(hostile_server: tuple[str, HostileWorld], browser,  # type: ignore[no-untyped-def]
                                    email: str) -> None:
    base, world = hostile_server
    assert len(world.labels) > 90  # the world holds an attack in every field listed above
    context = browser.new_context(base_url=base, locale="zh-CN",
                                   viewport={"width": 1280, "height": 900})
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{page.url}: console {m.type}: {m.text}")
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("response", lambda r: problems.append(f"{page.url}: {r.url} answered {r.status}")
            if r.request.resource_type != "document" and r.status >= 400 else None)
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    sign_in(page, email, PASSWORD)
    visited = _walk(page, base, problems)
    page.goto("/dashboard/journey")
    screenshot(page, f"hostile-journey-{email.split('@')[0]}")
    context.close()
    missing = MUST_REACH[email] - {shape(url) for url in visited}
    assert not missing, f"the walk did not reach {sorted(missing)}"
    assert not problems, "\n".join(problems[:30])


def _walk(page, base: str, problems: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    queue, seen_keys, visited = ["/"], {}, []  # type: ignore[var-annotated]
    while queue and len(visited) < MOST_PAGES:
        url = queue.pop(0)
        key = _visit_key(url)
        if seen_keys.get(key, 0) >= PER_PATTERN or url in visited:
            continue
        seen_keys[key] = seen_keys.get(key, 0) + 1
        visited.append(url)
        reply = page.goto(url, wait_until="load")
        if reply is not None and reply.status >= 500:
            problems.append(f"{url}: HTTP {reply.status}")
            continue
        _hover_charts(page)
        problems.extend(f"{url}: {p}" for p in _injections(page))
        hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
        for href in hrefs:
            target = urljoin(base + url, href)
            if not target.startswith(base):
                continue
            path = target[len(base):].split("#")[0] or "/"
            if not SKIP.search(urlsplit(path).path) and path not in visited:
                queue.append(path)
    return visited


def _hover_charts(page) -> None:  # type: ignore[no-untyped-def]
    for chart in page.query_selector_all(".chart"):
        box = chart.bounding_box()
        if not box or box["width"] < 10:
            continue
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        for fx in (0.2, 0.5, 0.8):
            for fy in (0.35, 0.65):
                page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                page.wait_for_timeout(30)


def _injections(page) -> list[str]:  # type: ignore[no-untyped-def]
    found = [f"injected element {html[:120]}" for html in page.eval_on_selector_all(
        INJECTED, "els => els.map(e => e.outerHTML)")]
    found += [f"__xss ran: {label}" for label in page.evaluate("window.__xss_calls || []")]
    return found


@pytest.mark.parametrize("hostile_server", ["sqlite"], indirect=True)
def test_a_respondent_runs_no_attack_on_the_survey_pages(  # type: ignore[no-untyped-def]
        hostile_server: tuple[str, HostileWorld], browser) -> None:
    """The anonymous survey link shows the survey's, questions' and options' texts and the
    store's name; sending the page empty shows the errors that name the questions."""
    base, world = hostile_server
    context = browser.new_context(base_url=base, locale="zh-CN",
                                   viewport={"width": 390, "height": 844})
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(world.respond_path)
    assert "survey-title-zh" in page.content()  # the attack is shown, as text
    screenshot(page, "hostile-respond-390")
    problems.extend(_injections(page))
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    problems.extend(_injections(page))
    context.close()
    assert not problems, "\n".join(problems)
