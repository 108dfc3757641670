"""One response on a page (zh-CN/en): where and when it came from, its answers (free text masked
without the view_pii permission) and the text analysis of its comments (the stored redacted
copy). Linked from the text insights quotes and from cases; only within the user's scope (404
outside it).

Analysts, CX managers and administrators correct the analysis here (the comment's sentiment,
each aspect's sentiment, an aspect that is not talked about, an aspect the analysis missed);
the text insights page posts its quick corrections to the same address.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.survey_flow import title_for_staff
from tiyan.domain.text_corrections import SENTIMENT_LABELS, TextCorrection
from tiyan.errors import InvalidInput, TiyanError
from tiyan.services import case_desk
from tiyan.services import text_corrections as corrections
from tiyan.store import responses, text_analysis
from tiyan.store import tables as t
from tiyan.store.cases import CASE_PERMISSION
from tiyan.store.scoped import visible
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
NOT_ABOUT = "absent"  # the form's value for "this aspect is not talked about"


@router.get("/responses/{public_id}", response_class=HTMLResponse)
def response_page(public_id: str, request: Request, ctx: ContextDep,
                  actor: PageActor) -> HTMLResponse:
    return _page(request, ctx, actor, public_id[:64])


def _page(request: Request, ctx: Context, actor: Actor, public_id: str, *,
          error: TiyanError | None = None, status_code: int = 200) -> HTMLResponse:
    actor.require(Permission.VIEW_RESPONSES)
    locale = translator(request).locale
    with ctx.db.read() as conn:
        row = responses.get_response(conn, actor, public_id)
        answers = responses.answers_for(conn, actor, [row["id"]])[row["id"]]
        analyses = text_analysis.analyses_for(conn, [row["id"]])[row["id"]]
        by_text = corrections.corrections_by_text(conn, row["id"])
        names = corrections.aspect_names(corrections.industry_of_unit(ctx, conn, row["unit_id"]),
                                         locale)
        definition, read = case_desk.answers_in_words(conn, actor, row, answers, locale)
        words = _words(conn, row, locale)
        case = _case_of(conn, actor, row["id"])
    can_correct = actor.scope.visibility(Permission.CORRECT_TEXT).covers_unit(row["unit_id"])
    return render(request, "response.html", actor=actor, r=row, words=words, answers=read,
                  questions={a.key: a.question for a in read},
                  survey_title=title_for_staff(definition, locale),
                  analyses=[_reading(a, by_text.get(a["question_key"], []), names)
                            for a in analyses],
                  aspect_names=names, can_correct=can_correct, labels=SENTIMENT_LABELS,
                  case=case, error=error, status_code=status_code)


def _case_of(conn: Connection, actor: Actor, response_id: int) -> dict[str, Any] | None:
    """The case the response opened, when the viewer works on cases of its unit: the list's
    row opens the response, and from there the case is one click."""
    C = t.cx_case
    found = conn.execute(sa.select(C.c.public_id, C.c.title, C.c.status).where(
        C.c.response_id == response_id,
        visible(actor.scope.visibility(CASE_PERMISSION), C.c.unit_id))).mappings().first()
    return dict(found) if found else None


def _words(conn: Connection, row: Any, locale: str) -> dict[str, str | None]:
    """The names of the response's unit and touchpoint in the viewer's language."""
    name = t.org_unit.c.name_zh if locale == "zh-CN" else t.org_unit.c.name_en
    unit = conn.execute(sa.select(name).where(t.org_unit.c.id == row["unit_id"])).scalar()
    touchpoint = None
    if row["touchpoint_id"] is not None:
        column = t.touchpoint.c.name_zh if locale == "zh-CN" else t.touchpoint.c.name_en
        touchpoint = conn.execute(sa.select(column).where(
            t.touchpoint.c.id == row["touchpoint_id"])).scalar()
    return {"unit": unit or row["unit_code"], "touchpoint": touchpoint or row["touchpoint_code"]}


def _reading(analysis: dict[str, Any], fixes: list[Any], names: dict[str, str]) -> dict[str, Any]:
    """One analysed text for the page: its aspects by name, which parts people corrected (and
    what the analysis had said), and the aspects people removed."""
    by_aspect = {c.correction.aspect: c for c in fixes}
    sentiment_fix = by_aspect.get(None)
    aspects = [{**a, "name": names.get(a["aspect"], a["aspect"]),
                "correction": by_aspect.get(a["aspect"])} for a in analysis["aspects"]]
    removed = [{"aspect": c.correction.aspect, "name": names.get(c.correction.aspect or "", ""),
                "correction": c} for c in fixes
               if c.correction.aspect is not None and c.correction.label is None]
    return {**analysis, "aspects": aspects, "removed": removed, "sentiment_fix": sentiment_fix,
            "missing": [code for code in names if code not in {a["aspect"] for a in aspects}]}


@router.post("/responses/{public_id}/corrections")
def correct(request: Request, public_id: str, ctx: ContextDep, actor: PageActor,
            question_key: Annotated[str, Form(max_length=130)],
            label: Annotated[str, Form(max_length=16)] = "",
            aspect: Annotated[str, Form(max_length=64)] = "",
            evidence: Annotated[str, Form(max_length=500)] = "",
            action: Annotated[str, Form(max_length=16)] = "save",
            back: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Save or take back a correction; back to the response page (or the text insights page
    it came from) at the corrected text."""
    public_id = public_id[:64]
    try:
        if action == "withdraw":
            corrections.do_withdraw_correction(ctx, actor, public_id, question_key,
                                               aspect or None)
        else:
            if label not in (*SENTIMENT_LABELS, NOT_ABOUT):
                raise InvalidInput("response_page.choose_sentiment", where="label")
            if label == NOT_ABOUT and not aspect:
                raise InvalidInput("response_page.only_aspect_can_marked",
                                   where="label")
            corrections.do_correct_text(ctx, actor, public_id, TextCorrection(
                question_key, aspect or None, None if label == NOT_ABOUT else label,
                evidence.strip() or None))
    except TiyanError as exc:
        if exc.status in (403, 404):
            raise
        return _page(request, ctx, actor, public_id, error=exc, status_code=exc.status)
    target = back if _local(back) else f"/responses/{public_id}#text-{question_key}"
    return RedirectResponse(target, status_code=303)


def _local(path: str) -> bool:
    """Only a path of this site (never another host) is followed after a correction."""
    return path.startswith("/dashboard/text") and "\\" not in path and "//" not in path
