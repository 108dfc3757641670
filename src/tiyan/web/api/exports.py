"""Exports of response data, streamed in batches and limited to the caller's scope."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from tiyan.analytics.export_cells import csv_row, drain
from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.services.audit_trail import Export, Origin, do_audit_export
from tiyan.store.responses import ResponseFilter, count_responses, iter_export_rows
from tiyan.web.api.response_filters import ListFilters, build_filter, list_filters
from tiyan.web.deps import ApiActor, ContextDep
from tiyan.web.request_origin import OriginDep

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])
COLUMNS = ("response_id", "submitted_at", "survey", "unit", "staff", "channel", "language",
           "question_key", "item_code", "value_num", "value_text")


@router.get("/responses.csv", response_class=StreamingResponse)
def export_responses_csv(ctx: ContextDep, actor: ApiActor, origin: OriginDep,
                         filters: Annotated[ListFilters, Depends(list_filters)]
                         ) -> StreamingResponse:
    """The responses you may see that the filters select (those of `GET /api/v1/responses`),
    one row per answer (tidy long format), as UTF-8 CSV; each export is in the audit log.
    The responses page exports the same long format, and one row per response with the
    questions as columns (CSV and Excel), under its own filters."""
    actor.require(Permission.EXPORT)
    with ctx.db.read() as conn:
        f = build_filter(conn, actor, filters)  # bad filters fail here, before streaming
    audit_responses_export(ctx, actor, f, "csv", origin, asdict(filters))
    return StreamingResponse(long_csv_lines(ctx, actor, f), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="responses.csv"'})


def audit_responses_export(ctx: Context, actor: Actor, f: ResponseFilter, fmt: str,
                           origin: Origin, filters: Mapping[str, object] | None = None,
                           shape: str = "long") -> None:
    """Audit an export of responses before it streams (the entry is committed as the answer
    starts), with the number of responses it holds and its `shape`: "long" (one row per
    answer) or "wide" (one row per response)."""
    with ctx.db.read() as conn:
        count = count_responses(conn, actor, f)
    do_audit_export(ctx, actor, Export("responses", fmt, rows=count, filters=filters or {},
                                       entity_id=shape), origin)


def long_csv_lines(ctx: Context, actor: Actor, f: ResponseFilter) -> Iterator[str]:
    """The responses `f` selects, one CSV row per answer (UTF-8 with a byte order mark)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield "\ufeff" + drain(buffer)
    with ctx.db.read() as conn:
        for row, answers in iter_export_rows(conn, actor, f):
            head = (row["public_id"], row["submitted_at"].isoformat() if row["submitted_at"]
                    else "", row["survey_code"] or "", row["unit_code"], row["staff_code"] or "",
                    row["channel"], row["language"] or "")
            for a in answers:
                text = a["value_text"] if a["value_json"] is None else json.dumps(
                    a["value_json"], ensure_ascii=False)
                writer.writerow(csv_row((*head, a["question_key"], a["item_code"] or "",
                                         "" if a["value_num"] is None else a["value_num"],
                                         text or "")))
            yield drain(buffer)

