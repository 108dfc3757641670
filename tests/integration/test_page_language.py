"""Every page each demo role reaches, read in Chinese and in English (issue 16): a Chinese page
shows no English sentence, no code and no catalogue key, and its times of day are in the
viewer's zone with the zone named; an English page shows no catalogue key and no Chinese in its
labels, headers, buttons and navigation.

The crawl starts at the home page and follows the links of each page (one address per route:
the pages of a route share their template), on its own copy of the real demo database; the
routes list of the app says which pages exist, and the detail pages of a case, response,
customer, survey, plan, journey and invitation must have been reached."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.responses import HTMLResponse

from tests.conftest import test_settings as settings_for
from tests.integration import page_text as pt
from tests.integration.conftest import sign_in
from tiyan.context import Context
from tiyan.demo.spec import DEMO_PASSWORD, USERS
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.web.app import create_app
from tiyan.web.deps import LANG_COOKIE

# Pages no signed-in person browses to: respondents' links, sign-in, the choice of language.
SKIPPED = re.compile(r"^/(u|s|i)/|^/log(in|out)|^/lang/|^/static/")
# Pages that change something when opened for real are forms behind a button: an erasure's
# confirmation and a plan's deletion are reached by their buttons, not by crawling.
CONFIRMATIONS = re.compile(r"/erase$|/delete$")
MUST_REACH = {"/cases/{case_id}", "/responses/{public_id}", "/customers/{public_id}",
              "/surveys/{code}", "/plans/{plan_id}", "/journeys/{code}",
              "/admin/invitations/{invitation_id}", "/calls/{call_id}"}
ZONE = "Asia/Shanghai"  # every demo unit's zone


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith("//"):
            self.hrefs.append(href.split("#")[0])


@dataclass
class Crawl:
    pages: dict[str, str] = field(default_factory=dict)  # route path -> address visited
    problems: list[str] = field(default_factory=list)


def page_routes(app: Any) -> list[APIRoute]:
    routes = [c.route for c in iter_route_contexts(app.routes)]
    return [r for r in routes if isinstance(r, APIRoute) and "GET" in (r.methods or ())
            and r.response_class is HTMLResponse and not SKIPPED.match(r.path_format)]


def route_of(routes: list[APIRoute], address: str) -> APIRoute | None:
    path = address.split("?")[0]
    return next((r for r in routes if r.path_regex.match(path)), None)


def crawl(client: TestClient, routes: list[APIRoute], who: str, locale: str,
          typed: frozenset[str] = frozenset()) -> Crawl:
    done, queue = Crawl(), ["/"]
    while queue:
        address = queue.pop(0)
        route = route_of(routes, address)
        if (route is None or route.path_format in done.pages
                or CONFIRMATIONS.search(route.path_format)):
            continue
        done.pages[route.path_format] = address
        reply = client.get(address)
        if reply.status_code != 200 or "text/html" not in reply.headers["content-type"]:
            continue
        found = check(reply.text, locale, typed)
        done.problems += [f"{who} {locale} {address}: {p}" for p in found]
        links = _Links()
        links.feed(reply.text)
        queue += [h for h in links.hrefs if not SKIPPED.match(h)]
    return done


def check(html: str, locale: str, typed: frozenset[str] = frozenset()) -> list[str]:
    page = pt.read(html)
    found = [f"key {k!r}" for k in pt.catalogue_keys(page)]
    found += [f"negative zero {x!r}" for x in page.text if re.fullmatch(r"-0(?:[.,]0+)?%?", x)]
    if locale == "zh-CN":
        found += [f"English {s!r}" for s in pt.english_sentences(page, typed)]
        found += [f"code {c!r}" for c in pt.codes(page, typed)]
        found += [f"code {c!r}" for c in pt.bare_words(page, typed)]
        found += [f"time {x!r}" for x in pt.time_problems(page, ZONE)]
    else:
        found += [f"Chinese label {s!r}" for s in pt.chinese_chrome(page)]
    return found


@pytest.fixture(scope="module")
def demo_app(pristine_demo_db_url: str) -> Iterator[Any]:
    # its own copy of the demo: what other tests typed into the shared one (an index saved with
    # English task names by a browser test) is theirs to check, not this crawl's
    db = Database(pristine_demo_db_url)
    ctx = Context(db, settings_for(pristine_demo_db_url))
    yield create_app(ctx)
    db.dispose()


def english_answers(db: Database) -> frozenset[str]:
    """What the demo's English-speaking customers wrote (answers and their redacted copies) and
    what people typed as case notes: their words, not the page's, wherever a page quotes them."""
    R, A, TA = t.response, t.answer, t.text_analysis
    with db.read() as conn:
        answers = conn.execute(sa.select(A.c.value_text).join(R, R.c.id == A.c.response_id)
                               .where(R.c.language == "en", A.c.value_text.is_not(None)))
        redacted = conn.execute(sa.select(TA.c.redacted_text).where(TA.c.language == "en"))
        # notes people typed on cases (a browser test on the same demo database writes some)
        notes = [str((detail or {}).get("note")) for detail in conn.execute(
            sa.select(t.case_event.c.detail).where(t.case_event.c.kind == "note")).scalars()]
        return frozenset([*answers.scalars(), *redacted.scalars(), *notes])


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_page_of_every_demo_role_speaks_one_language(demo_app: Any, locale: str) -> None:
    routes, reached, problems = page_routes(demo_app), set(), []
    # and the address the audit log shows for requests of the test client (an IP address live)
    typed = english_answers(demo_app.state.ctx.db) | {"testclient"}
    for user in USERS:
        with TestClient(demo_app, base_url="http://testserver") as client:
            client.cookies.set(LANG_COOKIE, locale)
            sign_in(client, user.email, DEMO_PASSWORD)
            result = crawl(client, routes, user.email.split("@")[0], locale, typed)
        reached |= set(result.pages)
        problems += result.problems
    assert reached >= MUST_REACH, MUST_REACH - reached
    assert not problems, "\n".join(sorted(set(problems)))


def test_a_negative_zero_is_caught_in_either_language() -> None:
    for locale in ("zh-CN", "en"):
        assert check("<table><tr><td>-0.0</td><td>-0.5</td></tr></table>", locale) == [
            "negative zero '-0.0'"]


def test_the_chinese_check_catches_a_one_word_code_but_not_a_typed_word() -> None:
    page = ("<html lang='zh-CN'><body><table><tr><td>客群</td><td>regular</td></tr>"
            "<tr><td>结果</td><td>reached · 已挽回</td></tr><tr><td>评论</td><td>good</td></tr>"
            "<tr><td>格式</td><td>Excel</td></tr></table></body></html>")
    found = check(page, "zh-CN", frozenset({"good"}))
    assert found == ["code 'regular'"]
    assert check(page.replace("regular", "普通客户"), "zh-CN", frozenset({"good"})) == []
