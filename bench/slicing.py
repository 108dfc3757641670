"""Cost of the dashboard slices the aggregates cannot answer, and of the trend grains.

    bench/slicing.py --db FILE [--rounds N]

FILE is a SQLite database made by `bench/dashboard.py --db FILE` (generated responses, folded).
Generated responses have no customers, so the first run adds 20,000 customers in four segments
(champions 10%, loyal 30%, at_risk 20%, new 40%) and links 70% of the responses to them. It then
times, for a CX manager who sees the whole company over the default 12 months: the overview and
the league unsliced (aggregates) and sliced by each segment and by one staff member (responses),
and the overview's trend by day, week, month and quarter. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from dashboard import TZ_HOURS, manager, p50  # noqa: E402

from tiyan.analytics import dashboard as d  # noqa: E402
from tiyan.context import Context  # noqa: E402
from tiyan.security import new_public_id  # noqa: E402
from tiyan.settings import load_settings  # noqa: E402
from tiyan.store import tables as t  # noqa: E402
from tiyan.store.db import Database  # noqa: E402

SEGMENTS = (("champions", 10), ("loyal", 30), ("at_risk", 20), ("new", 40))
CUSTOMERS = 20_000


def add_customers(ctx: Context) -> None:
    with ctx.db.write() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(t.customer)).scalar():
            return
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = f"sqlite:///{args.db}"
    ctx = Context(Database(url), load_settings(db_url=url))
    add_customers(ctx)
    actor = manager(ctx)
    today = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=TZ_HOURS))).date()
    base = d.default_filters(today)
    with ctx.db.read() as conn:
        staff_id = conn.execute(sa.select(sa.func.min(t.staff.c.id))).scalar_one()
        count = conn.execute(sa.select(sa.func.count()).select_from(t.response)).scalar_one()
    slices = {"unsliced": base, "staff": dataclasses.replace(base, staff_id=staff_id)}
    for name, _ in SEGMENTS:
        slices[f"segment_{name}"] = dataclasses.replace(base, segment=name)
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
    print(json.dumps({"responses": count, "p50_ms": out}))


if __name__ == "__main__":
    main()
