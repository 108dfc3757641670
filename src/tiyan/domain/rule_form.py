"""The alert-rule builder's form: a rule's condition as rows (field → operator → value), in
groups joined by all (and) / any (or), one level deep; and back. Pure: no web, no database.

`form_of(condition)` gives the rows of a condition the form can express, else None (the page
then shows a read-only outline); `condition_of(form)` checks every row and gives the condition,
or raises `FormErrors` naming each wrong input with a message key the page translates. For
every condition c that `form_of` accepts, ``condition_of(form_of(c)) == normalized(c)`` (checked
on each call, so a condition the rows would change is never offered for editing).

Row fields and what their inputs hold:

    score        item (item code or question key)  op   value (number)
    any_item                                       op   value (number)     a rated item, NPS aside
    choice       item (a choice question)               value (option codes, comma-separated)
    answered_no  item (a yes/no question)
    sentiment                                           value (negative, neutral, positive)
    aspect       item (aspect code, * for any)          value (sentiment)
    keywords                                            value (words, separated by , ， 、 ;)
    segment                                             value (customer segment, e.g. vip)
    attribute    item (customer attribute)              value (true, false, a number or text)
    repeat       item (within days)                     value (at least N earlier complaints)
    churn_risk                                     op   value (percent, 0–100)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiyan.domain.alerts import (
    OPS,
    SENTIMENTS,
    AllOf,
    AnsweredNo,
    AnyItem,
    AnyOf,
    Aspect,
    AspectNegative,
    Choice,
    ChurnRisk,
    Condition,
    Customer,
    Keywords,
    RepeatComplaint,
    Score,
    Sentiment,
)
from tiyan.errors import InvalidInput

FIELDS = ("score", "any_item", "choice", "answered_no", "sentiment", "aspect", "keywords",
          "segment", "attribute", "repeat", "churn_risk")
WITH_OP = frozenset({"score", "any_item", "churn_risk"})
WITH_ITEM = frozenset({"score", "choice", "answered_no", "aspect", "attribute", "repeat"})
WITH_VALUE = frozenset(FIELDS) - {"answered_no"}
JOINS = ("all", "any")
MAX_GROUPS = 10
MAX_ROWS = 20  # per group
WORD_SPLIT = re.compile(r"[,，、;；\n]+")


@dataclass
class RowForm:
    field: str = "score"
    item: str = ""
    op: str = ""
    value: str = ""


@dataclass
class GroupForm:
    join: str = "all"
    rows: list[RowForm] = field(default_factory=list)


@dataclass
class ConditionForm:
    join: str = "all"
    groups: list[GroupForm] = field(default_factory=list)


def default_form() -> ConditionForm:
    return ConditionForm("all", [GroupForm("all", [RowForm("score", "nps", "<=", "6")])])


class FormErrors(InvalidInput):
    """Wrong inputs of the form: input name → (message key, values for the message)."""

    def __init__(self, errors: Mapping[str, tuple[str, Mapping[str, Any]]]) -> None:
        first = next(iter(errors))
        super().__init__("rule_form.inputs_not_valid", count=len(errors), first=first,
                         problem=errors[first][0], where=first)
        self.errors = dict(errors)


# --- form → condition ------------------------------------------------------------------------

def condition_of(form: ConditionForm) -> Condition:
    errors: dict[str, tuple[str, Mapping[str, Any]]] = {}
    groups: list[Condition] = []
    if form.join not in JOINS:
        errors["join"] = ("join", {})
    if not any(g.rows for g in form.groups):
        errors["g0.r0.field"] = ("no_rows", {})
    for i, group in enumerate(form.groups):
        if group.join not in JOINS:
            errors[f"g{i}.join"] = ("join", {})
        leaves = []
        for j, row in enumerate(group.rows):
            leaf = _leaf(row, f"g{i}.r{j}", errors)
            if leaf is not None:
                leaves.append(leaf)
        if leaves and len(leaves) == len(group.rows):
            groups.append(leaves[0] if len(leaves) == 1 else _join(group.join, leaves))
    if errors:
        raise FormErrors(errors)
    return groups[0] if len(groups) == 1 else _join(form.join, groups)


def _join(join: str, parts: Sequence[Condition]) -> Condition:
    return AllOf(tuple(parts)) if join == "all" else AnyOf(tuple(parts))


def _leaf(row: RowForm, name: str, errors: dict[str, tuple[str, Mapping[str, Any]]]
          ) -> Condition | None:
    before = len(errors)
    kind = row.field
    if kind not in FIELDS:
        errors[f"{name}.field"] = ("field", {})
        return None
    item, value = row.item.strip(), row.value.strip()
    if kind in WITH_ITEM and kind != "repeat" and not 0 < len(item) <= 130:
        errors[f"{name}.item"] = ("item", {})
    if kind in WITH_OP and row.op not in OPS:
        errors[f"{name}.op"] = ("op", {})
    number = _number(value) if kind in ("score", "any_item", "churn_risk") else None
    if kind in ("score", "any_item") and number is None:
        errors[f"{name}.value"] = ("number", {})
    if kind == "churn_risk" and (number is None or not 0 <= number <= 100):
        errors[f"{name}.value"] = ("percent", {})
    if kind in ("sentiment", "aspect") and value not in SENTIMENTS:
        errors[f"{name}.value"] = ("sentiment", {})
    words = [w.strip() for w in WORD_SPLIT.split(value) if w.strip()]
    if kind in ("keywords", "choice") and (not words or len(words) > 100
                                           or any(len(w) > 130 for w in words)):
        errors[f"{name}.value"] = ("words" if kind == "keywords" else "options", {})
    if kind in ("segment", "attribute") and not 0 < len(value) <= 130:
        errors[f"{name}.value"] = ("required", {})
    if kind == "repeat":
        days, least = _whole(item), _whole(value)
        if days is None or not 1 <= days <= 3650:
            errors[f"{name}.item"] = ("whole", {"low": 1, "high": 3650})
        if least is None or not 1 <= least <= 1000:
            errors[f"{name}.value"] = ("whole", {"low": 1, "high": 1000})
    if len(errors) > before:
        return None
    if kind == "score":
        return Score(item, row.op, float(number or 0))
    if kind == "any_item":
        return AnyItem(row.op, float(number or 0))
    if kind == "churn_risk":
        return ChurnRisk(row.op, float(number or 0) / 100)
    if kind == "choice":
        return Choice(item, tuple(dict.fromkeys(words)))
    if kind == "answered_no":
        return AnsweredNo(item)
    if kind == "sentiment":
        return Sentiment(value)
    if kind == "aspect":
        return AspectNegative(item) if value == "negative" else Aspect(item, value)
    if kind == "keywords":
        return Keywords(tuple(dict.fromkeys(words)))
    if kind == "segment":
        return Customer(segment=value)
    if kind == "attribute":
        return Customer(attribute=item, equals=_scalar(value))
    return RepeatComplaint(int(item), int(value))


def _number(text: str) -> float | None:
    try:
        number = float(text.replace("，", ".").replace(",", "."))
    except ValueError:
        return None
    return number if number == number and abs(number) < 1e12 else None  # no NaN, no inf


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 8 else None


def _scalar(text: str) -> Any:
    low = text.casefold()
    if low in ("true", "yes", "是"):
        return True
    if low in ("false", "no", "否"):
        return False
    if re.fullmatch(r"-?\d{1,15}", text):
        return int(text)
    return text


# --- condition → form ------------------------------------------------------------------------

def normalized(condition: Condition) -> Condition:
    """The same condition as the form writes it: all/any of one part is that part, and an
    aspect talked about negatively is `aspect_negative`."""
    if isinstance(condition, AllOf | AnyOf):
        parts = tuple(normalized(p) for p in condition.parts)
        return parts[0] if len(parts) == 1 else type(condition)(parts)
    if isinstance(condition, Aspect) and condition.sentiment == "negative":
        return AspectNegative(condition.aspect)
    return condition


def form_of(condition: Condition) -> ConditionForm | None:
    """The rows of the condition, or None when the form cannot express it exactly."""
    condition = normalized(condition)
    if not isinstance(condition, AllOf | AnyOf) or all(
            row_of(p) is not None for p in condition.parts):
        groups = [_group(condition)]
        join = "all"
    else:
        groups = [_group(p) for p in condition.parts]
        join = "all" if isinstance(condition, AllOf) else "any"
    if any(g is None for g in groups):
        return None
    form = ConditionForm(join, [g for g in groups if g is not None])
    if sum(len(g.rows) for g in form.groups) == 0 or len(form.groups) > MAX_GROUPS \
            or any(len(g.rows) > MAX_ROWS for g in form.groups):
        return None
    try:
        same = condition_of(form) == condition
    except InvalidInput:
        return None
    return form if same else None


def _group(node: Condition) -> GroupForm | None:
    if isinstance(node, AllOf | AnyOf):
        rows = [row_of(p) for p in node.parts]
        if any(r is None for r in rows):
            return None
        return GroupForm("all" if isinstance(node, AllOf) else "any",
                         [r for r in rows if r is not None])
    row = row_of(node)
    return None if row is None else GroupForm("all", [row])


def row_of(leaf: Condition) -> RowForm | None:
    """One leaf as a row (None for all/any and for what a row cannot hold)."""
    match leaf:
        case Score(item, op, value):
            return RowForm("score", item, op, _num_text(value))
        case AnyItem(op, value):
            return RowForm("any_item", "", op, _num_text(value))
        case ChurnRisk(op, value):
            return RowForm("churn_risk", "", op, _num_text(round(value * 100, 6)))
        case Choice(item, codes) if all("," not in c for c in codes):
            return RowForm("choice", item, "", ",".join(codes))
        case AnsweredNo(item):
            return RowForm("answered_no", item)
        case Sentiment(label):
            return RowForm("sentiment", value=label)
        case AspectNegative(code):
            return RowForm("aspect", code, "", "negative")
        case Aspect(code, label):
            return RowForm("aspect", code, "", label)
        case Keywords(words) if not any(WORD_SPLIT.search(w) for w in words):
            return RowForm("keywords", value=", ".join(words))
        case Customer(segment, None, _) if segment is not None:
            return RowForm("segment", value=segment)
        case Customer(None, attribute, equals) if attribute is not None \
                and isinstance(equals, bool | int | str):
            text = ("true" if equals else "false") if isinstance(equals, bool) else str(equals)
            return RowForm("attribute", attribute, "", text)
        case RepeatComplaint(days, least):
            return RowForm("repeat", str(days), "", str(least))
    return None


def _num_text(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else repr(value)


def outline(condition: Condition) -> dict[str, Any]:
    """The condition as a tree for a read-only view: {"join", "parts"} or {"row"} (a leaf the
    rows can hold) or {"json"} (one they cannot)."""
    if isinstance(condition, AllOf | AnyOf):
        return {"join": "all" if isinstance(condition, AllOf) else "any",
                "parts": [outline(p) for p in condition.parts]}
    row = row_of(condition)
    return {"row": row} if row is not None else {"json": condition.to_json()}


# --- posted fields and the builder's buttons -------------------------------------------------

def form_from_fields(fields: Mapping[str, Sequence[str]]) -> ConditionForm:
    """The form from posted inputs (`join`, `groups`, `g0.join`, `g0.rows`, `g0.r0.field`, …;
    a choice row's options may come as several `value` inputs)."""
    def one(name: str, default: str = "") -> str:
        values = fields.get(name) or ()
        return str(values[-1]) if values else default

    form = ConditionForm(one("join", "all"))
    for i in range(min(_whole(one("groups", "0")) or 0, MAX_GROUPS)):
        group = GroupForm(one(f"g{i}.join", "all"))
        for j in range(min(_whole(one(f"g{i}.rows", "0")) or 0, MAX_ROWS)):
            p = f"g{i}.r{j}."
            kind = one(p + "field", "score")
            if one(p + "shown", kind) != kind:
                # the row's field was just changed: what it held meant something else (a
                # question key is no aspect, a score no sentiment), so it starts afresh
                group.rows.append(fresh_row(kind))
                continue
            values = [str(v) for v in fields.get(p + "value") or ()]
            value = ",".join(v for v in values if v) if kind == "choice" else one(p + "value")
            group.rows.append(RowForm(kind, one(p + "item"), one(p + "op"), value))
        form.groups.append(group)
    return form


def fresh_row(kind: str) -> RowForm:
    """A row of field `kind` as the builder first shows it."""
    if kind == "sentiment":
        return RowForm(kind, value="negative")
    if kind == "aspect":
        return RowForm(kind, item="*", value="negative")
    return RowForm(kind)


def apply_action(form: ConditionForm, action: str) -> ConditionForm:
    """add-row:i / remove-row:i.j / add-group / remove-group:i (anything else: no change)."""
    name, _, arg = action.partition(":")
    at = [int(p) for p in arg.split(".") if p.isdigit()]
    if name == "add-group" and len(form.groups) < MAX_GROUPS:
        form.groups.append(GroupForm("all", [RowForm("sentiment", value="negative")]))
    elif name == "add-row" and at and at[0] < len(form.groups) \
            and len(form.groups[at[0]].rows) < MAX_ROWS:
        form.groups[at[0]].rows.append(RowForm("sentiment", value="negative"))
    elif name == "remove-group" and at and at[0] < len(form.groups):
        del form.groups[at[0]]
    elif name == "remove-row" and len(at) == 2 and at[0] < len(form.groups) \
            and at[1] < len(form.groups[at[0]].rows):
        del form.groups[at[0]].rows[at[1]]
        if not form.groups[at[0]].rows:
            del form.groups[at[0]]
    if not form.groups:
        form.groups = default_form().groups
    return form
