"""Behaviour dashboard: purchase figures next to the survey KPIs per unit, cohorts, exports;
every role sees only its scope in the page and the CSV and Excel exports (SQLite and
PostgreSQL). Transactions are stored through the real import."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import astuple
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.integration.conftest import sign_in
from tests.snapshots import world_with
from tests.world import PASSWORD, SUBTREE, USERS
from tiyan.analytics import behaviour as bv
from tiyan.domain import behaviour as b
from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role
from tiyan.services.jobs import run_until_idle
from tiyan.services.table_files import FileRow
from tiyan.services.transactions import import_transactions
from tiyan.store import customers
from tiyan.store import tables as t

PERIOD = "from=2026-01-01&to=2026-06-30"
CUSTOMERS = {"n1": ["c1", "c2", "c3", "c4", "c5", "c6"], "n2": ["d1", "d2", "d3", "d4", "d5"],
             "s1": ["e1", "e2", "e3", "e4", "e5"]}
PURCHASES = [  # customer, unit time, amount, kind, unit (default: the customer's)
    ("c1", "2026-01-10 12:00", "100"), ("c1", "2026-02-01 12:00", "50"),
    ("c2", "2026-03-01 12:00", "200"), ("c2", "2026-03-15 12:00", "20", "purchase", "n1-as"),
    ("c3", "2026-06-20 12:00", "80"), ("c3", "2026-08-01 12:00", "40"),
    ("c4", "2026-02-01 12:00", "60"), ("c4", "2026-07-15 12:00", "60"),
    ("c5", "2025-12-15 12:00", "30"), ("c5", "2026-04-01 12:00", "70"),
    ("c6", "2026-05-05 12:00", "10"), ("c6", "2026-05-10 12:00", "10", "refund"),
    *[(d, "2026-02-10 12:00", "40") for d in CUSTOMERS["n2"]], ("d1", "2026-02-20 12:00", "40"),
    *[(e, "2026-03-03 12:00", "100") for e in CUSTOMERS["s1"]], ("e1", "2026-04-03 12:00", "100"),
]
# worked out by hand: buyers, purchases, repurchase %, purchases per customer, spend per purchase
EXPECTED = {"n1": (6, 8, 50.0, 8 / 6, 590 / 8), "n2": (5, 6, 20.0, 1.2, 40.0),
            "s1": (5, 6, 20.0, 1.2, 100.0), "north": (11, 14, 400 / 11, 14 / 11, 830 / 14)}


def role_of(email: str) -> str:
    return next(u[1] for u in USERS if u[0] == email)


@pytest.fixture
def bought(ctx):
    return world_with(ctx, with_purchases)


def with_purchases(world):
    with world.ctx.db.write() as conn:
        for store, names in CUSTOMERS.items():
            for name in names:
                customers.insert_customer(conn, unit_id=world.unit_ids[store],
                                          now=world.ctx.now(), external_id=name,
                                          segment="loyal" if store == "n2" else None)
    rows = [FileRow(line, {"customer": p[0], "time": p[1], "amount": p[2],
                           "kind": p[3] if len(p) > 3 else "purchase",
                           **({"unit": p[4]} if len(p) > 4 else {})})
            for line, p in enumerate(PURCHASES, start=2)]
    report = import_transactions(world.ctx, world.actor("admin@t.test"), rows,
                                 ["customer", "time", "amount", "kind", "unit"])
    assert report.imported == len(PURCHASES), report.problems
    run_until_idle(world.ctx)


def csv_rows(reply) -> list[list[str]]:
    assert reply.status_code == 200, reply.text
    return list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))


def by_code(rows: list[list[str]]) -> dict[str, list[str]]:
    return {r[0]: r for r in rows[1:]}


def check_figures(row: list[str], code: str) -> None:
    # columns: code, name, responses, NPS, n, CSAT, n, buyers, purchases, repurchase, n, ...
    buyers, purchases, repurchase, frequency, spend = EXPECTED[code]
    assert (int(row[7]), int(row[8])) == (buyers, purchases)
    assert float(row[9]) == pytest.approx(repurchase, abs=1e-3) and int(row[10]) == buyers
    assert float(row[11]) == pytest.approx(frequency, abs=1e-3)
    assert float(row[13]) == pytest.approx(spend, abs=1e-3) and int(row[14]) == purchases


def test_units_show_purchase_figures_next_to_survey_kpis_with_drill_down(bought, client):
    sign_in(client, "admin@t.test", PASSWORD)
    top = by_code(csv_rows(client.get(f"/dashboard/behaviour/export.csv?{PERIOD}&lang=en")))
    assert set(top) == {"north", "south"}
    check_figures(top["north"], "north")
    north = by_code(csv_rows(client.get(
        f"/dashboard/behaviour/export.csv?{PERIOD}&unit=north&lang=en")))
    assert set(north) == {"n1", "n2"}
    check_figures(north["n1"], "n1")
    check_figures(north["n2"], "n2")
    page = client.get(f"/dashboard/behaviour?{PERIOD}&lang=en").text
    assert 'href="/dashboard/behaviour?from=2026-01-01&amp;to=2026-06-30&amp;unit=north"' in page
    assert "Repurchase rate" in page and 'id="cohort-table"' in page
    sliced = by_code(csv_rows(client.get(
        f"/dashboard/behaviour/export.csv?{PERIOD}&unit=north&segment=loyal")))
    assert (int(sliced["n1"][7]), int(sliced["n2"][7])) == (0, 5)


def test_cohorts_count_first_purchases_at_the_unit(bought, client):
    sign_in(client, "admin@t.test", PASSWORD)
    rows = csv_rows(client.get(f"/dashboard/behaviour/cohorts/export.csv?{PERIOD}&lang=en"))
    assert rows[0][:3] == ["Cohort", "Buying customers", "Month 1"]
    cohorts = {r[0]: r for r in rows[1:]}
    # c5 began in December 2025; c2's March purchase at n1-as belongs to the same subtree
    assert {m: int(r[1]) for m, r in cohorts.items()} == {
        "2026-01": 1, "2026-02": 6, "2026-03": 6, "2026-05": 1, "2026-06": 1}
    assert float(cohorts["2026-03"][2]) == pytest.approx(100 / 6, abs=1e-3)  # e1 in April
    assert float(cohorts["2026-02"][2]) == 0.0
    assert cohorts["2026-01"][2] == ""  # one customer: too few (min n 5)
    book = load_workbook(io.BytesIO(client.get(
        f"/dashboard/behaviour/cohorts/export.xlsx?{PERIOD}").content))
    assert [r[1] for r in list(book.active.iter_rows(values_only=True))[1:]] == [1, 6, 6, 1, 1]


BUYERS_IN_ROWS = {"hq": 16, "north": 11, "n1": 7, "south": 5, "s1": 5}  # c2: n1 and n1-as
FIRST_IN_RANGE = {"n1": 5, "n2": 5, "s1": 5}  # c5 began in December 2025


@pytest.mark.parametrize("email", [u[0] for u in USERS])
def test_every_role_sees_only_its_scope_in_page_and_exports(bought, client, email):
    sign_in(client, email, PASSWORD)
    role = Role(role_of(email))
    root = next(u[2] for u in USERS if u[0] == email)
    page = client.get(f"/dashboard/behaviour?{PERIOD}&lang=en")
    assert page.status_code == 200, page.text[:300]
    assert set(re.findall(r'data-unit="([^"]+)"', page.text)) <= SUBTREE[root]
    if role == Role.FRONTLINE:  # transactions name no staff member: none to see
        assert "Purchase figures are shown for whole units only" in page.text
        assert "No transactions imported yet" not in page.text
        assert 'id="behaviour-units"' not in page.text
    if Permission.EXPORT not in ROLE_PERMISSIONS[role]:
        assert client.get(f"/dashboard/behaviour/export.csv?{PERIOD}").status_code == 403
        assert client.get(f"/dashboard/behaviour/cohorts/export.xlsx?{PERIOD}").status_code \
            == 403
        return
    rows = by_code(csv_rows(client.get(f"/dashboard/behaviour/export.csv?{PERIOD}&lang=en")))
    assert set(rows) <= SUBTREE[root]
    assert sum(int(r[7]) for r in rows.values()) == BUYERS_IN_ROWS[root]
    cohorts = csv_rows(client.get(f"/dashboard/behaviour/cohorts/export.csv?{PERIOD}"))
    assert sum(int(r[1]) for r in cohorts[1:]) == sum(
        n for store, n in FIRST_IN_RANGE.items() if store in SUBTREE[root])


def test_survey_columns_are_those_of_the_league(bought, client):
    sign_in(client, "admin@t.test", PASSWORD)
    year = "from=2026-01-01&to=2026-12-31&unit=north&lang=en"
    league = by_code(csv_rows(client.get(f"/dashboard/units/export.csv?{year}")))
    mine = by_code(csv_rows(client.get(f"/dashboard/behaviour/export.csv?{year}")))
    assert set(mine) == set(league) == {"n1", "n2"}
    for code in mine:
        assert mine[code][2:5] == league[code][2:5]  # responses, NPS, its n
        assert int(mine[code][2]) > 0


def test_store_manager_cannot_see_or_export_another_store(bought, client):
    sign_in(client, "mgr.s1@t.test", PASSWORD)  # another store reads as no store at all
    assert client.get(f"/dashboard/behaviour?{PERIOD}&unit=n1").status_code == 404
    assert client.get(f"/dashboard/behaviour/export.csv?{PERIOD}&unit=n1").status_code == 404
    assert client.get(f"/dashboard/behaviour/cohorts/export.csv?{PERIOD}&unit=north"
                      ).status_code == 404
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    rows = by_code(csv_rows(client.get(f"/dashboard/behaviour/export.csv?{PERIOD}")))
    assert set(rows) == {"n1-as", "n1"}  # the store's own purchases get a row of their own
    assert int(rows["n1"][7]) == 6 and int(rows["n1-as"][7]) == 1


def test_bad_filters_and_formats_are_named(bought, client):
    sign_in(client, "admin@t.test", PASSWORD)
    bad = client.get("/dashboard/behaviour?from=2026-02-30&lang=en")
    assert bad.status_code == 422 and "from" in bad.text
    assert client.get("/dashboard/behaviour?unit=nowhere").status_code == 404
    assert client.get("/dashboard/behaviour?segment=nobody").status_code == 422
    assert client.get("/dashboard/behaviour/export.pdf").status_code == 422


def test_frontline_user_is_told_purchase_figures_are_for_whole_units(bought, client):
    sign_in(client, "staff.n1@t.test", PASSWORD)
    for lang, words in (("en", "your role sees only the responses about you"),
                        ("zh-CN", "您的角色只能查看与您本人相关的评价")):
        page = client.get(f"/dashboard/behaviour?{PERIOD}&lang={lang}")
        assert page.status_code == 200 and words in page.text
        assert 'id="behaviour-staff-only"' in page.text and "behaviour-empty" not in page.text


def test_a_purchase_exactly_the_window_later_is_a_repurchase_a_second_more_is_not(world):
    first = dt.datetime(2026, 3, 1, 4, 0, 0, 250000, tzinfo=dt.UTC)
    window = dt.timedelta(days=90)
    later = {"w1": [window], "w2": [window + dt.timedelta(seconds=1)], "w3": [dt.timedelta(0)],
             "w4": [dt.timedelta(days=200), dt.timedelta(days=250)], "w5": []}
    s1 = world.unit_ids["s1"]
    with world.ctx.db.write() as conn:
        for name, gaps in later.items():
            cid = customers.insert_customer(conn, unit_id=s1, now=world.ctx.now(),
                                            external_id=name)
            for gap in [dt.timedelta(0), *gaps]:
                customers.insert_transaction(conn, customer_id=cid, unit_id=s1,
                                             kind="purchase", amount=Decimal("12.50"),
                                             occurred_at=first + gap)
    period = b.Period(dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                      dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
    with world.ctx.db.read() as conn:
        found = bv.behaviour_sums(conn, bv.Reach(frozenset({s1}), None, period, 90),
                                  {0: frozenset({s1})})
    # w1 again exactly 90 days later; w2 a second too late; w3 twice at the same moment;
    # w4 again after the period (200 days later, within the read); w5 once
    assert found[0] == found[bv.WHOLE] == b.BehaviourSums(
        customers=5, repeat=1, purchases=2 + 2 + 2 + 1 + 1, count_sq=4 + 4 + 4 + 1 + 1,
        spend=8 * 12.5, spend_sq=3 * 25.0**2 + 2 * 12.5**2, amount_sq=8 * 12.5**2)


def test_without_transactions_the_page_says_how_to_import_them(world, client):
    sign_in(client, "admin@t.test", PASSWORD)
    for lang, words in (("en", "No transactions imported yet"), ("zh-CN", "尚未导入任何交易")):
        page = client.get(f"/dashboard/behaviour?lang={lang}")
        assert page.status_code == 200 and words in page.text
        assert "tiyan transactions import" in page.text
    rows = csv_rows(client.get("/dashboard/behaviour/cohorts/export.csv"))
    assert rows == [["Cohort", "Buying customers"]] or rows[1:] == []


def test_figures_and_cohorts_are_the_domains_from_mid_month_by_index_and_scan(bought,
                                                                             monkeypatch):
    """The arrays give what domain/behaviour computes purchase by purchase: for a range from
    mid-month (the cohorts read from the month's first day, the figures from the range's start:
    c1's purchase of 10 January is no earlier purchase for 1 February), a customer who buys at
    two rows (d2 at n2, then at s1), with and without a segment; read through the index and
    by a scan, the purchases fetched and the customers probed two at a time."""
    ids, ctx = bought.unit_ids, bought.ctx
    with ctx.db.write() as conn:
        d2 = conn.execute(sa.select(t.customer.c.id).where(t.customer.c.external_id == "d2")
                          ).scalar_one()
        customers.insert_transaction(conn, customer_id=d2, unit_id=ids["s1"], kind="purchase",
                                     amount=Decimal("25.10"),
                                     occurred_at=dt.datetime(2026, 3, 1, 4, tzinfo=dt.UTC))
    units = frozenset(ids.values())
    groups = {0: frozenset({ids["n1"], ids["n1-as"]}), 1: frozenset({ids["n2"]}),
              2: frozenset({ids["s1"]})}
    monkeypatch.setattr(bv, "CHUNK", 2)
    monkeypatch.setattr(bv, "PROBE_BATCH", 2)
    for share in (2.0, 0.0):  # more than the table: through the index; none: a scan
        monkeypatch.setattr(bv, "SCAN_SHARE", {"sqlite": share, "postgresql": share})
        for segment in (None, "loyal"):
            filters = bv.Filters(dt.date(2026, 1, 15), dt.date(2026, 6, 20), segment=segment)
            months = bv.Months.of(filters, bv.BUSINESS_TIMEZONE)
            reach = bv.Reach(units, segment, b.Period(
                *bv.utc_bounds(filters.date_from, filters.date_to, bv.BUSINESS_TIMEZONE)), 90)
            with ctx.db.read() as conn:
                stored = stored_purchases(conn, segment)
                read = bv.read_purchases(conn, units, segment, months.starts[0], reach.end)
                found = bv.sums_of(read, reach, groups)  # as behaviour_view does
                cohorts = bv.cohorts_of(conn, read, units, months, min_n=1)
            for key, members in [*groups.items(), (bv.WHOLE, units)]:
                want = b.sums_of(history(stored, members, reach), reach.period,
                                 dt.timedelta(days=90))
                got = found.get(key, b.BehaviourSums())
                assert astuple(got) == pytest.approx(astuple(want)), (share, segment, key)
            assert cohorts == domain_cohorts(stored, months), (share, segment)


def stored_purchases(conn, segment: str | None) -> list[tuple[int, int, dt.datetime, Decimal]]:
    """Every purchase: customer, unit, time, amount (of the segment's customers)."""
    T, C = t.customer_transaction, t.customer
    query = (sa.select(T.c.customer_id, T.c.unit_id, T.c.occurred_at, T.c.amount)
             .join(C, C.c.id == T.c.customer_id).where(T.c.kind != b.REFUND))
    if segment is not None:
        query = query.where(C.c.segment == segment)
    return [tuple(row) for row in conn.execute(query)]


def history(stored, units, reach) -> dict[int, list[b.Purchase]]:
    out: dict[int, list[b.Purchase]] = {}
    for customer, unit, at, amount in stored:
        if unit in units and reach.period.start <= at < reach.end:
            out.setdefault(customer, []).append(b.Purchase(at, amount))
    return out


def domain_cohorts(stored, months) -> list[b.Cohort]:
    zone = ZoneInfo(bv.BUSINESS_TIMEZONE)
    first: dict[int, dt.datetime] = {}
    for customer, _, at, _ in stored:
        first[customer] = min(first.get(customer, at), at)
    return b.cohort_retention(
        {c: at.astimezone(zone) for c, at in first.items()},
        [(c, at.astimezone(zone)) for c, _, at, _ in stored if months.starts[0] <= at < months.end],
        months.days[0], months.days[-1], min_n=1)


def test_the_current_month_is_a_partial_column_recomputed_with_pandas(bought, client):
    """With the clock at 2026-11-20 a range to 30 November ends in a partial month: its cells
    are marked (page and export) and left out of the heat map; the cell's share is the one the
    raw transactions give for 1-20 November."""
    import pandas as pd

    ctx, admin = bought.ctx, bought.actor("admin@t.test")
    report = import_transactions(ctx, admin, [
        FileRow(2, {"customer": "e2", "time": "2026-11-05 12:00", "amount": "90"})],
        ["customer", "time", "amount"])
    assert report.imported == 1, report.problems
    with ctx.db.read() as conn:
        tx = t.customer_transaction
        frame = pd.DataFrame(conn.execute(
            sa.select(tx.c.customer_id, tx.c.occurred_at, tx.c.unit_id, tx.c.kind)).all(),
            columns=["customer", "at", "unit", "kind"])
        s1 = bought.unit_ids["s1"]
    local = pd.to_datetime(frame["at"], utc=True).dt.tz_convert("Asia/Shanghai")
    frame["month"] = local.dt.strftime("%Y-%m")
    bought_at = frame[(frame["unit"] == s1) & (frame["kind"] == "purchase")]
    first = bought_at.groupby("customer")["month"].min()
    march = set(first[first == "2026-03"].index)
    november = set(bought_at[bought_at["month"] == "2026-11"]["customer"])
    expected = 100 * len(march & november) / len(march)
    sign_in(client, "admin@t.test", PASSWORD)
    query = "from=2026-01-01&to=2026-11-30&unit=s1&lang=en"
    rows = csv_rows(client.get(f"/dashboard/behaviour/cohorts/export.csv?{query}"))
    head, cohorts = rows[0], {r[0]: r for r in rows[1:]}
    assert head[-1] == "Partial month" and head[2 + 7] == "Month 8"
    assert float(cohorts["2026-03"][2 + 7]) == pytest.approx(expected, abs=1e-3)
    assert cohorts["2026-03"][-1] == "partial: 2026-11-01 to 2026-11-20"
    page = client.get(f"/dashboard/behaviour?{query}").text
    assert "last month is partial: Nov 1, 2026 to Nov 20, 2026" in page
    cell = page.split('data-cohort="2026-03"')[1].split("</tr>")[0]
    assert cell.count('class="num partial"') == 1 and f"{expected:.1f}%*" in cell
    chart = page.split('id="cohort-data"')[1].split("</script>")[0]
    assert f"[7, 0, {round(expected, 1)}]" not in chart.replace(" ", "").replace(",", ", ")
    whole = csv_rows(client.get("/dashboard/behaviour/cohorts/export.csv?"
                                "from=2026-01-01&to=2026-10-31&unit=s1"))
    assert {r[-1] for r in whole[1:]} == {""}  # October is over: nothing partial
