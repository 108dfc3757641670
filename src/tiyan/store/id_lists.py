"""`column IN (ids)` for the long id lists of batch work, written the cheap way per database.

A job batch reads and writes the rows of up to a few hundred responses at a time. As an IN list,
each id is a placeholder of its own: on PostgreSQL the statement's text then changes with the
number of ids, and psycopg parses any statement of more than 50 parameters again on every run
(no cache) — a sixth of a worker's CPU in bench/pipeline.py. There the ids go as one array
parameter instead (`= ANY(%(ids)s::BIGINT[])`); on SQLite, which has no arrays, as an IN list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def among(conn: Connection, column: sa.ColumnElement[Any],
          ids: Iterable[int]) -> sa.ColumnElement[bool]:
    """The rows whose `column` is one of `ids`."""
    values = list(ids)
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=sa.ARRAY(sa.BigInteger)))
    return column.in_(values)
