"""A per-process cache of key-driver analyses (analytics/drivers_view.key_drivers) and of the
journey's respondent sums (analytics/journey_view, under the step tree as well).

The intervals on the weights resample every respondent in scope, which means reading their
answers (analytics/driver_values.respondent_values), far more than the pair sums the weights
come from. An analysis is kept under everything it depends on (database, the viewer's scope and
tree, filters, outcome, options) and a stamp of the data that can change it: the responses
(highest id, complete ones), the folded aggregates (watermark, responses folded one by one),
survey versions (item scales), and, where used, the comment analyses and the purchases. Any
new response, fold, analysis, erasure of an analysis or purchase changes the stamp; a stale
entry is never read, only pushed out by newer ones (at most `SIZE` kept).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import aggregates
from tiyan.store import tables as t

SIZE = 64
T = TypeVar("T")
_lock = threading.Lock()
_kept: OrderedDict[Hashable, object] = OrderedDict()


def stamp(conn: Connection, *, aspects: bool, purchases: bool) -> tuple[object, ...]:
    """What the data looks like, in one cheap SELECT of counts and highest ids."""
    r = t.response

    def scalar(query: sa.Select) -> sa.ScalarSelect:  # type: ignore[type-arg]
        return query.scalar_subquery()

    parts = [
        scalar(sa.select(sa.func.max(r.c.id))),
        scalar(sa.select(sa.func.count()).select_from(r).where(r.c.status == "complete")),
        scalar(sa.select(sa.func.count()).select_from(t.score_agg_folded)),
        scalar(sa.select(sa.func.max(t.survey_version.c.id))),
    ]
    for table, wanted in ((t.text_analysis, aspects), (t.customer_transaction, purchases)):
        if wanted:
            parts += [scalar(sa.select(sa.func.max(table.c.id))),
                      scalar(sa.select(sa.func.count()).select_from(table))]
    return (*conn.execute(sa.select(*parts)).one(), aggregates.watermark(conn))


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """The value kept under `key`, or `compute()` kept under it."""
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]  # type: ignore[return-value]
    value = compute()
    with _lock:
        _kept[key] = value
        while len(_kept) > SIZE:
            _kept.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _kept.clear()
