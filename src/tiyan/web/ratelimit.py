"""A small in-process sliding-window rate limiter for public endpoints (sign-in)."""

from __future__ import annotations

import threading
import time
from collections import deque

from tiyan.errors import TooManyRequests


class RateLimiter:
    def __init__(self, per_minute: int, clock: object = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = self._clock()  # type: ignore[operator]
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                raise TooManyRequests("too many attempts; wait a minute and try again")
            hits.append(now)
            if len(self._hits) > 10_000:
                self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] <= 60}
