"""The response rate's queries at N invitations, vs DuckDB counting the same rows.

    .venv/bin/python bench/response_rate.py [--invitations 1000000] [--db FILE] [--rounds 15]

Adds invitations to the benchmark company of `tiyan generate` (8 regions x 25 stores, 5 staff
each, 6 touchpoints; created if missing) in a SQLite file (kept with --db, topped up when it
holds fewer): spread evenly over the last 730 days, SMS and e-mail, 90% sent (the rest queued),
a quarter of those sent completed within two days, 5% of the others bounced. Then, for a CX manager
who sees the whole company over the default 12 months, times (p50 of --rounds runs, warm):

- overview: the response rate of the period and of the previous one (analytics/dashboard);
- league:   the counts per unit, this and the previous period, added up per region;
- overview_sms: the overview's rate for one channel;
- overview_frontline: the rate of one staff member's own invitations, as their frontline user
  sees it (their store's rows with their staff id);
- p50_ms_unit_index: the same again with the index the table had before 0015, on (unit_id)
  alone, put back for the run and then replaced again.

SQLite plans without table statistics, as in the app (which runs no ANALYZE). DuckDB gets the
invitations and units in memory (copied via Arrow, not timed) and counts the same rows. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard import TZ_HOURS, bounds, manager, p50  # noqa: E402

from tiyan.analytics import dashboard as d  # noqa: E402
from tiyan.analytics import response_rate as rr  # noqa: E402
from tiyan.context import Context  # noqa: E402
from tiyan.demo.generate import ROOT, ensure_bench_world  # noqa: E402
from tiyan.domain.access import Actor, Grant, Role, build_scope, subtree  # noqa: E402
from tiyan.settings import load_settings  # noqa: E402
from tiyan.store import tables as t  # noqa: E402
from tiyan.store.db import Database  # noqa: E402
from tiyan.store.migrate import upgrade  # noqa: E402
from tiyan.store.scoped import parent_map  # noqa: E402

BATCH = 50_000
DAYS = 730
INV = t.invitation


def add_invitations(ctx: Context, count: int) -> int:
    """Top the benchmark company's invitations up to `count`; returns how many were added."""
    world = ensure_bench_world(ctx, random.Random(0))
    with ctx.db.read() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(INV)).scalar_one()
    rng, now = random.Random(have + 1), ctx.now()
    touchpoints = list(world.touchpoints.values())
    for start in range(have, count, BATCH):
        rows = [_row(i, rng, now, world.survey_id, touchpoints, world.stores)
                for i in range(start, min(start + BATCH, count))]
        with ctx.db.write() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.execute(INV.insert(), rows)
        print(f"{start + len(rows):,} invitations", file=sys.stderr)
    return max(0, count - have)


def _row(i: int, rng: random.Random, now: dt.datetime, survey_id: int, touchpoints: list[int],
         stores: list[tuple[int, float, list[tuple[int, float]]]]) -> dict[str, Any]:
    unit, _, staff = stores[rng.randrange(len(stores))]
    created = now - dt.timedelta(seconds=rng.uniform(0, DAYS * 86400))
    sent = created + dt.timedelta(minutes=5) if rng.random() < 0.9 else None
    done = sent is not None and rng.random() < 0.25
    bounced = sent is not None and not done and rng.random() < 0.05
    status = ("completed" if done else "bounced" if bounced else "sent" if sent else "queued")
    return {"public_id": f"bench{i:012d}", "survey_id": survey_id, "unit_id": unit,
            "staff_id": rng.choice(staff)[0], "touchpoint_id": rng.choice(touchpoints),
            "channel": rng.choice(("sms", "email")), "status": status, "data": {},
            "created_at": created, "expires_at": created + dt.timedelta(days=14),
            "send_at": created, "sent_at": sent,
            "completed_at": sent + dt.timedelta(hours=rng.uniform(0, 48)) if done else None,
            "bounced_at": sent + dt.timedelta(minutes=1) if bounced else None,
            "attempts": 1 if sent else 0, "reminders_sent": 0}


def frontline(ctx: Context) -> tuple[Actor, int, int]:
    """A frontline user of the first benchmark store (their staff id and store)."""
    with ctx.db.read() as conn:
        staff_id, unit_id = conn.execute(
            sa.select(t.staff.c.id, t.staff.c.unit_id).where(t.staff.c.code.like(f"{ROOT}-%"))
            .order_by(t.staff.c.id).limit(1)).one()
        scope = build_scope(0, [Grant(Role.FRONTLINE, unit_id)], parent_map(conn), staff_id)
    return Actor(0, "staff@tiyan.test", "staff", scope), int(staff_id), int(unit_id)


def app_queries(ctx: Context, filters: d.Filters) -> dict[str, Callable[[], Any]]:
    actor = manager(ctx)
    sms = d.Filters(filters.date_from, filters.date_to, channel="sms")

    def overview(f: d.Filters, who: Actor = actor) -> Callable[[], Any]:
        def go() -> Any:
            with ctx.db.read() as conn:
                return d.response_rate_kpi(conn, d.dashboard_scope(conn, who), f, 30)
        return go

    def league() -> Any:
        with ctx.db.read() as conn:
            scope = d.dashboard_scope(conn, actor)
            regions = [u for u in scope.vis.unit_ids if scope.parent_of.get(u) in scope.roots()]
            group_of = {u: region for region in regions
                        for u in subtree(scope.parent_of, region)}
            return rr.group_rates(conn, scope.vis, scope.parent_of, filters, group_of)

    return {"overview": overview(filters), "league": league, "overview_sms": overview(sms),
            "overview_frontline": overview(filters, frontline(ctx)[0])}


def duckdb_queries(ctx: Context, filters: d.Filters) -> dict[str, Callable[[], Any]]:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    raw = ctx.db.engine.raw_connection()
    cursor = raw.cursor()
    for name, sql in {"invitation": "SELECT unit_id, staff_id, channel, sent_at, completed_at "
                                    "FROM invitation",
                      "unit": "SELECT id, parent_id FROM org_unit"}.items():
        cursor.execute(sql)
        columns = [c[0] for c in cursor.description]
        batches = []
        while rows := cursor.fetchmany(500_000):
            batches.append(pa.table({c: [row[k] for row in rows]
                                     for k, c in enumerate(columns)}))
        con.register("incoming", pa.concat_tables(batches))
        cast = ("CAST(sent_at AS TIMESTAMP) sent_at, CAST(completed_at AS TIMESTAMP) "
                "completed_at, * EXCLUDE (sent_at, completed_at)" if name == "invitation"
                else "*")
        con.execute(f"CREATE TABLE {name} AS SELECT {cast} FROM incoming")
        con.unregister("incoming")
    raw.close()
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, manager(ctx))
    units = ",".join(str(u) for u in sorted(scope.vis.unit_ids))
    periods = [bounds(filters), bounds(filters.previous())]
    where = f"i.unit_id IN ({units}) AND i.sent_at >= ? AND i.sent_at < ?"

    def overview(extra: str = "") -> Callable[[], Any]:
        return lambda: [con.execute(f"SELECT count(*), count(completed_at) FROM invitation i "
                                    f"WHERE {where}{extra}", list(p)).fetchall()
                        for p in periods]

    def league() -> Any:
        return [con.execute(f"SELECT region.id, count(*), count(i.completed_at) FROM invitation "
                            f"i JOIN unit store ON store.id = i.unit_id JOIN unit region ON "
                            f"region.id = store.parent_id WHERE {where} GROUP BY ALL",
                            list(p)).fetchall() for p in periods]

    _, staff_id, store = frontline(ctx)
    return {"overview": overview(), "league": league,
            "overview_sms": overview(" AND i.channel = 'sms'"),
            "overview_frontline": overview(f" AND i.unit_id = {store} AND i.staff_id = {staff_id}")}


def use_index(ctx: Context, *, unit_only: bool) -> None:
    """The response rate's index as the schema has it, or the one before 0015 (unit_id alone)
    in its place; whatever an interrupted run left."""
    index = next(i for i in INV.indexes if i.name == "ix_invitation_response_rate")
    with ctx.db.write() as conn:
        have = {row[1] for row in conn.exec_driver_sql("PRAGMA index_list(invitation)")}
        if unit_only and "ix_invitation_unit_id" not in have:
            conn.exec_driver_sql("CREATE INDEX ix_invitation_unit_id ON invitation (unit_id)")
        if not unit_only and "ix_invitation_unit_id" in have:
            conn.exec_driver_sql("DROP INDEX ix_invitation_unit_id")
        if unit_only and index.name in have:
            index.drop(conn)
        if not unit_only and index.name not in have:
            index.create(conn)


def with_unit_index(ctx: Context, run: Callable[[], dict[str, float]]) -> dict[str, float]:
    """`run` with the index before 0015 (unit_id alone) in place of the response rate's."""
    use_index(ctx, unit_only=True)
    try:
        return run()
    finally:
        use_index(ctx, unit_only=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invitations", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="SQLite file to use and keep")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    path = args.db or f"{tempfile.mkdtemp(prefix='tiyan-bench-')}/response_rate.db"
    url = f"sqlite:///{path}"
    ctx = Context(Database(url), load_settings(db_url=url))
    upgrade(ctx.db)
    started = time.perf_counter()
    if add_invitations(ctx, args.invitations):
        print(f"added in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    use_index(ctx, unit_only=False)
    with ctx.db.write() as conn:  # the app runs no ANALYZE: plan as it does, with no statistics
        if conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'"
                                ).first():
            conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'invitation'")
    ctx.db.engine.dispose()  # connections read the statistics when they open
    today = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=TZ_HOURS))).date()
    filters = d.default_filters(today)
    queries = app_queries(ctx, filters)
    rate = queries["overview"]()
    assert rate is not None and not rate.value.too_few, "no invitations in the period"

    def timed(label: str) -> dict[str, float]:
        out = {}
        for name, func in queries.items():
            out[name] = round(p50(func, args.rounds), 1)
            print(f"{name}{label}: {out[name]} ms", file=sys.stderr)
        return out

    app = timed("")
    old = with_unit_index(ctx, lambda: timed(" (index on unit_id)"))
    duck = {}
    for name, func in duckdb_queries(ctx, filters).items():
        duck[name] = round(p50(func, args.rounds), 1)
        print(f"{name}: duckdb {duck[name]} ms", file=sys.stderr)
    with ctx.db.read() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(INV)).scalar_one()
    print(json.dumps({
        "invitations": count, "sent_in_period": rate.value.n,
        "response_rate": round(rate.value.value or 0.0, 2), "p50_ms": app,
        "p50_ms_unit_index": old, "duckdb_ms": duck,
        "ratio_vs_duckdb": {k: round(app[k] / duck[k], 2) for k in app if duck.get(k)},
    }))


if __name__ == "__main__":
    main()
