"""A second survey with rated items on the fixture world, for key drivers and staff scorecards.

Answers come from a fixed random stream: the NPS and overall satisfaction depend on three items
with different strengths (quality most, speed less, price least), plus noise; some responses
skip an item, so pairwise bases differ.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.world import World
from tiyan.analytics import drivers_view as dv
from tiyan.domain.surveys import parse_definition
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import customers, surveys
from tiyan.store import tables as t

ITEMS = ("sat_quality", "sat_speed", "sat_price")
DRIVER_SURVEY = {
    "title": {"zh-CN": "服务评价", "en": "Service rating"},
    "questions": [
        {"key": "nps", "type": "nps", "item_code": "nps", "required": True,
         "text": {"zh-CN": "推荐", "en": "Recommend"}},
        {"key": "overall", "type": "csat", "item_code": "csat",
         "text": {"zh-CN": "总体满意", "en": "Overall"}},
        *({"key": code, "type": "csat", "item_code": code,
           "text": {"zh-CN": f"满意度 {code}", "en": f"Satisfaction {code}"}} for code in ITEMS),
    ],
}
PLACES = (("n1-as", "n1-e1"), ("n1-as", "n1-e2"), ("n2", "n2-e1"), ("s1", "s1-e1"),
          ("north", None))
CHANNELS = ("api", "sms", "email")


def clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def add_driver_responses(world: World, count: int = 90, seed: int = 7) -> int:
    """Store `count` responses over the last ~70 days; returns the survey id."""
    ctx = world.ctx
    with ctx.db.write() as conn:
        survey_id, _ = surveys.insert_survey(
            conn, code="drivers", name="Drivers", unit_id=world.unit_ids["hq"],
            definition=parse_definition(DRIVER_SURVEY), now=ctx.now(), created_by=None)
    rng = random.Random(seed)
    admin = world.actor("admin@t.test")
    for index in range(count):
        unit, staff = PLACES[index % len(PLACES)]
        quality, speed, price = (rng.randint(1, 5) for _ in range(3))
        latent = 0.6 * quality + 0.3 * speed + 0.1 * price + rng.gauss(0, 0.5)
        answers: dict[str, object] = {
            "nps": clip(2.2 * latent - 1, 0, 10), "overall": clip(latent, 1, 5),
            "sat_quality": quality, "sat_speed": speed}
        if index % 6:
            answers["sat_price"] = price
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=survey_id, unit_code=unit, staff_code=staff,
            channel=CHANNELS[index % len(CHANNELS)], answers=answers,
            submitted_at=ctx.now() - dt.timedelta(hours=19 * index + 2)))
    run_until_idle(ctx)
    return survey_id


COMMENT_SURVEY = {
    "title": {"zh-CN": "售后评价", "en": "After-sales rating"},
    "questions": [
        *DRIVER_SURVEY["questions"],
        {"key": "comment", "type": "text", "item_code": "comment",
         "text": {"zh-CN": "评论", "en": "Comment"}},
    ],
}
# car_aftersales comments: the service advisor praised or blamed with the outcome; the price
# blamed at random (so it matters little); one comment in seven is left out
GOOD = ("服务顾问很热情，服务很好", "师傅技术不错，服务顾问态度很好")
BAD = ("服务顾问态度很差，没人管", "服务顾问态度恶劣，服务太差")
PRICE = ("价格太贵，收费不透明", "")


def add_comment_driver_responses(world: World, count: int = 80, seed: int = 11) -> int:
    """Responses with analysed comments, each from its own customer; a customer buys again
    5 days after a response whose latent satisfaction is high (and one last purchase today
    marks the data's last day). Returns the survey id."""
    ctx = world.ctx
    now = ctx.now()
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "hq")
                     .values(attributes={"industry": "car_aftersales"}))
        survey_id, _ = surveys.insert_survey(
            conn, code="aftersales", name="After-sales", unit_id=world.unit_ids["hq"],
            definition=parse_definition(COMMENT_SURVEY), now=now, created_by=None)
    rng = random.Random(seed)
    admin = world.actor("admin@t.test")
    for index in range(count):
        unit, staff = PLACES[index % len(PLACES)]
        quality, speed, price = (rng.randint(1, 5) for _ in range(3))
        latent = 0.5 * quality + 0.2 * speed + 0.1 * price + rng.gauss(0, 0.5)
        at = now - dt.timedelta(hours=55 * index + 2)  # about 6 months
        with ctx.db.write() as conn:
            customer = customers.insert_customer(conn, unit_id=world.unit_ids["n1"], now=now,
                                                 name=f"c{index}")
            public = str(conn.execute(sa.select(t.customer.c.public_id)
                                      .where(t.customer.c.id == customer)).scalar_one())
            if latent + rng.gauss(0, 0.4) > 2.3:
                conn.execute(sa.insert(t.customer_transaction).values(
                    customer_id=customer, unit_id=world.unit_ids["n1"], kind="repair",
                    amount=Decimal("100"), occurred_at=at + dt.timedelta(days=5)))
        answers: dict[str, object] = {
            "nps": clip(2.2 * latent - 1, 0, 10), "overall": clip(latent, 1, 5),
            "sat_quality": quality, "sat_speed": speed, "sat_price": price}
        if index % 7:
            mood = (GOOD if latent > 2.2 else BAD)[index % 2]
            answers["comment"] = mood + "。" + PRICE[index % 2]
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=survey_id, unit_code=unit, staff_code=staff, customer_id=public,
            channel=CHANNELS[index % len(CHANNELS)], answers=answers, submitted_at=at))
    with ctx.db.write() as conn:
        conn.execute(sa.insert(t.customer_transaction).values(
            customer_id=customer, unit_id=world.unit_ids["n1"], kind="repair",
            amount=Decimal("50"), occurred_at=now))
    run_until_idle(ctx)
    return survey_id


def assert_same_pairs(got: dv.Pairs, want: dv.Pairs) -> None:
    """Pair sums equal key by key: counts exactly, sums to floating-point tolerance."""
    assert set(got) == set(want)
    for key, value in want.items():
        g = got[key]
        assert (g.n, g.top_a) == (value.n, value.top_a), key
        for name in ("sum_a", "sum_b", "sum_aa", "sum_bb", "sum_ab"):
            assert getattr(g, name) == pytest.approx(getattr(value, name)), (key, name)


MIXED_ITEMS = ("sat_quality", "sat_speed", "sat_price", "proc_on_time", "proc_advice",
               "proc_complete")
MIXED_SURVEY = {
    "title": {"zh-CN": "售后评价", "en": "After-sales rating"},
    "questions": [
        *DRIVER_SURVEY["questions"],
        *({"key": code, "type": "yesno", "item_code": code,
           "text": {"zh-CN": f"是否 {code}", "en": f"Did {code}?"}}
          for code in ("proc_on_time", "proc_advice", "proc_complete")),
    ],
}


def add_mixed_driver_responses(world: World, count: int = 150, seed: int = 5) -> int:
    """`count` responses with three 1–5 items and three yes/no items over the last ~60 days:
    the NPS follows quality, speed and on-time delivery, barely price and advice; every sixth
    respondent skips the price; "was all the work done" is "no" once in 40 (near-constant).
    Returns the survey id."""
    ctx = world.ctx
    with ctx.db.write() as conn:
        survey_id, _ = surveys.insert_survey(
            conn, code="mixed", name="Mixed", unit_id=world.unit_ids["hq"],
            definition=parse_definition(MIXED_SURVEY), now=ctx.now(), created_by=None)
    rng = random.Random(seed)
    admin = world.actor("admin@t.test")
    for index in range(count):
        unit, staff = PLACES[index % len(PLACES)]
        quality, speed, price = (rng.randint(1, 5) for _ in range(3))
        on_time, advice = rng.random() < 0.75, rng.random() < 0.6
        latent = 0.5 * quality + 0.3 * speed + 0.05 * price + 0.8 * on_time + 0.1 * advice \
            + rng.gauss(0, 0.6)
        answers: dict[str, object] = {
            "nps": clip(2.0 * latent - 1, 0, 10), "overall": clip(latent, 1, 5),
            "sat_quality": quality, "sat_speed": speed, "proc_on_time": on_time,
            "proc_advice": advice, "proc_complete": index % 40 != 7}
        if index % 6:
            answers["sat_price"] = price
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=survey_id, unit_code=unit, staff_code=staff,
            channel=CHANNELS[index % len(CHANNELS)], answers=answers,
            submitted_at=ctx.now() - dt.timedelta(hours=9 * index + 2)))
    run_until_idle(ctx)
    return survey_id
