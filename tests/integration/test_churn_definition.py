"""The churn definition on a real database (SQLite and PostgreSQL): each segment's lapse interval
and the training labels, recomputed here from the raw rows with pandas."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa

from tiyan.services import churn
from tiyan.store import customers, org
from tiyan.store import tables as t


def build(ctx) -> None:  # type: ignore[no-untyped-def]
    """A car-service business (visits every 5–12 months) and a food business (every 1–4
    weeks) under one group, and a store with no industry; some customers stop coming."""
    rng, now = random.Random(11), ctx.now()
    with ctx.db.write() as conn:
        group = org.insert_unit(conn, code="g", name_zh="集团", name_en="Group", kind="group",
                                parent_id=None, now=now)
        cars = org.insert_unit(conn, code="cars", name_zh="汽车", name_en="Cars", kind="company",
                               parent_id=group, now=now, attributes={"industry": "car"})
        food = org.insert_unit(conn, code="food", name_zh="餐饮", name_en="Food", kind="company",
                               parent_id=group, now=now, attributes={"industry": "food"})
        stores = {"car": org.insert_unit(conn, code="c1", name_zh="店", name_en="Car store",
                                         kind="store", parent_id=cars, now=now),
                  "food": org.insert_unit(conn, code="f1", name_zh="店", name_en="Restaurant",
                                          kind="store", parent_id=food, now=now),
                  "all": org.insert_unit(conn, code="o1", name_zh="店", name_en="Other",
                                         kind="store", parent_id=group, now=now)}
        rows = []
        for segment, count, days, stop_after in (("car", 160, (150, 360), 900),
                                                 ("food", 160, (7, 28), 150),
                                                 ("all", 4, (60, 90), 400)):
            for index in range(count):
                cid = customers.insert_customer(conn, unit_id=stores[segment], now=now,
                                                name=f"{segment}{index}")
                stop = now - dt.timedelta(days=rng.randint(0, stop_after))
                at = now - dt.timedelta(days=1100 + rng.randint(0, days[1]))
                while at < stop:
                    rows.append({"customer_id": cid, "unit_id": stores[segment],
                                 "kind": "visit", "external_id": None, "currency": "CNY",
                                 "amount": Decimal(rng.randint(30, 3000)), "occurred_at": at,
                                 "attributes": {}})
                    at += dt.timedelta(days=rng.uniform(*days))
        conn.execute(sa.insert(t.customer_transaction), rows)


def raw_visits(ctx) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    T, C = t.customer_transaction, t.customer
    with ctx.db.read() as conn:
        frame = pd.read_sql(sa.select(T.c.customer_id, T.c.occurred_at, t.org_unit.c.code)
                            .join(C, C.c.id == T.c.customer_id)
                            .join(t.org_unit, t.org_unit.c.id == C.c.unit_id), conn)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["segment"] = frame["code"].map({"c1": "car", "f1": "food", "o1": "all"})
    return frame


def test_each_segment_learns_its_interval_from_its_own_gaps(ctx):
    build(ctx)
    visits = raw_visits(ctx).sort_values(["customer_id", "occurred_at"])
    gaps = visits.groupby("customer_id")["occurred_at"].diff().dt.total_seconds() / 86400
    expected = {}
    for segment, part in gaps.groupby(visits["segment"]):
        values = part.dropna()
        expected[segment] = math.ceil(float(np.quantile(values, 0.9))) if len(values) >= 100 \
            else 90
    with ctx.db.read() as conn:
        rules, segments = churn.churn_definition(ctx, conn, ctx.now())
    assert {name: rule.days for name, rule in rules.items()} == expected
    assert rules["car"].source == "learned" and 250 < rules["car"].days < 400
    assert rules["food"].source == "learned" and 20 < rules["food"].days < 35
    assert rules["all"].source == "default"  # 4 customers: too few gaps to learn from
    assert rules["car"].median_gap_days == round(float(gaps[visits["segment"] == "car"]
                                                       .dropna().median()), 1)


def test_training_labels_each_segment_by_its_own_interval(ctx):
    build(ctx)
    ctx.settings.churn_windows = {"food": 30}
    frame, churned, rules = churn.training_data(ctx, ctx.now(), None, lambda _: None)
    assert rules["food"].source == "configured" and rules["food"].days == 30
    visits = raw_visits(ctx)
    expected: dict[str, bool] = {}
    for segment, rule in rules.items():
        as_of = pd.Timestamp(ctx.now() - dt.timedelta(days=rule.days))
        mine = visits[visits["segment"] == segment]
        before = mine[(mine["occurred_at"] > as_of - pd.Timedelta(days=365))
                      & (mine["occurred_at"] <= as_of)]["customer_id"]
        after = set(mine[(mine["occurred_at"] > as_of)
                         & (mine["occurred_at"] <= as_of + pd.Timedelta(days=rule.days))]
                    ["customer_id"])
        for cid in set(before):
            expected[str(cid)] = cid not in after
    assert dict(zip(frame.index, churned, strict=True)) == expected
    share = frame.loc[[str(c) for c in expected], "recency_share"]
    assert share.notna().all() and (share >= 0).all()
    assert 0 < sum(churned) < len(churned)


def test_scores_cover_the_customers_still_coming_and_reasons_only_raise_the_risk(ctx, tmp_path):
    build(ctx)
    summary = churn.train(ctx, seed=0)
    scored = churn.score(ctx)
    visits = raw_visits(ctx)
    recent = visits[visits["occurred_at"] > pd.Timestamp(ctx.now() - dt.timedelta(days=365))]
    with ctx.db.read() as conn:
        stored = conn.execute(sa.select(t.churn_score.c.customer_id,
                                        t.churn_score.c.probability,
                                        t.churn_score.c.reasons)).all()
    assert scored == len(stored) == recent["customer_id"].nunique()
    assert {cid for cid, _, _ in stored} == set(recent["customer_id"])
    base_rate = summary.churners / summary.rows
    with_reasons = [(p, reasons) for _, p, reasons in stored if reasons]
    assert with_reasons
    assert all(p > base_rate for p, _ in with_reasons)
    assert all(r["contribution"] > 0 for _, reasons in with_reasons for r in reasons)
