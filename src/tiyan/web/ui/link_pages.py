"""Links & QR codes of a survey, per unit, for CX managers (/surveys/{code}/links)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tiyan.domain.access import Permission
from tiyan.services import survey_links as links
from tiyan.store import org
from tiyan.store.scoped import parent_map
from tiyan.store.surveys import get_survey
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
UnitCode = Annotated[str | None, Query(max_length=64)]


@router.get("/surveys/{code}/links", response_class=HTMLResponse)
def links_page(request: Request, ctx: ContextDep, actor: PageActor, code: str,
               unit: UnitCode = None) -> HTMLResponse:
    """Pick a unit; see its anonymous link and download the QR code as PNG or SVG."""
    with ctx.db.read() as conn:
        survey = get_survey(conn, actor, code[:64])
        parents = parent_map(conn)
        managed = actor.scope.visibility(Permission.MANAGE_SURVEYS).unit_ids
        units = [u for u in org.list_units(conn, actor)
                 if u["id"] in managed and _under(u["id"], survey["unit_id"], parents)]
    chosen = unit or (units[0]["code"] if len(units) == 1 else None)
    link = links.access_survey_link(ctx, actor, survey["code"], chosen) if chosen else None
    return render(request, "survey_links.html", actor=actor, survey=survey, units=units,
                  chosen=chosen, link=link)


@router.get("/surveys/{code}/links/qr.{kind}")
def qr_download(ctx: ContextDep, actor: PageActor, code: str, kind: str,
                unit: Annotated[str, Query(max_length=64)],
                download: bool = False) -> Response:
    link = links.access_survey_link(ctx, actor, code[:64], unit)
    body = links.qr_code(link, kind)
    headers = {"Content-Disposition":
               f'attachment; filename="{links.qr_filename(link, kind)}"'} if download else {}
    return Response(body, media_type=links.QR_FORMATS[kind], headers=headers)


def _under(unit_id: int, owner_id: int, parents: dict[int, int | None]) -> bool:
    node: int | None = unit_id
    while node is not None:
        if node == owner_id:
            return True
        node = parents.get(node)
    return False
