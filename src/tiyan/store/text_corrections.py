"""Stored corrections of the text analysis, and the adaptations fitted on them.

One `text_correction` row per (response, question, aspect): the comment's own sentiment is
stored under aspect "" and a removed aspect has label NULL. Correcting again replaces the row (the
audit log keeps who changed what, and when). `text_adaptation` keeps every fitted adaptation;
the app setting ACTIVE_KEY names the one in use (none: the shipped models alone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.text_corrections import TextCorrection
from tiyan.store import app_settings
from tiyan.store import tables as t
from tiyan.store.id_lists import among

C, AD = t.text_correction, t.text_adaptation
ACTIVE_KEY = "text.adaptation.active"
SENTIMENT = ""  # aspect_code of a correction of the comment's own sentiment


@dataclass(frozen=True)
class StoredCorrection:
    """A correction with what it corrected and who made it."""

    response_id: int
    correction: TextCorrection
    model_label: str | None
    text: str
    language: str
    industry: str | None
    user_id: int | None
    corrected_at: dt.datetime


def _stored(row: RowMapping) -> StoredCorrection:
    return StoredCorrection(
        response_id=int(row["response_id"]),
        correction=TextCorrection(row["question_key"], row["aspect_code"] or None, row["label"],
                                  row["evidence"]),
        model_label=row["model_label"], text=row["text"], language=row["language"],
        industry=row["industry"], user_id=row["user_id"], corrected_at=row["corrected_at"])


def save(conn: Connection, response_id: int, correction: TextCorrection, *,
         model_label: str | None, text: str, language: str, industry: str | None,
         user_id: int | None, now: dt.datetime) -> None:
    """Store a correction, replacing an earlier one of the same text and aspect."""
    aspect = correction.aspect or SENTIMENT
    conn.execute(sa.delete(C).where(C.c.response_id == response_id,
                                    C.c.question_key == correction.question_key,
                                    C.c.aspect_code == aspect))
    conn.execute(sa.insert(C).values(
        response_id=response_id, question_key=correction.question_key, aspect_code=aspect,
        label=correction.label, evidence=correction.evidence, model_label=model_label,
        text=text, language=language, industry=industry, user_id=user_id, corrected_at=now))


def withdraw(conn: Connection, response_id: int, question_key: str, aspect: str | None) -> bool:
    """Remove a correction (the models' reading applies again); False when there was none."""
    done = conn.execute(sa.delete(C).where(C.c.response_id == response_id,
                                           C.c.question_key == question_key,
                                           C.c.aspect_code == (aspect or SENTIMENT)))
    return bool(done.rowcount)


def for_responses(conn: Connection, response_ids: Sequence[int]
                  ) -> dict[tuple[int, str], list[StoredCorrection]]:
    """The corrections of these responses' texts, by (response id, question key)."""
    found: dict[tuple[int, str], list[StoredCorrection]] = {}
    ids = list(response_ids)
    for start in range(0, len(ids), 500):
        rows = conn.execute(sa.select(C).where(among(conn, C.c.response_id, ids[start:start + 500]))
                            .order_by(C.c.id)).mappings()
        for row in rows:
            found.setdefault((int(row["response_id"]), row["question_key"]), []).append(
                _stored(row))
    return found


def delete_for_responses(conn: Connection, response_ids: Sequence[int]) -> None:
    """Forget the corrections of these responses (their comments were removed or erased: the
    corrections hold a copy of the text)."""
    ids = list(response_ids)
    for start in range(0, len(ids), 500):
        conn.execute(sa.delete(C).where(C.c.response_id.in_(ids[start:start + 500])))


def every_correction(conn: Connection) -> list[StoredCorrection]:
    """All corrections of the installation, oldest first (what an adaptation is fitted on)."""
    return [_stored(row) for row in conn.execute(sa.select(C).order_by(C.c.id)).mappings()]


def count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(C)).scalar_one())


# --- adaptations ----------------------------------------------------------------------------


def add_adaptation(conn: Connection, *, model: bytes, corrections: int,
                   summary: dict[str, Any], user_id: int | None, now: dt.datetime) -> int:
    return int(conn.execute(sa.insert(AD).values(
        created_at=now, created_by=user_id, corrections=corrections, model=model,
        summary=summary).returning(AD.c.id)).scalar_one())


def adaptations(conn: Connection) -> list[RowMapping]:
    """Every adaptation, newest first, without the model bytes, with its author's e-mail."""
    query = (sa.select(AD.c.id, AD.c.created_at, AD.c.corrections, AD.c.summary,
                       t.app_user.c.email.label("created_by_email"))
             .outerjoin(t.app_user, t.app_user.c.id == AD.c.created_by)
             .order_by(AD.c.id.desc()))
    return list(conn.execute(query).mappings())


def adaptation_model(conn: Connection, adaptation_id: int) -> bytes | None:
    return conn.execute(sa.select(AD.c.model).where(AD.c.id == adaptation_id)).scalar()


def active_id(conn: Connection) -> int | None:
    value = app_settings.get_value(conn, ACTIVE_KEY)
    return int(value) if isinstance(value, int) else None


def set_active(conn: Connection, adaptation_id: int | None, now: dt.datetime) -> None:
    app_settings.put_value(conn, ACTIVE_KEY, adaptation_id, now)
