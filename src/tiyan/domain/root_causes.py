"""Root-cause codes for cases: a configurable tree (see root_causes.yaml), parsed into nodes."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tiyan.errors import InvalidInput

CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class RootCause:
    code: str
    names: Mapping[str, str]
    children: tuple[RootCause, ...] = ()
    parent: str | None = None

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("en") or self.code


@dataclass(frozen=True)
class RootCauseTree:
    roots: tuple[RootCause, ...]

    def walk(self) -> Iterator[tuple[int, RootCause]]:
        stack = [(0, r) for r in reversed(self.roots)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(node.children))

    def get(self, code: str) -> RootCause:
        for _, node in self.walk():
            if node.code == code:
                return node
        raise InvalidInput("root_causes.not_root_cause_code", code=code, where="root_cause")

    def top(self, code: str) -> RootCause:
        """The top-level cause a code belongs to (for grouping in the VOC review)."""
        node = self.get(code)
        while node.parent is not None:
            node = self.get(node.parent)
        return node


def parse_tree(raw: Any, where: str = "root causes") -> RootCauseTree:
    return RootCauseTree(_nodes(raw, where, None, set()))


def _nodes(raw: Any, where: str, parent: str | None, seen: set[str]) -> tuple[RootCause, ...]:
    if not isinstance(raw, Mapping):
        raise InvalidInput("root_causes.expected_mapping_code_zh", where=where)
    nodes = []
    for code, body in raw.items():
        here = f"{where}.{code}"
        if not isinstance(code, str) or not CODE.match(code) or code in seen:
            raise InvalidInput("root_causes.codes_unique_lower_case", where=here)
        seen.add(code)
        if not isinstance(body, Mapping) or set(body) - {"zh-CN", "en", "children"}:
            raise InvalidInput("root_causes.expected_zh_cn_en", where=here)
        names = {k: str(body[k]) for k in ("zh-CN", "en") if k in body}
        children = _nodes(body["children"], here, code, seen) if "children" in body else ()
        nodes.append(RootCause(code, names, children, parent))
    return tuple(nodes)
