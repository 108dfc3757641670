"""Data handed from a page to its script: one JSON island, escaped so no string can end it.

The only way a page passes data to JavaScript is
`{{ value|json_island("trend-data") }}`, which writes
`<script type="application/json" id="trend-data">…</script>`. The JSON is escaped so that
no user-written string (a touchpoint name, a question text, a comment) can close the element
or open another: `<`, `>` and `&` become `\\u003c`, `\\u003e`, `\\u0026`, and the line and
paragraph separators U+2028/U+2029 become `\\u2028`/`\\u2029`. Scripts read it back with
`JSON.parse(element.textContent)`, which turns the escapes into the same characters.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from markupsafe import Markup, escape

_UNSAFE_IN_SCRIPT = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                     "\u2028": "\\u2028", "\u2029": "\\u2029"}
_UNSAFE = re.compile("[<>&\u2028\u2029]")
_ELEMENT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def script_safe_json(value: Any) -> str:
    """`value` as JSON text that can stand inside a <script> element as it is (a figure that
    is not a number, NaN or infinite, becomes null: JSON has no word for it)."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"))
    return _UNSAFE.sub(lambda match: _UNSAFE_IN_SCRIPT[match.group()], text)


def json_island(value: Any, element_id: str) -> Markup:
    """A `<script type="application/json">` element holding `value` for the page's script."""
    if not _ELEMENT_ID.fullmatch(element_id):
        raise ValueError(f"not an element id: {element_id!r}")
    return Markup('<script type="application/json" id="{}">{}</script>').format(
        escape(element_id), Markup(script_safe_json(value)))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
