"""What changed between two versions of a survey definition (shown next to each version)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    reordered: bool = False
    texts: bool = False  # the survey's title or introduction

    @property
    def none(self) -> bool:
        return not (self.added or self.removed or self.changed or self.reordered or self.texts)


def compare(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> Changes:
    """Question keys added, removed and changed from `before` to `after` (stored JSON form)."""
    if before is None:
        return Changes(added=tuple(_keys(after)))
    old, new = _by_key(before), _by_key(after)
    common = [k for k in _keys(after) if k in old]
    return Changes(
        added=tuple(k for k in _keys(after) if k not in old),
        removed=tuple(k for k in _keys(before) if k not in new),
        changed=tuple(k for k in common if old[k] != new[k]),
        reordered=[k for k in _keys(before) if k in new] != common,
        texts=any(before.get(f) != after.get(f) for f in ("title", "intro")),
    )


def history(definitions: Sequence[tuple[int, Mapping[str, Any]]]) -> dict[int, Changes]:
    """Changes of each version against the one before it; `definitions` oldest first."""
    out, previous = {}, None
    for version, definition in definitions:
        out[version] = compare(previous, definition)
        previous = definition
    return out


def _keys(definition: Mapping[str, Any]) -> list[str]:
    return [str(q.get("key")) for q in definition.get("questions") or []
            if isinstance(q, Mapping)]


def _by_key(definition: Mapping[str, Any]) -> dict[str, Any]:
    return {str(q.get("key")): q for q in definition.get("questions") or []
            if isinstance(q, Mapping)}
