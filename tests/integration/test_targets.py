"""Targets against the figure of their own period, recomputed from the raw rows with pandas
(SQLite and PostgreSQL): a full-year range with a November-only NPS target shows November's NPS
and gap, a Q3 top-2-box target shows Q3's share; saves are audited and scoped."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.snapshots import world_with
from tiyan.analytics import dashboard as d
from tiyan.analytics.cube import Filters
from tiyan.analytics.targets import period_label
from tiyan.errors import Forbidden
from tiyan.services import targets
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE

YEAR = Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
MONTHS = range(6, 12)  # June to November 2026 (the test clock stands at 2026-11-20)
PER_MONTH = 14


def with_monthly_responses(world):  # type: ignore[no-untyped-def]
    """Responses at store n2 from June to November, each month's NPS and satisfaction drawn
    around a level of its own, so the year, Q3 and November figures all differ."""
    rng = random.Random(17)
    admin = world.actor("admin@t.test")
    for month in MONTHS:
        level = 5 + (month % 4)
        days = 19 if month == 11 else 28
        for k in range(PER_MONTH):
            at = dt.datetime(2026, month, 1 + k % days, 3 + k % 12, tzinfo=dt.UTC)
            nps = max(0, min(10, round(rng.gauss(level + 1, 2.5))))
            csat = max(1, min(5, round(rng.gauss(level / 2, 1))))
            do_submit_response(world.ctx, admin, ResponseRequest(
                survey_id=world.survey_id, unit_code="n2", staff_code="n2-e1",
                answers={"nps": nps, "overall": csat}, submitted_at=at))
    run_until_idle(world.ctx)


@pytest.fixture
def monthly(ctx):  # type: ignore[no-untyped-def]
    return world_with(ctx, with_monthly_responses)


def raw_answers(conn, unit_id: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every numeric answer of the unit with its business-time-zone day."""
    r, a = t.response, t.answer
    rows = conn.execute(sa.select(r.c.submitted_at, a.c.item_code, a.c.value_num)
                        .join(a, a.c.response_id == r.c.id)
                        .where(r.c.unit_id == unit_id, r.c.status == "complete",
                               a.c.value_num.is_not(None))).all()
    frame = pd.DataFrame(rows, columns=["at", "item", "value"])
    local = pd.to_datetime(frame["at"], utc=True).dt.tz_convert(BUSINESS_TIMEZONE)
    frame["day"] = local.dt.date
    return frame


def nps_of(frame: pd.DataFrame, first: dt.date, last: dt.date) -> tuple[float, int]:
    x = frame[(frame["item"] == "nps") & (frame["day"] >= first) & (frame["day"] <= last)]
    return 100 * ((x["value"] >= 9).mean() - (x["value"] <= 6).mean()), len(x)


def top2_of(frame: pd.DataFrame, first: dt.date, last: dt.date) -> tuple[float, int]:
    x = frame[(frame["item"] == "csat") & (frame["day"] >= first) & (frame["day"] <= last)]
    return 100 * (x["value"] >= 4).mean(), len(x)


def test_a_month_and_a_quarter_target_in_a_year_range_use_their_own_periods(monthly):
    ctx = monthly.ctx
    manager = monthly.actor("cx@t.test")
    targets.do_save_targets(ctx, manager, [
        targets.TargetInput("nps", "n2", "2026-11-01", "2026-11-30", "80"),
        targets.TargetInput("csat_top2", "n2", "2026-07-01", "2026-09-30", "90"),
        targets.TargetInput("nps", "n2", "2027-01-01", "2027-12-31", "50"),  # outside the range
    ])
    n2 = monthly.unit_ids["n2"]
    admin = monthly.actor("admin@t.test")
    year = Filters(YEAR.date_from, YEAR.date_to, unit_id=n2)
    with ctx.db.read() as conn:
        view = d.overview(conn, d.dashboard_scope(conn, admin), year, min_n=10,
                          today=dt.date(2026, 11, 20))
        frame = raw_answers(conn, n2)
    tiles = {k.kpi: k for k in view.kpis}
    [november] = tiles["nps"].targets
    nov_nps, nov_n = nps_of(frame, dt.date(2026, 11, 1), dt.date(2026, 11, 20))
    year_nps, year_n = nps_of(frame, YEAR.date_from, YEAR.date_to)
    assert (november.label, november.target, november.actual.n) == ("2026-11", 80.0, nov_n)
    assert november.actual.value == pytest.approx(nov_nps, abs=1e-9)
    assert november.gap == pytest.approx(nov_nps - 80, abs=1e-9)
    assert november.partial and november.measured_to == dt.date(2026, 11, 20)
    # the tile's own figure is the year's; the gap is not the year's minus November's target
    assert tiles["nps"].value.value == pytest.approx(year_nps, abs=1e-9)
    assert year_n > nov_n and abs(year_nps - nov_nps) > 1
    [q3] = tiles["csat_top2"].targets
    q3_share, q3_n = top2_of(frame, dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert (q3.label, q3.actual.n, q3.partial) == ("2026-Q3", q3_n, False)
    assert q3.actual.value == pytest.approx(q3_share, abs=1e-9)
    assert q3.gap == pytest.approx(q3_share - 90, abs=1e-9)
    assert q3.met == bool(q3_share >= 90)


def test_saves_are_audited_all_or_none_and_only_at_managed_units(monthly):
    ctx = monthly.ctx
    store_manager = monthly.actor("mgr.n1@t.test")  # a unit manager does not manage surveys
    with pytest.raises(Forbidden):
        targets.do_save_targets(ctx, store_manager, [
            targets.TargetInput("nps", "n1", "2026-11-01", "2026-11-30", "50")])
    manager = monthly.actor("cx@t.test")  # north and below
    with pytest.raises(targets.RowErrors) as caught:
        targets.do_save_targets(ctx, manager, [
            targets.TargetInput("nps", "n2", "2026-11-01", "2026-11-30", "50"),
            targets.TargetInput("nps", "s1", "2026-11-01", "2026-11-30", "50"),
            targets.TargetInput("ces", "n2", "2026-11-30", "2026-11-01", "3")], numbered=True)
    assert [e.split(":")[0] + ":" + e.split(":")[1] for e in caught.value.errors] == [
        "line 3: unit", "line 4: period_end"]
    with pytest.raises(targets.RowErrors):
        targets.do_save_benchmarks(ctx, manager, [{
            "kpi": "nps", "competitor": "对手 A", "unit": "n2", "period_start": "2026-11-01",
            "period_end": "2026-11-30", "value": "140"}])
    assert targets.do_save_benchmarks(ctx, manager, [{
        "kpi": "nps", "competitor": "对手 A", "unit": "n2", "period_start": "2026-11-01",
        "period_end": "2026-11-30", "value": "40", "source": "survey"}]) == 1
    with ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.kpi_target)).scalar() == 0
        log = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.unit_id,
                                     t.audit_log.c.detail)
                           .where(t.audit_log.c.action.like("%.save"))).all()
    assert [(a, u, x["value"], x["competitor"]) for a, u, x in log] == [
        ("benchmark.save", monthly.unit_ids["n2"], 40.0, "对手 A")]


def test_period_labels():
    assert period_label(dt.date(2026, 11, 1), dt.date(2026, 11, 30)) == "2026-11"
    assert period_label(dt.date(2026, 7, 1), dt.date(2026, 9, 30)) == "2026-Q3"
    assert period_label(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == "2026"
    assert period_label(dt.date(2026, 8, 1), dt.date(2026, 10, 31)) == "2026-08-01 – 2026-10-31"


def test_the_trend_marks_the_month_today_cuts_short_and_does_not_compare_it(monthly):
    """Each month's NPS recomputed from the raw answers; November (1-20 by the clock) is
    partial, named with its days, and has no month-on-month marker unless asked."""
    ctx, admin = monthly.ctx, monthly.actor("admin@t.test")
    n2 = monthly.unit_ids["n2"]
    year = Filters(YEAR.date_from, YEAR.date_to, unit_id=n2)
    today = dt.date(2026, 11, 20)
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, admin)
        points = d.trend(conn, scope, year, min_n=5, today=today)
        compared = d.trend(conn, scope, year, min_n=5, today=today, compare_partial=True)
        frame = raw_answers(conn, n2)
    by_month = {p.label: p for p in points}
    for month in MONTHS:
        first = dt.date(2026, month, 1)
        last = d.bucket_after(first, "month") - dt.timedelta(days=1)
        value, n = nps_of(frame, first, last)
        point = by_month[first.strftime("%Y-%m")]
        assert point.values["nps"].n == n and point.values["nps"].value == pytest.approx(value)
    november, december = by_month["2026-11"], by_month["2026-12"]
    assert (november.partial, november.first_day, november.last_day) == (
        True, dt.date(2026, 11, 1), today)
    assert november.changes == {} and by_month["2026-10"].changes  # October vs September
    assert december.partial and december.last_day is None  # not begun
    assert "nps" in {p.label: p for p in compared}["2026-11"].changes
    assert all(not p.partial for p in points if p.label < "2026-11")


def test_the_overview_export_carries_intervals_markers_and_the_partial_month(monthly, client):
    """Each month's NPS interval in the export is the adjusted Wald interval recomputed from the
    raw answers; November (cut short by the clock) is named partial and carries no marker."""
    from tests.integration.conftest import sign_in
    from tests.world import PASSWORD

    sign_in(client, "admin@t.test", PASSWORD)
    reply = client.get("/dashboard/overview/export.csv?from=2026-01-01&to=2026-12-31&unit=n2"
                       "&lang=en")
    rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    head, by_month = rows[0], {r[0]: r for r in rows[1:]}
    low, high, change = (head.index(f"NPS {x}") for x in
                         ("95% CI low", "95% CI high", "change (BH-controlled)"))
    assert by_month["2026-11"][2] == "partial: 2026-11-01 to 2026-11-20"
    assert by_month["2026-11"][change] == "" and by_month["2026-10"][change] in (
        "up", "down", "no significant change")
    with monthly.ctx.db.read() as conn:
        frame = raw_answers(conn, monthly.unit_ids["n2"])
    for month in MONTHS:
        first = dt.date(2026, month, 1)
        x = frame[(frame["item"] == "nps") & (frame["day"] >= first)
                  & (frame["day"] < d.bucket_after(first, "month"))]["value"]
        promoters, detractors = (x >= 9).sum() + 0.75, (x <= 6).sum() + 0.75
        n = len(x) + 3
        p, q = promoters / n, detractors / n
        half = 1.96 * math.sqrt((p + q - (p - q) ** 2) / n)
        row = by_month[first.strftime("%Y-%m")]
        assert float(row[low]) == pytest.approx(100 * (p - q - half), abs=1e-3)
        assert float(row[high]) == pytest.approx(100 * (p - q + half), abs=1e-3)


def test_the_home_page_says_this_month_is_partial_and_marks_no_change(monthly, client):
    """The current month (1-20 November by the clock) is named as such and not compared with
    the whole of October; its NPS is the one the raw answers give."""
    from tests.integration.conftest import sign_in
    from tests.world import PASSWORD

    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/?lang=en").text
    tiles = page.split('class="tiles"')[1].split("</section>")[0]
    assert 'class="change' not in tiles
    assert "This month so far (partial: Nov 1, 2026 to Nov 20, 2026)" in page
    with monthly.ctx.db.read() as conn:
        frames = [raw_answers(conn, unit) for unit in monthly.unit_ids.values()]
    frame = pd.concat(frames)
    value, n = nps_of(frame, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert f"{value:+.0f}" in tiles and f"n = {n:,}" in tiles
