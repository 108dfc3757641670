"""Key drivers that know their limits, on SQLite and PostgreSQL: every figure of the page and
its export recomputed here from the raw answers (pandas for the pairwise correlations, an SVD
for the weights, a resampling loop of our own with the page's seed for the intervals); the
noise case (n = 38 with 16 items) is not ranked; a near-constant item is left out and named;
yes/no and 1–5 items are compared within their scale."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.integration.driver_fixtures import (
    DRIVER_SURVEY,
    MIXED_ITEMS,
    add_mixed_driver_responses,
)
from tests.snapshots import world_with
from tests.world import PASSWORD
from tiyan.analytics import dashboard as d
from tiyan.analytics import driver_cache
from tiyan.analytics import drivers_view as dv
from tiyan.analytics.cube import Filters
from tiyan.domain.drivers import RESAMPLES, SEED
from tiyan.domain.surveys import parse_definition
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import surveys
from tiyan.store import tables as t

QUERY = "from=2026-01-01&to=2026-12-31"
PERIOD = Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
TZ = ZoneInfo("Asia/Shanghai")
RATED = ("sat_quality", "sat_speed", "sat_price")
YES_NO = ("proc_on_time", "proc_advice")


@pytest.fixture
def mixed(ctx):
    return world_with(ctx, with_mixed)


def with_mixed(world):
    run_until_idle(world.ctx)
    world.mixed_survey = add_mixed_driver_responses(world)


def raw_frame(ctx) -> pd.DataFrame:
    """Every complete response of 2026 (business time) × item code, NaN where unanswered, in
    response id order: read straight from the answers."""
    a, r = t.answer, t.response
    low, high = dt.datetime(2026, 1, 1, tzinfo=TZ), dt.datetime(2027, 1, 1, tzinfo=TZ)
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(r.c.id, a.c.item_code, a.c.value_num)
                            .join(a, a.c.response_id == r.c.id)
                            .where(r.c.status == "complete", r.c.submitted_at >= low,
                                   r.c.submitted_at < high, a.c.item_code.is_not(None),
                                   a.c.value_num.is_not(None))).all()
    long = pd.DataFrame(rows, columns=["rid", "code", "v"])
    return long.pivot_table(index="rid", columns="code", values="v", aggfunc="mean").sort_index()


def svd_shares(corr: np.ndarray) -> np.ndarray:
    """Johnson's weights (outcome last) through the SVD of Rxx; the weights and their R²."""
    rxx, rxy = corr[:-1, :-1], corr[:-1, -1]
    u, s, vt = np.linalg.svd(rxx)
    root = u @ np.diag(np.sqrt(s)) @ vt
    weights = (root**2) @ (np.linalg.solve(root, rxy) ** 2)
    return weights


def export_rows(client, query: str) -> tuple[list[str], list[list[str]]]:
    reply = client.get(f"/dashboard/drivers/export.csv?{query}")
    assert reply.status_code == 200, reply.text[:300]
    rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    return rows[0], rows[1:]


def test_every_figure_of_the_drivers_page_matches_a_recomputation_from_the_answers(mixed,
                                                                                  client):
    frame = raw_frame(mixed.ctx)
    chosen = sorted(RATED + YES_NO)  # proc_complete is near-constant
    complete_share = frame["proc_complete"].value_counts(normalize=True).max()
    assert complete_share >= 0.95
    data = frame[[*chosen, "nps"]]
    corr = data.corr().to_numpy()  # pandas: pairwise-complete Pearson correlations
    weights = svd_shares(corr)
    r2 = float(corr[:-1, -1] @ np.linalg.solve(corr[:-1, :-1], corr[:-1, -1]))
    assert weights.sum() == pytest.approx(r2)
    present = data.notna().astype(int)
    n = int((present.T @ present).to_numpy().min())
    p = len(chosen)
    adjusted = 1 - (1 - r2) * (n - 1) / (n - p - 1)
    # our own bootstrap: resample the respondents (any item or outcome answered) with the seed
    everyone = frame[[*sorted(MIXED_ITEMS), "csat", "nps"]].dropna(how="all")
    draw = np.random.default_rng(SEED)
    shares = []
    for _ in range(RESAMPLES):
        sample = everyone.iloc[draw.integers(0, len(everyone), len(everyone))][[*chosen, "nps"]]
        w = svd_shares(sample.corr().fillna(0.0).to_numpy())
        shares.append(100 * w / w.sum())
    low, high = np.percentile(np.array(shares), [2.5, 97.5], axis=0)

    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/dashboard/drivers?{QUERY}&lang=en").text
    note = re.sub(r"\s+", " ", page.split('id="drivers-note">')[1].split("</p>")[0])
    assert f"explain {100 * adjusted:.1f}% of the outcome" in note
    assert f"Plain R² is {100 * r2:.1f}%" in note and f"n={n:,}" in note
    assert f"would give {100 * p / (n - 1):.1f}% on average" in note
    rule = page.split('id="drivers-rule">')[1].split("</p>")[0]
    assert f"{max(5, 10 * p)} for these {p} items" in rule
    flat = page.split('id="drivers-flat">')[1].split("</p>")[0]
    assert "Did proc_complete?" in flat and f"{100 * complete_share:.1f}% the same" in flat
    assert f"{RESAMPLES} bootstrap resamples of the {len(everyone):,} respondents" in page

    head, rows = export_rows(client, f"{QUERY}&lang=en")
    col = {name: head.index(name) for name in head}
    got = {row[0]: row for row in rows}
    assert set(got) == set(chosen)
    order = sorted(range(p), key=lambda j: -weights[j])
    assert [row[0] for row in rows] == [chosen[j] for j in order]
    mean_top = {"1-5": np.mean([(frame[c].dropna() >= 4).mean() for c in RATED]),
                "yesno": np.mean([(frame[c].dropna() == 1).mean() for c in YES_NO])}
    importance_split = 100 / p
    for j, code in enumerate(chosen):
        row = got[code]
        assert float(row[col["Relative weight"]]) == pytest.approx(weights[j], abs=6e-5)
        share = 100 * weights[j] / r2
        assert float(row[col["Importance (% of R²)"]]) == pytest.approx(share, abs=0.051)
        assert float(row[col["Importance 95% low"]]) == pytest.approx(low[j], abs=0.051)
        assert float(row[col["Importance 95% high"]]) == pytest.approx(high[j], abs=0.051)
        scale = "yesno" if code in YES_NO else "1-5"
        top = (frame[code].dropna() == 1).mean() if code in YES_NO \
            else (frame[code].dropna() >= 4).mean()
        assert float(row[col["Performance (top box %)"]]) == pytest.approx(100 * top, abs=0.051)
        relative = 100 * (top - mean_top[scale])
        assert float(row[col["vs. same scale (points)"]]) == pytest.approx(relative, abs=0.051)
        assert row[col["Scale"]] == ("yes/no" if scale == "yesno" else "1–5 scale")
        quadrant = {(True, True): "Keep up", (True, False): "Fix first",
                    (False, True): "Over-invested", (False, False): "Low priority"}[
            (share >= importance_split, relative >= 0)]
        assert row[col["Quadrant"]] == quadrant
        assert int(row[col["n"]]) == int((data[code].notna() & data["nps"].notna()).sum())
    # each scale has items above and below its mean: neither is all "fix first"
    assert {got[c][col["Quadrant"]] for c in RATED} != {"Fix first"}
    check_ranks_and_cache(mixed, client, head, rows, np.array(shares), chosen)
    check_sampled_intervals(mixed, frame, chosen)


def check_sampled_intervals(world, frame, chosen):
    """Above the cap the resamples come from every k-th response and their spread around the
    full sample's shares is narrowed by √(sampled / all answers to the outcome)."""
    with world.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, world.actor("admin@t.test"))
        full = dv.key_drivers(conn, scope, PERIOD, "nps", min_n=5)
        capped = dv.key_drivers(conn, scope, PERIOD, "nps", min_n=5, sample_cap=60)
    everyone = int(frame["nps"].notna().sum())
    step = -(-everyone // 60)
    sample = frame[(frame.index % step == 0)][[*sorted(MIXED_ITEMS), "csat", "nps"]]
    sample = sample.dropna(how="all")
    assert capped.resampled == len(sample) < full.resampled and capped.respondents == everyone
    point = {x.item: x.share for x in full.drivers}
    assert {x.item: x.share for x in capped.drivers} == point  # the shares are the full ones
    factor = np.sqrt(sample["nps"].notna().sum() / everyone)
    draw = np.random.default_rng(SEED)
    centre = np.array([point[c] for c in chosen])
    spread = []
    for _ in range(RESAMPLES):
        w = svd_shares(sample.iloc[draw.integers(0, len(sample), len(sample))][[*chosen, "nps"]]
                       .corr().fillna(0.0).to_numpy())
        spread.append(centre + factor * (100 * w / w.sum() - centre))
    low, high = np.percentile(np.array(spread), [2.5, 97.5], axis=0)
    for x in capped.drivers:
        j = chosen.index(x.item)
        assert (x.low, x.high) == pytest.approx((low[j], high[j]), abs=1e-6)


def check_ranks_and_cache(world, client, head, rows, shares, chosen):
    """Rank ranges are the middle 95% of the resamples' ranks; a new response changes the
    stamp, so the cached analysis is not served again."""
    ranks = np.argsort(np.argsort(-shares, axis=1, kind="stable"), axis=1) + 1
    low, high = np.percentile(ranks, [2.5, 97.5], axis=0)
    col = {name: head.index(name) for name in head}
    for row in rows:
        j = chosen.index(row[0])
        assert int(row[col["Rank range from"]]) == int(np.floor(low[j]))
        assert int(row[col["Rank range to"]]) == int(np.ceil(high[j]))
    actor = world.actor("admin@t.test")
    with world.ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        first = dv.key_drivers(conn, scope, PERIOD, "nps", min_n=5)
        assert dv.key_drivers(conn, scope, PERIOD, "nps", min_n=5) is first
    do_submit_response(world.ctx, actor, ResponseRequest(
        survey_id=world.mixed_survey, unit_code="n2", channel="api",
        answers={"nps": 10, "overall": 5}, submitted_at=world.ctx.now() - dt.timedelta(days=1)))
    with world.ctx.db.read() as conn:
        again = dv.key_drivers(conn, scope, PERIOD, "nps", min_n=5)
    assert again is not first and again.resampled == first.resampled + 1


def add_noise(world, items: int, count: int) -> None:
    """`count` responses to a survey of `items` 1–5 items, all drawn at random, NPS too."""
    ctx, rng = world.ctx, random.Random(38)
    codes = [f"noise_{j:02d}" for j in range(items)]
    definition = {"title": DRIVER_SURVEY["title"], "questions": [
        DRIVER_SURVEY["questions"][0],
        *({"key": code, "type": "csat", "item_code": code,
           "text": {"zh-CN": code, "en": code}} for code in codes)]}
    with ctx.db.write() as conn:
        survey_id, _ = surveys.insert_survey(
            conn, code="noise", name="Noise", unit_id=world.unit_ids["hq"],
            definition=parse_definition(definition), now=ctx.now(), created_by=None)
    admin = world.actor("admin@t.test")
    for index in range(count):
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=survey_id, unit_code="s1", channel="sms",
            answers={"nps": rng.randint(0, 10), **{c: rng.randint(1, 5) for c in codes}},
            submitted_at=ctx.now() - dt.timedelta(hours=5 * index + 1)))
    run_until_idle(ctx)


def test_sixteen_items_on_38_responses_are_not_ranked(world, client):
    """The issue's noise case: the page said "items explain 73%" at n = 38 with 16 items."""
    add_noise(world, 16, 38)
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/dashboard/drivers?{QUERY}&channel=sms&lang=en").text
    assert 'id="drivers-not-enough"' in page and 'id="drivers"' not in page
    text = re.sub(r"\s+", " ", page.split('id="drivers-not-enough">')[1].split("</p>")[0])
    assert "16 items need at least 160 responses" in text and "there are 38" in text
    assert "10 per item, never fewer than 5" in text
    assert export_rows(client, f"{QUERY}&channel=sms&lang=en")[1] == []
    zh = client.get(f"/dashboard/drivers?{QUERY}&channel=sms&lang=zh-CN").text
    assert "数据不足，无法给驱动因素排名" in zh and "目前只有 38 条" in zh
    # with 4 responses per item it would rank them, and the adjustment shows it is noise
    world.ctx.settings = world.ctx.settings.model_copy(update={"drivers_per_item": 2})
    driver_cache.clear()
    noisy = client.get(f"/dashboard/drivers?{QUERY}&channel=sms&lang=en").text
    note = re.sub(r"\s+", " ", noisy.split('id="drivers-note">')[1].split("</p>")[0])
    plain = float(note.split("Plain R² is ")[1].split("%")[0])
    adjusted = float(note.split("explain ")[1].split("%")[0])
    assert plain > 30 and adjusted < plain - 30  # 16/37 = 43% is what chance gives
    assert "would give 43.2% on average in 38 responses" in note
