"""Passwords (argon2id), opaque tokens and their hashes, HMAC-signed tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 hashes any length; a bound keeps a request cheap


class Passwords:
    """argon2id hashing with the configured cost (verification reads the cost from the hash)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # A hash of a random password, so an unknown e-mail costs as much as a wrong password.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            matched = self._hasher.verify(password_hash or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and password_hash is not None


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_public_id() -> str:
    """An opaque id: 48 bits of time (so new rows append to the index) and 80 random bits."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


# --- signed tokens (survey links, invitations) ---------------------------------------------

class BadSignature(ValueError):
    """The token was changed, truncated, or signed with another key."""


def sign_token(payload: dict[str, object], key: bytes) -> str:
    """A URL-safe token carrying `payload`, which nobody without `key` can change or forge."""
    body = base64.urlsafe_b64encode(
        json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    ).rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.new(key, body, hashlib.sha256).digest()[:20]).rstrip(b"=")
    return f"{body.decode('ascii')}.{mac.decode('ascii')}"


def read_token(token: str, key: bytes) -> dict[str, object]:
    """The payload of a token made by `sign_token` with `key`, or BadSignature."""
    body, dot, mac = token.partition(".")
    if not dot or not body or not mac or len(token) > 2000:
        raise BadSignature("not a tiyan token")
    expected = base64.urlsafe_b64encode(
        hmac.new(key, body.encode("ascii", "replace"), hashlib.sha256).digest()[:20]
    ).rstrip(b"=").decode("ascii")
    if not hmac.compare_digest(expected, mac):
        raise BadSignature("the token's signature does not match")
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadSignature("the token's content is unreadable") from exc
    if not isinstance(payload, dict):
        raise BadSignature("the token's content is unreadable")
    return payload
