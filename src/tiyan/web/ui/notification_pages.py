"""Your notifications (zh-CN/en): how you are told about cases — e-mail, a signed webhook, or a
WeCom / DingTalk / Feishu / Slack robot (with its signing secret, 加签, and the mobile numbers it
@-mentions) — and a button that sends a test message at once and says whether the channel took
it (a robot's refusal included). Every change goes through `tiyan.services.notifications`."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.channels import chat
from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.contacts import display_phone, split_numbers
from tiyan.errors import TiyanError
from tiyan.services import notifications
from tiyan.web.bodies import PostedForm
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.delivery_words import delivery_error
from tiyan.web.ui.messages import error_text
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
_KEY = re.compile(r"((?:access_token|key|token)=)[^&]+")


def shown_target(channel: str, target: str) -> str:
    """A robot's address with its key masked (the key is what lets anyone post to the group)."""
    if channel in ("email", "webhook"):
        return target
    masked = _KEY.sub(lambda m: m.group(1) + "…", target)
    if masked == target and "/hook/" in target:  # Feishu: the key is the last path part
        masked = target.rsplit("/", 1)[0] + "/…"
    return masked


@router.get("/account/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, ctx: ContextDep, actor: PageActor,
                       done: str | None = None) -> HTMLResponse:
    return _page(request, ctx, actor,
                 done=done if done in ("saved", "removed", "stopped", "resumed") else None)


def _page(request: Request, ctx: Context, actor: Actor, *, status_code: int = 200,
          **values: object) -> HTMLResponse:
    with ctx.db.read() as conn:
        prefs = notifications.preferences_of(conn, actor.user_id)
    locale = translator(request).locale
    rows = [{"channel": p.channel, "target": shown_target(p.channel, p.target),
             "events": list(p.events), "active": p.active,
             "mentions": [display_phone(m, locale) for m in p.mentions or []],
             "signed": bool(p.secret) and p.channel != "webhook"} for p in prefs]
    return render(request, "notifications.html", actor=actor, prefs=rows,
                  channels=notifications.CHANNELS, events=notifications.EVENTS,
                  signed_apps=sorted(chat.SIGNED), mention_apps=sorted(chat.MENTIONS),
                  status_code=status_code, **values)


@router.post("/account/notifications", response_class=HTMLResponse)
def save(request: Request, ctx: ContextDep, actor: PageActor, form: PostedForm,
         channel: Annotated[str, Form(max_length=16)],
         target: Annotated[str, Form(max_length=1000)],
         robot_secret: Annotated[str, Form(max_length=200)] = "",
         mentions: Annotated[str, Form(max_length=1000)] = "",
         active: Annotated[str, Form(max_length=8)] = "") -> Response:
    events = [str(e)[:32] for e in form.getlist("events")][:10]
    numbers = split_numbers(mentions)
    try:
        secret = notifications.do_set_preference(
            ctx, actor, channel=channel, target=target.strip(), events=events,
            active=bool(active), robot_secret=robot_secret or None, mentions=numbers)
    except TiyanError as exc:
        if exc.status in (403, 404):
            raise
        return _page(request, ctx, actor, status_code=exc.status,
                     error=error_text(translator(request), exc, "notify.error."),
                     form={"channel": channel, "target": target, "mentions": mentions,
                           "events": events})
    if secret is not None:  # a generic webhook's signing secret: shown once, here
        return _page(request, ctx, actor, new_secret=secret)
    return RedirectResponse("/account/notifications?done=saved", status_code=303)


@router.post("/account/notifications/active", response_class=HTMLResponse)
def set_active(request: Request, ctx: ContextDep, actor: PageActor,
               channel: Annotated[str, Form(max_length=16)],
               active: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Pause or resume a channel without typing its address (and robot secret) again."""
    try:
        notifications.do_set_active(ctx, actor, channel, bool(active))
    except TiyanError as exc:
        if exc.status == 403:
            raise
        return _page(request, ctx, actor, status_code=exc.status,
                     error=error_text(translator(request), exc, "notify.error."))
    done = "resumed" if active else "stopped"
    return RedirectResponse(f"/account/notifications?done={done}", status_code=303)


@router.post("/account/notifications/remove", response_class=HTMLResponse)
def remove(request: Request, ctx: ContextDep, actor: PageActor,
           channel: Annotated[str, Form(max_length=16)]) -> Response:
    try:
        notifications.do_remove_preference(ctx, actor, channel)
    except TiyanError as exc:
        if exc.status == 403:
            raise
        return _page(request, ctx, actor, status_code=exc.status,
                     error=error_text(translator(request), exc, "notify.error."))
    return RedirectResponse("/account/notifications?done=removed", status_code=303)


@router.post("/account/notifications/test", response_class=HTMLResponse)
def send_test(request: Request, ctx: ContextDep, actor: PageActor,
              channel: Annotated[str, Form(max_length=16)]) -> HTMLResponse:
    t = translator(request)
    try:
        error = notifications.do_send_test(ctx, actor, channel, t.locale)
    except TiyanError as exc:
        if exc.status in (403, 404):
            raise
        return _page(request, ctx, actor, status_code=exc.status,
                     error=error_text(t, exc, "notify.error."))
    return _page(request, ctx, actor, tested=channel, test_error=delivery_error(t, error))
