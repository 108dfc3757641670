"""Dashboard pages and exports: every role sees only its scope, in the page and in the CSV and
Excel exports; filters live in the URL; bad filters get a clear error; targets by form and CSV."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.integration.conftest import sign_in
from tests.snapshots import world_with
from tests.world import PASSWORD, USERS, visible_responses
from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role
from tiyan.services.jobs import run_until_idle
from tiyan.store import tables as t

EMAILS = [u[0] for u in USERS]
UNIT_NAMES = {"north": "Unit north", "south": "Unit south", "n1": "Unit n1", "n2": "Unit n2",
              "s1": "Unit s1", "n1-as": "Unit n1-as"}
PERIOD = "from=2026-01-01&to=2026-12-31"


def role_of(email: str) -> Role:
    return Role(next(u[1] for u in USERS if u[0] == email))


@pytest.fixture
def ready(ctx):
    return world_with(ctx, with_jobs_run)


def with_jobs_run(world):
    run_until_idle(world.ctx)


def csv_rows(reply) -> list[list[str]]:
    assert reply.status_code == 200, reply.text
    return list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("email", EMAILS)
def test_every_dashboard_and_export_keeps_to_the_users_scope(ready, client, email):
    sign_in(client, email, PASSWORD)
    role = role_of(email)
    manages = Permission.MANAGE_SURVEYS in ROLE_PERMISSIONS[role]
    for path in ("/dashboard", "/dashboard/units", "/dashboard/journey"):
        page = client.get(f"{path}?{PERIOD}&lang=en")
        assert page.status_code == 200, (path, page.text[:300])
        tabs = page.text.split('class="dash-tabs"')[1].split("</nav>")[0]
        assert ('href="/dashboard/targets"' in tabs) == manages  # the tab only where it opens
    assert client.get("/dashboard/targets").status_code == (200 if manages else 403)
    league = client.get(f"/dashboard/units?{PERIOD}&lang=en").text.split("</form>")[1]
    overview = csv_rows(client.get(f"/dashboard/overview/export.csv?{PERIOD}&lang=en")) \
        if Permission.EXPORT in ROLE_PERMISSIONS[role] else None
    if overview is None:
        assert client.get(f"/dashboard/overview/export.csv?{PERIOD}").status_code == 403
        assert client.get(f"/dashboard/units/export.xlsx?{PERIOD}").status_code == 403
        return
    expected = len(visible_responses(email)) if role != Role.VIEWER else None
    if expected is not None:
        assert sum(int(row[1]) for row in overview[1:]) == expected
    units = csv_rows(client.get(f"/dashboard/units/export.csv?{PERIOD}&lang=en"))
    shown_codes = {row[0] for row in units[1:]}
    scope_root = next(u[2] for u in USERS if u[0] == email)
    from tests.world import SUBTREE

    assert shown_codes <= SUBTREE[scope_root]
    for code, name in UNIT_NAMES.items():
        if code not in SUBTREE[scope_root]:
            assert name not in league
    book = load_workbook(io.BytesIO(client.get(
        f"/dashboard/units/export.xlsx?{PERIOD}&lang=en").content))
    sheet_rows = list(book.active.iter_rows(values_only=True))
    assert {r[0] for r in sheet_rows[1:]} == shown_codes
    journey = csv_rows(client.get(f"/dashboard/journey/export.csv?{PERIOD}&lang=en"))
    assert journey[0][0] == "Step"


def test_drill_down_filters_and_errors(ready, client):
    sign_in(client, "admin@t.test", PASSWORD)
    top = client.get(f"/dashboard/units?{PERIOD}&lang=en").text
    assert 'href="/dashboard/units?from=2026-01-01&amp;to=2026-12-31&amp;unit=north"' in top
    north = client.get(f"/dashboard/units?{PERIOD}&unit=north&lang=en").text
    table = north.split('id="league"')[1].split("</table>")[0]
    assert "Units within Unit north" in north and "Unit n1" in table
    assert "Unit south" not in table
    rows = csv_rows(client.get(f"/dashboard/units/export.csv?{PERIOD}&unit=north&channel=api"))
    assert {r[0] for r in rows[1:]} == {"n1", "n2"}
    empty = client.get(f"/dashboard?{PERIOD}&channel=sms&lang=en")
    assert "No responses for these filters" in empty.text
    bad = client.get("/dashboard?from=2026-13-01&lang=en")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    assert client.get("/dashboard?unit=nowhere").status_code == 404
    assert client.get("/dashboard?channel=pigeon").status_code == 422
    sign_in(client, "mgr.s1@t.test", PASSWORD)  # another unit reads as no unit at all
    assert client.get("/dashboard/units?unit=north").status_code == 404
    assert client.get("/dashboard/units/export.csv?unit=north").status_code == 404


def test_targets_by_form_and_csv_show_as_gaps(ready, client):
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/dashboard/targets?lang=en")
    assert '<a href="/dashboard/targets" id="targets-tab" aria-current="page">KPI targets' \
        in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    saved = client.post("/dashboard/targets", data={
        "kpi": "nps", "unit": "north", "period_start": "2026-01-01",
        "period_end": "2026-12-31", "target": "20", "csrf_token": token},
        follow_redirects=False)
    assert saved.status_code == 303
    wrong = client.post("/dashboard/targets", data={
        "kpi": "nps", "unit": "north", "period_start": "2026-01-01",
        "period_end": "2026-12-31", "target": "120", "csrf_token": token})
    assert wrong.status_code == 422  # the form again, with what is wrong
    assert 'id="targets-errors"' in wrong.text and "target: a nps target lies from" in wrong.text
    assert 'value="north" selected' in wrong.text and 'value="120"' in wrong.text  # as sent
    overview = client.get(f"/dashboard?{PERIOD}&lang=en").text
    # the year's target against the year so far (the test clock stands at 2026-11-20)
    assert "Target 2026: 20 · actual +0.0 · gap -20.00" in overview
    assert "so far, through Nov 20, 2026" in overview
    bad = "kpi,unit,period_start,period_end,target\ncsat,n1,2026-01-01,2026-12-31,4.2\n" \
          "nps,south,2026-01-01,2026-12-31,30\nnps,n2,2026-02-30,2026-12-31,30\n"
    reply = client.post("/dashboard/targets/import", data={"csrf_token": token},
                        files={"file": ("t.csv", bad.encode(), "text/csv")})
    assert reply.status_code == 422
    assert "line 3: unit" in reply.text and "line 4: period_start" in reply.text
    assert "4.2" not in client.get("/dashboard/targets").text  # nothing of a bad file is kept
    good = "kpi,unit,period_start,period_end,target\ncsat,n1,2026-01-01,2026-12-31,4.2\n"
    reply = client.post("/dashboard/targets/import", data={"csrf_token": token},
                        files={"file": ("t.csv", good.encode(), "text/csv")},
                        follow_redirects=False)
    assert reply.status_code == 303
    assert "4.2" in client.get("/dashboard/targets").text
    with ready.ctx.db.read() as conn:  # each saved row is in the audit log, with its unit
        saves = conn.execute(sa.select(t.audit_log.c.unit_id, t.audit_log.c.detail).where(
            t.audit_log.c.action == "target.save").order_by(t.audit_log.c.id)).all()
    assert [(u, x["kpi"], x["target"]) for u, x in saves] == [
        (ready.unit_ids["north"], "nps", 20.0), (ready.unit_ids["n1"], "csat", 4.2)]
    forged = client.post("/dashboard/targets", data={
        "kpi": "nps", "unit": "north", "period_start": "2026-01-01",
        "period_end": "2026-12-31", "target": "25", "csrf_token": "forged"})
    assert forged.status_code == 403
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    assert client.get("/dashboard/targets").status_code == 403
