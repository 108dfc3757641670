"""The "Import feedback" page: upload a file, check the guessed mapping on its first rows, import.

    GET  /feedback/import            the upload form and my recent imports
    POST /feedback/import            upload → the preview: columns, guessed mapping, first rows
    POST /feedback/import/run        the previewed upload with the mapping chosen → its report
    GET  /feedback/imports/{id}      an import's counts and rejected rows

The previewed file waits in the object store (the database: any serve process can take the next
step) under a random token bound to the user, so the import does not need a second upload; it
is removed once imported (a periodic job removes previews never imported after a day). Files
over `SYNC_MAX_BYTES` are imported by a background job: the report page shows the progress and
updates itself (htmx) until the import is done.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.feedback_rows import FEEDBACK_SOURCES, FIELDS
from tiyan.errors import InvalidInput, TiyanError
from tiyan.services.feedback_import import ImportRequest, do_import_feedback, preview
from tiyan.services.import_jobs import (
    UPLOAD_MAX_AGE,
    UPLOAD_PREFIX,
    ensure_cleanup,
    queue_import_feedback,
    runs_in_background,
)
from tiyan.services.storage import ObjectMissing, copy_to_file, object_store, put_file, save_upload
from tiyan.store import feedback as store
from tiyan.store import org
from tiyan.web.bodies import PostedForm
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
TOKEN = re.compile(r"^[0-9]+-[A-Za-z0-9_-]{20,64}$")
Short = Annotated[str, Form(max_length=300)]



def _page(request: Request, ctx: Context, actor: Actor, *, status_code: int = 200,
          **values: object) -> HTMLResponse:
    with ctx.db.read() as conn:
        reach = actor.scope.visibility(Permission.IMPORT_FEEDBACK).unit_ids
        units = [u for u in org.list_units(conn, actor) if u["id"] in reach]
        recent = store.recent_batches(conn, actor)
    return render(request, "feedback_import.html", actor=actor, units=units, recent=recent,
                  sources=[s.value for s in FEEDBACK_SOURCES], fields=FIELDS,
                  status_code=status_code, **values)


@router.get("/feedback/import", response_class=HTMLResponse)
def import_form(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.IMPORT_FEEDBACK)
    return _page(request, ctx, actor)


@router.post("/feedback/import", response_class=HTMLResponse)
def upload(request: Request, ctx: ContextDep, actor: PageActor,
           file: Annotated[UploadFile, File()], source: Short, unit: Short = "",
           encoding: Short = "") -> HTMLResponse:
    actor.require(Permission.IMPORT_FEEDBACK)
    name = Path(file.filename or "").name
    token = f"{actor.user_id}-{secrets.token_urlsafe(24)}"
    form = {"source": source, "unit": unit, "encoding": encoding, "filename": name,
            "token": token}
    with tempfile.TemporaryDirectory(prefix="tiyan-upload-") as folder:
        path = save_upload(file.file, Path(folder))
        try:
            if not name:
                raise InvalidInput("import_pages.choose_file_import", where="file")
            shown = preview(path, filename=name, encoding=encoding or None,
                            default_unit=bool(unit), rows=5)
        except TiyanError as exc:
            return _page(request, ctx, actor, status_code=exc.status, error=exc, form=form)
        now = ctx.now()
        put_file(object_store(ctx), _preview_key(token), path, now=now,
                 expires_at=now + UPLOAD_MAX_AGE)
    with ctx.db.write() as conn:
        ensure_cleanup(conn, now)
    return _page(request, ctx, actor, preview=shown, form=form)


def _preview_key(token: str) -> str:
    return f"{UPLOAD_PREFIX}preview-{token}"


@contextmanager
def _previewed_upload(ctx: Context, actor: Actor, token: str) -> Iterator[tuple[str, Path]]:
    """The stored preview's key and a local copy of it (in this request's temporary folder)."""
    if not TOKEN.match(token) or not token.startswith(f"{actor.user_id}-"):
        raise InvalidInput("import_pages.upload_not_yours_expired",
                           where="file")
    key = _preview_key(token)
    with tempfile.TemporaryDirectory(prefix="tiyan-upload-") as folder:
        path = Path(folder) / "upload"
        try:
            copy_to_file(object_store(ctx), key, path)
        except ObjectMissing:
            raise InvalidInput("import_pages.upload_expired_upload_file",
                               where="file") from None
        yield key, path


@router.post("/feedback/import/run", response_class=HTMLResponse)
def run_import(request: Request, ctx: ContextDep, actor: PageActor,
               form: PostedForm) -> Response:
    values = {k: str(v)[:300] for k, v in form.items() if isinstance(v, str)}
    mapping = {f: values[f"map_{f}"] for f in FIELDS if values.get(f"map_{f}")}
    try:
        with _previewed_upload(ctx, actor, values.get("token", "")) as (key, path):
            req = ImportRequest(
                path=path, filename=values.get("filename") or "upload.csv",
                source=values.get("source", ""), unit_code=values.get("unit") or None,
                mapping=mapping, encoding=values.get("encoding") or None)
            if runs_in_background(path):
                report = queue_import_feedback(ctx, actor, req, upload_key=key)
                return RedirectResponse(f"/feedback/imports/{report.import_id}",
                                        status_code=303)
            report = do_import_feedback(ctx, actor, req)
    except TiyanError as exc:
        return _page(request, ctx, actor, status_code=exc.status, error=exc, form=values)
    object_store(ctx).delete(key)
    return RedirectResponse(f"/feedback/imports/{report.import_id}", status_code=303)


@router.get("/feedback/imports/{import_id}", response_class=HTMLResponse)
def import_detail(request: Request, import_id: str, ctx: ContextDep,
                  actor: PageActor) -> HTMLResponse:
    actor.require(Permission.IMPORT_FEEDBACK)
    with ctx.db.read() as conn:
        batch = store.access_batch(conn, actor, import_id[:64])
    return _page(request, ctx, actor, batch=batch)
