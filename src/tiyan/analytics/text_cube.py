"""Text-analysis counts for a user's scope and filters, read from the text aggregates.

The counterpart of analytics/cube for `text_agg` (store/text_aggregates): a date range is cut
into whole months and leftover days, units come in full from the user's visibility, and a
touchpoint filter takes its sub-touchpoints. Without a touchpoint or channel filter (or grouping),
a user who sees whole subtrees is served from the sums per unit subtree (`unit_text_agg`): one
row per bucket, aspect and label for each top unit of the scope. A user who may see only their
own responses (frontline), a view sliced by customer segment or staff, or a database whose
aggregate is still marked stale after an upgrade, is served from the analyses themselves
instead (`from_aggregates` says which).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, scope_units, split_range, touchpoint_family
from tiyan.domain.access import Visibility
from tiyan.store import tables as t
from tiyan.store.subtrees import top_units
from tiyan.store.text_aggregates import COMMENTS, is_stale

G, UT = t.text_agg, t.unit_text_agg
DIMENSIONS = ("touchpoint_id", "aspect_code", "label")

Key = tuple[object, ...]
Counts = dict[Key, tuple[int, float]]  # key -> (n, sum of scores)


def from_aggregates(conn: Connection, vis: Visibility, filters: Filters | None = None) -> bool:
    """Whether this user's text figures for these filters can be read from the aggregates
    (not when sliced by customer segment or staff: the aggregates hold neither)."""
    if filters is not None and filters.sliced:
        return False
    return not vis.staff_rows and not is_stale(conn)


def text_sums(conn: Connection, vis: Visibility, parent_of: Mapping[int, int | None],
              filters: Filters, by: Sequence[str], *, comments: bool | None) -> Counts:
    """(n, Σscore) grouped by `by` (of DIMENSIONS): analysed comments by document sentiment
    when `comments`, aspect mentions when not, both (told apart by aspect code '') when None.
    Keys whose rows add up to nothing are left out."""
    for name in by:
        if name not in DIMENSIONS:
            raise ValueError(f"unknown dimension {name!r}")
    units = scope_units(vis, parent_of, filters.unit_id)
    if not units:
        return {}
    touchpoints = (touchpoint_family(conn, filters.touchpoint_id)
                   if filters.touchpoint_id is not None else None)
    months, day_ranges = split_range(filters.date_from, filters.date_to)
    parts = ([("m", *months)] if months else []) + [("d", a, b) for a, b in day_ranges]
    tops = (top_units(units, parent_of) if touchpoints is None and not filters.channel
            and "touchpoint_id" not in by else None)
    source = G if tops is None else UT
    cols = [source.c[name] for name in by]
    out: dict[Key, tuple[int, float]] = {}
    for grain, first, last in parts:
        where = [source.c.grain == grain, source.c.bucket.between(first, last),
                 source.c.unit_id.in_(sorted(units) if tops is None else tops)]
        if comments is not None:
            where.append(source.c.aspect_code == COMMENTS if comments
                         else source.c.aspect_code != COMMENTS)
        if touchpoints is not None:
            where.append(G.c.touchpoint_id.in_(touchpoints))
        if filters.channel:
            where.append(G.c.channel == filters.channel)
        query = (sa.select(*cols, sa.func.sum(source.c.n), sa.func.sum(source.c.total))
                 .where(*where).group_by(*cols))
        width = len(cols)
        for row in conn.execute(query):
            key = tuple(row[:width])
            n, total = out.get(key, (0, 0.0))
            out[key] = (n + int(row[width] or 0), total + float(row[width + 1] or 0.0))
    return {key: value for key, value in out.items() if value[0] != 0}
