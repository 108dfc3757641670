"""Finding a customer on the demo database (issue 16): the customer search of `/customers?q=`
and `GET /api/v1/customers?q=` (store.customers.list_customers) by phone in several formats,
e-mail, external id and name prefix, as the CX manager (the whole car group) and as a store
manager; reports the median and worst time of each kind of search over repeated runs. The last
line printed is JSON.

    .venv/bin/python bench/customer_search.py DATABASE_URL [--runs 30]

DATABASE_URL is a demo database (`tiyan demo --db URL`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import sqlalchemy as sa

from tiyan.domain.privacy import _national
from tiyan.store import customers
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.scoped import load_actor
from tiyan.store.users import user_by_email


def _samples(db: Database) -> dict[str, str]:
    """A real phone, e-mail, external id and name of a customer of the store gz-tianhe."""
    with db.read() as conn:
        CI = t.customer_identity
        store = conn.execute(sa.select(t.org_unit.c.id)
                             .where(t.org_unit.c.code == "gz-tianhe")).scalar_one()
        mine = sa.select(t.customer.c.id).where(t.customer.c.unit_id == store)
        phone = conn.execute(sa.select(CI.c.value).where(CI.c.kind == "phone",
                                                         CI.c.customer_id.in_(mine))
                             .order_by(CI.c.id).limit(1)).scalar_one()
        email = conn.execute(sa.select(CI.c.value).where(CI.c.kind == "email",
                                                         CI.c.customer_id.in_(mine))
                             .order_by(CI.c.id).limit(1)).scalar_one_or_none()
        external = conn.execute(sa.select(t.customer.c.external_id)
                                .where(t.customer.c.external_id.is_not(None),
                                       t.customer.c.unit_id == store)
                                .order_by(t.customer.c.id).limit(1)).scalar_one_or_none()
        name = conn.execute(sa.select(t.customer.c.name).where(t.customer.c.name.is_not(None),
                                                               t.customer.c.unit_id == store)
                            .order_by(t.customer.c.id).limit(1)).scalar_one()
    national = _national(phone) or phone
    found = {"phone_e164": phone, "phone_spaced": f"{national[:3]} {national[3:7]} "
             f"{national[7:]}", "phone_dashed": f"+86 {national[:3]}-{national[3:7]}-"
             f"{national[7:]}", "name_prefix": name[:1]}
    if email:
        found["email_upper"] = email.upper()
    if external:
        found["external_id"] = external
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    db = Database(args.url)
    samples = _samples(db)
    with db.read() as conn:
        count = int(conn.execute(sa.select(sa.func.count()).select_from(t.customer))
                    .scalar_one())
        actors = {who: load_actor(conn, user_by_email(conn, email)["id"])  # type: ignore[index]
                  for who, email in (("cx_manager", "cx@demo.tiyan.dev"),
                                     ("store_manager", "tianhe@demo.tiyan.dev"))}
    result: dict[str, Any] = {"bench": "customer_search", "backend": db.engine.dialect.name,
                              "customers": count, "runs": args.runs}
    for who, actor in actors.items():
        for kind, text in samples.items():
            times, hits = [], 0
            for _ in range(args.runs):
                start = time.perf_counter()
                with db.read() as conn:
                    hits = len(customers.list_customers(conn, actor, q=text, limit=50))
                times.append((time.perf_counter() - start) * 1000)
            result[f"{who}.{kind}.median_ms"] = round(statistics.median(times), 2)
            result[f"{who}.{kind}.max_ms"] = round(max(times), 2)
            result[f"{who}.{kind}.hits"] = hits
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
