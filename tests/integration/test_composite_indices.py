"""User-defined composite indices on the overview (SQLite and PostgreSQL): the figure equals the
domain's composite of hand-summed item scores, in the user's scope; bad definitions get a 422
naming the field; the definitions page is for users who manage surveys."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, RESPONSES
from tiyan.analytics import dashboard as d
from tiyan.domain.metrics import CompositeIndex, IndexItem, MeanSums
from tiyan.errors import InvalidInput
from tiyan.services import indices
from tiyan.services.jobs import run_until_idle

FILTERS = d.default_filters(dt.date(2026, 11, 20))
PERIOD = "from=2025-12-01&to=2026-11-30"


@pytest.fixture
def defined(world):
    run_until_idle(world.ctx)
    indices.do_save_index(world.ctx, world.actor("admin@t.test"), "csi", "满意度指数",
                          "Satisfaction index", "nps 1\ncsat 3\n")
    return world


def hand_index() -> CompositeIndex:
    return CompositeIndex("csi", (IndexItem("nps", 1, 0, 10), IndexItem("csat", 3, 1, 5)))


def item_sums(scores: list[int]) -> MeanSums:
    return MeanSums(len(scores), sum(scores), sum(s * s for s in scores))


def overview_index(world, email: str, min_n: int = 1) -> d.IndexKpi:
    with world.ctx.db.read() as conn:
        view = d.overview(conn, d.dashboard_scope(conn, world.actor(email)), FILTERS,
                          min_n=min_n)
    [index] = view.indices
    return index


def test_the_scales_come_from_the_survey_definitions(defined):
    [definition] = indices.list_indices(defined.ctx)
    assert [(i.key, i.weight, i.scale_min, i.scale_max) for i in definition.items] == [
        ("nps", 1.0, 0.0, 10.0), ("csat", 3.0, 1.0, 5.0)]


def test_overview_index_equals_the_composite_of_hand_summed_items(defined):
    got = overview_index(defined, "admin@t.test")
    nps = [r[2] for r in RESPONSES]
    csat = [r[3] for r in RESPONSES]
    expected = hand_index().from_item_sums(
        {"nps": item_sums(nps), "csat": item_sums(csat)}, min_n=1)
    value = got.kpi.value
    assert (value.value, value.low, value.high, value.n) == pytest.approx(
        (expected.value, expected.low, expected.high, expected.n))
    # 0.25 * (48/7)/10 * 100 + 0.75 * (24/7 - 1)/4 * 100
    assert value.value == pytest.approx(0.25 * 480 / 7 + 0.75 * (24 / 7 - 1) * 25)
    assert value.n == len(RESPONSES)
    assert got.kpi.previous.too_few and not got.kpi.change.significant
    assert got.definition.name("zh-CN") == "满意度指数"


def test_a_store_manager_sees_the_index_of_their_own_store(defined):
    got = overview_index(defined, "mgr.s1@t.test")
    s1 = [r for r in RESPONSES if r[0] == "s1"]
    expected = hand_index().from_item_sums(
        {"nps": item_sums([r[2] for r in s1]), "csat": item_sums([r[3] for r in s1])}, min_n=1)
    assert (got.kpi.value.value, got.kpi.value.n) == pytest.approx((expected.value, 2))
    too_few = overview_index(defined, "mgr.s1@t.test", min_n=3)
    assert too_few.kpi.value.too_few and too_few.kpi.value.n == 2


def test_the_trend_carries_the_index_per_bucket(defined):
    with defined.ctx.db.read() as conn:
        view = d.overview(conn, d.dashboard_scope(conn, defined.actor("admin@t.test")),
                          FILTERS, min_n=1)
    key = "index:csi"
    filled = [p for p in view.trend if not p.values[key].too_few]
    assert sum(p.values[key].n for p in filled) == len(RESPONSES)


@pytest.mark.parametrize(("code", "items", "where"), [
    ("CSI!", "nps 1", "code"),
    ("csi", "nps 0", "items, line 1"),
    ("csi", "nps 1\ncsat x", "items, line 2"),
    ("csi", "nps 1\nnps 2", "items"),
    ("csi", "nowhere 1", "items"),
    ("csi", "own 1 5 5", "items, line 1"),
    ("csi", "", "items"),
])
def test_a_bad_definition_names_the_field(world, code, items, where):
    with pytest.raises(InvalidInput) as caught:
        indices.do_save_index(world.ctx, world.actor("admin@t.test"), code, "指数", "Index",
                              items)
    assert caught.value.where == where
    assert caught.value.status == 422
    assert indices.list_indices(world.ctx) == []


def test_define_by_form_show_on_the_overview_and_export(world, client):
    run_until_idle(world.ctx)
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/dashboard/indices?lang=en")
    assert page.status_code == 200
    assert '<a href="/dashboard/indices" id="indices-tab" aria-current="page">Composite indices' \
        in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = client.post("/dashboard/indices", data={
        "code": "csi", "name_zh": "指数", "name_en": "Index", "items": "nps -1",
        "csrf_token": token})
    assert bad.status_code == 422 and "items, line 1" in bad.text
    saved = client.post("/dashboard/indices", data={
        "code": "csi", "name_zh": "满意度指数", "name_en": "Satisfaction index",
        "items": "nps 1\ncsat 3", "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303
    overview = client.get(f"/dashboard?{PERIOD}&lang=en").text
    assert 'data-index="csi"' in overview and "Satisfaction index" in overview
    export = client.get(f"/dashboard/overview/export.csv?{PERIOD}&lang=en")
    assert ",Satisfaction index,n (Satisfaction index),Satisfaction index 95% CI low," in \
        export.content.decode("utf-8-sig").splitlines()[0]
    league = client.get(f"/dashboard/units?{PERIOD}&lang=en").text
    assert '<th data-index="csi">Satisfaction index</th>' in league
    units = client.get(f"/dashboard/units/export.csv?{PERIOD}&lang=en")
    assert "Satisfaction index" in units.content.decode("utf-8-sig").splitlines()[0]
    targets = client.get("/dashboard/targets?lang=en").text
    assert '<option value="index:csi">Satisfaction index</option>' in targets
    target = {"kpi": "index:csi", "unit": "north", "period_start": "2026-01-01",
              "period_end": "2026-12-31", "target": "150", "csrf_token": token}
    too_high = client.post("/dashboard/targets", data=target)
    assert 'id="targets-errors"' in too_high.text and "lies from 0 to 100" in too_high.text
    assert client.post("/dashboard/targets", data={**target, "target": "50"},
                       follow_redirects=False).status_code == 303
    tile = client.get(f"/dashboard?{PERIOD}&lang=en").text.split('data-index="csi"')[1]
    assert "Target 2026: 50 · actual 66.8 · gap +16.75" in \
        tile.split("</section>")[0].split("data-kpi=")[0]
    assert "<td>Satisfaction index</td>" in client.get("/dashboard/targets?lang=en").text
    deleted = client.post("/dashboard/indices/csi/delete", data={"csrf_token": token},
                          follow_redirects=False)
    assert deleted.status_code == 303 and indices.list_indices(world.ctx) == []
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    assert client.get("/dashboard/indices").status_code == 403
    assert 'id="indices-tab"' not in client.get(f"/dashboard?{PERIOD}").text


def test_the_league_has_a_column_per_index_in_scope(defined):
    with defined.ctx.db.read() as conn:
        table = d.league(conn, d.dashboard_scope(conn, defined.actor("cx@t.test")), FILTERS,
                         min_n=1)
    assert [i.code for i in table.indices] == ["csi"]
    n2 = next(r for r in table.rows if r.code == "n2")
    rows = [r for r in RESPONSES if r[0] == "n2"]
    expected = hand_index().from_item_sums(
        {"nps": item_sums([r[2] for r in rows]), "csat": item_sums([r[3] for r in rows])},
        min_n=1)
    assert n2.values["index:csi"].value == pytest.approx(expected.value)
    assert "index:csi" in n2.changes and "index:csi" not in n2.vs_parent
    assert table.parent is not None and table.parent.values["index:csi"].n == 5


def test_the_index_tile_names_the_n_of_every_item_behind_its_value(defined):
    """The index is made of each item's mean over its own answers; when items were answered by
    different numbers of respondents the tile carries the fewest and the most (recomputed from
    the raw answers with pandas), not only the smallest."""
    import pandas as pd
    import sqlalchemy as sa

    from tiyan.services.responses import ResponseRequest, do_submit_response
    from tiyan.store import tables as t

    ctx, admin = defined.ctx, defined.actor("admin@t.test")
    for score in (10, 4, 9):  # the NPS alone: the satisfaction question is optional
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=defined.survey_id, unit_code="s1", staff_code="s1-e1",
            answers={"nps": score}, submitted_at=ctx.now() - dt.timedelta(hours=30)))
    run_until_idle(ctx)
    with ctx.db.read() as conn:
        answers = pd.DataFrame(conn.execute(
            sa.select(t.answer.c.item_code).join(t.response,
                                                 t.response.c.id == t.answer.c.response_id)
            .where(t.answer.c.value_num.is_not(None), t.response.c.status == "complete",
                   t.answer.c.item_code.in_(["nps", "csat"]))).all(), columns=["item"])
    counts = answers["item"].value_counts()
    got = overview_index(defined, "admin@t.test")
    assert got.item_n == (counts["csat"], counts["nps"]) and counts["nps"] > counts["csat"]
    assert got.kpi.value.n == counts["csat"]  # the smallest decides "too few"
