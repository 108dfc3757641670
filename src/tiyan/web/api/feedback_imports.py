"""REST API for importing feedback files: POST a file with its mapping, GET an import's report.

    POST /api/v1/feedback/imports   multipart: file, source, unit (optional), mapping (JSON
                                    object field -> column, optional), encoding (optional)
    GET  /api/v1/feedback/imports/{id}
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from pydantic import BaseModel

from tiyan.domain import json_depth
from tiyan.domain.access import Permission
from tiyan.errors import InvalidInput
from tiyan.services.feedback_import import ImportRequest, do_import_feedback
from tiyan.services.import_jobs import queue_import_feedback, runs_in_background
from tiyan.services.storage import save_upload
from tiyan.store import feedback as store
from tiyan.web.api.schemas import ErrorBody, ProblemOut, problems_out
from tiyan.web.deps import ApiActor, ContextDep
from tiyan.web.errors import error_locale

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1/feedback/imports", tags=["feedback"], responses=ERRORS)


class ImportOut(BaseModel):
    id: str
    status: str
    filename: str
    format: str
    source: str
    mapping: dict[str, Any]
    rows_total: int
    rows_stored: int
    rows_duplicate: int
    rows_rejected: int
    problems: list[ProblemOut]
    created_at: str | None = None
    finished_at: str | None = None
    bytes_total: int | None = None
    bytes_read: int = 0


@contextmanager
def saved_upload(upload: UploadFile) -> Iterator[Path]:
    """The upload copied in chunks (bounded memory) to a private temporary folder of this
    request, removed afterwards (a background import stores the file for its job)."""
    with tempfile.TemporaryDirectory(prefix="tiyan-upload-") as folder:
        yield save_upload(upload.file, Path(folder))


def parse_mapping_json(text: str | None) -> dict[str, str]:
    if not text or not text.strip():
        return {}
    try:
        value = json_depth.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("feedback_imports.mapping_not_valid_json", msg=exc.msg,
                           where="mapping") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidInput("feedback_imports.mapping_must_json_object",
                           where="mapping")
    return {str(k): v for k, v in value.items()}


@router.post("", response_model=ImportOut, status_code=201)
def create_import(
    ctx: ContextDep, actor: ApiActor, response: Response, request: Request,
    file: Annotated[UploadFile, File(description="A .csv, .xlsx or .jsonl file")],
    source: Annotated[str, Form(max_length=16, description="review, hotline, social or "
                                                            "complaint")],
    unit: Annotated[str | None, Form(max_length=64)] = None,
    mapping: Annotated[str | None, Form(max_length=4000,
                                        description='JSON, e.g. {"text": "内容"}')] = None,
    encoding: Annotated[str | None, Form(max_length=32)] = None,
    background: Annotated[bool | None, Form(
        description="true: run in the background (202, poll GET …/{id}); false: wait. "
                    "Default: files over 2 MB run in the background")] = None,
) -> ImportOut:
    """Import a file: valid rows are stored, rejected rows listed (first 1,000 in the reply).
    A background import answers 202 with status "queued"; its counts and `bytes_read` grow
    as it runs."""
    actor.require(Permission.IMPORT_FEEDBACK)
    fields = parse_mapping_json(mapping)
    name = Path(file.filename or "upload.csv").name
    with saved_upload(file) as path:
        req = ImportRequest(path=path, filename=name, source=source, unit_code=unit or None,
                            mapping=fields, encoding=encoding or None)
        if background if background is not None else runs_in_background(path):
            report = queue_import_feedback(ctx, actor, req)
            response.status_code = 202
        else:
            report = do_import_feedback(ctx, actor, req)
    return get_import(report.import_id, request, ctx, actor)


@router.get("/{import_id}", response_model=ImportOut)
def get_import(import_id: str, request: Request, ctx: ContextDep, actor: ApiActor) -> ImportOut:
    """An import's counts and its rejected rows (the first 1,000)."""
    actor.require(Permission.IMPORT_FEEDBACK)
    with ctx.db.read() as conn:
        row = store.access_batch(conn, actor, import_id[:64])
    return ImportOut(
        id=row["public_id"], status=row["status"], filename=row["filename"],
        format=row["file_format"], source=row["source"], mapping=dict(row["mapping"] or {}),
        rows_total=row["rows_total"], rows_stored=row["rows_stored"],
        rows_duplicate=row["rows_duplicate"], rows_rejected=row["rows_rejected"],
        problems=problems_out(row["rejections"], error_locale(request)),
        created_at=row["created_at"].isoformat() if row["created_at"] else None,
        finished_at=row["finished_at"].isoformat() if row["finished_at"] else None,
        bytes_total=row["bytes_total"], bytes_read=row["bytes_read"])
