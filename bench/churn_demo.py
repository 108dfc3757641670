"""The churn-risk model on the demo world, as `make demo` builds and trains it.

Builds the demo for a fixed day with the real `tiyan demo` command (the same world whenever it
runs), then trains and scores with the clock at that day, and reports: each segment's lapse
interval, the base rate, each candidate's cross-validated ROC AUC, the chosen model's
cross-validated Brier score after calibration against the base rate's, how many customers
hear churn reasons, and the share of customers for whom a next-best action fires. The last line
printed is JSON.

    .venv/bin/python bench/churn_demo.py [--as-of 2026-12-06] [--seed 20261123] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.demo.world import demo_anchor
from tiyan.domain.next_actions import CustomerSituation, load_rules, next_actions
from tiyan.services import churn
from tiyan.services.customer360 import automatic_threshold
from tiyan.settings import load_settings
from tiyan.store import tables as t
from tiyan.store.db import Database

TIYAN = str(Path(sys.executable).parent / "tiyan")


def build(url: str, day: str, seed: int) -> tuple[float, float]:
    """Wall and CPU seconds of `tiyan demo` for ``day``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([TIYAN, "demo", "--db", url, "--as-of", day, "--seed", str(seed)],
                   check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - started, cpu


def action_shares(db: Database, now: dt.datetime) -> dict[str, Any]:
    """Of the scored customers: the share with any next action, per rule, and with reasons."""
    T, S = t.customer_transaction, t.churn_score
    rules = load_rules()
    with db.read() as conn:
        threshold = automatic_threshold(conn)
        scores = conn.execute(sa.select(S.c.customer_id, S.c.probability, S.c.reasons)).all()
        spend = dict(conn.execute(sa.select(T.c.customer_id, sa.func.sum(T.c.amount))
                                  .where(T.c.occurred_at > now - dt.timedelta(days=365))
                                  .group_by(T.c.customer_id)).all())
        segment = dict(conn.execute(sa.select(t.customer.c.id, t.customer.c.segment)).all())
        open_cases = dict(conn.execute(
            sa.select(t.cx_case.c.customer_id, sa.func.count())
            .where(t.cx_case.c.status.in_(("new", "acknowledged", "in_progress")))
            .group_by(t.cx_case.c.customer_id)).all())
    fired: dict[str, int] = {}
    any_action = 0
    for cid, probability, reasons in scores:
        situation = CustomerSituation(
            float(probability), float(spend.get(cid) or 0), segment.get(cid),
            int(open_cases.get(cid, 0)), frozenset(r["feature"] for r in reasons or []),
            at_risk=float(probability) >= threshold)
        actions = next_actions(situation, rules)
        any_action += bool(actions)
        for action in actions:
            fired[action.code] = fired.get(action.code, 0) + 1
    n = len(scores)
    return {"scored": n, "at_risk_threshold": threshold,
            "nba_share": round(any_action / n, 4),
            "nba_share_by_rule": {code: round(k / n, 4) for code, k in sorted(fired.items())},
            "with_reasons_share": round(sum(bool(r) for _, _, r in scores) / n, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", default="2026-12-06", help="the demo's day (YYYY-MM-DD)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep the database")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="tiyan-churn-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'demo.db'}"
    wall, cpu = build(url, args.as_of, args.seed)
    day = dt.date.fromisoformat(args.as_of)
    now = demo_anchor(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC))
    now += dt.timedelta(hours=9)  # trained and scored that morning
    db = Database(url)
    ctx = Context(db, load_settings(db_url=url), lambda: now)
    started = time.perf_counter()
    summary = churn.train(ctx, seed=0, log=print)
    model = churn.load_current_model(ctx)
    churn.score(ctx)
    train_s = time.perf_counter() - started
    report = model.report
    for candidate in report.candidates:
        broken = ", ".join(candidate.broken_directions)
        print(f"{candidate.name:20} CV ROC AUC {candidate.cv_roc_auc:.4f}"
              + (f"  (weighs {broken} against the declared direction)" if broken else ""))
    base = summary.churners / summary.rows
    info = churn.current_model_info(ctx) or {}
    figures = {
        "as_of": args.as_of, "seed": args.seed,
        "lapse_days": {r["segment"]: r["days"] for r in info.get("lapse", [])},
        "rows": summary.rows, "churners": summary.churners, "base_rate": round(base, 4),
        "chosen": report.chosen, "cv_roc_auc": round(summary.cv_auc, 4),
        "logistic_cv_roc_auc": round(next(c.cv_roc_auc for c in report.candidates
                                          if c.name == "logistic_linear"), 4),
        "cv_brier": round(report.calibration_cv_brier[report.calibration], 4),
        "brier_base_rate": round(base * (1 - base), 4),
        **action_shares(db, now),
        "demo_build_s": round(wall, 1), "demo_build_cpu_s": round(cpu, 1),
        "train_and_score_s": round(train_s, 1),
    }
    db.dispose()
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
