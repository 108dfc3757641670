"""Key drivers, staff scorecards and competitor gaps pages: every role sees only its scope in the
page and in the CSV and Excel exports; filters live in the URL; bad input gets a clear error."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import pytest
from openpyxl import load_workbook

from tests.integration.conftest import sign_in
from tests.integration.driver_fixtures import DRIVER_SURVEY, add_driver_responses
from tests.snapshots import world_with
from tests.world import PASSWORD, USERS
from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role
from tiyan.domain.surveys import parse_definition
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import surveys

PERIOD = "from=2026-01-01&to=2026-12-31"


def role_of(email: str) -> Role:
    return Role(next(u[1] for u in USERS if u[0] == email))


@pytest.fixture
def ready(ctx):
    return world_with(ctx, with_driver_responses)


def with_driver_responses(world):
    run_until_idle(world.ctx)
    add_driver_responses(world, 60)


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
    assert 'id="drivers-weak"' not in page.text  # the items explain most of the NPS here
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
    assert 'id="drivers-none"' in few.text or "No rated items" in few.text


STAFF_UNIT = {"n1-e1": "n1-as", "n1-e2": "n1-as", "n2-e1": "n2", "s1-e1": "s1"}


@pytest.mark.parametrize("email", [u[0] for u in USERS])
def test_every_page_and_export_keeps_to_the_users_scope(ready, client, email):
    from tests.world import SUBTREE

    sign_in(client, email, PASSWORD)
    role = role_of(email)
    for path in ("/dashboard/drivers", "/dashboard/staff", "/dashboard/competitors"):
        page = client.get(f"{path}?{PERIOD}&lang=en")
        assert page.status_code == 200, (path, page.text[:300])
    if Permission.EXPORT not in ROLE_PERMISSIONS[role]:
        for page in ("drivers", "staff", "competitors"):
            assert client.get(f"/dashboard/{page}/export.csv?{PERIOD}").status_code == 403
        return
    scope_root = next(u[2] for u in USERS if u[0] == email)
    staff = csv_rows(client.get(f"/dashboard/staff/export.csv?{PERIOD}&lang=en"))
    codes = {row[0] for row in staff[1:]}
    if role == Role.FRONTLINE:
        assert codes == {"n1-e1"}
    elif role != Role.VIEWER:
        assert codes == {c for c, unit in STAFF_UNIT.items() if unit in SUBTREE[scope_root]}
    assert {row[2] for row in staff[1:]} <= SUBTREE[scope_root]
    drivers = csv_rows(client.get(f"/dashboard/drivers/export.csv?{PERIOD}&lang=en"))
    assert drivers[0][0] == "Item code"
    book = load_workbook(io.BytesIO(client.get(
        f"/dashboard/staff/export.xlsx?{PERIOD}&lang=en").content))
    assert {r[0] for r in list(book.active.iter_rows(values_only=True))[1:]} == codes


def test_staff_scorecards_shrink_and_crown_only_with_enough_responses(ready, client):
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/dashboard/staff?{PERIOD}&kpi=csat&lang=en")
    assert 'id="service-star"' in page.text and "Fair score" in page.text
    rows = csv_rows(client.get(f"/dashboard/staff/export.csv?{PERIOD}&kpi=csat&lang=en"))
    head, body = rows[0], rows[1:]
    raw, shrunk, mean = head.index("Own score (95% interval)"), head.index("Fair score"), \
        head.index("Unit mean")
    for row in body:  # shrunk lies between the own score and the unit mean
        low, high = sorted([float(row[raw]), float(row[mean])])
        assert low - 1e-9 <= float(row[shrunk]) <= high + 1e-9
    assert sum(row[-1] == "★" for row in body) == 1
    # a short period: everyone under the minimum n, nobody crowned, no number shown
    few = client.get("/dashboard/staff?from=2026-11-20&to=2026-11-20&lang=en")
    assert "Service star of the period" not in few.text
    zh = client.get(f"/dashboard/staff?{PERIOD}&lang=zh-CN")
    assert "员工计分卡" in zh.text and "服务之星" in zh.text
    assert client.get(f"/dashboard/staff?{PERIOD}&kpi=ces").status_code == 422


def test_a_unit_mean_is_shown_only_from_the_minimum_n_recomputed_with_pandas(ready):
    """The staff page's unit mean (the shrinkage target, in the export) rests on the unit's
    responses: under the minimum n it is not shown; above it, it is their plain mean."""
    import pandas as pd
    import sqlalchemy as sa

    from tiyan.analytics import dashboard as d
    from tiyan.analytics import staff_view as sv
    from tiyan.analytics.cube import Filters
    from tiyan.store import tables as t

    admin = ready.actor("admin@t.test")
    year = Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    with ready.ctx.db.read() as conn:
        cards = sv.scorecards(conn, d.dashboard_scope(conn, admin), year, "csat", min_n=20)
        r, a, st = t.response, t.answer, t.staff
        frame = pd.DataFrame(conn.execute(
            sa.select(st.c.unit_id, a.c.value_num).select_from(
                r.join(a, a.c.response_id == r.c.id).join(st, st.c.id == r.c.staff_id))
            .where(a.c.item_code == "csat", a.c.value_num.is_not(None),
                   r.c.status == "complete")).all(), columns=["unit", "score"])
    per_unit = frame.groupby("unit")["score"].agg(["mean", "count"])
    shown = {row.unit_id: (row.unit_mean, row.unit_n) for row in cards.rows}
    assert {u: n for u, (_, n) in shown.items()} == per_unit["count"].to_dict()
    assert any(n < 20 for _, n in shown.values()) and any(n >= 20 for _, n in shown.values())
    for unit, (mean, n) in shown.items():
        if n < 20:
            assert mean is None
        else:
            assert mean == pytest.approx(per_unit.loc[unit, "mean"])


def test_competitor_benchmarks_by_form_and_csv_show_as_gaps(ready, client):
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/dashboard/competitors?lang=en")
    assert "No competitor benchmarks" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    saved = client.post("/dashboard/competitors", data={
        "kpi": "nps", "competitor": "Rival A", "unit": "north", "period_start": "2026-01-01",
        "period_end": "2026-12-31", "value": "10", "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303
    rows = csv_rows(client.get(f"/dashboard/competitors/export.csv?{PERIOD}&lang=en"))
    assert rows[0][:4] == ["Unit code", "Unit", "KPI code", "KPI"]
    assert rows[1][:5] == ["north", "Unit north", "nps", "NPS", "Rival A"]
    ours, gap = float(rows[1][8]), float(rows[1][10])
    assert gap == pytest.approx(ours - 10)
    book = load_workbook(io.BytesIO(client.get(
        f"/dashboard/competitors/export.xlsx?{PERIOD}&lang=zh-CN").content))
    zh = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert zh[0][:4] == ("单位代码", "单位", "指标代码", "指标")
    assert zh[1][:5] == ("north", "north单位", "nps", "NPS", "Rival A")
    bad = ("kpi,competitor,unit,period_start,period_end,value\n"
           "csat,Rival B,n1,2026-01-01,2026-12-31,4.1\n"
           "csat,Rival B,south,2026-01-01,2026-12-31,4.0\n"
           "csat,Rival B,n2,2026-01-01,2026-12-31,9\n")
    reply = client.post("/dashboard/competitors/import", data={"csrf_token": token},
                        files={"file": ("b.csv", bad.encode(), "text/csv")})
    assert reply.status_code == 422
    assert "line 3: unit" in reply.text and "line 4: value" in reply.text
    missing = client.post("/dashboard/competitors", data={
        "kpi": "nps", "competitor": "", "unit": "north", "period_start": "2026-01-01",
        "period_end": "2026-12-31", "value": "10", "csrf_token": token})
    assert missing.status_code == 422 and "competitor: name the competitor" in missing.text
    assert 'name="value" required value="10"' in missing.text  # the form as sent
    assert "Rival B" not in client.get(f"/dashboard/competitors?{PERIOD}").text
    good = "kpi,competitor,unit,period_start,period_end,value,source\n" \
           "csat,对手乙,n1,2026-01-01,2026-12-31,4.1,行业报告\n"
    assert client.post("/dashboard/competitors/import", data={"csrf_token": token},
                       files={"file": ("b.csv", good.encode("gbk"), "text/csv")},
                       follow_redirects=False).status_code == 303
    zh = client.get(f"/dashboard/competitors?{PERIOD}&lang=zh-CN").text
    assert "对手乙" in zh and "行业报告" in zh and "竞争对手差距" in zh
    # another region's manager sees none of it and may not add for north
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    assert "Rival A" not in client.get(f"/dashboard/competitors?{PERIOD}").text
    assert client.post("/dashboard/competitors", data={
        "kpi": "nps", "competitor": "X", "unit": "north", "period_start": "2026-01-01",
        "period_end": "2026-12-31", "value": "1"}).status_code in (403, 200)


def test_drivers_that_explain_almost_nothing_are_flagged(world, client):
    """An NPS drawn independently of the items: the ranking is noise, and the page says so."""
    ctx, rng = world.ctx, random.Random(3)
    with ctx.db.write() as conn:
        survey_id, _ = surveys.insert_survey(
            conn, code="noise", name="Noise", unit_id=world.unit_ids["hq"],
            definition=parse_definition(DRIVER_SURVEY), now=ctx.now(), created_by=None)
    admin = world.actor("admin@t.test")
    for index in range(200):
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=survey_id, unit_code="n2", channel="api",
            answers={"nps": rng.randint(0, 10), "overall": rng.randint(1, 5),
                     **{code: rng.randint(1, 5) for code in ("sat_quality", "sat_speed",
                                                             "sat_price")}},
            submitted_at=ctx.now() - dt.timedelta(hours=10 * index + 1)))
    run_until_idle(ctx)
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/dashboard/drivers?{PERIOD}&lang=en")
    assert page.status_code == 200, page.text[:500]
    weak = page.text.split('id="drivers-weak"')[1].split("</p>")[0]
    assert "says little about what moves it" in weak
    explained = float(weak.split("explain only ")[1].split("%")[0])
    assert 0 <= explained < 5
