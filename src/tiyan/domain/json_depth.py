"""JSON from outside (import rows, form fields, API bodies) nests at most MAX_DEPTH arrays and
objects deep: deeper text is refused before it is parsed, with the place it goes too deep.

Python's parser gives up with a RecursionError about 1,000 levels down, and a value some
hundred levels deep that it does accept breaks later readers (copies, serialisers); real data
nests a handful of levels.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class TooDeep(json.JSONDecodeError):
    """The text nests arrays and objects deeper than the limit (a JSONDecodeError, so every
    handler of bad JSON also handles it)."""

    def __init__(self, doc: str, pos: int, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels", doc, pos)
        self.limit = limit


def too_deep_at(text: str, limit: int = MAX_DEPTH) -> int | None:
    """Where `text` opens its array or object number limit + 1 (outside strings), or None."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > limit:
                return token.start()
        elif mark in "]}":
            depth -= 1
    return None


def loads(text: str | bytes, *, limit: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing text nested deeper than `limit` with TooDeep."""
    doc = text.decode("utf-8") if isinstance(text, bytes) else text
    place = too_deep_at(doc, limit)
    if place is not None:
        raise TooDeep(doc, place, limit)
    return json.loads(doc)
