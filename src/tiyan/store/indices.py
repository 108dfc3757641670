"""The organisation's composite index definitions, kept in the app settings, and the scales the
surveys give their item codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.domain.indices import IndexDefinition
from tiyan.domain.surveys import FIXED_SCALES, QuestionType
from tiyan.store import app_settings
from tiyan.store import tables as t

SETTING = "composite_indices"


def load(conn: Connection) -> list[IndexDefinition]:
    return [IndexDefinition.from_json(raw) for raw in app_settings.get_value(conn, SETTING) or []]


def store(conn: Connection, definitions: Iterable[IndexDefinition], now: dt.datetime) -> None:
    app_settings.put_value(conn, SETTING, [d.to_json() for d in definitions], now)


def item_scales(conn: Connection, item_codes: Iterable[str]) -> dict[str, tuple[float, float]]:
    """The scale each item code has in the surveys' versions (the latest version wins)."""
    wanted = set(item_codes)
    out: dict[str, tuple[float, float]] = {}
    v = t.survey_version
    for (definition,) in conn.execute(sa.select(v.c.definition).order_by(v.c.id)):
        for question in (definition or {}).get("questions", []):
            code = question.get("item_code")
            if code in wanted:
                scale = _bounds(question)
                if scale is not None:
                    out[code] = scale
    return out


def _bounds(question: dict[str, object]) -> tuple[float, float] | None:
    try:
        qtype = QuestionType(str(question.get("type")))
    except ValueError:
        return None
    if qtype in FIXED_SCALES:
        low, high = FIXED_SCALES[qtype]
        return float(low), float(high)
    scale = question.get("scale")
    if isinstance(scale, dict) and "min" in scale and "max" in scale:
        return float(scale["min"]), float(scale["max"])
    return None
