"""Typed errors: each has a code, a message that says what and where, and an HTTP status.

Lower layers raise these; the web layer maps them to one JSON error shape and the CLI to one
message and a non-zero exit code.
"""

from __future__ import annotations


class TiyanError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.where:
            body["where"] = self.where
        return body


class InvalidInput(TiyanError):
    code = "invalid_input"
    status = 422


class NotFound(TiyanError):
    code = "not_found"
    status = 404


class Forbidden(TiyanError):
    code = "forbidden"
    status = 403


class NotAuthenticated(TiyanError):
    code = "not_authenticated"
    status = 401


class Conflict(TiyanError):
    code = "conflict"
    status = 409


class TooManyRequests(TiyanError):
    code = "rate_limited"
    status = 429


class DatabaseError(TiyanError):
    """The database cannot be reached or is not at a schema version this tiyan understands."""

    code = "database"
    status = 503
