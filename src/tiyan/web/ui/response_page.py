"""One response on a page (zh-CN/en): where and when it came from, its answers (free text masked
without the view_pii permission) and the text analysis of its comments (the stored redacted
copy). Linked from the text insights quotes and from cases; only within the user's scope (404
outside it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tiyan.domain.access import Permission
from tiyan.store import responses, text_analysis
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)


@router.get("/responses/{public_id}", response_class=HTMLResponse)
def response_page(public_id: str, request: Request, ctx: ContextDep,
                  actor: PageActor) -> HTMLResponse:
    actor.require(Permission.VIEW_RESPONSES)
    with ctx.db.read() as conn:
        row = responses.get_response(conn, actor, public_id[:64])
        answers = responses.answers_for(conn, actor, [row["id"]])[row["id"]]
        analyses = text_analysis.analyses_for(conn, [row["id"]])[row["id"]]
    return render(request, "response.html", actor=actor, r=row, answers=answers,
                  analyses=analyses)
