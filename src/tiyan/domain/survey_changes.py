"""What changed between two versions of a survey definition (shown next to each version)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tiyan.domain.surveys import Question, SurveyDefinition
from tiyan.errors import InvalidInput, Phrase


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


# --- what an item code measures ---------------------------------------------------------------
#
# Every figure (NPS, CSAT, a rating's mean, drivers, trends) adds up the answers of one item code
# across surveys and versions. A question that keeps the code but changes its type or scale would
# add 0–10 answers to a 1–5 mean; so a code keeps the measure it was first published with, and a
# question that measures something else needs a code of its own.

@dataclass(frozen=True)
class Measure:
    """What the answers of a question are: its type and, for scored types, its scale."""

    type: str
    scale: tuple[int, int] | None

    def words(self) -> Phrase:
        """The measure in words of the message's language, e.g. "CSAT 1–5" / "满意度 CSAT 1–5"."""
        kind = Phrase(f"survey_changes.type.{self.type}")
        if self.scale is None:
            return kind
        return Phrase("survey_changes.measure_scaled",
                      {"type": kind, "low": self.scale[0], "high": self.scale[1]})


def measure_of(question: Question) -> Measure:
    return Measure(question.type.value, question.bounds())


def check_measures(definition: SurveyDefinition,
                   by_item_code: Mapping[str, tuple[Measure, object]],
                   by_key: Mapping[str, Measure]) -> None:
    """Refuse a question that gives an item code (or, in the same survey, a question key) a
    measure other than the one already published under it. `by_item_code`: code → (measure,
    where it was published, a Phrase such as survey_changes.published_in); `by_key`: this
    survey's published question keys → measure."""
    for question in definition.questions:
        measure = measure_of(question)
        if question.item_code is not None and question.item_code in by_item_code:
            known, source = by_item_code[question.item_code]
            if known != measure:
                raise InvalidInput(
                    "survey_changes.item_code_already_measures", item_code=question.item_code,
                    known=known.words(), source=source, measure=measure.words(),
                    where=f'question "{question.key}".item_code')
        known_key = by_key.get(question.key)
        if known_key is not None and known_key != measure:
            raise InvalidInput(
                "survey_changes.question_published_would_mix", v_key=question.key,
                known_key=known_key.words(), measure=measure.words(),
                where=f'question "{question.key}".type')
