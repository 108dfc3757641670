"""Failed sign-ins, counted per account and per client address by every process alike."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import tables as t

f = t.signin_failure.c


def failures_since(conn: Connection, since: dt.datetime, *, account: str,
                   address: str) -> tuple[int, int]:
    """Failures since `since` for the account and for the address."""
    def count(where: sa.ColumnElement[bool]) -> int:
        return int(conn.execute(
            sa.select(sa.func.count()).select_from(t.signin_failure).where(where, f.at > since)
        ).scalar_one())

    return count(f.account == account), count(f.address == address)


def record_failure(conn: Connection, *, at: dt.datetime, account: str, address: str,
                   keep_since: dt.datetime) -> None:
    """Record one failure and delete those older than `keep_since` (the window's start)."""
    conn.execute(sa.delete(t.signin_failure).where(f.at <= keep_since))
    conn.execute(sa.insert(t.signin_failure).values(at=at, account=account, address=address))


def forget_account(conn: Connection, account: str) -> None:
    """A successful sign-in clears its account's failures (not its address's)."""
    conn.execute(sa.delete(t.signin_failure).where(f.account == account))

