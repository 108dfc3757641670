"""Links & QR codes of a survey, per unit, for CX managers (/surveys/{code}/links), with the
link's ballot-stuffing limits (services/link_guard)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.domain.access import Actor, Permission
from tiyan.domain.link_guard import LIMITS
from tiyan.errors import TiyanError
from tiyan.services import link_guard
from tiyan.services import survey_links as links
from tiyan.store import org
from tiyan.store.scoped import parent_map
from tiyan.store.surveys import get_survey
from tiyan.web.bodies import PostedForm
from tiyan.web.client_address import client_address
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.messages import error_text
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
UnitCode = Annotated[str | None, Query(max_length=64)]


@router.get("/surveys/{code}/links", response_class=HTMLResponse)
def links_page(request: Request, ctx: ContextDep, actor: PageActor, code: str,
               unit: UnitCode = None, done: str | None = None) -> HTMLResponse:
    """Pick a unit; see its anonymous link and download the QR code as PNG or SVG; set the
    link's limits."""
    return _page(request, ctx, actor, code, unit, saved=done == "saved")


def _page(request: Request, ctx: ContextDep, actor: Actor, code: str, unit: str | None, *,
          status_code: int = 200, form: dict[str, str] | None = None, error: str = "",
          saved: bool = False) -> HTMLResponse:
    with ctx.db.read() as conn:
        survey = get_survey(conn, actor, code[:64])
        parents = parent_map(conn)
        managed = actor.scope.visibility(Permission.MANAGE_SURVEYS).unit_ids
        units = [u for u in org.list_units(conn, actor)
                 if u["id"] in managed and _under(u["id"], survey["unit_id"], parents)]
    chosen = unit or (units[0]["code"] if len(units) == 1 else None)
    link = links.access_survey_link(ctx, actor, survey["code"], chosen) if chosen else None
    if link is not None and form is None:
        policy = link_guard.view_policy(ctx, actor, survey["code"], link.unit_code)
        form = {name: str(value) for name, value in policy.as_dict().items()}
    return render(request, "survey_links.html", actor=actor, survey=survey, units=units,
                  chosen=chosen, link=link, policy=form, limits=LIMITS, error=error,
                  saved=saved, status_code=status_code)


@router.post("/surveys/{code}/links/policy", response_class=HTMLResponse)
def save_policy(request: Request, ctx: ContextDep, actor: PageActor, form: PostedForm,
                code: str, unit: Annotated[str, Query(max_length=64)]) -> Response:
    """Save the limits of the survey's anonymous link at the unit (checked, audited)."""
    code = code[:64]
    link_guard.view_policy(ctx, actor, code, unit)  # scope first: 404 / 403 before anything
    values = {name: str(form.get(name, ""))[:16] for name in LIMITS}
    try:
        link_guard.do_save_policy(ctx, actor, code, unit, values, ip=client_address(request))
    except TiyanError as exc:
        if exc.status in (403, 404):
            raise
        return _page(request, ctx, actor, code, unit, status_code=exc.status, form=values,
                     error=error_text(translator(request), exc, "links.error.",
                                      **_range(exc.where)))
    return RedirectResponse(f"/surveys/{quote(code, safe='')}/links?unit={quote(unit, safe='')}"
                            "&done=saved", status_code=303)


def _range(name: str | None) -> dict[str, int]:
    low, high = LIMITS.get(name or "", (0, 0))
    return {"low": low, "high": high}


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


# --- responses the link guard flagged ---------------------------------------------------------

@router.get("/flagged-responses", response_class=HTMLResponse)
def flagged_page(request: Request, ctx: ContextDep, actor: PageActor,
                 state: Annotated[str, Query(max_length=16)] = "flagged",
                 survey: UnitCode = None, done: str | None = None) -> HTMLResponse:
    """The responses the ballot-stuffing guard flagged, with their reasons; a manager restores
    a false positive (or leaves a restored one out again)."""
    state = state if state in link_guard.STATES else "flagged"
    rows = link_guard.list_flagged(ctx, actor, state=state, survey_code=survey or None)
    manage = actor.scope.visibility(Permission.MANAGE_SURVEYS)
    return render(request, "flagged_responses.html", actor=actor, rows=rows, state=state,
                  states=link_guard.STATES, survey=survey or "",
                  can_change={r["id"] for r in rows if manage.covers_unit(r["unit_id"])},
                  done=done if done in ("restored", "excluded") else None)


@router.post("/flagged-responses/{public_id}", response_class=HTMLResponse)
def set_counted(request: Request, ctx: ContextDep, actor: PageActor, form: PostedForm,
                public_id: str) -> Response:
    """Restore (counted=1) or leave out again (counted=0) one flagged response (audited)."""
    counted = str(form.get("counted", "")) == "1"
    link_guard.do_set_counted(ctx, actor, public_id[:64], counted, ip=client_address(request))
    state = str(form.get("state", "flagged"))
    survey = str(form.get("survey", ""))[:64]
    query = f"state={state if state in link_guard.STATES else 'flagged'}"
    if survey:
        query += f"&survey={quote(survey, safe='')}"
    return RedirectResponse(f"/flagged-responses?{query}&done="
                            f"{'restored' if counted else 'excluded'}", status_code=303)
