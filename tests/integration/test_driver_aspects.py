"""Key drivers with comment aspects as drivers and repurchase as an outcome (SQLite and
PostgreSQL): the pair sums read from the responses equal a computation in Python on the answers,
the analysed aspects and the transactions; min-n rules name what they leave out."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
import sqlalchemy as sa

from tests.integration.driver_fixtures import add_comment_driver_responses, assert_same_pairs
from tests.snapshots import world_with
from tiyan.analytics import dashboard as d
from tiyan.analytics import driver_values
from tiyan.analytics import drivers_view as dv
from tiyan.analytics.cube import Filters
from tiyan.services.jobs import run_until_idle
from tiyan.store import tables as t

COUNT = 80
WINDOW = 14
PERIOD = Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))


@pytest.fixture
def commented(ctx):
    return world_with(ctx, with_comment_drivers)


def with_comment_drivers(world):
    run_until_idle(world.ctx)
    world.comment_survey = add_comment_driver_responses(world, COUNT)


def raw_records(ctx, unit_ids=None) -> dict[int, dict]:
    """Per response in the period: its item values, aspect balances (None: not analysed),
    customer and submission time."""
    r, a, ta, x = t.response, t.answer, t.text_analysis, t.text_aspect
    out: dict[int, dict] = {}
    with ctx.db.read() as conn:
        where = [r.c.status == "complete"]
        if unit_ids is not None:
            where.append(r.c.unit_id.in_(unit_ids))
        for rid, customer, at in conn.execute(
                sa.select(r.c.id, r.c.customer_id, r.c.submitted_at).where(*where)):
            out[rid] = {"items": {}, "aspects": None, "customer": customer, "at": at}
        for rid, item, value in conn.execute(sa.select(a.c.response_id, a.c.item_code,
                                                       a.c.value_num)):
            if rid in out and item is not None and value is not None:
                out[rid]["items"][item] = float(value)
        for (rid,) in conn.execute(sa.select(ta.c.response_id)):
            if rid in out:
                out[rid]["aspects"] = defaultdict(int)
        for rid, code, label in conn.execute(sa.select(x.c.response_id, x.c.aspect_code,
                                                       x.c.label)):
            if rid in out:
                out[rid]["aspects"][code] += {"positive": 1, "negative": -1}.get(label, 0)
    return out


def reference_pairs(records: dict[int, dict], aspects: bool, outcome_of=None) -> dv.Pairs:
    """The pair sums computed in Python; with `outcome_of`, only responses it gives a value
    (repurchase) and every pair, else only the pairs that involve an aspect."""
    codes = sorted({c for rec in records.values() if rec["aspects"] for c in rec["aspects"]})
    out: dv.Pairs = {}
    for rec in records.values():
        values = dict(rec["items"])
        if outcome_of is not None:
            known = outcome_of(rec)
            if known is None:
                continue
            values["repurchase"] = known
        if aspects and rec["aspects"] is not None:
            for code in codes:
                balance = rec["aspects"].get(code, 0)
                values[f"aspect:{code}"] = float((balance > 0) - (balance < 0))
        for a_name, a_val in values.items():
            for b_name, b_val in values.items():
                if a_name > b_name:
                    continue
                if outcome_of is None and not (a_name.startswith("aspect:")
                                               or b_name.startswith("aspect:")):
                    continue
                if outcome_of is None and rec["aspects"] is None:
                    continue
                top = (a_val >= (9 if a_name == "nps" else 4) if not a_name.startswith(
                    ("aspect:", "repurchase")) else a_val > 0)
                dv._add(out, a_name, b_name, dv.PairSums(
                    1, a_val, b_val, a_val * a_val, b_val * b_val, a_val * b_val, int(top)))
    return out


def test_aspect_pairs_equal_the_analysed_comments_and_drive_the_outcome(commented):
    ctx = commented.ctx
    actor = commented.actor("admin@t.test")
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        got = dv.value_pair_sums(conn, scope, PERIOD, aspects=True, repurchase=None, days=WINDOW)
        analysis = dv.key_drivers(conn, scope, PERIOD, "nps", min_n=5, aspects=True,
                                  per_item=5)
    assert_same_pairs(got, reference_pairs(raw_records(ctx), aspects=True))
    assert analysis.aspects and not analysis.reads_raw and not analysis.too_few
    comments = [x for x in analysis.drivers if x.from_comments]
    assert comments, analysis.left_out
    assert {x.item for x in analysis.drivers} >= {"sat_quality", "sat_speed", "sat_price"}
    assert sum(x.share for x in analysis.drivers) == pytest.approx(100.0)
    # performance of an aspect: positive over positive and negative mentions
    top = comments[0]
    alone = got[(top.item, top.item)]
    assert top.performance == pytest.approx(100 * alone.top_a / alone.sum_aa)
    assert -1 <= top.mean <= 1 and top.code == top.item.removeprefix("aspect:")
    # the advisor's attitude follows the outcome; the price is blamed at random
    weight = {x.item: x.share for x in analysis.drivers}
    assert weight["aspect:advisor_attitude"] > weight["aspect:price"]
    check_aspects_under_min_n_are_named(commented)
    check_a_unit_sees_its_own_aspects(commented)


def check_aspects_under_min_n_are_named(world):
    actor = world.actor("admin@t.test")
    with world.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        pairs = dv.value_pair_sums(conn, scope, PERIOD, aspects=True, repurchase=None, days=14)
        mentions = {a: round(s.sum_aa) for (a, b), s in pairs.items()
                    if a == b and a.startswith("aspect:")}
        limit = sorted(mentions.values())[-1]  # only the most mentioned aspect stays in
        analysis = dv.key_drivers(conn, scope, PERIOD, "nps", min_n=limit, aspects=True)
    left = dict(analysis.left_out)
    for code, count in mentions.items():
        if count < limit:
            assert left[code] == count
    assert {x.item for x in analysis.drivers if x.from_comments} <= {
        c for c, n in mentions.items() if n >= limit}


def check_a_unit_sees_its_own_aspects(world):
    north = world.unit_ids["north"]
    actor = world.actor("admin@t.test")
    with world.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        filters = Filters(PERIOD.date_from, PERIOD.date_to, unit_id=north)
        got = dv.value_pair_sums(conn, scope, filters, aspects=True, repurchase=None, days=14)
        units = sorted(d.visible_unit_ids(scope, north))
    assert_same_pairs(got, reference_pairs(raw_records(world.ctx, units), aspects=True))


def test_repurchase_outcome_reads_the_transactions_and_leaves_recent_responses_out(commented):
    ctx = commented.ctx
    actor = commented.actor("admin@t.test")
    now = ctx.now()
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        last = conn.execute(sa.select(sa.func.max(t.customer_transaction.c.occurred_at))
                            ).scalar_one()
        analysis = dv.key_drivers(conn, scope, PERIOD, "repurchase", min_n=5, now=now,
                                  window_days=WINDOW, per_item=5)
        cutoff = driver_values.repurchase_cutoff(conn, now, WINDOW)
        base = analysis.repurchase
        assert base is not None
        got = dv.value_pair_sums(conn, scope, PERIOD, aspects=False, repurchase=base,
                                 days=WINDOW)
    assert cutoff == min(last, now) - dt.timedelta(days=WINDOW)
    records = raw_records(ctx)
    bought_at: dict[int, list[dt.datetime]] = defaultdict(list)
    with ctx.db.read() as conn:
        tx = t.customer_transaction
        for customer, at in conn.execute(sa.select(tx.c.customer_id, tx.c.occurred_at)):
            bought_at[customer].append(at)

    def repurchased(rec):
        if rec["customer"] is None or rec["at"] > cutoff:
            return None
        return float(any(rec["at"] < at <= rec["at"] + dt.timedelta(days=WINDOW)
                         for at in bought_at[rec["customer"]]))

    with_customer = [rec for rec in records.values() if rec["customer"] is not None]
    assert base.too_recent == sum(rec["at"] > cutoff for rec in with_customer) > 0
    assert base.known == sum(rec["at"] <= cutoff for rec in with_customer) > 0
    assert base.no_customer == len(records) - len(with_customer) > 0
    assert_same_pairs(got, reference_pairs(records, aspects=False, outcome_of=repurchased))
    assert analysis.reads_raw and analysis.window_days == WINDOW and not analysis.too_few
    assert "repurchase" not in {x.item for x in analysis.drivers}
    assert analysis.drivers[0].item == "sat_quality"  # the fixture's repurchases follow it
    assert sum(x.share for x in analysis.drivers) == pytest.approx(100.0)
    # nps and overall satisfaction are outcomes, never drivers, whichever outcome is chosen
    assert not {"nps", "csat"} & {x.item for x in analysis.drivers}
    check_repurchase_with_aspects_and_without_transactions(commented)


def check_repurchase_with_aspects_and_without_transactions(world):
    actor = world.actor("admin@t.test")
    with world.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        both = dv.key_drivers(conn, scope, PERIOD, "repurchase", min_n=5, now=world.ctx.now(),
                              window_days=WINDOW, aspects=True, per_item=5)
    assert both.aspects and both.repurchase is not None
    assert any(x.from_comments for x in both.drivers) or any(
        item.startswith("aspect:") for item, _ in both.left_out)
    with world.ctx.db.write() as conn:
        conn.execute(t.customer_transaction.delete())
    with world.ctx.db.read() as conn:
        none = dv.key_drivers(conn, scope, PERIOD, "repurchase", min_n=5, now=world.ctx.now(),
                              window_days=WINDOW, per_item=5)
    assert none.too_few and none.drivers == [] and none.repurchase is not None
    assert none.repurchase.known == 0 and none.repurchase.too_recent > 0


def test_drivers_page_and_exports_with_aspects_and_repurchase(commented, client):
    from tests.integration.conftest import sign_in
    from tests.integration.test_driver_pages import PERIOD as QUERY
    from tests.integration.test_driver_pages import csv_rows
    from tests.world import PASSWORD

    ctx = commented.ctx  # 80 responses: rank up to 16 items
    ctx.settings = ctx.settings.model_copy(update={"drivers_per_item": 5})
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/dashboard/drivers?{QUERY}&include=aspects&lang=en")
    assert page.status_code == 200, page.text[:500]
    table = page.text.split('id="drivers"')[1].split("</table>")[0]
    assert "from comments" in table and "Advisor" in table or "advisor_attitude" in table
    # the aspects come from driver_aspect_agg: no note that the page reads the responses
    assert 'id="drivers-raw"' not in page.text and 'name="include" value="aspects"' in page.text
    zh = client.get(f"/dashboard/drivers?{QUERY}&include=aspects&lang=zh-CN")
    assert "来自评论" in zh.text
    rows = csv_rows(client.get(f"/dashboard/drivers/export.csv?{QUERY}&include=aspects&lang=en"))
    assert rows[0][-1] == "Source"
    sources = {r[0]: r[-1] for r in rows[1:]}
    assert sources["aspect:advisor_attitude"] == "from comments"
    assert sources["sat_quality"] == "rated item"
    items_only = client.get(f"/dashboard/drivers?{QUERY}&lang=en")
    assert "from comments" not in items_only.text.split('id="drivers"')[1]
    assert 'id="drivers-raw"' not in items_only.text
    again = client.get(f"/dashboard/drivers?{QUERY}&outcome=repurchase&lang=en")
    assert again.status_code == 200
    assert 'id="drivers-repurchase"' in again.text and "too recent to tell" in again.text
    assert 'id="drivers-raw"' in again.text
    rows = csv_rows(client.get(
        f"/dashboard/drivers/export.csv?{QUERY}&outcome=repurchase&lang=en"))
    assert {"sat_quality", "sat_speed", "sat_price"} <= {r[0] for r in rows[1:]}
    # with the aspects too, the few responses old enough to tell cannot rank them all
    both = client.get(f"/dashboard/drivers?{QUERY}&outcome=repurchase&include=aspects&lang=en")
    assert 'id="drivers-not-enough"' in both.text or 'id="drivers"' in both.text
    bad = client.get(f"/dashboard/drivers?{QUERY}&include=everything")
    assert bad.status_code == 422 and "include" in bad.text
