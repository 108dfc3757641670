"""`tiyan generate`: stream N synthetic responses into the database in bulk, for benchmarks.

The responses belong to a synthetic benchmark world (a company with 8 regions × 25 stores,
5 staff each, a 6-step journey and a short relationship survey), created on first use next to
whatever else the database holds. Scores follow the same model as the demo; 1 in 10 responses
carries a comment. Memory stays bounded: responses are built and written batch by batch.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.demo.bulk import ResponseDraft, write_responses
from tiyan.demo.scores import five_point
from tiyan.domain.responses import AnswerValue
from tiyan.domain.surveys import parse_definition
from tiyan.services.aggregates import catch_up
from tiyan.store import org, surveys
from tiyan.store import tables as t

ROOT = "gen"
REGIONS, STORES_PER_REGION, STAFF_PER_STORE = 8, 25, 5
BATCH = 5000
DAYS = 730
CHANNELS = ("sms", "email", "qr", "phone", "link")
TOUCHPOINTS = ("appointment", "reception", "repair", "delivery", "payment", "follow_up")
COMMENTS = ("服务很好，下次还来", "等了太久，没人理", "价格有点贵", "师傅技术不错", "交车晚了一天",
            "顾问态度很热情", "休息区太吵", "洗车没洗干净")
SURVEY = {
    "title": {"zh-CN": "基准测试问卷", "en": "Benchmark survey"},
    "questions": [
        {"key": "nps", "type": "nps", "item_code": "nps", "required": True,
         "text": {"zh-CN": "推荐意愿", "en": "Likelihood to recommend"}},
        {"key": "overall", "type": "csat", "item_code": "csat", "required": True,
         "text": {"zh-CN": "总体满意度", "en": "Overall satisfaction"}},
        {"key": "quality", "type": "csat", "item_code": "sat_work_quality", "touchpoint": "repair",
         "text": {"zh-CN": "维修质量", "en": "Quality of the work"}},
        {"key": "speed", "type": "csat", "item_code": "sat_work_time", "touchpoint": "delivery",
         "text": {"zh-CN": "维修用时", "en": "Time the work took"}},
        {"key": "comment", "type": "text", "item_code": "comment",
         "text": {"zh-CN": "意见与建议", "en": "Comments"}},
    ],
}


@dataclass(frozen=True)
class GenerateReport:
    responses: int
    seconds: float


@dataclass(frozen=True)
class BenchWorld:
    survey_id: int
    version_id: int
    touchpoints: dict[str, int]
    stores: list[tuple[int, float, list[tuple[int, float]]]]  # (unit, quality, [(staff, effect)])


def generate_responses(ctx: Context, count: int, *, seed: int = 1,
                       progress: bool = False) -> GenerateReport:
    rng = random.Random(seed)
    started = time.perf_counter()
    world = ensure_bench_world(ctx, random.Random(0))
    now = ctx.now()
    bar = _bar(progress, count)
    written = 0
    while written < count:
        size = min(BATCH, count - written)
        drafts = list(_drafts(rng, world, now, size))
        with ctx.db.write() as conn:
            if ctx.db.is_sqlite:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
            write_responses(conn, drafts, now)
        written += size
        bar(size)
    bar(0, done=True)
    catch_up(ctx, _progress_callback(progress, "aggregates"))
    return GenerateReport(written, time.perf_counter() - started)


def _progress_callback(show: bool, label: str):  # type: ignore[no-untyped-def]
    """A (done, total) callback that draws a progress bar, or None when not shown."""
    if not show:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress(label, BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    task = progress.add_task(label, total=None)

    def advance(done: int, total: int) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=done, total=total)
        if done >= total:
            progress.stop()

    return advance


def ensure_bench_world(ctx: Context, rng: random.Random) -> BenchWorld:
    with ctx.db.write() as conn:
        exists = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == ROOT)).first()
        if exists is None:
            _create_world(conn, rng, ctx.now())
        return _load_world(conn, random.Random(0))


def _create_world(conn: Connection, rng: random.Random, now: dt.datetime) -> None:
    root = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.parent_id.is_(None))
                        ).scalar_one_or_none()
    company = org.insert_unit(conn, code=ROOT, name_zh="基准测试公司", name_en="Benchmark Co",
                              kind="company" if root else "group", parent_id=root, now=now)
    for r in range(REGIONS):
        region = org.insert_unit(conn, code=f"{ROOT}-r{r + 1}", name_zh=f"第{r + 1}大区",
                                 name_en=f"Region {r + 1}", kind="region", parent_id=company,
                                 now=now)
        for s in range(STORES_PER_REGION):
            code = f"{ROOT}-r{r + 1}-s{s + 1}"
            store = org.insert_unit(conn, code=code, name_zh=f"{r + 1}区{s + 1}号店",
                                    name_en=f"Store {r + 1}-{s + 1}", kind="store",
                                    parent_id=region, now=now,
                                    attributes={"quality": round(rng.gauss(0, 0.3), 3)})
            for i in range(STAFF_PER_STORE):
                org.insert_staff(conn, unit_id=store, code=f"{code}-e{i + 1}",
                                 name=f"员工{r + 1}-{s + 1}-{i + 1}", title="服务顾问", now=now)
    journey = surveys.insert_journey(conn, code=ROOT, name_zh="基准旅程", name_en="Benchmark "
                                     "journey", now=now)
    for position, code in enumerate(TOUCHPOINTS, start=1):
        surveys.insert_touchpoint(conn, journey_id=journey, code=code, name_zh=code,
                                  name_en=code, position=position)
    follow_up = surveys.touchpoint_ids(conn, ROOT)["follow_up"]
    surveys.insert_survey(conn, code=ROOT, name="基准测试 Benchmark", unit_id=company,
                          definition=parse_definition(SURVEY), now=now, created_by=None,
                          touchpoint_id=follow_up)


def _load_world(conn: Connection, rng: random.Random) -> BenchWorld:
    survey = conn.execute(sa.select(t.survey.c.id).where(t.survey.c.code == ROOT)).scalar_one()
    version = surveys.current_version(conn, survey)
    stores = conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.attributes).where(
        t.org_unit.c.kind == "store", t.org_unit.c.code.like(f"{ROOT}-%"))
        .order_by(t.org_unit.c.id)).all()
    staff_rows = conn.execute(sa.select(t.staff.c.id, t.staff.c.unit_id)
                              .where(t.staff.c.code.like(f"{ROOT}-%"))).all()
    by_unit: dict[int, list[tuple[int, float]]] = {}
    for staff_id, unit_id in staff_rows:
        by_unit.setdefault(unit_id, []).append((staff_id, rng.gauss(0, 0.2)))
    return BenchWorld(
        survey_id=survey, version_id=version["id"],
        touchpoints=surveys.touchpoint_ids(conn, ROOT),
        stores=[(uid, float(attrs.get("quality", 0.0)), by_unit.get(uid, []))
                for uid, attrs in stores])


def _drafts(rng: random.Random, world: BenchWorld, now: dt.datetime,
            size: int) -> Iterator[ResponseDraft]:
    for _ in range(size):
        unit_id, quality, staff = rng.choice(world.stores)
        staff_id, effect = rng.choice(staff)
        at = now - dt.timedelta(seconds=rng.random() * DAYS * 86400)
        base = quality + effect + rng.gauss(0, 0.5)
        quality_z, speed_z = base + rng.gauss(0, 0.5), base + rng.gauss(0, 0.5)
        overall = 0.6 * quality_z + 0.4 * speed_z + rng.gauss(0, 0.2)
        answers = [
            AnswerValue("nps", "nps", float(max(0, min(10, round(8.6 + 2 * overall
                                                                  + rng.gauss(0, 0.8)))))),
            AnswerValue("overall", "csat", float(five_point(overall))),
            AnswerValue("quality", "sat_work_quality", float(five_point(quality_z))),
            AnswerValue("speed", "sat_work_time", float(five_point(speed_z))),
        ]
        if rng.random() < 0.1:
            answers.append(AnswerValue("comment", "comment", value_text=rng.choice(COMMENTS)))
        yield ResponseDraft(
            survey_id=world.survey_id, survey_version_id=world.version_id, unit_id=unit_id,
            channel=rng.choice(CHANNELS), language="zh-CN", submitted_at=at, answers=answers,
            touchpoint_id=world.touchpoints["follow_up"], staff_id=staff_id)


def _bar(show: bool, total: int):  # type: ignore[no-untyped-def]
    if not show:
        return lambda n, done=False: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress("generate", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    progress.start()
    task = progress.add_task("responses", total=total)

    def advance(n: int, done: bool = False) -> None:
        progress.advance(task, n)
        if done:
            progress.stop()

    return advance
