"""Key drivers, staff scorecards and competitor gaps pages: every role sees only its scope in the
page and in the CSV and Excel exports; filters live in the URL; bad input gets a clear error."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.integration.conftest import sign_in
from tests.integration.driver_fixtures import add_driver_responses
from tests.world import PASSWORD, USERS
from tiyan.domain.access import Role
from tiyan.services.jobs import run_until_idle

PERIOD = "from=2026-01-01&to=2026-12-31"


def role_of(email: str) -> Role:
    return Role(next(u[1] for u in USERS if u[0] == email))


@pytest.fixture
def ready(world, client):
    run_until_idle(world.ctx)
    add_driver_responses(world, 60)
    return world


def csv_rows(reply) -> list[list[str]]:
    assert reply.status_code == 200, reply.text
    return list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))


def test_drivers_page_and_exports(ready, client):
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/dashboard/drivers?{PERIOD}&lang=en")
    assert page.status_code == 200, page.text[:500]
    assert "Key drivers" in page.text and 'id="drivers-chart"' in page.text
    table = page.text.split('id="drivers"')[1].split("</table>")[0]
    assert table.index("sat_quality") < table.index("sat_speed") < table.index("sat_price")
    zh = client.get(f"/dashboard/drivers?{PERIOD}&outcome=csat&lang=zh-CN")
    assert "关键驱动因素" in zh.text and 'name="outcome" value="csat"' in zh.text
    rows = csv_rows(client.get(f"/dashboard/drivers/export.csv?{PERIOD}&outcome=csat&lang=en"))
    assert rows[0][:2] == ["Item code", "Item"] and {r[0] for r in rows[1:]} == {
        "sat_quality", "sat_speed", "sat_price"}
    book = load_workbook(io.BytesIO(client.get(
        f"/dashboard/drivers/export.xlsx?{PERIOD}").content))
    assert len(list(book.active.iter_rows(values_only=True))) == 4
    assert client.get(f"/dashboard/drivers?{PERIOD}&outcome=churn").status_code == 422
    few = client.get("/dashboard/drivers?from=2026-11-19&to=2026-11-20&lang=en")
    assert "Too few responses" in few.text or "No rated items" in few.text
