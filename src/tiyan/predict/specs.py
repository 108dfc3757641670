"""Feature declarations: what a model input is called, its kind, and how to say its value in
plain words (zh-CN and English) when it becomes a reason for churn risk."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from tiyan.predict.errors import InvalidFeatureSpec

FeatureKind = Literal["numeric", "categorical"]
FEATURE_KINDS: tuple[FeatureKind, ...] = ("numeric", "categorical")
Direction = Literal[-1, 0, 1]
DIRECTIONS: tuple[Direction, ...] = (-1, 0, 1)


@dataclass(frozen=True)
class FeatureSpec:
    """One model input.

    ``text_zh`` / ``text_en`` are ``str.format`` templates. ``{value}`` is the customer's value
    (a float for numeric features, the value's word for categorical ones), ``{s}`` is "s" unless
    the value is 1 (English plurals, empty in Chinese), and any other declared feature can be
    named too, e.g. ``"visits fell from {visits_before:.1f} to {visits_recent:.1f} a month"``.
    ``{typical}`` is the typical training customer's value the contribution is measured against
    (a reason compares, e.g. "fewer visits than usual: {value:.1f} against {typical:.1f}").
    ``text_missing_*`` say what a missing value means; without them a missing value gives no
    reason text.

    ``direction`` (numeric features only) is the business meaning the model must keep: -1 when
    more of it can never raise the churn risk (spend, visits), +1 when more of it can never
    lower it (complaints, days since the last visit), 0 when the data decide.
    """

    name: str
    kind: FeatureKind
    text_zh: str
    text_en: str
    values_zh: Mapping[str, str] = field(default_factory=dict)
    values_en: Mapping[str, str] = field(default_factory=dict)
    text_missing_zh: str | None = None
    text_missing_en: str | None = None
    direction: Direction = 0

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidFeatureSpec("a feature has an empty name")
        if self.kind not in FEATURE_KINDS:
            raise InvalidFeatureSpec(
                f"feature {self.name!r}: kind {self.kind!r} is not one of {FEATURE_KINDS}"
            )
        if self.direction not in DIRECTIONS:
            raise InvalidFeatureSpec(
                f"feature {self.name!r}: direction {self.direction!r} is not one of {DIRECTIONS}"
            )
        if self.direction and self.kind != "numeric":
            raise InvalidFeatureSpec(
                f"feature {self.name!r}: only a numeric feature can have a direction"
            )

    def describe(
        self, row: Mapping[str, object], typical: object = None
    ) -> tuple[str, str] | None:
        """The (zh, en) sentence for this feature's value in ``row`` (``typical``: the value
        it is compared with); None if it has none."""
        value = row[self.name]
        if is_missing(value):
            if self.text_missing_zh is None or self.text_missing_en is None:
                return None
            return self.text_missing_zh, self.text_missing_en
        zh_typical = self._typical(typical, self.values_zh)
        en_typical = self._typical(typical, self.values_en)
        return (
            _fill(self.text_zh, self._word(value, self.values_zh), "", row, zh_typical),
            _fill(
                self.text_en, self._word(value, self.values_en), _plural_s(value), row, en_typical
            ),
        )

    def check_templates(self, sample_row: Mapping[str, object]) -> None:
        """Render every template against ``sample_row``; raise if one cannot be filled."""
        for label in ("text_zh", "text_en", "text_missing_zh", "text_missing_en"):
            template = getattr(self, label)
            if template is None:
                continue
            try:
                sample = self._word(sample_row[self.name], {})
                _fill(template, sample, "s", sample_row, sample)
            except (KeyError, IndexError, ValueError, AttributeError) as exc:
                raise InvalidFeatureSpec(
                    f"feature {self.name!r}: {label} template {template!r} cannot be filled "
                    f"({type(exc).__name__}: {exc}); it may name only declared features, "
                    "'value' and 's'"
                ) from exc

    def _typical(self, typical: object, words: Mapping[str, str]) -> object:
        if is_missing(typical):
            return float("nan") if self.kind == "numeric" else "?"
        return self._word(typical, words)

    def _word(self, value: object, words: Mapping[str, str]) -> object:
        if self.kind == "numeric":
            return float(value)  # type: ignore[arg-type]
        return words.get(str(value), str(value))


def is_missing(value: object) -> bool:
    """True for None and NaN (pandas' and numpy's missing markers included)."""
    if value is None:
        return True
    try:
        return math.isnan(value)  # type: ignore[arg-type]
    except TypeError:
        return False


def _plural_s(value: object) -> str:
    try:
        return "" if float(value) == 1.0 else "s"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "s"


def _fill(
    template: str, value: object, s: str, row: Mapping[str, object], typical: object
) -> str:
    fields = {str(key): item for key, item in row.items()}
    fields.update(value=value, s=s, typical=typical)
    return template.format(**fields)
