"""The survey builder pages: the survey list, the question editor, JSON editing, preview.

Server-rendered forms that work without JavaScript; with htmx the editor swaps in place.
Every change goes through `tiyan.services.surveys` (validated, scoped, audit-logged).
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain import json_depth
from tiyan.domain.access import Actor, Permission
from tiyan.domain.survey_changes import history
from tiyan.domain.survey_templates import TEMPLATES, template
from tiyan.domain.surveys import LANGUAGES, QuestionType
from tiyan.errors import InvalidInput, TiyanError
from tiyan.services import surveys as service
from tiyan.store import journeys, org
from tiyan.store import surveys as store
from tiyan.web.deps import MAX_FORM_FIELDS, ContextDep, PageActor
from tiyan.web.ui import survey_form as sf
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
MAX_FIELDS = MAX_FORM_FIELDS


async def posted(request: Request) -> dict[str, str]:
    """The posted form as a flat mapping (its CSRF token is checked by PageActor)."""
    form = await request.form(max_fields=MAX_FIELDS)
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


Posted = Annotated[dict[str, str], Depends(posted)]


@router.get("/surveys", response_class=HTMLResponse)
def survey_list(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.MANAGE_SURVEYS)
    return _list_page(request, ctx, actor)


@router.post("/surveys", response_class=HTMLResponse)
def create_survey(request: Request, ctx: ContextDep, actor: PageActor,
                  fields: Posted) -> Response:
    code = fields.get("code", "").strip() or _suggest_code(fields.get("template", "survey"))
    new = service.NewSurvey(code=code, name=fields.get("name", "").strip(),
                            unit_code=fields.get("unit_code", ""),
                            template=fields.get("template") or None,
                            touchpoint=_touchpoint_ref(fields.get("touchpoint", "")))
    try:
        service.do_create_survey(ctx, actor, new)
    except TiyanError as exc:
        return _list_page(request, ctx, actor, error=exc, values=fields, status_code=exc.status)
    return _redirect(request, f"/surveys/{code}")


def _list_page(request: Request, ctx: Context, actor: Actor, **values: Any) -> HTMLResponse:
    with ctx.db.read() as conn:
        rows = store.survey_overview(conn, actor)
        manageable = actor.scope.visibility(Permission.MANAGE_SURVEYS)
        units = [u for u in org.list_units(conn, actor) if manageable.covers_unit(u["id"])]
        touchpoints = _touchpoint_choices(conn)
    templates = [(code, template(code)) for code in TEMPLATES]
    return render(request, "surveys.html", actor=actor, rows=rows, units=units,
                  templates=templates, touchpoints=touchpoints,
                  values=values.pop("values", {}), **values)


def _suggest_code(template_code: str) -> str:
    return f"{template_code.replace('_', '-')}-{secrets.token_hex(3)}"


@router.get("/surveys/{code}", response_class=HTMLResponse)
def survey_page(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                published: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
    with ctx.db.read() as conn:
        editing = service.editing(conn, actor, code[:64])
    return _editor_page(request, ctx, actor, editing,
                        sf.form_from_definition(editing.definition), published=published)


@router.post("/surveys/{code}/edit", response_class=HTMLResponse)
def edit_survey(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                fields: Posted) -> Response:
    """One form, several buttons: add/remove/move questions (not saved yet), save, publish."""
    form = sf.form_from_fields(fields)
    action = fields.get("action", "refresh")
    if action not in ("save", "publish"):
        sf.apply_action(form, action, fields.get("new_type", "text"))
        return _editor_after_post(request, ctx, actor, code, form, None)
    try:
        service.do_save_draft(ctx, actor, code, sf.definition_from_form(form))
        if action == "publish":
            version = service.do_publish(ctx, actor, code)
            return _redirect(request, f"/surveys/{code}?published={version}")
    except InvalidInput as exc:
        return _editor_after_post(request, ctx, actor, code, form, exc)
    return _redirect(request, f"/surveys/{code}?saved=1")


@router.post("/surveys/{code}/json", response_class=HTMLResponse)
def edit_json(request: Request, ctx: ContextDep, actor: PageActor, code: str,
              fields: Posted) -> Response:
    """The power users' editor: the whole definition as JSON."""
    text = fields.get("definition", "")
    try:
        raw = json_depth.loads(text)
        if not isinstance(raw, dict):
            raise InvalidInput("builder.definition_must_json_object", where="json")
        service.do_save_draft(ctx, actor, code, raw)
    except ValueError as exc:
        error = InvalidInput("builder.not_valid_json", exc=exc, where="json")
        return _editor_after_post(request, ctx, actor, code, None, error, json_text=text)
    except InvalidInput as exc:
        return _editor_after_post(request, ctx, actor, code, None, exc, json_text=text)
    return _redirect(request, f"/surveys/{code}?saved=1")


@router.post("/surveys/{code}/publish")
def publish(request: Request, ctx: ContextDep, actor: PageActor, code: str,
            fields: Posted) -> Response:
    version = service.do_publish(ctx, actor, code)
    return _redirect(request, f"/surveys/{code}?published={version}")


@router.post("/surveys/{code}/discard")
def discard(request: Request, ctx: ContextDep, actor: PageActor, code: str,
            fields: Posted) -> Response:
    service.do_discard_draft(ctx, actor, code)
    return _redirect(request, f"/surveys/{code}")


@router.post("/surveys/{code}/status")
def set_status(request: Request, ctx: ContextDep, actor: PageActor, code: str,
               fields: Posted) -> Response:
    service.do_set_status(ctx, actor, code, fields.get("status", ""))
    return _redirect(request, f"/surveys/{code}")


@router.post("/surveys/{code}/touchpoint")
def attach(request: Request, ctx: ContextDep, actor: PageActor, code: str,
           fields: Posted) -> Response:
    service.do_attach_touchpoint(ctx, actor, code, _touchpoint_ref(fields.get("touchpoint", "")))
    return _redirect(request, f"/surveys/{code}")


@router.get("/surveys/{code}/preview", response_class=HTMLResponse)
def preview(request: Request, ctx: ContextDep, actor: PageActor, code: str,
            version: Annotated[int | None, Query(ge=1, le=100_000)] = None) -> HTMLResponse:
    """How the questions read, page by page, with their display logic spelled out."""
    with ctx.db.read() as conn:
        editing = service.editing(conn, actor, code[:64])
        raw = editing.definition if version is None else \
            store.version_row(conn, editing.survey["id"], version)["definition"]
    from tiyan.domain.surveys import parse_definition

    definition = parse_definition(raw)
    pages: dict[int, list[Any]] = {}
    for q in definition.questions:
        pages.setdefault(q.page, []).append(q)
    return render(request, "survey_preview.html", actor=actor, survey=editing.survey,
                  definition=definition, pages=sorted(pages.items()),
                  shown_version=version or editing.version)


# --- helpers -------------------------------------------------------------------------------

def _editor_after_post(request: Request, ctx: Context, actor: Actor, code: str,
                       form: sf.SurveyForm | None, error: TiyanError | None,
                       json_text: str | None = None) -> HTMLResponse:
    with ctx.db.read() as conn:
        editing = service.editing(conn, actor, code[:64])
    form = form or sf.form_from_definition(editing.definition)
    status = 422 if error and not request.headers.get("hx-request") else 200
    return _editor_page(request, ctx, actor, editing, form, error=error, json_text=json_text,
                        unsaved=True, status_code=status)


def _editor_page(request: Request, ctx: Context, actor: Actor, editing: service.Editing,
                 form: sf.SurveyForm, *, error: TiyanError | None = None,
                 json_text: str | None = None, unsaved: bool = False,
                 published: int | None = None, status_code: int = 200) -> HTMLResponse:
    survey = editing.survey
    with ctx.db.read() as conn:
        versions = store.list_versions(conn, actor, survey["id"])
        touchpoints = _touchpoint_choices(conn)
    can_edit = actor.scope.visibility(Permission.MANAGE_SURVEYS).covers_unit(survey["unit_id"])
    changes = history([(v["version"], v["definition"]) for v in reversed(versions)])
    error_at = sf.error_question(error.where if error else None, form)
    definition_json = json_text if json_text is not None else json.dumps(
        editing.definition, ensure_ascii=False, indent=2)
    return render(request, "survey_edit.html", actor=actor, survey=survey, editing=editing,
                  form=form, error=error, error_at=error_at, versions=versions, changes=changes,
                  can_edit=can_edit, touchpoints=touchpoints, unsaved=unsaved,
                  published=published, saved=request.query_params.get("saved") == "1",
                  definition_json=definition_json, json_open=json_text is not None,
                  question_types=[t.value for t in
                                                                   QuestionType],
                  ops=sf.OPS, languages=LANGUAGES, status_code=status_code)


def _touchpoint_choices(conn: Any) -> list[tuple[str, str, str]]:
    """(value "journey:touchpoint", zh label, en label) for every touchpoint, in journey order."""
    choices = []
    for j in journeys.list_journeys(conn):
        rows = journeys.touchpoints(conn, j["id"])
        for top in (r for r in rows if r["parent_id"] is None):
            for r in [top, *(c for c in rows if c["parent_id"] == top["id"])]:
                inner = r is not top
                zh = f"{j['name_zh']} › " + (f"{top['name_zh']} › " if inner else "") + r["name_zh"]
                en = f"{j['name_en']} › " + (f"{top['name_en']} › " if inner else "") + r["name_en"]
                choices.append((f"{j['code']}:{r['code']}", zh, en))
    return choices


def _touchpoint_ref(value: str) -> service.TouchpointRef | None:
    journey, _, touchpoint = value.partition(":")
    return service.TouchpointRef(journey, touchpoint) if journey and touchpoint else None


def _redirect(request: Request, url: str) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
