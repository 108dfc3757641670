"""The names people read for the codes rows carry: units and surveys, in the viewer's
language. A page that lists rows by code looks their names up here once."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import tables as t


def unit_names(conn: Connection, locale: str) -> dict[str, str]:
    """Each unit's name by code (zh-CN: name_zh, else name_en)."""
    name = t.org_unit.c.name_zh if locale == "zh-CN" else t.org_unit.c.name_en
    return {str(code): str(text) for code, text in conn.execute(
        sa.select(t.org_unit.c.code, name))}


def survey_names(conn: Connection) -> dict[str, str]:
    """Each survey's name by code."""
    return {str(code): str(text) for code, text in conn.execute(
        sa.select(t.survey.c.code, t.survey.c.name))}
