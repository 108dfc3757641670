"""The JSON island: the one way a page hands data to its script."""

from __future__ import annotations

import json
import re

import pytest

from tiyan.web.page_data import json_island, script_safe_json

HOSTILE = [
    "</script><script>alert(1)</script>", "</SCRIPT ><img src=x onerror=alert(1)>",
    "<!--<script>", "]]>", "&lt;b&gt;", "\u2028\u2029", "'\"`", "🙂 中文",
]


def _inner(island: str) -> str:
    match = re.fullmatch(r'<script type="application/json" id="data">(.*)</script>', island,
                         flags=re.DOTALL)
    assert match is not None, island
    return match.group(1)


@pytest.mark.parametrize("text", HOSTILE)
def test_no_string_can_end_the_island_or_open_a_tag(text: str) -> None:
    island = str(json_island({"label": text, "list": [text]}, "data"))
    inner = _inner(island)
    assert "<" not in inner and ">" not in inner and "&" not in inner
    assert "\u2028" not in inner and "\u2029" not in inner
    assert json.loads(inner) == {"label": text, "list": [text]}


def test_figures_that_are_not_numbers_become_null() -> None:
    assert json.loads(script_safe_json({"a": [float("nan"), 1.5, float("inf")]})) == \
        {"a": [None, 1.5, None]}


def test_the_element_id_must_be_a_plain_name() -> None:
    with pytest.raises(ValueError, match="not an element id"):
        json_island({}, 'x" onload="alert(1)')
