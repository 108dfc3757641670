"""Respondent pages: /s/{token} (anonymous link or QR) and /i/{token} (personal invitation).

Small, standalone pages (no app layout, no htmx): one form per survey page, posted as plain
HTML so everything works without JavaScript; respond.js only re-evaluates display logic while
the respondent answers. A link that cannot be answered gets a page that says why, never a 500.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.domain.answer_forms import PageCheck, form_values
from tiyan.domain.link_guard import fingerprint
from tiyan.domain.survey_flow import (
    client_logic,
    first_page,
    page_numbers,
    pipe,
    progress,
    questions_on,
    visible_questions,
    walk,
)
from tiyan.domain.surveys import SurveyDefinition
from tiyan.errors import InvalidInput
from tiyan.security import BadSignature, read_token, sign_token
from tiyan.services import survey_sessions as sessions
from tiyan.services.link_guard import Device
from tiyan.services.links import LinkProblem
from tiyan.services.survey_sessions import Respondent
from tiyan.web.client_address import client_address
from tiyan.web.cookies import set_cookie
from tiyan.web.deps import LANG_COOKIE, ContextDep
from tiyan.web.i18n import LOCALES, Translator, negotiate
from tiyan.web.ui.question_views import question_views
from tiyan.web.ui.render import TEMPLATES

router = APIRouter(include_in_schema=False)


async def _form(request: Request) -> dict[str, list[str]]:
    data = await request.form(max_fields=MAX_FORM_FIELDS, max_part_size=1024 * 1024)
    grouped: dict[str, list[str]] = {}
    for name, value in data.multi_items():
        if isinstance(value, str):
            grouped.setdefault(name, []).append(value)
    return grouped


RespondentForm = Annotated[dict[str, list[str]], Depends(_form)]
SID_COOKIE = "tiyan_sid"
DEVICE_COOKIE = "tiyan_dev"  # a signed random id per browser, for every anonymous link
DEVICE_ID = re.compile(r"^[0-9a-f]{32}$")
PROBLEM_STATUS = {"tampered": 404, "expired": 410, "used": 409, "closed": 410}
MAX_FORM_FIELDS = 2000


def _translator(request: Request, default: str, chosen: str | None = None) -> Translator:
    """The respondent's language: ?lang=, the language cookie, the one their session was
    answered in so far, then the browser's Accept-Language."""
    return Translator(negotiate(request.query_params.get("lang"),
                                request.cookies.get(LANG_COOKIE), chosen,
                                request.headers.get("accept-language"), default))


def _lang(t: Translator, definition: SurveyDefinition) -> str:
    return t.locale if t.locale in definition.languages else definition.languages[0]


def _channel(request: Request) -> str:
    return "qr" if request.query_params.get("c") == "qr" else "link"


# --- anonymous links -----------------------------------------------------------------------

@router.get("/s/{token}", response_class=HTMLResponse)
def anonymous_page(request: Request, ctx: ContextDep, token: str) -> Response:
    t = _translator(request, ctx.settings.default_locale)
    device_id = _device_id(request, ctx)
    try:
        respondent, answered = sessions.open_anonymous(
            ctx, token, request.cookies.get(SID_COOKIE), device_id=device_id,
            channel=_channel(request), language=t.locale)
    except LinkProblem as problem:
        return _problem(request, t, problem.reason)
    t = _translator(request, ctx.settings.default_locale, respondent.language)
    if answered:  # back after the thank-you page, or the same device opening the link again
        response: Response = _message(request, t, "answered", 200)
    else:
        page = sessions.page_to_show(sessions.definition_of(ctx, respondent), respondent,
                                     request.query_params.get("p"))
        response = _survey_page(request, ctx, t, respondent, f"/s/{token}", page=page)
        _remember(request, response, token, respondent.sid)
    _remember_device(request, ctx, response, device_id)
    return response


@router.post("/s/{token}", response_class=HTMLResponse)
def anonymous_post(request: Request, ctx: ContextDep, token: str,
                   form: RespondentForm) -> Response:
    t = _translator(request, ctx.settings.default_locale)
    sid = _single(form, "sid") or request.cookies.get(SID_COOKIE)
    try:
        respondent = sessions.access_anonymous(ctx, token, sid, channel=_channel(request),
                                               language=t.locale, resume_submitted=True)
    except LinkProblem as problem:
        return _problem(request, t, problem.reason)
    t = _translator(request, ctx.settings.default_locale,
                    _single(form, "lang") or respondent.language)
    device_id = _device_id(request, ctx)
    device = Device(device_id, fingerprint(ctx.signing_key(), client_address(request),
                                           request.headers.get("user-agent", "")))
    response = _post_page(request, ctx, t, respondent, form, f"/s/{token}", device)
    _remember(request, response, token, respondent.sid)
    _remember_device(request, ctx, response, device_id)
    return response


def _remember(request: Request, response: Response, token: str, sid: str) -> None:
    if request.cookies.get(SID_COOKIE) != sid:
        set_cookie(request, response, SID_COOKIE, sid, max_age=30 * 86400, path=f"/s/{token}")


def _device_id(request: Request, ctx: Any) -> str | None:
    """The device id of the browser's signed cookie (None when missing or not ours)."""
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie:
        return None
    try:
        value = read_token(cookie, ctx.signing_key()).get("d")
    except BadSignature:
        return None
    return value if isinstance(value, str) and DEVICE_ID.match(value) else None


def _remember_device(request: Request, ctx: Any, response: Response,
                     device_id: str | None) -> None:
    """Give a browser without a device cookie one (a year, every anonymous link)."""
    if device_id is None:
        token = sign_token({"d": secrets.token_hex(16)}, ctx.signing_key())
        set_cookie(request, response, DEVICE_COOKIE, token, max_age=365 * 86400, path="/s/")


# --- personal invitations ------------------------------------------------------------------

@router.get("/i/{token}", response_class=HTMLResponse)
def invitation_page(request: Request, ctx: ContextDep, token: str) -> Response:
    t = _translator(request, ctx.settings.default_locale)
    try:
        respondent = sessions.access_invitation(ctx, token, language=t.locale)
    except LinkProblem as problem:
        return _problem(request, t, problem.reason)
    t = _translator(request, ctx.settings.default_locale, respondent.language)
    if respondent.submitted:
        return _problem(request, t, "used")
    page = sessions.page_to_show(sessions.definition_of(ctx, respondent), respondent,
                                 request.query_params.get("p"))
    return _survey_page(request, ctx, t, respondent, f"/i/{token}", page=page)


@router.post("/i/{token}", response_class=HTMLResponse)
def invitation_post(request: Request, ctx: ContextDep, token: str,
                    form: RespondentForm) -> Response:
    t = _translator(request, ctx.settings.default_locale)
    try:
        respondent = sessions.access_invitation(ctx, token, language=t.locale)
    except LinkProblem as problem:
        return _problem(request, t, problem.reason)
    t = _translator(request, ctx.settings.default_locale,
                    _single(form, "lang") or respondent.language)
    return _post_page(request, ctx, t, respondent, form, f"/i/{token}", None)


# --- shared --------------------------------------------------------------------------------

def _single(form: Mapping[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _post_page(request: Request, ctx: Any, t: Translator, respondent: Respondent,
               form: dict[str, list[str]], action: str, device: Device | None) -> Response:
    if respondent.submitted:
        return _thanks(request, t)
    definition = sessions.definition_of(ctx, respondent)
    try:
        page = int(_single(form, "page") or "")
    except ValueError:
        page = sessions.current_page(definition, respondent) or 1
    try:
        result = sessions.do_save_page(
            ctx, respondent, definition, page, form_values(_pairs(form)),
            language=_lang(t, definition), back=_single(form, "nav") == "back",
            seen=frozenset((_single(form, "seen") or "").split()) if "seen" in form else None,
            device=device)
    except InvalidInput as exc:
        if exc.where == "survey_id":
            return _problem(request, t, "closed")
        return _survey_page(request, ctx, t, respondent, action, status_code=422,
                            page_problem=exc.text(t.locale))
    if result.kind == "done":
        # a device (its cookie) over its link's limit is told, politely, that it answered
        return _message(request, t, "answered", 200) if "device" in result.flags \
            else _thanks(request, t)
    if result.kind == "errors":
        return _survey_page(request, ctx, t, respondent, action, page=result.page,
                            check=result.check, values=result.raw,
                            status_code=422 if result.check and not result.check.ok else 200)
    return RedirectResponse(_with_lang(request, action, result.page), status_code=303)


def _pairs(form: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, values in form.items() for value in values]


def _with_lang(request: Request, action: str, page: int | None = None) -> str:
    """The page's address with its language and channel, and the page number after a save
    (so each page has its own entry in the browser's history)."""
    lang = request.query_params.get("lang")
    query = [f"lang={lang}"] if lang in LOCALES else []
    if request.query_params.get("c") == "qr":
        query.append("c=qr")
    if page:
        query.append(f"p={page}")
    return action + ("?" + "&".join(query) if query else "")


def _switch_href(request: Request, lang: str) -> str:
    return f"?lang={lang}" + ("&c=qr" if request.query_params.get("c") == "qr" else "")


def _survey_page(request: Request, ctx: Any, t: Translator, respondent: Respondent,
                 action: str, *, page: int | None = None, check: PageCheck | None = None,
                 values: Mapping[str, Any] | None = None, status_code: int = 200,
                 page_problem: str = "") -> Response:
    definition = sessions.definition_of(ctx, respondent)
    lang = _lang(t, definition)
    saved = respondent.answers
    page = page or sessions.current_page(definition, respondent)
    if page is None:  # every question is hidden for this respondent: nothing to answer
        return _thanks(request, t)
    known = {**walk(definition, saved, respondent.data).answers, **(values or {})}
    shown = {q.key for q in visible_questions(definition, page, known, respondent.data)}
    on_page = questions_on(definition, page)
    views = question_views(
        definition, on_page, lang=lang, t=t, values={**saved, **(values or {})},
        errors=check.errors if check else None, seed=respondent.sid, answers=saved,
        data=respondent.data, customer=respondent.customer,
        hidden=frozenset(q.key for q in on_page if q.key not in shown))
    numbers = page_numbers(definition)
    problems = [t("respond.error.unknown", keys=", ".join(check.unknown))] \
        if check and check.unknown else []
    if page_problem:
        problems.append(page_problem)
    context = {
        "request": request, "t": t, "lang": lang,
        "title": pipe(definition.title[lang], definition, lang, saved, respondent.data,
                      respondent.customer),
        "intro": pipe(definition.intro.get(lang, ""), definition, lang, saved, respondent.data,
                      respondent.customer) if page == first_page(definition, respondent.data)
        else "",
        "views": views, "page": page, "sid": respondent.sid, "action": _with_lang(request, action),
        "percent": int(progress(definition, page, saved, respondent.data) * 100),
        "last": page == numbers[-1], "can_back": page != first_page(definition, respondent.data),
        "has_errors": bool(check and check.errors), "problems": problems,
        "logic": client_logic(definition, page, saved, respondent.data),
        "seen": " ".join(sorted(shown)), "languages": definition.languages,
        "switch": [(code, t(f"respond.lang.{code}"), _switch_href(request, code))
                   for code in definition.languages if code != lang],
        "static": _static_version(),
    }
    return _private(TEMPLATES.TemplateResponse(request, "respond.html", context,
                                               status_code=status_code))


def _private(response: HTMLResponse) -> HTMLResponse:
    """A respondent's page is never kept by the browser or a proxy: the back button asks the
    server again (which resumes the same response, or says it is answered), and a shared
    phone or kiosk shows nobody the previous person's answers."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _static_version() -> str:
    from tiyan import __version__

    return __version__


def _thanks(request: Request, t: Translator) -> HTMLResponse:
    return _message(request, t, "thanks", 200)


def _problem(request: Request, t: Translator, reason: str) -> HTMLResponse:
    return _message(request, t, f"problem.{reason}", PROBLEM_STATUS.get(reason, 400))


def _message(request: Request, t: Translator, kind: str, status_code: int) -> HTMLResponse:
    context = {"request": request, "t": t, "lang": t.locale, "kind": kind,
               "static": _static_version()}
    return _private(TEMPLATES.TemplateResponse(request, "respond_message.html", context,
                                               status_code=status_code))
