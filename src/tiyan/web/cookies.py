"""Every cookie tiyan sets: `Secure` when TIYAN_SECURE_COOKIES is on, `HttpOnly` (no script of
ours reads a cookie) and `SameSite=Lax` unless a stricter one is asked for."""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from fastapi.responses import Response

from tiyan.services.accounts import SignedIn
from tiyan.web.deps import SESSION_COOKIE, get_context

SameSite = Literal["lax", "strict"]


def set_cookie(request: Request, response: Response, name: str, value: str, *,
               max_age: int | None = None, path: str = "/", samesite: SameSite = "lax") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                        samesite=samesite, secure=get_context(request).settings.secure_cookies)


def forget_cookie(request: Request, response: Response, name: str, *, path: str = "/") -> None:
    response.delete_cookie(name, path=path, httponly=True, samesite="lax",
                           secure=get_context(request).settings.secure_cookies)


def remember_session(request: Request, response: Response, signed: SignedIn) -> None:
    """Give the browser its (new) session cookie."""
    hours = get_context(request).settings.session_hours
    set_cookie(request, response, SESSION_COOKIE, signed.session_token, max_age=hours * 3600)
