"""The cases inbox pages through every case of its filter on the demo database (2,000 and more
cases): counts agree with the database, pages do not overlap, the filters ride along in the
pager's links, and a store manager's count is their units' cases only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.conftest import test_settings as settings_for
from tests.integration.conftest import sign_in
from tiyan.context import Context
from tiyan.demo.spec import DEMO_PASSWORD
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.web.app import create_app
from tiyan.web.ui.case_pages import CASES_PAGE

CASE_LINK = re.compile(r'href="/cases/([\w-]+)"')


@pytest.fixture(scope="module")
def demo_app(demo_db_url: str) -> Iterator[Any]:
    db = Database(demo_db_url)
    yield create_app(Context(db, settings_for(demo_db_url)))
    db.dispose()


def listed(html: str) -> list[str]:
    table = html.split('id="case-rows"')[1].split("</table>")[0]
    return CASE_LINK.findall(table)


def test_the_inbox_pages_through_every_case_of_its_filter(demo_app: Any) -> None:
    with demo_app.state.ctx.db.read() as conn:
        everything = conn.execute(sa.select(sa.func.count()).select_from(t.cx_case)).scalar_one()
        gulou = conn.execute(sa.select(sa.func.count()).select_from(t.cx_case).join(
            t.org_unit, t.org_unit.c.id == t.cx_case.c.unit_id).where(
            t.org_unit.c.code.like("nj-gulou%"))).scalar_one()
    assert everything > 2 * CASES_PAGE
    pages = -(-everything // CASES_PAGE)
    with TestClient(demo_app, base_url="http://testserver") as client:
        sign_in(client, "admin@demo.tiyan.dev", DEMO_PASSWORD)
        first = client.get("/cases?status=all&lang=en").text
        assert f"{everything} cases · page 1 of {pages}" in first
        assert 'href="/cases?status=all&amp;page=2" rel="next"' in first
        second = client.get("/cases?status=all&page=2&lang=en").text
        one, two = listed(first), listed(second)
        assert len(one) == len(two) == CASES_PAGE and not set(one) & set(two)
        last = client.get(f"/cases?status=all&page={pages + 40}").text  # past the end: the last
        assert f"Page {pages} of {pages}" in last and 'rel="next"' not in last
        assert len(listed(last)) == everything - (pages - 1) * CASES_PAGE
        seen = set()
        for page in range(1, pages + 1):
            seen |= set(listed(client.get(f"/cases?status=all&page={page}").text))
        assert len(seen) == everything  # every case on exactly one page

        overdue = client.get("/cases?status=all&overdue=true&unit=auto&lang=en").text
        if 'rel="next"' in overdue:
            assert "overdue=true" in overdue.split('rel="next"')[0].rsplit("href=", 1)[1]
    with TestClient(demo_app, base_url="http://testserver") as client:
        sign_in(client, "gulou@demo.tiyan.dev", DEMO_PASSWORD)
        mine = client.get("/cases?status=all&lang=en").text
        assert f"{gulou} cases · page 1 of " in mine
