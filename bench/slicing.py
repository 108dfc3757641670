"""Cost of the dashboard slices by customer segment and staff member, and of the trend grains.

    bench/slicing.py --db FILE [--rounds N] [--no-duckdb]

FILE is a SQLite database made by `bench/dashboard.py --db FILE` (generated responses, folded).
Generated responses have no customers, so the first run adds 20,000 customers in four segments
(champions 10%, loyal 30%, at_risk 20%, new 40%), links 70% of the responses to them with bulk
SQL and rebuilds the segment sums (`segment_agg`, timed: rebuild_s). It then times, for a CX
manager who sees the whole company over the default 12 months: the overview and the league
unsliced, sliced by each segment (segment_agg) and by one staff member (the responses, through
the index on staff and time), sliced by a survey answer (NPS 10) and by negative mentions of the
most criticised comment aspect (both read the responses: EXISTS on the answers and the aspects),
and the overview's trend by day, week, month and quarter; then
moving 2,000 customers to another segment and back (what a segment recompute does, move_s per
move). DuckDB runs the same sliced aggregations from the raw rows (copied in, not timed).
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from dashboard import (  # noqa: E402
    SCORE_SUMS,
    TZ_HOURS,
    bounds,
    duckdb_copy,
    manager,
    p50,
)

from tiyan.analytics import dashboard as d  # noqa: E402
from tiyan.context import Context  # noqa: E402
from tiyan.security import new_public_id  # noqa: E402
from tiyan.settings import load_settings  # noqa: E402
from tiyan.store import segment_aggregates  # noqa: E402
from tiyan.store import tables as t  # noqa: E402
from tiyan.store.db import Database  # noqa: E402
from tiyan.store.migrate import upgrade  # noqa: E402

SEGMENTS = (("champions", 10), ("loyal", 30), ("at_risk", 20), ("new", 40))
CUSTOMERS = 20_000


def add_customers(ctx: Context) -> bool:
    """Customers in SEGMENTS linked to 70% of the responses (False when already there)."""
    with ctx.db.write() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(t.customer)).scalar():
            return False
        stores = [i for (i,) in conn.execute(sa.select(t.org_unit.c.id)
                                             .where(t.org_unit.c.kind == "store"))]
        names = [name for name, share in SEGMENTS for _ in range(share)]
        now = ctx.now()
        conn.execute(t.customer.insert(), [
            {"public_id": new_public_id(), "unit_id": stores[i % len(stores)],
             "segment": names[i % len(names)], "attributes": {}, "created_at": now}
            for i in range(CUSTOMERS)])
        first = conn.execute(sa.select(sa.func.min(t.customer.c.id))).scalar_one()
        r = t.response
        conn.execute(r.update().where(r.c.id % 10 < 7)
                     .values(customer_id=first + (r.c.id * 7919) % CUSTOMERS))
    return True


def move_customers(ctx: Context, count: int = 2_000) -> float:
    """Seconds to move `count` customers of one segment to another (the mean of the move there
    and the move back, each one transaction as in a segment recompute)."""
    c = t.customer
    with ctx.db.read() as conn:
        ids = [i for (i,) in conn.execute(sa.select(c.c.id).where(c.c.segment == "loyal")
                                          .order_by(c.c.id).limit(count))]
    took = []
    for segment in ("champions", "loyal"):
        started = time.perf_counter()
        with ctx.db.write() as conn:
            segment_aggregates.set_segments(conn, [{"cid": i, "seg": segment} for i in ids])
        took.append(time.perf_counter() - started)
    return sum(took) / len(took)


def duckdb_slices(con: Any, filters: d.Filters, units: list[int], aspect: str | None
                  ) -> dict[str, Callable[[], Any]]:
    """The sliced overview (period, previous period, monthly trend) and league (regions, this
    and the previous period) from the raw rows, as bench/dashboard.py does unsliced."""
    unit_list = ",".join(str(u) for u in units)
    now_low, now_high = bounds(filters)
    prev_low, prev_high = bounds(filters.previous())
    sums = SCORE_SUMS

    def overview(cond: str) -> Any:
        trend = con.execute(
            f"SELECT date_trunc('month', r.submitted_at + INTERVAL {TZ_HOURS} HOUR) m, "
            f"a.item_code, {sums} FROM response r JOIN answer a ON a.response_id = r.id "
            f"JOIN slice s ON s.id = r.id WHERE r.status = 'complete' "
            f"AND r.unit_id IN ({unit_list}) AND {cond} "
            f"AND a.item_code IN ('nps', 'csat', 'ces') "
            f"AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL",
            [prev_low, now_high]).fetchall()
        counts = con.execute(
            f"SELECT date_trunc('month', r.submitted_at + INTERVAL {TZ_HOURS} HOUR), count(*) "
            f"FROM response r JOIN slice s ON s.id = r.id WHERE r.status = 'complete' "
            f"AND r.unit_id IN ({unit_list}) AND {cond} "
            f"AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL",
            [prev_low, now_high]).fetchall()
        return trend, counts

    def league(cond: str) -> Any:
        return [con.execute(
            f"SELECT region.id, a.item_code, {sums} FROM response r "
            f"JOIN answer a ON a.response_id = r.id JOIN slice s ON s.id = r.id "
            f"JOIN unit store ON store.id = r.unit_id JOIN unit region ON region.id = "
            f"store.parent_id WHERE r.status = 'complete' AND r.unit_id IN ({unit_list}) "
            f"AND {cond} AND a.item_code IN ('nps', 'csat', 'ces') "
            f"AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL",
            [low, high]).fetchall() for low, high in ((now_low, now_high),
                                                      (prev_low, prev_high))]

    out: dict[str, Callable[[], Any]] = {}
    conditions = [("staff", "s.staff_id = (SELECT min(staff_id) FROM slice)"),
                  *[(f"segment_{n}", f"s.segment = '{n}'") for n, _ in SEGMENTS],
                  ("answer", "EXISTS (SELECT 1 FROM answer x WHERE x.response_id = r.id "
                             "AND x.question_key = 'nps' AND x.value_num = 10)")]
    if aspect is not None:
        conditions.append(("aspect", f"EXISTS (SELECT 1 FROM text_aspect x WHERE x.response_id "
                                     f"= r.id AND x.aspect_code = '{aspect}' "
                                     f"AND x.label = 'negative')"))
    for name, cond in conditions:
        out[f"overview_{name}"] = functools.partial(overview, cond)
        out[f"league_{name}"] = functools.partial(league, cond)
    return out


def copy_slices(ctx: Context, con: Any) -> None:
    """Each response's staff member and customer segment into DuckDB (table slice)."""
    import pyarrow as pa

    r, c = t.response, t.customer
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(r.c.id, r.c.staff_id, c.c.segment).select_from(
            r.outerjoin(c, c.c.id == r.c.customer_id))).all()
    con.register("incoming", pa.table({"id": [row[0] for row in rows],
                                       "staff_id": [row[1] for row in rows],
                                       "segment": [row[2] for row in rows]}))
    con.execute("CREATE TABLE slice AS SELECT * FROM incoming")
    con.unregister("incoming")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-duckdb", action="store_true")
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    ctx = Context(Database(url), load_settings(db_url=url))
    upgrade(ctx.db)
    linked = add_customers(ctx)
    with ctx.db.read() as conn:
        stale = segment_aggregates.is_stale(conn)
    rebuild_s = None
    if linked or stale:  # responses linked behind the fold's back, or folded before 0009
        started = time.perf_counter()
        segment_aggregates.rebuild(ctx.db, ctx.now)
        rebuild_s = round(time.perf_counter() - started, 1)
        print(f"segment sums rebuilt in {rebuild_s} s", file=sys.stderr)
    actor = manager(ctx)
    today = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=TZ_HOURS))).date()
    base = d.default_filters(today)
    with ctx.db.read() as conn:
        staff_id = conn.execute(sa.select(sa.func.min(t.staff.c.id))).scalar_one()
        count = conn.execute(sa.select(sa.func.count()).select_from(t.response)).scalar_one()
        x = t.text_aspect
        aspect = conn.execute(sa.select(x.c.aspect_code).where(x.c.label == "negative")
                              .group_by(x.c.aspect_code).order_by(sa.func.count().desc())
                              .limit(1)).scalar()
    slices = {"unsliced": base, "staff": dataclasses.replace(base, staff_id=staff_id)}
    for name, _ in SEGMENTS:
        slices[f"segment_{name}"] = dataclasses.replace(base, segment=name)
    slices["answer"] = dataclasses.replace(base, answer=("nps", "10"))  # promoters who gave 10
    if aspect is not None:  # the most criticised comment aspect, negative mentions
        slices["aspect"] = dataclasses.replace(base, aspect=aspect, aspect_label="negative")
    out: dict[str, float] = {}

    def timed(label: str, page: str, filters: d.Filters, grain: str = "month") -> None:
        def go() -> object:
            with ctx.db.read() as conn:
                scope = d.dashboard_scope(conn, actor)
                if page == "league":
                    return d.league(conn, scope, filters, min_n=30)
                return d.overview(conn, scope, filters, min_n=30, grain=grain)
        out[label] = round(p50(go, args.rounds), 1)
        print(f"{label}: {out[label]} ms", file=sys.stderr)

    for name, filters in slices.items():
        timed(f"overview_{name}", "overview", filters)
        timed(f"league_{name}", "league", filters)
    for grain in d.GRAINS:
        timed(f"overview_grain_{grain}", "overview", base, grain)
    move_s = round(move_customers(ctx), 2)
    print(f"2,000 customers moved to another segment in {move_s} s", file=sys.stderr)
    duck: dict[str, float] = {}
    if not args.no_duckdb:
        con = duckdb_copy(ctx)
        copy_slices(ctx, con)
        units = sorted(actor.scope.visibility(d.Permission.VIEW_DASHBOARD).unit_ids)
        for label, func in duckdb_slices(con, base, units, aspect).items():
            duck[label] = round(p50(func, args.rounds), 1)
            print(f"{label}: duckdb {duck[label]} ms", file=sys.stderr)
    ratios = {k: round(out[k] / duck[k], 2) for k in duck if duck[k] > 0}
    print(json.dumps({"responses": count, "p50_ms": out, "duckdb_ms": duck,
                      "ratio_vs_duckdb": ratios,
                      "max_ratio_vs_duckdb": max(ratios.values(), default=None),
                      "segment_rebuild_s": rebuild_s, "move_2000_customers_s": move_s}))


if __name__ == "__main__":
    main()
