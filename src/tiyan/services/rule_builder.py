"""The alert-rule builder: what its pickers offer (rated, choice and yes/no items by their
question texts, aspects, customer segments, surveys, touchpoints, channels) and the preview of
a rule over the last 30 days, computed by `alerts.rules_matching` (the test the worker runs on
every new response), on the responses the actor may see."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission, subtree
from tiyan.domain.cases import escalation_chain
from tiyan.domain.customer_value import SEGMENT_NAMES
from tiyan.domain.surveys import CHOICE, SCALED, QuestionType
from tiyan.services.alerts import CHANNELS, RuleRequest, check_request, rules_matching
from tiyan.store import alert_facts
from tiyan.store import alert_rules as store
from tiyan.store import tables as t
from tiyan.store.scoped import parent_map, visible
from tiyan.store.surveys import list_surveys, version_definition

PREVIEW_DAYS = 30
PREVIEW_EXAMPLES = 5
PREVIEW_MAX = 5_000  # responses looked at, newest first (about 1.3 s of CPU on the demo);
# beyond this the page says only the newest were checked
PREVIEW_BATCH = 500
EXCERPT = 80  # characters of a comment shown in an example
SURVEYS = {"zh-CN": "{n} 个问卷", "en": "{n} surveys"}  # an item code several surveys share


@dataclass(frozen=True)
class Item:
    """Something a row can test, by what the respondent saw."""

    value: str  # item code, else question key (a matrix row: key.row)
    label: str  # the question text in the viewer's language (and the survey's name)
    kind: str  # score | choice | yesno
    options: tuple[tuple[str, str], ...] = ()  # a choice item's (code, label)


@dataclass
class Catalogue:
    items: list[Item] = field(default_factory=list)
    aspects: list[tuple[str, str]] = field(default_factory=list)
    segments: list[tuple[str, str]] = field(default_factory=list)
    surveys: list[tuple[str, str]] = field(default_factory=list)  # code, name
    touchpoints: list[tuple[str, str]] = field(default_factory=list)  # code, name
    channels: tuple[str, ...] = CHANNELS

    def item(self, value: str) -> Item | None:
        return next((i for i in self.items if i.value == value), None)


def catalogue(conn: Connection, actor: Actor, locale: str) -> Catalogue:
    """What the builder offers the actor (the surveys of their units and above)."""
    locale = locale if locale in SURVEYS else "en"
    out = Catalogue()
    found: dict[str, tuple[str, str, tuple[Any, ...], list[str]]] = {}
    for survey in list_surveys(conn, actor):
        version = conn.execute(sa.select(t.survey_version.c.id).where(
            t.survey_version.c.survey_id == survey.id,
            t.survey_version.c.published_at.is_not(None))
            .order_by(t.survey_version.c.version.desc()).limit(1)).scalar()
        out.surveys.append((survey.code, survey.name))
        if version is None:
            continue
        for q in version_definition(conn, version).questions:
            text = _text(q.text, locale) or q.key
            for value, label, kind, options in _items_of(q, text, locale):
                found.setdefault(value, (label, kind, options, []))[3].append(survey.name)
    for value, (label, kind, options, surveys) in found.items():
        where = surveys[0] if len(surveys) == 1 else SURVEYS[locale].format(n=len(surveys))
        out.items.append(Item(value, f"{label} · {where}", kind, options))
    from tiyan.services.text_corrections import aspect_names
    from tiyan.text.taxonomy import INDUSTRIES

    aspects: dict[str, str] = {}
    for industry in INDUSTRIES:
        for code, name in aspect_names(industry, locale).items():
            aspects.setdefault(code, name)
    out.aspects = sorted(aspects.items(), key=lambda pair: pair[1])
    out.segments = [(code, names[0] if locale == "zh-CN" else names[1])
                    for code, names in SEGMENT_NAMES.items()]
    tp = t.touchpoint
    out.touchpoints = [(row.code, row.name_zh if locale == "zh-CN" else row.name_en)
                       for row in conn.execute(sa.select(tp.c.code, tp.c.name_zh, tp.c.name_en)
                                               .order_by(tp.c.journey_id, tp.c.position))]
    return out


def _text(texts: Any, locale: str) -> str:
    return str(texts.get(locale) or texts.get("zh-CN") or next(iter(texts.values()), "")) \
        if texts else ""


def _items_of(q: Any, text: str, locale: str) -> list[tuple[str, str, str, tuple[Any, ...]]]:
    name = q.item_code or q.key
    if q.type == QuestionType.MATRIX:
        return [(f"{q.key}.{row.code}", f"{text} — {_text(row.text, locale) or row.code}",
                 "score", ()) for row in q.rows]
    if q.type in SCALED or q.type == QuestionType.NUMBER:
        return [(name, text, "score", ())]
    if q.type in CHOICE:
        return [(name, text, "choice",
                 tuple((o.code, _text(o.text, locale) or o.code) for o in q.options))]
    if q.type == QuestionType.YESNO:
        return [(name, text, "yesno", ())]
    return []


# --- preview ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    public_id: str
    at: dt.datetime
    timezone: str
    unit: dict[str, str]  # name_zh, name_en
    score: str  # NPS, else the first score; "" when none
    comment: str  # the first characters, personal data masked


@dataclass(frozen=True)
class Preview:
    matched: int
    examined: int
    complete: bool  # False: more responses than PREVIEW_MAX in the period (count is a floor)
    days: int
    examples: list[Example]
    cpu_ms: float


def preview(ctx: Context, actor: Actor, req: RuleRequest, *, days: int = PREVIEW_DAYS) -> Preview:
    """How many of the last `days` days' responses the rule would have matched, with up to five
    of them (newest first): the responses of the rule's unit subtree that the actor may see."""
    started = time.process_time()
    now = ctx.now()
    with ctx.db.read() as conn:
        values = check_request(conn, req)
        actor.require(store.RULE_PERMISSION, values["unit_id"])
        rule = SimpleNamespace(id=0, unit_id=values["unit_id"], scope=values["scope"],
                               condition=values["condition"], name=values["name"])
        parents = parent_map(conn)
        ids = _recent(conn, actor, sorted(subtree(parents, rule.unit_id)), rule.scope, now,
                      days)
        matched: list[Any] = []
        count = 0
        for start in range(0, len(ids), PREVIEW_BATCH):
            rows = alert_facts.response_rows(conn, ids[start:start + PREVIEW_BATCH])
            chains = {row.id: escalation_chain(row.unit_id, parents) for row in rows}
            found = rules_matching(conn, rows, [rule], chains, ctx.db.immutable_cache)
            hits = [row for row in rows if found[row.id]]
            count += len(hits)
            matched.extend(hits[:PREVIEW_EXAMPLES - len(matched)])
        examples = _examples(conn, matched, ctx.db.immutable_cache)
    return Preview(count, len(ids), len(ids) < PREVIEW_MAX, days, examples,
                   round((time.process_time() - started) * 1000, 1))


def _recent(conn: Connection, actor: Actor, units: Sequence[int], scope: dict[str, Any],
            now: dt.datetime, days: int) -> list[int]:
    """The ids of the period's responses the rule looks at (its units and scope; the scope is
    tested again with the condition) and the actor may see, newest first."""
    R = t.response
    since = now - dt.timedelta(days=days)
    when = sa.func.coalesce(R.c.submitted_at, R.c.received_at)
    query = (sa.select(R.c.id).where(
        R.c.unit_id.in_(list(units)),
        visible(actor.scope.visibility(Permission.VIEW_RESPONSES), R.c.unit_id, R.c.staff_id),
        sa.or_(R.c.submitted_at >= since,
               sa.and_(R.c.submitted_at.is_(None), R.c.received_at >= since)),
        when <= now)
        .order_by(when.desc(), R.c.id.desc()).limit(PREVIEW_MAX))
    for key, column in (("surveys", R.c.survey_id), ("touchpoints", R.c.touchpoint_id),
                        ("channels", R.c.channel)):
        if scope.get(key):
            query = query.where(column.in_(list(scope[key])))
    return [int(i) for i in conn.execute(query).scalars()]


def _examples(conn: Connection, rows: Sequence[Any],
              cache: dict[object, object] | None) -> list[Example]:
    from tiyan.text.redact import redact

    if not rows:
        return []
    facts = alert_facts.responses_facts(conn, rows, cache)
    units = {u.id: u for u in conn.execute(
        sa.select(t.org_unit.c.id, t.org_unit.c.name_zh, t.org_unit.c.name_en,
                  t.org_unit.c.timezone)
        .where(t.org_unit.c.id.in_(sorted({r.unit_id for r in rows}))))}
    out = []
    for row in rows:
        f = facts[row.id]
        score = f.scores.get("nps", next(iter(f.scores.values()), None))
        text = redact(f.text).text if f.text else ""
        unit = units[row.unit_id]
        out.append(Example(
            row.public_id, row.submitted_at or row.received_at, unit.timezone or "Asia/Shanghai",
            {"name_zh": unit.name_zh, "name_en": unit.name_en},
            "" if score is None else f"{score:g}",
            text[:EXCERPT] + ("…" if len(text) > EXCERPT else "")))
    return out
