"""The churn-risk model on this installation's own customers: train, score, refresh weekly.

Labels follow the churn definition of the customer's segment (domain/churn_definition: a lapse
interval per business, configured or learned from the customers' gaps between visits): for each
segment, a customer active in the year before ``as_of`` (= now − the segment's interval) has
churned when no transaction or visit follows within the interval after it. Features are
computed as of that ``as_of`` from what was known then.

The model file goes to the object store (tiyan.services.storage: the database, so any process
on any host scores with it) under ``models/churn/<version>.joblib``; the current model's
version, key, figures and churn definition are kept in app_setting ``churn_model``. Scores
(probability, reasons, model version) are stored per customer in churn_score, one current row
per customer.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa

from tiyan.context import Context
from tiyan.domain.churn_definition import OTHER_SEGMENT, LapseRule, lapse_rules, visit_gaps
from tiyan.domain.customer_value import (
    DEFAULT_EDGES,
    DEFAULT_RULES,
    RfmEdges,
    Visit,
    rfm_edges,
    rfm_of,
    segment_of,
)
from tiyan.errors import InvalidInput, Phrase
from tiyan.services import jobs
from tiyan.services.storage import ObjectMissing, object_store, read_bytes
from tiyan.store import app_settings, segment_aggregates
from tiyan.store import tables as t
from tiyan.store.customer_history import load_histories
from tiyan.store.text_analysis import unit_industries

MODEL_SETTING = "churn_model"
EDGES_SETTING = "rfm_edges"
REFRESH_JOB = "customers.refresh"
REFRESH_EVERY = dt.timedelta(days=7)
ACTIVE_BEFORE = dt.timedelta(days=365)
SCORE_BATCH = 2000


@dataclass(frozen=True)
class TrainSummary:
    version: str
    object: str  # its key in the object store
    rows: int
    churners: int
    chosen: str
    cv_auc: float
    as_of: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "object": self.object, "rows": self.rows,
                "churners": self.churners, "chosen": self.chosen,
                "cv_auc": round(self.cv_auc, 4), "as_of": self.as_of.isoformat()}


def model_key(version: str) -> str:
    return f"models/churn/{version}.joblib"


def customer_segments(conn: sa.Connection) -> dict[int, str]:
    """Each customer's churn segment: their unit's industry, or "all" where none is set."""
    industries = unit_industries(conn)
    C = t.customer
    return {int(cid): industries.get(unit_id) or OTHER_SEGMENT
            for cid, unit_id in conn.execute(sa.select(C.c.id, C.c.unit_id)
                                             .where(C.c.erased_at.is_(None)))}


def churn_definition(ctx: Context, conn: sa.Connection, until: dt.datetime
                     ) -> tuple[dict[str, LapseRule], dict[int, str]]:
    """Each segment's lapse rule, learned from the gaps between visits up to ``until`` where
    not configured, and each customer's segment."""
    segments = customer_segments(conn)
    T = t.customer_transaction
    visits: dict[int, list[dt.datetime]] = {}
    for cid, at in conn.execute(sa.select(T.c.customer_id, T.c.occurred_at)
                                .where(T.c.occurred_at <= until)):
        visits.setdefault(int(cid), []).append(at)
    gaps: dict[str, list[float]] = {}
    for cid, moments in visits.items():
        if cid in segments:
            gaps.setdefault(segments[cid], []).extend(visit_gaps(moments))
    rules = lapse_rules(gaps, configured=ctx.settings.churn_windows,
                        q=ctx.settings.churn_lapse_quantile,
                        default_days=ctx.settings.churn_window_days)
    return rules, segments


def training_table(ctx: Context, as_of: dt.datetime, window: dt.timedelta,
                   customer_ids: Sequence[int] | None = None) -> tuple[Any, list[bool]]:
    """Features at ``as_of`` of the customers (all, or ``customer_ids``) active in the year
    before, and whether each left (no transaction in the ``window`` after ``as_of``)."""
    from tiyan.predict import customer_feature_frame

    with ctx.db.read() as conn:
        histories = load_histories(conn, as_of, customer_ids)
        T = t.customer_transaction
        came_back = {int(cid) for (cid,) in conn.execute(
            sa.select(T.c.customer_id).where(T.c.occurred_at > as_of,
                                             T.c.occurred_at <= as_of + window).distinct())}
    active = {cid: h for cid, h in histories.items()
              if any(v.occurred_at > as_of - ACTIVE_BEFORE for v in h.transactions)}
    lapse = {str(cid): float(window.days) for cid in active}
    frame = customer_feature_frame({str(cid): h for cid, h in active.items()}, as_of, lapse)
    churned = [int(cid) not in came_back for cid in frame.index]
    return frame, churned


def training_data(ctx: Context, now: dt.datetime, window_days: int | None,
                  log: Callable[[str], None]) -> tuple[Any, list[bool], dict[str, LapseRule]]:
    """The training table of every segment, each labelled by its own lapse interval
    (``window_days`` replaces them all)."""
    import pandas as pd

    with ctx.db.read() as conn:
        rules, segments = churn_definition(ctx, conn, now)
    if window_days:
        rules = {name: LapseRule(name, window_days, "configured") for name in rules}
    frames, labels = [], []
    for name, rule in rules.items():
        ids = sorted(cid for cid, segment in segments.items() if segment == name)
        if not ids:
            continue
        window = dt.timedelta(days=rule.days)
        frame, churned = training_table(ctx, now - window, window, ids)
        log(f"{name}: lapsed = no visit within {rule.days} days ({rule.source}); "
            f"{len(frame):,} customers active in the year before {now - window:%Y-%m-%d}, "
            f"{sum(churned):,} of them lapsed")
        frames.append(frame)
        labels.extend(churned)
    return pd.concat(frames) if frames else pd.DataFrame(), labels, rules


def train(ctx: Context, *, seed: int = 0, window_days: int | None = None,
          log: Callable[[str], None] = lambda _: None) -> TrainSummary:
    """Train, save and make current a churn model on this installation's customers.

    Raises ``TooFewToTrain`` (with the counts) when there are too few churners or stayers.
    """
    from tiyan.predict import CUSTOMER_FEATURES, ChurnDataset, train_churn_model

    now = ctx.now()
    frame, churned, rules = training_data(ctx, now, window_days, log)
    as_of = now - dt.timedelta(days=max((r.days for r in rules.values()), default=0))
    dataset = ChurnDataset(frame, np.asarray(churned, dtype=bool), CUSTOMER_FEATURES)
    model = train_churn_model(dataset, seed=seed)
    key = model_key(model.version)
    written = io.BytesIO()
    model.save(written)
    written.seek(0)
    object_store(ctx).put(key, written, now=now)
    chosen = next(c for c in model.report.candidates if c.name == model.report.chosen)
    summary = TrainSummary(model.version, key, dataset.n_rows, dataset.n_churners,
                           model.report.chosen, float(np.mean(chosen.fold_roc_auc)),
                           as_of)
    with ctx.db.write() as conn:
        app_settings.put_value(conn, MODEL_SETTING, {**summary.to_json(),
                                                     "trained_at": now.isoformat(),
                                                     "lapse": [rule.to_json()
                                                               for rule in rules.values()]}, now)
        schedule_refresh(conn, now)
    return summary


def current_model_info(ctx: Context) -> dict[str, Any] | None:
    with ctx.db.read() as conn:
        value = app_settings.get_value(conn, MODEL_SETTING)
    return value if isinstance(value, dict) else None


def lapse_rules_of(info: dict[str, Any]) -> dict[str, LapseRule]:
    """The churn definition the current model was trained with, by segment."""
    return {rule.segment: rule for rule in map(LapseRule.from_json, info.get("lapse") or [])}


def load_current_model(ctx: Context) -> Any:
    """The current TrainedChurnModel, or None before the first `tiyan predict train`."""
    from tiyan.predict import TrainedChurnModel

    info = current_model_info(ctx)
    if info is None:
        return None
    key = info.get("object")
    if not isinstance(key, str):  # trained before models were stored in the database, and
        raise ObjectMissing(       # not found where `tiyan db upgrade` ran (migration 0025)
            "churn.churn_model_saved_host", info=info.get('version'), info2=info.get('path'),
            where="model")
    return TrainedChurnModel.load(io.BytesIO(read_bytes(object_store(ctx), key)))


def score(ctx: Context, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Score, with the current model, every customer with a transaction in the last 365 days
    (the population the model learned on); returns how many. A customer gone for longer has
    already lapsed: their old score is removed and they are on no at-risk list."""
    from tiyan.predict import customer_feature_frame

    model = load_current_model(ctx)
    if model is None:
        raise InvalidInput("churn.no_churn_model_yet", where="model")
    now = ctx.now()
    rules = lapse_rules_of(current_model_info(ctx) or {})
    with ctx.db.read() as conn:
        histories = load_histories(conn, now)
        segments = customer_segments(conn)
    lapse = {cid: float(rules[segments[cid]].days) for cid in histories
             if segments.get(cid) in rules}
    ids = sorted(cid for cid, history in histories.items()
                 if any(v.occurred_at > now - ACTIVE_BEFORE for v in history.transactions))
    _remove_scores(ctx, sorted(set(histories) - set(ids)))
    done = 0
    for start in range(0, len(ids), SCORE_BATCH):
        part = ids[start:start + SCORE_BATCH]
        frame = customer_feature_frame({str(cid): histories[cid] for cid in part}, now,
                                       {str(cid): lapse[cid] for cid in part if cid in lapse})
        scores = model.score(frame)
        rows = [{"customer_id": cid, "model_version": model.version,
                 "probability": round(s.probability, 6),
                 "reasons": [{"feature": r.feature, "contribution": round(r.contribution, 4),
                              "zh": r.text_zh, "en": r.text_en} for r in s.reasons],
                 "scored_at": now}
                for cid, s in zip(part, scores, strict=True)]
        with ctx.db.write() as conn:
            conn.execute(sa.delete(t.churn_score).where(t.churn_score.c.customer_id.in_(part)))
            conn.execute(sa.insert(t.churn_score), rows)
        done += len(part)
        if progress is not None:
            progress(done, len(ids))
    return done


def _remove_scores(ctx: Context, customer_ids: Sequence[int]) -> None:
    S = t.churn_score
    for start in range(0, len(customer_ids), SCORE_BATCH):
        with ctx.db.write() as conn:
            conn.execute(sa.delete(S).where(
                S.c.customer_id.in_(customer_ids[start:start + SCORE_BATCH])))


def refresh_segments(ctx: Context) -> int:
    """Measure RFM quintile edges over the customer base and store every customer's segment
    (rule-based first, then RFM). Returns how many customers were updated."""
    now = ctx.now()
    C, T = t.customer, t.customer_transaction
    with ctx.db.read() as conn:
        visits: dict[int, list[Visit]] = {}
        for cid, at, amount in conn.execute(sa.select(T.c.customer_id, T.c.occurred_at,
                                                      T.c.amount)):
            moment = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            visits.setdefault(cid, []).append(Visit(moment, Decimal(amount)))
        customers = conn.execute(sa.select(C.c.id, C.c.attributes, C.c.segment)
                                 .where(C.c.erased_at.is_(None))).all()
    values = {cid: rfm_of(visits.get(cid, []), now) for cid, _, _ in customers}
    edges = rfm_edges(list(values.values()))
    changes = [{"cid": cid, "seg": segment_of(attrs or {}, values[cid], edges, DEFAULT_RULES)}
               for cid, attrs, old in customers]
    changes = [c for c, (_, _, old) in zip(changes, customers, strict=True) if c["seg"] != old]
    with ctx.db.write() as conn:
        app_settings.put_value(conn, EDGES_SETTING, edges.to_json(), now)
        segment_aggregates.set_segments(conn, changes)  # moves their dashboard sums too
    return len(changes)


def stored_edges(conn: sa.Connection) -> RfmEdges:
    raw = app_settings.get_value(conn, EDGES_SETTING)
    return RfmEdges.from_json(raw) if isinstance(raw, dict) else DEFAULT_EDGES


def schedule_refresh(conn: sa.Connection, now: dt.datetime) -> None:
    """Queue the weekly refresh unless one is already waiting (one row, whoever asks)."""
    jobs.enqueue(conn, REFRESH_JOB, {}, run_at=now + REFRESH_EVERY, unique_key=REFRESH_JOB)


@jobs.job_handler(REFRESH_JOB, lane=jobs.BULK, one_at_a_time=True)
def refresh_job(ctx: Context, payload: dict[str, Any]) -> None:
    """Weekly: segments from fresh RFM, then scores with the current model; the same row then
    waits for next week."""
    from tiyan.predict.errors import ModelFileError

    refresh_segments(ctx)
    if current_model_info(ctx) is not None:
        try:
            score(ctx)
        except ObjectMissing as exc:  # no retry brings it back; training again queues the job
            raise jobs.JobFailed(f"churn scoring: {exc.message}", why=Phrase(
                "churn.scoring_failed", {"reason": exc.phrase()})) from exc
        except ModelFileError as exc:  # stored but unreadable: a retry cannot help either
            raise jobs.JobFailed(f"churn scoring: {exc}") from exc
    raise jobs.RetryLater(ctx.now() + REFRESH_EVERY, "runs again next week")


def latest_scores(conn: sa.Connection, customer_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    S = t.churn_score
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(customer_ids), 900):
        part = list(customer_ids[start:start + 900])
        for row in conn.execute(sa.select(S).where(S.c.customer_id.in_(part))
                                .order_by(S.c.scored_at)).mappings():
            found[int(row["customer_id"])] = dict(row)
    return found
