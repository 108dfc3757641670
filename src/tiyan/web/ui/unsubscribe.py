"""The unsubscribe page /u/{token}: the link in every invitation e-mail (and its
List-Unsubscribe header).

GET shows what will happen and a button; only a POST opts out, so a mail scanner that follows
links changes nothing. A mail program's RFC 8058 one-click POST (`List-Unsubscribe=One-Click`)
lands on the same POST. Both are idempotent: a second POST shows the same "unsubscribed" page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tiyan.errors import NotFound
from tiyan.services import opt_out
from tiyan.services.invitation_messages import pick_locale
from tiyan.services.links import LinkProblem
from tiyan.web.bodies import PostedBytes
from tiyan.web.deps import LANG_COOKIE, ContextDep
from tiyan.web.i18n import LOCALES, Translator, negotiate
from tiyan.web.ui.render import TEMPLATES

router = APIRouter(include_in_schema=False)
MAX_BODY = 4096


def _translator(request: Request, default: str, language: str | None) -> Translator:
    chosen = pick_locale(language) if language else None
    return Translator(negotiate(request.query_params.get("lang"),
                                request.cookies.get(LANG_COOKIE), chosen,
                                request.headers.get("accept-language"), default))


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, ctx: ContextDep, token: str) -> Response:
    try:
        state = opt_out.unsubscribe_state(ctx, token)
    except LinkProblem:
        return _page(request, ctx, token, None, "tampered", 404)
    except NotFound:
        return _page(request, ctx, token, None, "done", 200)
    return _page(request, ctx, token, state.language, "done" if state.opted_out else "confirm",
                 200)


@router.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe_post(request: Request, ctx: ContextDep, token: str,
                     posted: PostedBytes) -> Response:
    body = posted[:MAX_BODY].decode("utf-8", "replace")
    one_click = "List-Unsubscribe=One-Click" in body
    try:
        state = opt_out.do_unsubscribe(ctx, token, one_click=one_click)
    except LinkProblem:
        return _page(request, ctx, token, None, "tampered", 404)
    except NotFound:
        return _page(request, ctx, token, None, "done", 200)
    return _page(request, ctx, token, state.language, "done", 200)


def _page(request: Request, ctx: ContextDep, token: str, language: str | None, kind: str,
          status_code: int) -> HTMLResponse:
    from tiyan import __version__

    t = _translator(request, ctx.settings.default_locale, language)
    lang = request.query_params.get("lang")
    action = f"/u/{token}" + (f"?lang={lang}" if lang in LOCALES else "")
    context = {"request": request, "t": t, "lang": t.locale, "kind": kind, "action": action,
               "static": __version__,
               "switch": [(code, t(f"respond.lang.{code}"), f"?lang={code}")
                          for code in LOCALES if code != t.locale]}
    return TEMPLATES.TemplateResponse(request, "unsubscribe.html", context,
                                      status_code=status_code)
