"""Dashboard data time at N responses vs DuckDB running the same aggregations on the same data.

    .venv/bin/python bench/dashboard.py [--responses 10000000] [--db PATH] [--rounds 15]

Loads N responses with `tiyan generate` into a SQLite file (kept with --db, and topped up when it
holds fewer), which also folds them into the aggregates. Then, for a CX manager who sees the whole
benchmark company, times the queries behind each page (p50 of --rounds runs, warm):

- overview: 12 months' responses, NPS, CSAT, CES with the previous 12 months and a monthly trend;
- league:   the 8 regions (roll-ups of their 25 stores each), this and the previous period;
- journey:  the 6 touchpoints of the journey with the share of top-box answers per step,
            counted by respondent with cluster-robust intervals (read from the answers; kept
            per process under a stamp of the data, so the p50 of repeats is a repeat view);
            journey_first_view_ms in the JSON line is the same view with that cache emptied
            before each run (the first viewer after new data);
- drivers:  the key drivers of NPS over the last full month: item-pair sums (driver_agg) to
            correlations to Johnson's relative weights (DuckDB: the per-respondent item matrix
            that the same correlations need, built from the answers);
- drivers_aspects: the same month with the comment aspects as drivers: item pairs from
            driver_agg, the pairs that involve an aspect from the parts in driver_aspect_agg
            (DuckDB: the item matrix and the per-response aspect balances);
- drivers_repurchase (raw_pages): repurchase as the outcome over the full month four months
            back, items joined to the customers' transactions in the 90 days after (DuckDB: the
            item matrix with the same EXISTS). An opt-in view that reads the responses; it is
            reported apart and not in max_ratio_vs_duckdb / max_p50_ms;
- staff:    the staff scorecards (NPS) over 12 months: sums per staff member from staff_agg,
            shrinkage and the service star (DuckDB: promoters and detractors per staff member);
- text:     the text insights page over 12 months: analysed comments and aspect mentions per
            aspect × sentiment, this and the previous period (from text_agg), and the 10 most
            negative quotes (text_aspect in score order, joined to the responses).

Generated comments (1 in 10 responses) are analysed once per distinct text by the real text
engine (car after-sales taxonomy) and the results copied to every response carrying that text,
so the text page has results to read (`ensure_text_results`).

DuckDB gets the responses and answers in memory (copied via Arrow, not timed) and runs each
aggregation from the raw rows. freshness_s: a response is submitted through the app's own write
path while the background worker runs as in the app; time until the overview counts it.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tiyan.analytics import dashboard as d  # noqa: E402
from tiyan.analytics import driver_cache  # noqa: E402
from tiyan.analytics import drivers_view as dv  # noqa: E402
from tiyan.analytics import journey_view as jv  # noqa: E402
from tiyan.analytics.cube import Filters, utc_bounds  # noqa: E402
from tiyan.analytics.insights import text_insights  # noqa: E402
from tiyan.analytics.staff_view import scorecards  # noqa: E402
from tiyan.context import Context  # noqa: E402
from tiyan.demo.generate import ROOT, generate_responses  # noqa: E402
from tiyan.domain.access import Actor, Grant, Role, build_scope  # noqa: E402
from tiyan.services.aggregates import catch_up as agg_catch_up  # noqa: E402
from tiyan.services.aggregates import rebuild_text  # noqa: E402
from tiyan.services.jobs import Worker  # noqa: E402
from tiyan.services.responses import ResponseRequest, do_submit_response  # noqa: E402
from tiyan.settings import load_settings  # noqa: E402
from tiyan.store import (  # noqa: E402
    driver_aggregates,
    driver_aspect_aggregates,
    staff_aggregates,
)
from tiyan.store import tables as t  # noqa: E402
from tiyan.store.db import Database  # noqa: E402
from tiyan.store.migrate import upgrade  # noqa: E402
from tiyan.store.scoped import parent_map  # noqa: E402
from tiyan.store.text_aggregates import is_stale  # noqa: E402

TZ_HOURS = 8  # Asia/Shanghai, the business time zone of the aggregates


def p50(func: Callable[[], Any], rounds: int) -> float:
    func()  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def open_db(path: str, responses: int) -> Context:
    url = f"sqlite:///{path}"
    db = Database(url)
    upgrade(db)
    ctx = Context(db, load_settings(db_url=url, worker_poll_seconds=0.5))
    with db.read() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(t.response)).scalar() or 0
    if have < responses:
        print(f"generating {responses - have:,} responses into {path}", file=sys.stderr)
        generate_responses(ctx, responses - have, seed=have + 1, progress=True)
    return ctx


def manager(ctx: Context) -> Actor:
    with ctx.db.read() as conn:
        root = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == ROOT)
                            ).scalar_one()
        scope = build_scope(0, [Grant(Role.CX_MANAGER, root)], parent_map(conn))
    return Actor(0, "bench@tiyan.test", "bench", scope)


def app_queries(ctx: Context, actor: Actor, filters: Filters, month: Filters,
                journey_id: int) -> dict[str, Callable[[], Any]]:
    def run(page: Callable[..., Any]) -> Callable[[], Any]:
        def go() -> Any:
            with ctx.db.read() as conn:
                return page(conn, d.dashboard_scope(conn, actor))
        return go

    return {
        "overview": run(lambda c, s: d.overview(c, s, filters, min_n=30)),
        "league": run(lambda c, s: d.league(c, s, filters, min_n=30)),
        "journey": run(lambda c, s: jv.journey_view(c, s, filters, journey_id, min_n=30)),
        "drivers": run(lambda c, s: dv.key_drivers(c, s, month, "nps", min_n=30)),
        "drivers_aspects": run(lambda c, s: dv.key_drivers(c, s, month, "nps", min_n=30,
                                                           aspects=True)),
        "text": run(lambda c, s: text_insights(c, s, filters, min_n=30)),
        "staff": run(lambda c, s: scorecards(c, s, filters, "nps", min_n=30)),
    }


def raw_app_queries(ctx: Context, actor: Actor, month: Filters,
                    old_month: Filters) -> dict[str, Callable[[], Any]]:
    def run(page: Callable[..., Any]) -> Callable[[], Any]:
        def go() -> Any:
            with ctx.db.read() as conn:
                return page(conn, d.dashboard_scope(conn, actor))
        return go

    return {
        "drivers_repurchase": run(lambda c, s: dv.key_drivers(
            c, s, old_month, "repurchase", min_n=30, now=ctx.now(), window_days=90)),
    }


# DuckDB's score sums per item (n, sum, sum of squares, top box, bottom box), as score_agg has them
SCORE_SUMS = ("count(*), sum(value_num), sum(value_num * value_num), "
              "sum(CASE WHEN value_num >= CASE WHEN a.item_code = 'nps' THEN 9 ELSE 4 END "
              "THEN 1 ELSE 0 END), sum(CASE WHEN value_num <= CASE WHEN a.item_code = 'nps' "
              "THEN 6 ELSE 2 END THEN 1 ELSE 0 END)")


def bounds(f: Filters) -> tuple[str, str]:
    """The filters' dates as naive UTC timestamps for DuckDB (business time zone UTC+8)."""
    low, high = utc_bounds(f.date_from, f.date_to, "Asia/Shanghai")
    return (low.replace(tzinfo=None).isoformat(sep=" "),
            high.replace(tzinfo=None).isoformat(sep=" "))


def raw_duckdb_queries(con: Any, month: Filters, old_month: Filters,
                       units: list[int]) -> dict[str, Callable[[], Any]]:
    unit_list = ",".join(str(u) for u in units)
    codes = [c for (c,) in con.execute("SELECT DISTINCT aspect_code FROM text_aspect").fetchall()]
    items = ", ".join(f"max(CASE WHEN a.item_code = '{c}' THEN value_num END) {c}"
                      for c in ("nps", "csat", "sat_work_quality", "sat_work_time"))
    matrix = (f"SELECT r.id, {items} FROM response r JOIN answer a ON a.response_id = r.id "
              f"WHERE r.status = 'complete' AND r.unit_id IN ({unit_list}) "
              f"AND r.submitted_at >= ? AND r.submitted_at < ? {{extra}} GROUP BY r.id")
    balances = ", ".join(f"coalesce(max(CASE WHEN x.aspect_code = '{c}' THEN sign(x.b) END), 0)"
                         for c in codes) or "0"

    def aspects() -> Any:
        return len(con.execute(
            f"WITH i AS ({matrix.format(extra='')}), "
            f"x AS (SELECT response_id, aspect_code, sum(CASE label WHEN 'positive' THEN 1 "
            f"WHEN 'negative' THEN -1 ELSE 0 END) b FROM text_aspect GROUP BY ALL) "
            f"SELECT i.*, {balances} FROM i JOIN (SELECT DISTINCT response_id FROM "
            f"text_analysis) ta ON ta.response_id = i.id LEFT JOIN x ON x.response_id = i.id "
            f"GROUP BY ALL", list(bounds(month))).fetchall())

    def repurchase() -> Any:
        extra = ("AND r.customer_id IS NOT NULL AND r.submitted_at <= "
                 "(SELECT max(occurred_at) FROM customer_transaction) - INTERVAL 90 DAY")
        return len(con.execute(
            f"WITH i AS ({matrix.format(extra=extra)}) SELECT i.*, EXISTS (SELECT 1 FROM "
            f"customer_transaction tx JOIN response r ON tx.customer_id = r.customer_id "
            f"WHERE r.id = i.id AND tx.occurred_at > r.submitted_at AND tx.occurred_at <= "
            f"r.submitted_at + INTERVAL 90 DAY) FROM i", list(bounds(old_month))).fetchall())

    return {"drivers_aspects": aspects, "drivers_repurchase": repurchase}


def ensure_text_results(ctx: Context) -> int:
    """Analyse the generated comments that have no results yet; returns how many were added."""
    from tiyan.services.text_analysis import model_version
    from tiyan.text.pipeline import analyze_many

    a, ta, x = t.answer, t.text_analysis, t.text_aspect
    missing = (sa.select(a.c.value_text).distinct()
               .where(a.c.question_key == "comment", a.c.value_text.is_not(None),
                      ~sa.exists().where(ta.c.response_id == a.c.response_id)))
    with ctx.db.read() as conn:
        texts = [str(v) for v in conn.execute(missing).scalars()]
    if not texts:
        return 0
    found = analyze_many(texts, "car_aftersales")
    version, now, added = model_version("car_aftersales"), ctx.now(), 0
    for text, result in zip(texts, found, strict=True):
        with ctx.db.write() as conn:
            pending = sa.and_(a.c.question_key == "comment", a.c.value_text == text,
                              ~sa.exists().where(ta.c.response_id == a.c.response_id))
            added += conn.execute(sa.insert(ta).from_select(
                ["response_id", "question_key", "language", "sentiment_label",
                 "sentiment_score", "redacted_text", "keywords", "model_version", "analyzed_at"],
                sa.select(a.c.response_id, a.c.question_key, sa.literal(result.language),
                          sa.literal(result.sentiment.label),
                          sa.literal(float(result.sentiment.score)),
                          sa.literal(result.redacted),
                          sa.literal(list(result.keywords), type_=ta.c.keywords.type),
                          sa.literal(version), sa.literal(now, type_=ta.c.analyzed_at.type))
                .where(pending))).rowcount or 0
            for aspect in result.aspects:
                d_ = aspect.to_dict()
                conn.execute(sa.insert(x).from_select(
                    ["analysis_id", "response_id", "aspect_code", "label", "score", "evidence"],
                    sa.select(ta.c.id, ta.c.response_id, sa.literal(d_["aspect"]),
                              sa.literal(d_["label"]), sa.literal(float(d_["score"])),
                              sa.literal(d_["evidence"]))
                    .select_from(ta.join(a, sa.and_(a.c.response_id == ta.c.response_id,
                                                    a.c.question_key == ta.c.question_key)))
                    .where(a.c.value_text == text, ta.c.analyzed_at == now,
                           ta.c.model_version == version)))
    return added


def duckdb_copy(ctx: Context) -> Any:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    raw = ctx.db.engine.raw_connection()
    cursor = raw.cursor()
    queries = {
        "response": "SELECT id, unit_id, survey_version_id, touchpoint_id, channel, status, "
                    "submitted_at, customer_id, staff_id FROM response",
        "customer_transaction": "SELECT customer_id, occurred_at FROM customer_transaction",
        "answer": "SELECT response_id, question_key, item_code, value_num FROM answer "
                  "WHERE value_num IS NOT NULL",
        "unit": "SELECT id, parent_id FROM org_unit",
        "question": "SELECT survey_version_id, question_key, touchpoint_id FROM "
                    "score_agg_question",
        "text_analysis": "SELECT id, response_id, sentiment_label, redacted_text "
                         "FROM text_analysis",
        "text_aspect": "SELECT id, analysis_id, response_id, aspect_code, label, score, evidence "
                       "FROM text_aspect",
    }
    for name, sql in queries.items():
        cursor.execute(sql)
        columns = [c[0] for c in cursor.description]
        batches = []
        while rows := cursor.fetchmany(500_000):
            batches.append(pa.table({c: [row[i] for row in rows]
                                     for i, c in enumerate(columns)}))
        table = pa.concat_tables(batches, promote_options="permissive") if batches else None
        if table is None:
            if name == "customer_transaction":
                con.execute(f"CREATE TABLE {name} (customer_id BIGINT, occurred_at TIMESTAMP)")
            continue
        con.register("incoming", table)
        stamp = {"response": "submitted_at", "customer_transaction": "occurred_at"}.get(name)
        cast = (f"CAST({stamp} AS TIMESTAMP) AS {stamp}, * EXCLUDE ({stamp})" if stamp
                else "*")
        con.execute(f"CREATE TABLE {name} AS SELECT {cast} FROM incoming")
        con.unregister("incoming")
    raw.close()
    return con


def duckdb_queries(con: Any, filters: Filters, month: Filters,
                   units: list[int]) -> dict[str, Callable[[], Any]]:
    unit_list = ",".join(str(u) for u in units)
    now_low, now_high = bounds(filters)
    prev_low, prev_high = bounds(filters.previous())
    month_low, month_high = bounds(month)
    sums = SCORE_SUMS
    base = (f"FROM response r JOIN answer a ON a.response_id = r.id "
            f"WHERE r.status = 'complete' AND r.unit_id IN ({unit_list}) ")

    def overview() -> Any:
        trend = con.execute(
            f"SELECT date_trunc('month', r.submitted_at + INTERVAL {TZ_HOURS} HOUR) m, "
            f"a.item_code, {sums} {base} AND a.item_code IN ('nps', 'csat', 'ces') "
            f"AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL",
            [prev_low, now_high]).fetchall()
        counts = con.execute(
            f"SELECT date_trunc('month', submitted_at + INTERVAL {TZ_HOURS} HOUR), count(*) "
            f"FROM response WHERE status = 'complete' AND unit_id IN ({unit_list}) "
            f"AND submitted_at >= ? AND submitted_at < ? GROUP BY ALL",
            [prev_low, now_high]).fetchall()
        return trend, counts

    def league() -> Any:
        out = []
        for low, high in ((now_low, now_high), (prev_low, prev_high)):
            out.append(con.execute(
                f"SELECT region.id, a.item_code, {sums} FROM response r "
                f"JOIN answer a ON a.response_id = r.id JOIN unit store ON store.id = r.unit_id "
                f"JOIN unit region ON region.id = store.parent_id "
                f"WHERE r.status = 'complete' AND r.unit_id IN ({unit_list}) "
                f"AND a.item_code IN ('nps', 'csat', 'ces') "
                f"AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL",
                [low, high]).fetchall())
        return out

    def journey() -> Any:
        return con.execute(
            f"SELECT coalesce(q.touchpoint_id, r.touchpoint_id) tp, {sums} "
            f"FROM response r JOIN answer a ON a.response_id = r.id "
            f"LEFT JOIN question q ON q.survey_version_id = r.survey_version_id "
            f"AND q.question_key = a.question_key "
            f"WHERE r.status = 'complete' AND r.unit_id IN ({unit_list}) "
            f"AND a.item_code NOT IN ('nps', 'comment') "
            f"AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL",
            [now_low, now_high]).fetchall()

    def drivers() -> Any:
        return len(con.execute(
            "SELECT a.response_id, "
            + ", ".join(f"max(CASE WHEN a.item_code = '{c}' THEN value_num END)"
                        for c in ("nps", "csat", "sat_work_quality", "sat_work_time"))
            + f" {base} AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY a.response_id",
            [month_low, month_high]).fetchall())

    def text() -> Any:
        counts = con.execute(
            f"SELECT r.submitted_at >= ? cur, x.aspect_code, x.label, count(*), sum(x.score) "
            f"FROM text_aspect x JOIN response r ON r.id = x.response_id "
            f"WHERE r.status = 'complete' AND r.unit_id IN ({unit_list}) "
            f"AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL",
            [now_low, prev_low, now_high]).fetchall()
        comments = con.execute(
            f"SELECT r.submitted_at >= ? cur, count(*), "
            f"sum(CASE WHEN ta.sentiment_label = 'negative' THEN 1 ELSE 0 END) "
            f"FROM text_analysis ta JOIN response r ON r.id = ta.response_id "
            f"WHERE r.status = 'complete' AND r.unit_id IN ({unit_list}) "
            f"AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL",
            [now_low, prev_low, now_high]).fetchall()
        quotes = con.execute(
            f"SELECT r.id, x.aspect_code, x.score, x.evidence, ta.redacted_text "
            f"FROM text_aspect x JOIN text_analysis ta ON ta.id = x.analysis_id "
            f"JOIN response r ON r.id = x.response_id "
            f"WHERE r.status = 'complete' AND r.unit_id IN ({unit_list}) AND x.label = 'negative' "
            f"AND r.submitted_at >= ? AND r.submitted_at < ? "
            f"ORDER BY x.score, x.id DESC LIMIT 40",
            [now_low, now_high]).fetchall()
        return counts, comments, quotes

    def staff() -> Any:
        return con.execute(
            f"SELECT r.staff_id, count(*), sum(CASE WHEN value_num >= 9 THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN value_num <= 6 THEN 1 ELSE 0 END) {base} AND a.item_code = 'nps' "
            f"AND r.staff_id IS NOT NULL AND r.submitted_at >= ? AND r.submitted_at < ? "
            f"GROUP BY ALL", [now_low, now_high]).fetchall()

    return {"overview": overview, "league": league, "journey": journey, "drivers": drivers,
            "text": text, "staff": staff}


def freshness(ctx: Context, actor: Actor, filters: Filters) -> float:
    """Seconds from a submission (app write path) to its being counted by the overview."""
    with ctx.db.read() as conn:
        survey = conn.execute(sa.select(t.survey.c.id).where(t.survey.c.code == ROOT)
                              ).scalar_one()
        store = conn.execute(sa.select(t.org_unit.c.code).where(
            t.org_unit.c.code.like(f"{ROOT}-r1-s1"))).scalar_one()

    def count() -> int:
        with ctx.db.read() as conn:
            return d.overview(conn, d.dashboard_scope(conn, actor), filters, min_n=30).responses

    before = count()
    worker = Worker(ctx, poll_seconds=ctx.settings.worker_poll_seconds, name="bench")
    worker.start()
    try:
        started = time.perf_counter()
        do_submit_response(ctx, None, ResponseRequest(
            survey_id=survey, unit_code=store, channel="sms",
            answers={"nps": 9, "overall": 5, "quality": 4, "speed": 4}))
        while count() == before:
            if time.perf_counter() - started > 60:
                return float("inf")
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=10_000_000)
    parser.add_argument("--db", default=None, help="SQLite file to use and keep")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    import tempfile

    folder = tempfile.mkdtemp(prefix="tiyan-bench-")
    ctx = open_db(args.db or f"{folder}/dashboard.db", args.responses)
    with ctx.db.read() as conn:
        drivers_stale = driver_aggregates.is_stale(conn)
    if drivers_stale:  # aggregated before the item-pair sums existed
        started = time.perf_counter()
        agg_catch_up(ctx)
        print(f"aggregates rebuilt for the item-pair sums in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    with ctx.db.read() as conn:
        staff_stale = staff_aggregates.is_stale(conn)
    if staff_stale:  # aggregated before the staff sums existed
        started = time.perf_counter()
        staff_aggregates.rebuild(ctx.db, ctx.now)
        print(f"staff sums rebuilt in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    added = ensure_text_results(ctx)
    if added:
        print(f"stored text results for {added:,} generated comments", file=sys.stderr)
    with ctx.db.read() as conn:
        stale = is_stale(conn) or driver_aspect_aggregates.is_stale(conn)
    if added or stale:  # results written directly above, or stored before the aggregate existed
        started = time.perf_counter()
        analyses = rebuild_text(ctx)
        print(f"text aggregates rebuilt from {analyses:,} analyses in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    actor = manager(ctx)
    today = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=TZ_HOURS))).date()
    filters = d.default_filters(today)
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    month = Filters(last_month_end.replace(day=1), last_month_end)
    with ctx.db.read() as conn:
        journey_id = conn.execute(sa.select(t.journey.c.id).where(t.journey.c.code == ROOT)
                                  ).scalar_one()
        count = conn.execute(sa.select(sa.func.count()).select_from(t.response)).scalar_one()
    pages: dict[str, dict[str, float]] = {}
    queries = app_queries(ctx, actor, filters, month, journey_id)
    if not queries["drivers"]().drivers:
        raise SystemExit(f"the drivers month {month.date_from}..{month.date_to} gives no drivers: "
                         "its time would measure nothing")
    with_aspects = queries["drivers_aspects"]()
    if not any(x.from_comments for x in with_aspects.drivers):
        raise SystemExit(f"the drivers month {month.date_from}..{month.date_to} gives no comment "
                         "aspect as a driver: its time would measure nothing")
    for page, func in queries.items():
        pages[page] = {"p50_ms": round(p50(func, args.rounds), 1)}
        print(f"{page}: {pages[page]['p50_ms']} ms", file=sys.stderr)
    started = time.perf_counter()
    con = duckdb_copy(ctx)
    print(f"copied into DuckDB in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    units = sorted(actor.scope.visibility(d.Permission.VIEW_DASHBOARD).unit_ids)
    old_end = month.date_from
    for _ in range(3):
        old_end = old_end.replace(day=1) - dt.timedelta(days=1)
    old_month = Filters(old_end.replace(day=1), old_end)
    raw_duckdb = raw_duckdb_queries(con, month, old_month, units)
    for page, func in {**duckdb_queries(con, filters, month, units),
                       "drivers_aspects": raw_duckdb.pop("drivers_aspects")}.items():
        pages[page]["duckdb_ms"] = round(p50(func, args.rounds), 1)
        print(f"{page}: duckdb {pages[page]['duckdb_ms']} ms", file=sys.stderr)
    pages["drivers_aspects"].update(drivers=len(with_aspects.drivers), aspect_drivers=sum(
        x.from_comments for x in with_aspects.drivers))
    raw_pages: dict[str, dict[str, Any]] = {}
    for page, func in raw_app_queries(ctx, actor, month, old_month).items():
        found = func()
        raw_pages[page] = {"p50_ms": round(p50(func, args.rounds), 1),
                           "drivers": len(found.drivers),
                           "aspect_drivers": sum(x.from_comments for x in found.drivers)}
        if found.repurchase is not None:
            raw_pages[page]["responses_known"] = found.repurchase.known
        print(f"{page}: {raw_pages[page]}", file=sys.stderr)
    for page, func in raw_duckdb.items():
        raw_pages[page]["duckdb_ms"] = round(p50(func, args.rounds), 1)
        print(f"{page}: duckdb {raw_pages[page]['duckdb_ms']} ms", file=sys.stderr)
    journey_first = round(p50(lambda: (driver_cache.clear(), queries["journey"]()),
                              args.rounds), 1)
    print(f"journey first view: {journey_first} ms", file=sys.stderr)
    fresh = freshness(ctx, actor, filters)
    ratios = [p["p50_ms"] / max(p["duckdb_ms"], 1e-6) for p in pages.values()]
    print(json.dumps({
        "responses": int(count), "pages": pages,
        "max_ratio_vs_duckdb": round(max(ratios), 3),
        "max_p50_ms": max(p["p50_ms"] for p in pages.values()),
        "freshness_s": round(fresh, 2), "raw_pages": raw_pages,
        "journey_first_view_ms": journey_first,
    }))


if __name__ == "__main__":
    main()
