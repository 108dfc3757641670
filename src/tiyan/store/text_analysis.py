"""Stored text analyses: which texts a response holds, and replacing their analysis results.

A response's texts are the answers to its open-text questions (and the "other" text of a choice
question); an imported feedback record's texts are its free-text answers. Each analysed text gets
one `text_analysis` row per (response, question) and one `text_aspect` row per aspect found;
analysing again replaces both, so a re-analysis never duplicates anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.domain.surveys import QuestionType, SurveyDefinition
from tiyan.store import app_settings, driver_aspect_aggregates, text_aggregates
from tiyan.store import tables as t
from tiyan.store.id_lists import among
from tiyan.store.surveys import version_definition

A, R = t.answer, t.response


@dataclass(frozen=True)
class TextToAnalyse:
    response_id: int
    question_key: str
    text: str
    unit_id: int


@dataclass(frozen=True)
class AnalysisRow:
    """One text's results, ready to store (aspects as dicts of aspect, label, score, evidence)."""

    response_id: int
    question_key: str
    language: str
    sentiment_label: str
    sentiment_score: float
    redacted_text: str
    keywords: Sequence[str]
    aspects: Sequence[Mapping[str, Any]]


def texts_of(conn: Connection, response_ids: Sequence[int],
             cache: dict[object, object] | None = None) -> list[TextToAnalyse]:
    """The free texts of these responses, in response and question order."""
    if not response_ids:
        return []
    query = (
        sa.select(A.c.response_id, A.c.question_key, A.c.value_text, A.c.value_json,
                  R.c.unit_id, R.c.source, R.c.survey_version_id)
        .join(R, R.c.id == A.c.response_id)
        .where(among(conn, A.c.response_id, list(response_ids)), A.c.value_text.is_not(None),
               A.c.value_text != "")
        .order_by(A.c.response_id, A.c.question_key)
    )
    out = []
    for row in conn.execute(query):
        if _is_free_text(conn, row, cache):
            out.append(TextToAnalyse(row.response_id, row.question_key, row.value_text,
                                     row.unit_id))
    return out


def _is_free_text(conn: Connection, row: Any, cache: dict[object, object] | None) -> bool:
    picked_other = isinstance(row.value_json, list) and "other" in row.value_json
    if row.source != "survey" or row.survey_version_id is None:
        return row.value_json is None or picked_other
    return row.question_key in _text_keys(version_definition(conn, row.survey_version_id, cache)) \
        or picked_other


def _text_keys(definition: SurveyDefinition) -> frozenset[str]:
    return frozenset(q.key for q in definition.questions if q.type == QuestionType.TEXT)


def insert_analyses(conn: Connection, rows: Sequence[AnalysisRow], model_version: str,
                    now: dt.datetime, cache: dict[object, object] | None = None) -> None:
    """Store these results (after `delete_analyses` of their responses when analysing again),
    all analyses in one statement and all their aspects in another, and add them to the text and
    driver-aspect aggregates in the same transaction."""
    if not rows:
        return
    inserted = [int(i) for i in conn.execute(
        sa.insert(t.text_analysis).returning(t.text_analysis.c.id, sort_by_parameter_order=True),
        [{"response_id": row.response_id, "question_key": row.question_key,
          "language": row.language, "sentiment_label": row.sentiment_label,
          "sentiment_score": row.sentiment_score, "redacted_text": row.redacted_text,
          "keywords": list(row.keywords), "model_version": model_version, "analyzed_at": now}
         for row in rows]).scalars()]
    aspects = [{"analysis_id": analysis_id, "response_id": row.response_id,
                "aspect_code": a["aspect"], "label": a["label"], "score": a["score"],
                "evidence": a["evidence"]}
               for analysis_id, row in zip(inserted, rows, strict=True) for a in row.aspects]
    if aspects:
        conn.execute(sa.insert(t.text_aspect), aspects)
    text_aggregates.fold_analyses(conn, inserted, cache)
    driver_aspect_aggregates.fold_responses(conn, [row.response_id for row in rows], cache)


def delete_analyses(conn: Connection, response_ids: Sequence[int]) -> None:
    """Remove every analysis (and its aspects) of these responses, taking them out of the text
    and driver-aspect aggregates in the same transaction."""
    for start in range(0, len(response_ids), 500):
        chunk = _analysed(conn, response_ids[start:start + 500])
        if not chunk:  # a first analysis: nothing to take out
            continue
        text_aggregates.unfold_responses(conn, chunk)
        driver_aspect_aggregates.unfold_responses(conn, chunk)
        conn.execute(sa.delete(t.text_aspect)
                     .where(among(conn, t.text_aspect.c.response_id, chunk)))
        conn.execute(sa.delete(t.text_analysis)
                     .where(among(conn, t.text_analysis.c.response_id, chunk)))


def _analysed(conn: Connection, response_ids: Sequence[int]) -> list[int]:
    """Those of these responses that have an analysis stored."""
    return sorted({int(i) for i in conn.execute(
        sa.select(t.text_analysis.c.response_id).distinct()
        .where(among(conn, t.text_analysis.c.response_id, list(response_ids)))).scalars()})


def response_ids_after(conn: Connection, after_id: int, limit: int,
                       since: dt.datetime | None = None) -> list[int]:
    """Ids of responses holding text, in id order after `after_id` (received since `since`)."""
    has_text = sa.exists().where(A.c.response_id == R.c.id, A.c.value_text.is_not(None),
                                 A.c.value_text != "")
    query = sa.select(R.c.id).where(R.c.id > after_id, has_text)
    if since is not None:
        query = query.where(sa.func.coalesce(R.c.submitted_at, R.c.received_at) >= since)
    return [int(i) for i in conn.execute(query.order_by(R.c.id).limit(limit)).scalars()]


def count_responses_with_text(conn: Connection, since: dt.datetime | None = None,
                              after_id: int = 0) -> int:
    has_text = sa.exists().where(A.c.response_id == R.c.id, A.c.value_text.is_not(None),
                                 A.c.value_text != "")
    query = sa.select(sa.func.count()).select_from(R).where(R.c.id > after_id, has_text)
    if since is not None:
        query = query.where(sa.func.coalesce(R.c.submitted_at, R.c.received_at) >= since)
    return int(conn.execute(query).scalar_one())


def unit_industries(conn: Connection) -> dict[int, str | None]:
    """Each unit's industry: its own `industry` attribute or the nearest ancestor's."""
    rows = conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.parent_id,
                                  t.org_unit.c.attributes)).all()
    parent = {row.id: row.parent_id for row in rows}
    own = {row.id: (row.attributes or {}).get("industry") for row in rows}
    resolved: dict[int, str | None] = {}
    for unit_id in parent:
        node: int | None = unit_id
        while node is not None and not own.get(node):
            node = parent.get(node)
        resolved[unit_id] = own.get(node) if node is not None else None
    return resolved


CHECKPOINT_KEY = "text.reanalyze.checkpoint"


def checkpoint(conn: Connection) -> dict[str, Any] | None:
    """Where an unfinished `tiyan text reanalyze` stopped: {"since": …, "after_id": …}."""
    saved = app_settings.get_value(conn, CHECKPOINT_KEY)
    return saved if isinstance(saved, dict) else None


def save_checkpoint(conn: Connection, since: str | None, after_id: int, now: dt.datetime) -> None:
    app_settings.put_value(conn, CHECKPOINT_KEY, {"since": since, "after_id": after_id}, now)


def clear_checkpoint(conn: Connection) -> None:
    conn.execute(sa.delete(t.app_setting).where(t.app_setting.c.key == CHECKPOINT_KEY))


def analyses_for(conn: Connection, response_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Stored analyses by response, each with its aspects (what the API shows)."""
    grouped: dict[int, list[dict[str, Any]]] = {rid: [] for rid in response_ids}
    if not response_ids:
        return grouped
    TA, TX = t.text_analysis, t.text_aspect
    ids = list(response_ids)
    aspects: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(sa.select(TX).where(among(conn, TX.c.response_id, ids))
                            .order_by(TX.c.analysis_id, TX.c.id)).mappings():
        aspects.setdefault(row["analysis_id"], []).append(
            {"aspect": row["aspect_code"], "label": row["label"], "score": row["score"],
             "evidence": row["evidence"]})
    for row in conn.execute(sa.select(TA).where(among(conn, TA.c.response_id, ids))
                            .order_by(TA.c.response_id, TA.c.question_key)).mappings():
        grouped[row["response_id"]].append({**row, "aspects": aspects.get(row["id"], [])})
    return grouped
