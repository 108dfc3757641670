"""Behaviour page data time at N transactions vs DuckDB computing the same counts on the same rows.

    .venv/bin/python bench/behaviour.py [--transactions 1000000] [--db PATH] [--rounds 7]
    .venv/bin/python bench/behaviour.py --db /tmp/demo.db --root demo --transactions 0

Tops the SQLite file up to N transactions: customers of the benchmark company (`tiyan generate`'s
8 regions x 25 stores, one customer per 10 transactions) buy over the last 450 days, 1 in 20 a
refund, 1 in 10 at another store of their region; the rows go through the project's own import
(`import_transactions`, batches of 1,000). With `--transactions 0` nothing is added (e.g. on the
demo database, `--root demo`).

Then, for a CX manager of the root unit, times `behaviour_view` (p50 of --rounds, warm) for the
default 12 months: at the root (its units below as rows, with the survey league) and drilled into
its first unit. DuckDB gets the transactions in memory (copied via Arrow, not timed) and computes
the same counts: buyers, repeat buyers within 90 days (LEAD), purchases and the sums of each row
and of the whole, and the cohort sizes; `match` says whether they agree with the page's. p50_cpu_ms
is the root view's CPU time in this process (SQLite's work included), steadier than wall time on
a shared machine. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tiyan.analytics import behaviour as bv  # noqa: E402
from tiyan.analytics import dashboard as d  # noqa: E402
from tiyan.analytics.cube import Filters, month_start, utc_bounds  # noqa: E402
from tiyan.context import Context  # noqa: E402
from tiyan.demo.generate import ensure_bench_world  # noqa: E402
from tiyan.domain.access import Actor, Grant, Role, build_scope, subtree  # noqa: E402
from tiyan.security import new_public_id  # noqa: E402
from tiyan.services.table_files import FileRow  # noqa: E402
from tiyan.services.transactions import import_transactions  # noqa: E402
from tiyan.settings import load_settings  # noqa: E402
from tiyan.store import tables as t  # noqa: E402
from tiyan.store.db import Database  # noqa: E402
from tiyan.store.migrate import upgrade  # noqa: E402
from tiyan.store.scoped import parent_map  # noqa: E402

TZ, WINDOW_DAYS, MIN_N, DAYS = "Asia/Shanghai", 90, 30, 450
HEADERS = ["customer", "time", "amount", "kind", "unit"]


def p50(func: Callable[[], Any], rounds: int, clock: Callable[[], float] = time.perf_counter
        ) -> float:
    """Median milliseconds of `rounds` warm runs; clock=time.process_time gives this process's
    CPU time (SQLite runs in it), which other work on a shared machine disturbs less."""
    func()  # warm
    times = []
    for _ in range(rounds):
        started = clock()
        func()
        times.append((clock() - started) * 1000)
    return statistics.median(times)


def open_db(path: str) -> Context:
    url = f"sqlite:///{path}"
    db = Database(url)
    upgrade(db)
    return Context(db, load_settings(db_url=url))


def count(ctx: Context) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(
            t.customer_transaction)).scalar_one())


def load(ctx: Context, wanted: int) -> None:
    """Top the database up to `wanted` transactions of the benchmark company."""
    have = count(ctx)
    if have >= wanted:
        return
    ensure_bench_world(ctx, random.Random(0))
    rng = random.Random(have + 1)
    with ctx.db.read() as conn:
        stores = conn.execute(sa.select(t.org_unit.c.code, t.org_unit.c.parent_id).where(
            t.org_unit.c.kind == "store", t.org_unit.c.code.like("gen-%"))).all()
    by_region: dict[int, list[str]] = {}
    for code, region in stores:
        by_region.setdefault(region, []).append(code)
    people = add_customers(ctx, rng, [c for c, _ in stores], (wanted - have) // 10 + 1, have)
    print(f"importing {wanted - have:,} transactions", file=sys.stderr)
    started = time.perf_counter()
    rows = file_rows(rng, people, {c: by_region[r] for c, r in stores}, wanted - have,
                     ctx.now())
    report = import_transactions(ctx, None, rows, HEADERS)
    print(f"imported {report.imported:,} in {time.perf_counter() - started:.0f} s "
          f"({report.rejected} rejected)", file=sys.stderr)


def add_customers(ctx: Context, rng: random.Random, stores: list[str], n: int,
                  offset: int) -> list[tuple[str, str]]:
    """n customers at random stores: (external id, store code)."""
    with ctx.db.read() as conn:
        unit_ids = dict(conn.execute(sa.select(t.org_unit.c.code, t.org_unit.c.id)).all())
    people = [(f"bench-{offset}-{i}", rng.choice(stores)) for i in range(n)]
    now = ctx.now()
    for start in range(0, n, 10_000):
        with ctx.db.write() as conn:
            conn.execute(sa.insert(t.customer), [
                {"public_id": new_public_id(), "unit_id": unit_ids[store], "external_id": key,
                 "attributes": {}, "created_at": now}
                for key, store in people[start:start + 10_000]])
    return people


def file_rows(rng: random.Random, people: list[tuple[str, str]],
              region_of: dict[str, list[str]], n: int, now: dt.datetime) -> Iterator[FileRow]:
    local_now = now.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
    for line in range(2, n + 2):
        key, store = people[int(len(people) * rng.random() ** 1.5)]  # a loyal core buys often
        if rng.random() < 0.1:
            store = rng.choice(region_of[store])
        at = local_now - dt.timedelta(seconds=1 + rng.random() * DAYS * 86400)
        kind = "refund" if rng.random() < 0.05 else "purchase"
        yield FileRow(line, {"customer": key, "time": at.strftime("%Y-%m-%d %H:%M:%S"),
                             "amount": f"{rng.lognormvariate(6, 0.8):.2f}", "kind": kind,
                             "unit": store})


def cx_manager(ctx: Context, root: str) -> tuple[Actor, int]:
    with ctx.db.read() as conn:
        unit = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == root)
                            ).scalar_one()
        scope = build_scope(0, [Grant(Role.CX_MANAGER, unit)], parent_map(conn))
    return Actor(0, "bench@tiyan.test", "bench", scope), unit


def page_data(ctx: Context, actor: Actor, filters: Filters) -> bv.BehaviourView:
    with ctx.db.read() as conn:
        return bv.behaviour_view(conn, d.dashboard_scope(conn, actor), filters,
                                 window_days=WINDOW_DAYS, as_of=ctx.now(), min_n=MIN_N, tz=TZ)


# --- DuckDB ------------------------------------------------------------------------------------

def duckdb_copy(ctx: Context) -> Any:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    raw = ctx.db.engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("SELECT unit_id, customer_id, kind, amount, occurred_at "
                   "FROM customer_transaction")
    columns = [c[0] for c in cursor.description]
    batches = []
    while rows := cursor.fetchmany(500_000):
        batches.append(pa.table({c: [row[i] for row in rows] for i, c in enumerate(columns)}))
    raw.close()
    con.register("incoming", pa.concat_tables(batches))
    con.execute("CREATE TABLE tx AS SELECT CAST(occurred_at AS TIMESTAMP) AS occurred_at, "
                "* EXCLUDE (occurred_at) FROM incoming")
    con.unregister("incoming")
    return con


def naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


Counts = tuple[dict[int, tuple[int, ...]], dict[tuple[Any, ...], int]]


def duckdb_counts(con: Any, groups: dict[int, frozenset[int]], units: frozenset[int],
                  filters: Filters) -> Counts:
    """(group -> buyers, repeat, purchases, Σk², Σspend; -1 the whole), cohort counts."""
    con.execute("CREATE OR REPLACE TEMP TABLE grp (unit_id BIGINT, grp INTEGER)")
    pairs = [(u, g) for g, us in groups.items() for u in us]
    pairs += [(u, -2) for u in units - {u for u, _ in pairs}]
    con.executemany("INSERT INTO grp VALUES (?, ?)", pairs)
    start, end = utc_bounds(filters.date_from, filters.date_to, TZ)
    first_day = utc_bounds(month_start(filters.date_from), filters.date_to, TZ)[0]
    again = ("max(CASE WHEN {n} > ts AND {n} <= ts + INTERVAL 90 DAY THEN 1 ELSE 0 END)")
    sums = con.execute(f"""
        WITH r AS (SELECT g.grp, t.customer_id, t.occurred_at AS ts, t.amount AS cents,
              lead(t.occurred_at) OVER (PARTITION BY g.grp, t.customer_id ORDER BY t.occurred_at)
                AS nh,
              lead(t.occurred_at) OVER (PARTITION BY t.customer_id ORDER BY t.occurred_at) AS na
            FROM tx t JOIN grp g USING (unit_id)
            WHERE t.kind <> 'refund' AND t.occurred_at >= $1 AND t.occurred_at < $3),
          p AS (SELECT grp, customer_id, count(*) AS k, sum(cents) AS spend,
              {again.format(n="nh")} AS again, {again.format(n="na")} AS again_any
            FROM r WHERE ts >= $1 AND ts < $2 GROUP BY ALL)
        SELECT grp, count(*), sum(again), sum(k), sum(k * k), sum(spend) FROM p
          WHERE grp >= 0 GROUP BY grp
        UNION ALL
        SELECT -1, count(*), sum(again), sum(k), sum(k * k), sum(spend) FROM (
          SELECT customer_id, sum(k) AS k, sum(spend) AS spend, max(again_any) AS again
          FROM p GROUP BY customer_id)""",
                       [naive(start), naive(end), naive(end) + dt.timedelta(days=90)]).fetchall()
    cohorts = con.execute("""
        WITH mine AS (SELECT t.* FROM tx t JOIN grp USING (unit_id) WHERE t.kind <> 'refund'),
          b AS (SELECT DISTINCT customer_id,
                  date_trunc('month', occurred_at + INTERVAL 8 HOUR) AS m FROM mine
                WHERE occurred_at >= $1 AND occurred_at < $2),
          f AS (SELECT customer_id, date_trunc('month', min(occurred_at) + INTERVAL 8 HOUR) AS c
                FROM mine GROUP BY customer_id HAVING min(occurred_at) >= $1)
        SELECT c, m, count(*) FROM f JOIN b USING (customer_id) GROUP BY ALL""",
                          [naive(first_day), naive(end)]).fetchall()
    return ({int(g): tuple(int(v) for v in row) for g, *row in sums if row[0]},
            {(c.date(), m.date()): int(n) for c, m, n in cohorts})


def agree(view: bv.BehaviourView, duck: Counts) -> bool:
    """The page's buyers, purchases, repeat buyers (where shown) and cohort sizes are
    DuckDB's."""
    sums, cells = duck
    figures = {i: r.figures for i, r in enumerate(view.rows) if r.figures.customers}
    figures[-1] = view.total
    for key, f in figures.items():
        buyers, repeat, purchases = sums.get(key, (0, 0, 0))[:3]
        if (f.customers, f.purchases) != (buyers, purchases):
            return False
        if f.repurchase.value is not None and round(f.repurchase.value * buyers / 100) != repeat:
            return False
    sizes = {c: n for (c, m), n in cells.items() if c == m}
    return set(sums) == set(figures) and sizes == {c.month: c.customers for c in view.cohorts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/tiyan-bench-behaviour.db")
    parser.add_argument("--root", default="gen")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    ctx = open_db(args.db)
    load(ctx, args.transactions)
    actor, root = cx_manager(ctx, args.root)
    today = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    top = Filters(month_start(today.replace(year=today.year - 1)), today)
    view = page_data(ctx, actor, top)
    drilled = dataclasses.replace(top, unit_id=view.rows[0].unit.unit_id)
    down = page_data(ctx, actor, drilled)
    result: dict[str, Any] = {"transactions": count(ctx), "buyers": view.total.customers}
    result["p50_ms"] = round(p50(lambda: page_data(ctx, actor, top), args.rounds), 1)
    result["p50_cpu_ms"] = round(p50(lambda: page_data(ctx, actor, top), args.rounds,
                                     time.process_time), 1)
    result["drilled_p50_ms"] = round(p50(lambda: page_data(ctx, actor, drilled), args.rounds), 1)
    con = duckdb_copy(ctx)
    with ctx.db.read() as conn:
        tree = parent_map(conn)
    checks = []
    for name, filters, shown in (("", top, view), ("drilled_", drilled, down)):
        units = subtree(tree, filters.unit_id or root)
        groups = {i: (frozenset({r.unit.unit_id}) if r.unit.own_only
                      else subtree(tree, r.unit.unit_id))
                  for i, r in enumerate(shown.rows)}
        found = duckdb_counts(con, groups, units, filters)
        result[f"{name}duckdb_ms"] = round(p50(
            functools.partial(duckdb_counts, con, groups, units, filters), args.rounds), 1)
        checks.append(agree(shown, found))
    result["match"] = all(checks)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
