"""A unit's notifications (zh-CN/en): the e-mail addresses and chat robots of a unit (a store's
WeCom, DingTalk, Feishu or Slack group; signing secret, 加签, and @-mentions by mobile), told of
the cases and alerts of the unit and the units below it, with a button that sends a test
message at once and says whether the channel took it. For unit managers (their units) and
administrators; a unit outside one's reach is a 404. Changes go through
`tiyan.services.unit_channels` (checked like a person's channels, audited)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.channels import chat
from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.contacts import display_phone, split_numbers
from tiyan.errors import TiyanError
from tiyan.services import unit_channels as service
from tiyan.web.bodies import PostedForm
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.delivery_words import delivery_error
from tiyan.web.ui.messages import error_text
from tiyan.web.ui.notification_pages import shown_target
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)


@router.get("/unit-notifications", response_class=HTMLResponse)
def index(ctx: ContextDep, actor: PageActor, unit: str = "") -> Response:
    """The unit picker's answer, else the first unit in reach."""
    if unit:
        return RedirectResponse(f"/units/{quote(unit[:64], safe='')}/notifications",
                                status_code=303)
    with ctx.db.read() as conn:
        units = service.units_in_reach(conn, actor)
    return RedirectResponse(f"/units/{units[0].code}/notifications", status_code=303)


@router.get("/units/{code}/notifications", response_class=HTMLResponse)
def page(request: Request, ctx: ContextDep, actor: PageActor, code: str,
         done: str | None = None) -> HTMLResponse:
    return _page(request, ctx, actor, code[:64],
                 done=done if done in ("saved", "removed") else None)


def _page(request: Request, ctx: Context, actor: Actor, code: str, *, status_code: int = 200,
          **values: Any) -> HTMLResponse:
    with ctx.db.read() as conn:
        unit = service.unit_in_reach(conn, actor, code)
        units = service.units_in_reach(conn, actor)
        locale = translator(request).locale
        rows = [{"id": c.id, "channel": c.channel, "target": shown_target(c.channel, c.target),
                 "events": list(c.events or []),
                 "mentions": [display_phone(m, locale) for m in c.mentions or []],
                 "signed": bool(c.secret), "locale": c.locale}
                for c in service.channels_of(conn, unit.id)]
    return render(request, "unit_notifications.html", actor=actor, unit=asdict(unit),
                  units=[asdict(u) for u in units],
                  rows=rows, channels=service.CHANNELS, events=service.EVENTS,
                  locales=service.LOCALES, signed_apps=sorted(chat.SIGNED),
                  mention_apps=sorted(chat.MENTIONS), status_code=status_code, **values)


@router.post("/units/{code}/notifications", response_class=HTMLResponse)
def add(request: Request, ctx: ContextDep, actor: PageActor, code: str, form: PostedForm,
        channel: Annotated[str, Form(max_length=16)],
        target: Annotated[str, Form(max_length=1000)],
        robot_secret: Annotated[str, Form(max_length=200)] = "",
        mentions: Annotated[str, Form(max_length=1000)] = "",
        locale: Annotated[str, Form(max_length=16)] = "zh-CN") -> Response:
    code = code[:64]
    events = [str(e)[:32] for e in form.getlist("events")][:10]
    numbers = split_numbers(mentions)
    try:
        service.do_add_channel(ctx, actor, code, channel=channel, target=target.strip(),
                               robot_secret=robot_secret or None, mentions=numbers,
                               events=events, locale=locale)
    except TiyanError as exc:
        if exc.status in (403, 404):
            raise
        return _page(request, ctx, actor, code, status_code=exc.status,
                     error=error_text(translator(request), exc, "notify.error."),
                     form={"channel": channel, "target": target, "mentions": mentions,
                           "events": events, "locale": locale})
    return RedirectResponse(f"/units/{quote(code, safe='')}/notifications?done=saved",
                            status_code=303)


@router.post("/units/{code}/notifications/{channel_id}/delete")
def remove(request: Request, ctx: ContextDep, actor: PageActor, code: str,
           channel_id: int) -> Response:
    service.do_remove_channel(ctx, actor, code[:64], channel_id)
    return RedirectResponse(f"/units/{quote(code[:64], safe='')}/notifications?done=removed",
                            status_code=303)


@router.post("/units/{code}/notifications/{channel_id}/test", response_class=HTMLResponse)
def send_test(request: Request, ctx: ContextDep, actor: PageActor, code: str,
              channel_id: int) -> HTMLResponse:
    code = code[:64]
    error = service.do_send_test(ctx, actor, code, channel_id)
    with ctx.db.read() as conn:
        unit = service.unit_in_reach(conn, actor, code)
        tested = next(c for c in service.channels_of(conn, unit.id) if c.id == channel_id)
    return _page(request, ctx, actor, code, tested=tested.channel, tested_id=channel_id,
                 test_error=delivery_error(translator(request), error))
