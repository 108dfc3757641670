"""Rendering pages: Jinja2 templates with the translator, navigation and CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from tiyan import __version__
from tiyan.domain.access import Actor, Permission
from tiyan.domain.contacts import display_phone
from tiyan.errors import TiyanError, stored_text
from tiyan.web.deps import get_context, translator, web_session
from tiyan.web.page_data import json_island
from tiyan.web.ui.times import Times, money, number, viewer_timezone

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
TEMPLATES.env.globals["version"] = __version__
TEMPLATES.env.filters["json_island"] = json_island  # the one way data reaches a script


def literal(text: str) -> Markup:
    """A catalogue text with its `back-quoted` parts (codes, commands, file columns a person
    types as they are) shown as code; everything else escaped."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


TEMPLATES.env.filters["literal"] = literal
TEMPLATES.env.globals["phone_text"] = display_phone  # phone_text(e164, locale)
TEMPLATES.env.globals["problem_text"] = stored_text  # an import row's problem, (p, locale)
TEMPLATES.env.globals["Permission"] = Permission  # {% if actor.can(Permission.EXPORT) %}


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str
    permission: Permission


# The app's sections; each appears only for users who hold its permission somewhere.
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("nav.home", "/", Permission.VIEW_DASHBOARD),
    NavItem("nav.dashboards", "/dashboard", Permission.VIEW_DASHBOARD),
    NavItem("nav.responses", "/responses", Permission.VIEW_RESPONSES),
    NavItem("nav.calls", "/calls", Permission.ENTER_RESPONSES),
    NavItem("nav.customers", "/customers", Permission.VIEW_CUSTOMERS),
    NavItem("nav.at_risk", "/customers/at-risk", Permission.VIEW_CUSTOMERS),
    NavItem("nav.cases", "/cases", Permission.MANAGE_CASES),
    NavItem("nav.callbacks", "/callbacks", Permission.MANAGE_CASES),
    NavItem("nav.voc", "/voc", Permission.VIEW_RESPONSES),
    NavItem("nav.plans", "/plans", Permission.VIEW_DASHBOARD),
    NavItem("nav.surveys", "/surveys", Permission.MANAGE_SURVEYS),
    NavItem("nav.journeys", "/journeys", Permission.MANAGE_SURVEYS),
    NavItem("nav.invitations", "/admin/invitations", Permission.MANAGE_SURVEYS),
    NavItem("nav.flagged", "/flagged-responses", Permission.MANAGE_SURVEYS),
    NavItem("nav.rules", "/alert-rules", Permission.MANAGE_SURVEYS),
    NavItem("nav.staff", "/staff", Permission.VIEW_STAFF),
    NavItem("nav.users", "/admin/users", Permission.MANAGE_USERS),
    NavItem("nav.audit", "/admin/audit", Permission.VIEW_AUDIT),
    NavItem("nav.webhooks", "/admin/webhooks", Permission.MANAGE_WEBHOOKS),
    NavItem("nav.jobs", "/admin/jobs", Permission.MANAGE_JOBS),
    NavItem("nav.calendars", "/calendars", Permission.MANAGE_CALENDARS),
    NavItem("nav.unit_channels", "/unit-notifications", Permission.MANAGE_UNIT_CHANNELS),
    NavItem("nav.import", "/feedback/import", Permission.IMPORT_FEEDBACK),
)


def navigation(actor: Actor) -> list[NavItem]:
    return [item for item in NAVIGATION if actor.can(item.permission)]


def viewer_zone(request: Request, actor: Actor | None) -> str:
    """The time zone this request's pages show times in (times.viewer_timezone), looked up
    once per request."""
    cached = getattr(request.state, "viewer_zone", None)
    if cached is None:
        cached = viewer_timezone(get_context(request), actor)
        request.state.viewer_zone = cached
    return str(cached)


class ShownError:
    """A typed error as a page shows it: `message` in the reader's language; `code`, `key`,
    `where` and the rest as the error has them."""

    def __init__(self, error: TiyanError, locale: str) -> None:
        self.error = error
        self.message = error.text(locale)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.error, name)

    def __str__(self) -> str:
        return self.message


def render(request: Request, template: str, *, actor: Actor | None = None,
           status_code: int = 200, **values: Any) -> HTMLResponse:
    t = translator(request)
    session = web_session(request)
    when = Times(viewer_zone(request, actor), t.locale)
    shown = {name: ShownError(value, t.locale) if isinstance(value, TiyanError) else value
             for name, value in values.items()}  # every error a page shows, in its language
    context = {
        "request": request, "t": t, "locale": t.locale, "actor": actor, "when": when,
        "num": lambda value, digits=None: number(value, t.locale, digits),
        "money": lambda value, currency=None: money(value, currency, t.locale),
        "nav": navigation(actor) if actor else [],
        "csrf_token": session.csrf_token if session else "",
        "current_path": request.url.path, **shown,
    }
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
    if request.query_params.get("lang") == t.locale:
        from tiyan.web.cookies import set_cookie
        from tiyan.web.deps import LANG_COOKIE

        set_cookie(request, response, LANG_COOKIE, t.locale, max_age=365 * 86400)
    return response


def render_error(request: Request, exc: TiyanError) -> HTMLResponse:
    """The error page: the message in the reader's language and, when the error is about one
    of the parameters in the page's address (a filter typed or edited by hand), that
    parameter's name as it stands in the address bar; other `where`s are codes for programs
    (the API keeps them) and are not shown."""
    session = web_session(request)
    return render(request, "error.html", actor=session.actor if session else None,
                  status_code=exc.status, error=exc, parameter=address_parameter(request, exc))


def address_parameter(request: Request, exc: TiyanError) -> str | None:
    """The address parameter an error is about, if it names one of the request's own."""
    where = (exc.where or "").removeprefix("query.")
    return where if where and where in request.query_params else None
