"""Responses per second through tiyan's own write path vs the raw insert rate of the same database.

    .venv/bin/python bench/ingest.py [--n 2000] [--postgres URL | --no-postgres]

For each database (a fresh SQLite file; a fresh PostgreSQL database when the server answers) it
stores the same after-sales responses (20 questions: 9 yes/no, 9 satisfaction, NPS, comment):

- app:        `do_submit_response` — parse, validate against the survey version, scope check,
              one transaction per response (what the API does for every submission);
- raw single: the same rows with plain driver INSERTs, one transaction per response;
- raw batch:  the same rows with driver executemany, 1,000 responses per transaction;
- survey endpoint: respondents answering the same survey through the public page of an
              anonymous link (/s/{token}), in-process over ASGI: open the link, post each of
              the three pages (every post saves the session, then the redirect shows the next
              page), the last post stores the response — 7 HTTP requests per response, one
              respondent after another, each with its own session cookie.

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tiyan.context import Context  # noqa: E402
from tiyan.domain.responses import check_answers  # noqa: E402
from tiyan.domain.survey_templates import template  # noqa: E402
from tiyan.services.accounts import do_create_user  # noqa: E402
from tiyan.services.links import AnonymousTarget, anonymous_url  # noqa: E402
from tiyan.services.org import do_create_unit  # noqa: E402
from tiyan.services.responses import ResponseRequest, do_submit_response  # noqa: E402
from tiyan.settings import load_settings  # noqa: E402
from tiyan.store import org, surveys  # noqa: E402
from tiyan.store import tables as t  # noqa: E402
from tiyan.store.db import Database  # noqa: E402
from tiyan.store.migrate import upgrade  # noqa: E402
from tiyan.store.scoped import load_actor  # noqa: E402
from tiyan.store.users import user_by_email  # noqa: E402

RESPONSE_SQL = (
    "INSERT INTO response (public_id, source, survey_id, survey_version_id, channel, unit_id, "
    "staff_id, language, status, submitted_at, received_at, customer_snapshot, meta) "
    "VALUES ({p}, 'survey', {p}, {p}, 'api', {p}, {p}, 'zh-CN', 'complete', {p}, {p}, '{{}}', "
    "'{{}}')")
ANSWER_SQL = ("INSERT INTO answer (response_id, question_key, item_code, value_num, value_text) "
              "VALUES ({p}, {p}, {p}, {p}, {p})")


def answers(rng: random.Random) -> dict[str, object]:
    out: dict[str, object] = {f"proc_{k}": rng.random() < 0.85 for k in (
        "appointment", "cost_estimate", "time_estimate", "refreshments", "inspect_invite",
        "advice", "on_time", "work_complete", "followup_call")}
    for item in ("reception_wait", "lounge", "explanation", "charges_fair", "car_clean",
                 "work_time", "work_quality", "advisor"):
        out[f"sat_{item}"] = rng.randint(1, 5)
    out.update(overall=rng.randint(1, 5), nps=rng.randint(0, 10),
               comment=rng.choice(["服务很好", "等太久了", "价格偏高，但技术不错", "顾问很耐心"]))
    return out


def prepare(url: str) -> tuple[Context, int, int, int]:
    db = Database(url)
    upgrade(db)
    ctx = Context(db, load_settings(db_url=url, argon2_time_cost=1, argon2_memory_kib=1024,
                                    worker_in_app=False))
    do_create_unit(ctx, None, code="hq", name_zh="总部", name_en="HQ", kind="group",
                   parent_code=None)
    unit_id = do_create_unit(ctx, None, code="store", name_zh="门店", name_en="Store",
                             kind="store", parent_code="hq")
    with db.write() as conn:
        staff_id = org.insert_staff(conn, unit_id=unit_id, code="e1", name="张一", title="顾问",
                                    now=ctx.now())
        survey_id, _ = surveys.insert_survey(conn, code="as", name="After-sales", unit_id=unit_id,
                                             definition=template("after_sales_phone"),
                                             now=ctx.now(), created_by=None)
    do_create_user(ctx, None, email="agent@bench.test", name="Agent", password="bench password",
                   role="agent", unit_code="hq")
    return ctx, survey_id, unit_id, staff_id


def app_rate(ctx: Context, survey_id: int, n: int) -> float:
    with ctx.db.read() as conn:
        actor = load_actor(conn, user_by_email(conn, "agent@bench.test")["id"])  # type: ignore[index]
    rng = random.Random(1)
    requests = [ResponseRequest(survey_id=survey_id, unit_code="store", staff_code="e1",
                                answers=answers(rng)) for _ in range(n)]
    started = time.perf_counter()
    for request in requests:
        do_submit_response(ctx, actor, request)
    return n / (time.perf_counter() - started)


HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
ON_PAGE = re.compile(r'data-key="(\w+)"')


def endpoint_rate(ctx: Context, survey_id: int, unit_id: int, n: int) -> float:
    """Responses per second submitted through the respondent pages, in-process over ASGI."""
    from fastapi.testclient import TestClient

    from tiyan.web.app import create_app

    path = "/s/" + anonymous_url(ctx, AnonymousTarget(survey_id, unit_id)).rsplit("/", 1)[1]
    rng = random.Random(3)
    given = [answers(rng) for _ in range(n)]
    when = ctx.now()
    with TestClient(create_app(ctx), base_url="http://bench") as client:
        started = time.perf_counter()
        for values in given:
            client.cookies.clear()
            page = client.get(path)
            if page.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {page.status_code}")
            while 'name="page"' in page.text:
                form = dict(HIDDEN.findall(page.text))
                for key in ON_PAGE.findall(page.text):
                    value = values[key]
                    form[f"a.{key}"] = ("yes" if value else "no") if isinstance(value, bool) \
                        else str(value)
                page = client.post(path, data=form)
                if page.status_code != 200:
                    raise RuntimeError(f"page {form.get('page')}: HTTP {page.status_code}")
        elapsed = time.perf_counter() - started
    with ctx.db.read() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(t.survey_session).where(
            t.survey_session.c.status == "submitted",
            t.survey_session.c.started_at >= when)).scalar_one()
    if stored != n:
        raise RuntimeError(f"{n} respondents thanked but {stored} sessions submitted")
    return n / elapsed


def raw_rows(ctx: Context, survey_id: int, unit_id: int, staff_id: int, n: int) -> list:
    with ctx.db.read() as conn:
        version = surveys.current_version(conn, survey_id)
    definition = template("after_sales_phone")
    rng = random.Random(2)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for _ in range(n):
        values = check_answers(definition, answers(rng))
        head = (uuid.uuid4().hex, survey_id, version["id"], unit_id, staff_id, now, now)
        rows.append((head, [(v.question_key, v.item_code, v.value_num, v.value_text)
                            for v in values]))
    return rows


def raw_rates(ctx: Context, rows: list) -> tuple[float, float]:
    mark = "?" if ctx.db.is_sqlite else "%s"
    response_sql, answer_sql = RESPONSE_SQL.format(p=mark), ANSWER_SQL.format(p=mark)
    raw = ctx.db.engine.raw_connection()
    cursor = raw.cursor()
    fix = _sqlite_time if ctx.db.is_sqlite else (lambda v: v)
    half = len(rows) // 2

    def insert(head: tuple, items: list) -> None:
        cursor.execute(response_sql + " RETURNING id", (*head[:5], fix(head[5]), fix(head[6])))
        rid = cursor.fetchone()[0]
        cursor.executemany(answer_sql, [(rid, *item) for item in items])

    started = time.perf_counter()
    for head, items in rows[:half]:
        insert(head, items)
        raw.commit()
    single = half / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(half, len(rows), 1000):
        for head, items in rows[i:i + 1000]:
            insert(head, items)
        raw.commit()
    batch = (len(rows) - half) / (time.perf_counter() - started)
    raw.close()
    return single, batch


def _sqlite_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def measure(url: str, n: int, endpoint_n: int, rounds: int = 5) -> dict[str, float]:
    """Alternate app, raw and endpoint rounds so all see the same load on a busy machine;
    take medians."""
    ctx, survey_id, unit_id, staff_id = prepare(url)
    per_round = max(1, n // rounds)
    app, single, batch, endpoint = [], [], [], []
    for _ in range(rounds):
        rows = raw_rows(ctx, survey_id, unit_id, staff_id, 2 * per_round)
        s, b = raw_rates(ctx, rows)
        single.append(s)
        batch.append(b)
        app.append(app_rate(ctx, survey_id, per_round))
        endpoint.append(endpoint_rate(ctx, survey_id, unit_id, max(1, endpoint_n // rounds)))
    ctx.db.dispose()
    return {"app_per_s": statistics.median(app), "raw_single_per_s": statistics.median(single),
            "raw_batch_per_s": statistics.median(batch),
            "survey_endpoint_per_s": statistics.median(endpoint)}


def postgres_database(admin_url: str) -> tuple[str, sa.Engine]:
    admin = sa.create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    name = f"tiyan_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return admin_url.rsplit("/", 1)[0] + f"/{name}", admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="responses per measurement")
    parser.add_argument("--endpoint-n", type=int, default=500,
                        help="responses submitted through the survey pages")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    figures: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory() as folder:
        sqlite = measure(f"sqlite:///{folder}/bench.db", args.n, args.endpoint_n)
    figures.update({f"sqlite_{k}": round(v, 1) for k, v in sqlite.items()})
    print(f"sqlite: {sqlite}", file=sys.stderr)
    if not args.no_postgres:
        url, admin = postgres_database(args.postgres)
        try:
            pg = measure(url, args.n, args.endpoint_n)
            figures.update({f"postgres_{k}": round(v, 1) for k, v in pg.items()})
            print(f"postgres: {pg}", file=sys.stderr)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" '
                                     "WITH (FORCE)"))
    for db in ("sqlite", "postgres"):
        app, single = figures.get(f"{db}_app_per_s"), figures.get(f"{db}_raw_single_per_s")
        if app and single:
            figures[f"{db}_app_vs_raw_single"] = round(app / single, 3)
    # the key the listening issue names: the embedded default's public survey endpoint
    figures["survey_endpoint_per_s"] = figures.get("sqlite_survey_endpoint_per_s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
