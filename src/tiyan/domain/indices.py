"""User-defined composite indices (e.g. a weighted CSI): their definitions, checked at the edge.

An index has a code (slug), a Chinese and an English name, and items (item code -> weight > 0,
normalised) each on a scale (min..max), taken from the survey definitions or given. The figure
itself is metrics.CompositeIndex.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tiyan.domain.metrics import CompositeIndex, IndexItem, MetricsError
from tiyan.errors import InvalidInput

CODE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
ITEM_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
MAX_ITEMS = 50
MAX_NAME = 80


@dataclass(frozen=True)
class IndexDefinition:
    code: str
    name_zh: str
    name_en: str
    items: tuple[IndexItem, ...]

    def index(self) -> CompositeIndex:
        return CompositeIndex(self.code, self.items)

    def item_codes(self) -> list[str]:
        return [item.key for item in self.items]

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh-CN" else self.name_en

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "items": [{"item": i.key, "weight": i.weight, "min": i.scale_min,
                           "max": i.scale_max} for i in self.items]}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> IndexDefinition:
        return cls(str(raw["code"]), str(raw["name_zh"]), str(raw["name_en"]), tuple(
            IndexItem(str(i["item"]), float(i["weight"]), float(i["min"]), float(i["max"]))
            for i in raw["items"]))


@dataclass(frozen=True)
class ItemLine:
    """One line of the items field: `item_code weight [min max]`."""

    item: str
    weight: float
    scale: tuple[float, float] | None


def parse_item_lines(text: str) -> list[ItemLine]:
    """Lines of `item_code weight` (optionally `min max` after); errors name the line."""
    out: list[ItemLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"items, line {number}"
        parts = line.replace(",", " ").replace("\t", " ").split()
        if len(parts) not in (2, 4):
            raise InvalidInput("indices.not_item_code_weight", line=line[:80], where=where)
        if not ITEM_CODE.match(parts[0]):
            raise InvalidInput("indices.not_item_code", parts=parts[0][:80], where=where)
        numbers = [_number(p, where) for p in parts[1:]]
        if not numbers[0] > 0:
            raise InvalidInput("indices.weight_must_above", parts=parts[0], where=where)
        scale = (numbers[1], numbers[2]) if len(numbers) == 3 else None
        if scale is not None and not scale[1] > scale[0]:
            raise InvalidInput("indices.scale_needs_min_max", parts=parts[0], where=where)
        out.append(ItemLine(parts[0], numbers[0], scale))
    return out


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput("common.not_number_2", text=text[:40], where=where) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput("common.not_number_2", text=text[:40], where=where)
    return value


def check_definition(code: str, name_zh: str, name_en: str, lines: list[ItemLine],
                     scales: Mapping[str, tuple[float, float]]) -> IndexDefinition:
    """An index definition from its fields; an item without a given scale takes the one the
    surveys give it (`scales`). Every error names the field."""
    code = code.strip()
    if not CODE.match(code):
        raise InvalidInput("indices.code_lower_case_letters", where="code")
    for field, name in (("name_zh", name_zh), ("name_en", name_en)):
        if not name.strip():
            raise InvalidInput("indices.name_empty", where=field)
        if len(name.strip()) > MAX_NAME:
            raise InvalidInput("indices.name_longer_characters", max_name=MAX_NAME, where=field)
    if not lines:
        raise InvalidInput("indices.least_item", where="items")
    if len(lines) > MAX_ITEMS:
        raise InvalidInput("indices.index_most_items", max_items=MAX_ITEMS, where="items")
    seen: set[str] = set()
    items = []
    for line in lines:
        if line.item in seen:
            raise InvalidInput("indices.item_listed_twice", item=line.item, where="items")
        seen.add(line.item)
        scale = line.scale or scales.get(line.item)
        if scale is None:
            raise InvalidInput("indices.no_survey_scaled_question", item=line.item, where="items")
        try:
            items.append(IndexItem(line.item, line.weight, scale[0], scale[1]))
        except MetricsError as exc:
            raise InvalidInput(exc.key or exc.message, where="items", **exc.params) from None
    return IndexDefinition(code, name_zh.strip(), name_en.strip(), tuple(items))
