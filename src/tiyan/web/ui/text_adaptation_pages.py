"""The administrators' page of the text analysis' adaptation to people's corrections (zh-CN/en):
how many corrections are stored, every adaptation fitted on them (which one is in use, what each
learned), and the buttons that fit a new one or roll back to the one before, both run in the
background (tiyan.services.text_corrections)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import TiyanError
from tiyan.services import text_corrections as service
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)


@router.get("/text/adaptation", response_class=HTMLResponse)
def adaptation_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    return _page(request, ctx, actor)


def _page(request: Request, ctx: Context, actor: Actor, *, queued: bool = False,
          error: TiyanError | None = None, status_code: int = 200) -> HTMLResponse:
    actor.require(Permission.ADAPT_TEXT_MODELS)
    with ctx.db.read() as conn:
        active, rows = service.adaptation_history(conn)
        corrections = service.correction_count(conn)
    history = [{**row, "learned": _learned(row["summary"])} for row in rows]
    return render(request, "text_adaptation.html", actor=actor, active=active, history=history,
                  corrections=corrections, queued=queued, error=error, status_code=status_code)


def _learned(summary: dict[str, object]) -> dict[str, int]:
    """What an adaptation learned, for its row: counts, and (`*_kept`: 1) whether a layer fitted
    on the corrections kept the shipped readings (cross-validation showed no clear gain)."""
    def examples(key: str) -> int:
        layers = summary.get(key) or {}
        return sum(int(v.get("examples", 0)) for v in layers.values()) \
            if isinstance(layers, dict) else 0

    def kept(key: str) -> int:
        layers = summary.get(key) or {}
        return int(isinstance(layers, dict) and any(
            isinstance(v, dict) and v.get("examples") and v.get("penalty") is None
            for v in layers.values()))

    def terms(key: str) -> int:
        found = summary.get(key) or {}
        return sum(len(v) for v in found.values()) if isinstance(found, dict) else 0

    return {"sentiment": examples("sentiment"), "aspects": examples("aspect_sentiment"),
            "added": terms("added_terms"), "dropped": terms("dropped_terms"),
            "sentiment_kept": kept("sentiment"), "aspects_kept": kept("aspect_sentiment")}


@router.post("/text/adaptation", response_class=HTMLResponse)
def adapt(request: Request, ctx: ContextDep, actor: PageActor,
          action: Annotated[str, Form(max_length=16)] = "adapt") -> Response:
    try:
        service.request_adapt(ctx, actor, rollback=action == "rollback")
    except TiyanError as exc:
        if exc.status in (403, 404):
            raise
        return _page(request, ctx, actor, error=exc, status_code=exc.status)
    return _page(request, ctx, actor, queued=True)
