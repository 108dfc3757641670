"""A second survey with rated items on the fixture world, for key drivers and staff scorecards.

Answers come from a fixed random stream: the NPS and overall satisfaction depend on three items
with different strengths (quality most, speed less, price least), plus noise; some responses
skip an item, so pairwise bases differ.
"""

from __future__ import annotations

import datetime as dt
import random

from tests.world import World
from tiyan.domain.surveys import parse_definition
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import surveys

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
