"""Dashboards sliced by a survey answer, a comment aspect and a customer attribute (SQLite and
PostgreSQL).

Each slice's overview (response count and NPS) is compared with the same figures counted in
Python from the rows of the tables (answers, analysed aspects, customers' attributes); pages and
an export keep the slice in their links; malformed values get a 422 naming the parameter.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.snapshots import world_with
from tests.world import PASSWORD
from tiyan.analytics import dashboard as d
from tiyan.analytics.cube import Filters, from_aggregates
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import tables as t

COMMENTS = ("服务顾问态度很差，等了三个小时才修好", "维修质量太差，价格还贵",
            "师傅技术不错，服务顾问很热情", "等了太久，休息区也很吵",
            "价格太贵，收费不透明，态度恶劣", "洗车洗得很干净，服务很好")
TIERS = {"n1": {"tier": "gold", "visits": 3}, "n2": {"tier": "silver"}, "s1": {"tier": "gold"}}
PLACES = ("n1-as", "n2", "s1")
FROM, TO = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
PERIOD = f"from={FROM}&to={TO}"


@pytest.fixture
def sliced(ctx):
    return world_with(ctx, with_customer_comments)


def with_customer_comments(world):
    """24 more responses with analysed comments, from customers with attributes (every fourth
    without a customer)."""
    ctx = world.ctx
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "hq")
                     .values(attributes={"industry": "car_aftersales"}))
        for store, attributes in TIERS.items():
            conn.execute(sa.update(t.customer).where(
                t.customer.c.public_id == world.customer_ids[store]
            ).values(attributes={**attributes, "phone": "13800138000"}))
    admin = world.actor("admin@t.test")
    for k in range(24):
        unit = PLACES[k % 3]
        store = {"n1-as": "n1", "n2": "n2", "s1": "s1"}[unit]
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=unit,
            customer_id=None if k % 4 == 3 else world.customer_ids[store], channel="sms",
            answers={"nps": k % 11, "overall": k % 5 + 1, "comment": COMMENTS[k % 6]},
            submitted_at=ctx.now() - dt.timedelta(days=k + 1)))
    run_until_idle(ctx)


def responses(ctx) -> dict[int, dict[str, object]]:
    """Every response of the period with its answers, aspects and customer's attributes, read
    row by row from the tables."""
    r, a, x, c = t.response, t.answer, t.text_aspect, t.customer
    out: dict[int, dict[str, object]] = {}
    with ctx.db.read() as conn:
        attributes = dict(conn.execute(sa.select(c.c.id, c.c.attributes)).all())
        for rid, cid in conn.execute(sa.select(r.c.id, r.c.customer_id)):
            out[rid] = {"answers": {}, "aspects": set(), "attrs": attributes.get(cid) or {}}
        for rid, key, num, text in conn.execute(
                sa.select(a.c.response_id, a.c.question_key, a.c.value_num, a.c.value_text)):
            out[rid]["answers"][key] = num if num is not None else text  # type: ignore[index]
        for rid, code, label in conn.execute(
                sa.select(x.c.response_id, x.c.aspect_code, x.c.label)):
            out[rid]["aspects"].add((code, label))  # type: ignore[union-attr]
    return out


def nps_of(rows: list[dict[str, object]]) -> tuple[int, float | None]:
    scores = [row["answers"]["nps"] for row in rows]  # type: ignore[index]
    if not scores:
        return 0, None
    return len(scores), 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) \
        / len(scores)


def most_mentioned(rows: dict[int, dict[str, object]]) -> tuple[str, str]:
    counts: dict[tuple[str, str], int] = {}
    for row in rows.values():
        for mention in row["aspects"]:  # type: ignore[attr-defined]
            counts[mention] = counts.get(mention, 0) + 1
    assert counts, "the comments were analysed into aspects"
    return max(counts, key=lambda m: (counts[m], m))


def test_answer_aspect_and_attribute_slices_equal_the_tables(sliced):
    ctx = sliced.ctx
    rows = responses(ctx)
    code, label = most_mentioned(rows)
    cases = [  # filters, the responses they select counted in Python
        (Filters(FROM, TO, answer=("nps", "10")),
         lambda row: row["answers"].get("nps") == 10),
        (Filters(FROM, TO, answer=("comment", COMMENTS[1])),
         lambda row: row["answers"].get("comment") == COMMENTS[1]),
        (Filters(FROM, TO, answer=("nobody_asked", "1")), lambda row: False),
        (Filters(FROM, TO, aspect=code),
         lambda row: any(m[0] == code for m in row["aspects"])),
        (Filters(FROM, TO, aspect=code, aspect_label=label),
         lambda row: (code, label) in row["aspects"]),
        (Filters(FROM, TO, attr=("tier", "gold")),
         lambda row: row["attrs"].get("tier") == "gold"),
        (Filters(FROM, TO, attr=("visits", "3")),  # a number in the JSON, compared as text
         lambda row: row["attrs"].get("visits") == 3),
        (Filters(FROM, TO, attr=("tier", "silver"), answer=("overall", "3")),
         lambda row: row["attrs"].get("tier") == "silver"
         and row["answers"].get("overall") == 3),
    ]
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, sliced.actor("admin@t.test"))
        for filters, selects in cases:
            assert filters.sliced and not from_aggregates(conn, scope.vis, filters)
            want = [row for row in rows.values() if selects(row)]
            got = d.overview(conn, scope, filters, min_n=1)
            assert got.responses == len(want), filters
            n, value = nps_of(want)
            nps = next((k for k in got.kpis if k.kpi == "nps"), None)
            if not n:
                assert nps is None or nps.value.n == 0, filters
                continue
            assert nps is not None and nps.value.n == n, filters
            assert nps.value.value == pytest.approx(value), filters
    selected = [sum(1 for row in rows.values() if selects(row)) for _, selects in cases]
    assert all(selected[i] > 0 for i in (0, 1, 3, 4, 5, 6, 7)), selected  # slices hold responses


def test_pages_and_an_export_keep_the_slice(sliced, client):
    sign_in(client, "admin@t.test", PASSWORD)
    code, label = most_mentioned(responses(sliced.ctx))
    query = urlencode({"answer": "nps:10", "aspect": code, "aspect_label": label,
                       "attr": "tier:gold"})
    for path in ("/dashboard", "/dashboard/units", "/dashboard/journey", "/dashboard/drivers",
                 "/dashboard/staff", "/dashboard/text", "/dashboard/competitors",
                 "/dashboard/behaviour"):
        page = client.get(f"{path}?{PERIOD}&{query}&lang=en")
        assert page.status_code == 200, (path, page.text[:300])
        assert 'id="dash-sliced"' in page.text and 'id="dash-more" open' in page.text
        tabs = page.text.split('class="dash-tabs"')[1].split("</nav>")[0]
        assert "answer=nps%3A10" in tabs and "attr=tier%3Agold" in tabs, path
        assert f"aspect_label={label}" in tabs, path
    gold = urlencode({"attr": "tier:gold"})
    reply = client.get(f"/dashboard/overview/export.csv?{PERIOD}&{gold}")
    assert reply.status_code == 200, reply.text[:300]
    exported = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    want = sum(1 for row in responses(sliced.ctx).values() if row["attrs"].get("tier") == "gold")
    assert sum(int(row[1]) for row in exported[1:]) == want > 0


@pytest.mark.parametrize(("query", "name"), [
    ("answer=nps10", "answer"), ("answer=:10", "answer"), ("answer=nps:", "answer"),
    ("attr=tier", "attr"), ("aspect_label=angry&aspect=price", "aspect_label"),
    ("aspect_label=negative", "aspect_label"), ("aspect=" + "x" * 65, "aspect"),
])
def test_malformed_slices_get_a_422_naming_the_parameter(world, client, query, name):
    sign_in(client, "admin@t.test", PASSWORD)
    for path in ("/dashboard", "/dashboard/units/export.csv"):
        reply = client.get(f"{path}?{query}")
        assert reply.status_code == 422, (path, query)
        assert name in reply.text, (path, query, reply.text[:300])
