"""`GET /api/v1/responses/export.parquet`: response data as Apache Parquet, for analysts.

The same filters and scope as `GET /api/v1/responses` (see api/response_filters); one row per
answer (tidy long format, the columns of the CSV export plus touchpoint, source and status), free
text masked unless the caller may see personal data. Written and sent a row group at a time
(2,000 responses per group), so memory stays bounded however many responses there are.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.store.responses import ResponseFilter, iter_export_rows
from tiyan.web.api.exports import audit_responses_export
from tiyan.web.api.response_filters import ListFilters, build_filter, list_filters
from tiyan.web.deps import ApiActor, ContextDep
from tiyan.web.request_origin import OriginDep

router = APIRouter(prefix="/api/v1", tags=["responses"])
BATCH = 2000  # responses per row group


def schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("response_id", pa.string()), ("submitted_at", pa.timestamp("us", tz="UTC")),
        ("survey", pa.string()), ("unit", pa.string()), ("staff", pa.string()),
        ("touchpoint", pa.string()), ("channel", pa.string()), ("source", pa.string()),
        ("language", pa.string()), ("question_key", pa.string()), ("item_code", pa.string()),
        ("value_num", pa.float64()), ("value_text", pa.string()),
    ])


@router.get("/responses/export.parquet", response_class=StreamingResponse)
def export_parquet(ctx: ContextDep, actor: ApiActor, origin: OriginDep,
                   filters: Annotated[ListFilters, Depends(list_filters)]) -> StreamingResponse:
    """Every response you may see that the filters select, one row per answer, as Parquet;
    each export is in the audit log."""
    actor.require(Permission.VIEW_RESPONSES)
    actor.require(Permission.EXPORT)
    with ctx.db.read() as conn:
        f = build_filter(conn, actor, filters)  # bad filters fail here, before streaming
    audit_responses_export(ctx, actor, f, "parquet", origin, asdict(filters))
    return StreamingResponse(
        parquet_chunks(ctx, actor, f), media_type="application/vnd.apache.parquet",
        headers={"Content-Disposition": 'attachment; filename="responses.parquet"'})


class _Sink:
    """A write-only file for pyarrow that hands back what was written since the last drain."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def parquet_chunks(ctx: Context, actor: Actor, f: ResponseFilter,
                   batch: int = BATCH) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = _Sink()
    shape = schema()
    writer = pq.ParquetWriter(sink, shape, compression="zstd")
    columns: dict[str, list[Any]] = {name: [] for name in shape.names}
    responses = 0

    def flush() -> bytes:
        writer.write_table(pa.table(columns, schema=shape))
        for values in columns.values():
            values.clear()
        return sink.drain()

    with ctx.db.read() as conn:
        for row, answers in iter_export_rows(conn, actor, f, batch=batch):
            submitted = row["submitted_at"]
            if isinstance(submitted, dt.datetime) and submitted.tzinfo is None:
                submitted = submitted.replace(tzinfo=dt.UTC)
            head = {"response_id": row["public_id"], "submitted_at": submitted,
                    "survey": row["survey_code"], "unit": row["unit_code"],
                    "staff": row["staff_code"], "touchpoint": row["touchpoint_code"],
                    "channel": row["channel"], "source": row["source"],
                    "language": row["language"]}
            for a in answers:
                for name, value in head.items():
                    columns[name].append(value)
                columns["question_key"].append(a["question_key"])
                columns["item_code"].append(a["item_code"])
                columns["value_num"].append(None if a["value_num"] is None
                                            else float(a["value_num"]))
                columns["value_text"].append(
                    a["value_text"] if a["value_json"] is None
                    else json.dumps(a["value_json"], ensure_ascii=False))
            responses += 1
            if responses % batch == 0:
                yield flush()
    if columns["response_id"]:
        yield flush()
    writer.close()
    yield sink.drain()
