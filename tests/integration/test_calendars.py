"""Business calendars through the API, the page and the command line: scoped to the caller's
units, audited, checked (bad times, end before start, unknown years) with errors in the
reader's language, and mainland China's public holidays imported idempotently."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.demo_db import run_tiyan
from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.domain.worktime import add_working_time
from tiyan.store import tables as t
from tiyan.store.calls import unit_chain
from tiyan.store.cases import calendar_for

WEEK = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
BODY = {"timezone": "Asia/Shanghai", "hours": {**WEEK, "sat": [["09:00", "12:00"]]},
        "holidays": [{"date": "2026-12-25", "name": "店庆"}], "workdays": []}


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def calendars(ctx: Context) -> list[tuple[int, object]]:
    with ctx.db.read() as conn:
        return [(r.unit_id, r.holidays) for r in conn.execute(
            sa.select(t.business_calendar).order_by(t.business_calendar.c.unit_id))]


def test_the_api_reads_inherits_writes_and_audits_within_the_callers_units(
        ctx: Context, world: World, client: TestClient) -> None:
    mgr = bearer(world, "mgr.n1@t.test")
    first = client.get("/api/v1/units/n1/calendar", headers=mgr)
    assert first.status_code == 200 and first.json()["default"] is True
    saved = client.put("/api/v1/units/n1/calendar", headers=mgr, json=BODY)
    assert saved.status_code == 200, saved.text
    assert saved.json()["hours"]["sat"] == [["09:00", "12:00"]]
    assert saved.json()["inherited_from"] is None and saved.json()["default"] is False
    below = client.get("/api/v1/units/n1-as/calendar", headers=mgr).json()
    assert below["inherited_from"] == "n1" and below["holidays"] == BODY["holidays"]
    with ctx.db.read() as conn:
        actions = [r.action for r in conn.execute(
            sa.select(t.audit_log).where(t.audit_log.c.action.like("calendar.%")))]
    assert actions == ["calendar.update"]

    before = calendars(ctx)
    other = bearer(world, "mgr.s1@t.test")
    assert client.get("/api/v1/units/n1/calendar", headers=other).status_code == 404
    assert client.put("/api/v1/units/n1/calendar", headers=other, json=BODY).status_code == 404
    assert client.get("/api/v1/units/nowhere/calendar", headers=other).status_code == 404
    cx = bearer(world, "cx@t.test")  # a CX manager does not set calendars
    assert client.put("/api/v1/units/n1/calendar", headers=cx, json=BODY).status_code == 403
    assert client.post("/api/v1/units/s1/calendar/china-holidays?year=2026",
                       headers=mgr).status_code == 404
    assert calendars(ctx) == before


def test_the_api_refuses_bad_times_and_dates_saying_where(
        world: World, client: TestClient) -> None:
    admin = bearer(world, "admin@t.test")
    for hours, where in (({"mon": [["25:00", "26:00"]]}, "calendar.hours.mon[0]"),
                         ({"tue": [["18:00", "09:00"]]}, "calendar.hours.tue[0]"),
                         ({"someday": [["09:00", "10:00"]]}, "calendar.hours")):
        reply = client.put("/api/v1/units/hq/calendar", headers=admin,
                           json={**BODY, "hours": hours})
        assert reply.status_code == 422, reply.text
        assert reply.json()["error"]["where"] == where
    bad_zone = client.put("/api/v1/units/hq/calendar", headers=admin,
                          json={**BODY, "timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and "Mars/Olympus" in bad_zone.text
    bad_day = client.put("/api/v1/units/hq/calendar", headers=admin,
                         json={**BODY, "holidays": [{"date": "2026-02-30"}]})
    assert bad_day.status_code == 422 and "2026-02-30" in bad_day.text
    assert client.get("/api/v1/units/hq/calendar", headers=admin).json()["default"] is True


def test_china_holidays_import_once_and_the_sla_skips_them(
        ctx: Context, world: World, client: TestClient) -> None:
    admin = bearer(world, "admin@t.test")
    client.put("/api/v1/units/north/calendar", headers=admin, json=BODY)
    first = client.post("/api/v1/units/north/calendar/china-holidays?year=2026", headers=admin)
    assert first.status_code == 200, first.text
    assert (first.json()["holidays_added"], first.json()["workdays_added"]) == (33, 6)
    again = client.post("/api/v1/units/north/calendar/china-holidays?year=2026", headers=admin)
    assert (again.json()["holidays_added"], again.json()["workdays_added"]) == (0, 0)
    assert again.json()["calendar"] == first.json()["calendar"]
    days = {d["date"]: d["name"] for d in again.json()["calendar"]["holidays"]}
    assert days["2026-10-01"] == "国庆节" and days["2026-12-25"] == "店庆"  # kept
    refused = client.post("/api/v1/units/north/calendar/china-holidays?year=2031",
                          headers=admin)
    assert refused.status_code == 422 and "2031" in refused.text and "2026" in refused.text

    with ctx.db.read() as conn:  # a store below inherits the region's calendar
        calendar = calendar_for(conn, unit_chain(conn, world.unit_ids["n2"]))
    sh = dt.timezone(dt.timedelta(hours=8))
    opened = dt.datetime(2026, 9, 30, 17, tzinfo=sh)  # the day before National Day
    assert add_working_time(opened, dt.timedelta(hours=8), calendar) == \
        dt.datetime(2026, 10, 8, 16, tzinfo=sh)
    make_up_saturday = dt.datetime(2026, 10, 10, 10, tzinfo=sh)  # 调休: the weekday's hours
    assert add_working_time(make_up_saturday, dt.timedelta(hours=6), calendar) == \
        dt.datetime(2026, 10, 10, 16, tzinfo=sh)


def test_the_page_saves_and_refuses_bad_input_in_both_languages(
        ctx: Context, world: World, client: TestClient) -> None:
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    page = client.get("/units/n1/calendar")
    assert page.status_code == 200 and "默认日历" in page.text
    token = csrf(page.text)
    form = {"csrf_token": token, "timezone": "Asia/Shanghai", "holidays": "", "workdays": "",
            **{f"{d}_open": "09:00" for d in WEEK}, **{f"{d}_close": "18:00" for d in WEEK}}

    assert client.post("/units/n1/calendar", data={**form, "csrf_token": "x"}).status_code == 403
    late = client.post("/units/n1/calendar", data={**form, "mon_close": "25:00"})
    assert late.status_code == 422 and "星期一：“25:00”不是有效时间" in late.text
    backwards = client.post("/units/n1/calendar?lang=en",
                            data={**form, "sat_open": "12:00", "sat_close": "09:00"})
    assert backwards.status_code == 422
    assert "Saturday: closing time 09:00 must be after opening time 12:00." in backwards.text
    bad_line = client.post("/units/n1/calendar?lang=en",
                           data={**form, "holidays": "2026-10-01 National Day\nsoon <b>x</b>"})
    assert bad_line.status_code == 422 and "line 2" in bad_line.text
    assert "<b>x</b>" not in bad_line.text and "soon" in bad_line.text
    assert calendars(ctx) == []

    saved = client.post("/units/n1/calendar", data={
        **form, "sat_open": "09:00", "sat_close": "12:00",
        "holidays": "2026-12-25 店庆", "workdays": "2026-12-26 补班"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
    shown = client.get("/units/n1/calendar?lang=en").text
    assert "This unit has its own calendar." in shown and "Make-up working day" in shown
    inherited = client.get("/units/n1-as/calendar?lang=en").text
    assert "it uses Unit n1" in inherited  # the English name of the unit it comes from

    imported = client.post("/units/n1/calendar/china-holidays",
                           data={"csrf_token": token, "year": "2026"})
    assert imported.status_code == 200 and "33 days off and 6 make-up working days" in \
        imported.text
    twice = client.post("/units/n1/calendar/china-holidays?lang=zh-CN",
                        data={"csrf_token": token, "year": "2026"})
    assert "新增放假 0 天、调休上班 0 天" in twice.text
    unknown = client.post("/units/n1/calendar/china-holidays",
                          data={"csrf_token": token, "year": "2031"})
    assert unknown.status_code == 422 and "没有“2031”年的法定节假日" in unknown.text
    assert client.get("/units/s1/calendar").status_code == 404
    assert client.post("/units/s1/calendar", data=form).status_code == 404


def test_a_role_without_calendars_gets_403_and_no_menu_entry(
        world: World, client: TestClient) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    assert client.get("/calendars").status_code == 403
    assert 'href="/calendars"' not in client.get("/").text


def test_the_command_line_imports_a_year_once_and_refuses_an_unknown_year(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cal.db'}"
    assert run_tiyan("db", "upgrade", "--db", url).returncode == 0
    assert run_tiyan("units", "create", "--code", "hq", "--name-zh", "总部", "--name-en", "HQ",
                     "--kind", "company", "--db", url).returncode == 0
    first = run_tiyan("calendar", "import-holidays", "--year", "2026", "--unit", "hq",
                      "--db", url)
    assert first.returncode == 0, first.stderr
    assert "33 days off and 6 make-up working days added" in first.stdout
    again = run_tiyan("calendar", "import-holidays", "--year", "2026", "--unit", "hq",
                      "--db", url)
    assert "0 days off and 0 make-up working days added" in again.stdout
    unknown = run_tiyan("calendar", "import-holidays", "--year", "2031", "--unit", "hq",
                        "--db", url)
    assert unknown.returncode == 1 and "no public holidays for 2031" in unknown.stderr
