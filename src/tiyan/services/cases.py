"""Cases (工单): opened by alert rules, routed to the unit's owner by role, worked through the
status workflow with notes and root causes, timed by SLA and escalated up the hierarchy.

Each SLA timer has a `cases.check_timers` job due when it runs out; the queue is durable, so a
timer that ran out while the app was down escalates as soon as a worker runs again.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Role
from tiyan.domain.alerts import RuleAction
from tiyan.domain.cases import (
    COMMENT_LINE,
    MEETS,
    CaseStatus,
    check_transition,
    escalation_ladder,
    escalation_step,
    parse_sla,
    parse_status,
    pick_owner,
)
from tiyan.domain.root_causes import RootCauseTree, parse_tree
from tiyan.domain.worktime import BusinessCalendar, add_working_time
from tiyan.errors import InvalidInput
from tiyan.services.jobs import enqueue_many, job_handler
from tiyan.services.notifications import Message, queue_for_users, queue_many
from tiyan.services.storage import object_store
from tiyan.services.unit_channels import queue_for_units
from tiyan.store import cases as store
from tiyan.store import tables as t
from tiyan.store.id_lists import among

CHECK_TIMERS = "cases.check_timers"
ESCALATION_ROLES = (Role.UNIT_MANAGER.value, Role.CX_MANAGER.value, Role.ADMIN.value)
MAX_NOTE = 5000


@functools.cache
def _tree_from(path: str | None) -> RootCauseTree:
    file = Path(path) if path else Path(__file__).parent.parent / "domain" / "root_causes.yaml"
    return parse_tree(yaml.safe_load(file.read_text(encoding="utf-8")), where=file.name)


def root_causes(ctx: Context) -> RootCauseTree:
    return _tree_from(ctx.settings.root_causes_file)


# --- opening --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    """A response and the active rules (in order) whose conditions it meets."""

    response: RowMapping
    chain: Sequence[int]  # its unit and the ancestors, nearest first
    rules: Sequence[RowMapping]


def act_on_matches(ctx: Context, response: RowMapping, chain: Sequence[int],
                   rules: Sequence[RowMapping]) -> list[str]:
    """Open one case for the response listing every matching rule, and tell each person the
    matching rules route to once. Nothing happens twice for the same response."""
    return act_on_all_matches(ctx, [Match(response, chain, rules)])


def act_on_all_matches(ctx: Context, matches: Sequence[Match]) -> list[str]:
    """The same for many responses in one transaction; the public ids of the cases opened.
    What the matches share (units, owners, calendars, users) is read once, and the rows of
    each kind (cases, timers, events, callback tasks, notifications, jobs) are added in one
    statement each."""
    now = ctx.now()
    with ctx.db.write() as conn:
        return _act_on(ctx, conn, matches, now)


@dataclass
class _Opening:
    """One case for one response: `rule` is the first matching rule that opens cases (its name
    is the title, its route the owner); `rules` every rule the response matched."""

    response: RowMapping
    chain: Sequence[int]
    rule: RowMapping
    action: RuleAction
    owner: int | None
    due: dict[str, dt.datetime]
    public_id: str
    rules: Sequence[RowMapping] = ()
    callback: bool = False
    case_id: int = 0


def _act_on(ctx: Context, conn: Connection, matches: Sequence[Match],
            now: dt.datetime) -> list[str]:
    """Each response opens at most one case, whatever number of rules it matched: the case
    lists them all, each SLA target is the earliest the case-opening rules ask for, and it gets
    a callback task when any of them asks. Each person a notifying rule routes to is told once
    per response (about the case when one opened, else about the response)."""
    from tiyan.services.alerts import rule_action

    has_case = store.responses_with_cases(conn, [m.response.id for m in matches])
    unit_names: dict[int, dict[str, str]] = {}
    owners: dict[tuple[str, tuple[int, ...]], int | None] = {}
    calendars: dict[tuple[int, ...], BusinessCalendar] = {}
    openings: list[_Opening] = []
    told: list[tuple[Match, _Opening | None, list[int]]] = []  # who is told of each response
    for match in matches:
        response, chain = match.response, tuple(match.chain)
        if response.id in has_case or not match.rules:
            continue
        has_case.add(response.id)
        if chain[0] not in unit_names:
            unit_names[chain[0]] = _unit_names(conn, chain[0])
        opening: _Opening | None = None
        people: list[int] = []
        notifies = False
        for rule in match.rules:
            action = rule_action(rule)
            if (action.route_role, chain) not in owners:
                owners[(action.route_role, chain)] = _route(conn, chain, action.route_role)
            owner = owners[(action.route_role, chain)]
            if action.opens_case:
                if chain not in calendars:
                    calendars[chain] = store.calendar_for(conn, chain)
                due = sla_due(parse_sla(rule.sla), now, calendars[chain])
                if opening is None:
                    opening = _Opening(response, chain, rule, action, owner, due,
                                       store.new_case_id(), rules=match.rules)
                    openings.append(opening)
                else:
                    opening.due = {kind: min(at, opening.due.get(kind, at))
                                   for kind, at in {**opening.due, **due}.items()}
                opening.callback = opening.callback or action.callback
            notifies = notifies or action.notifies
            if action.notifies and owner and owner not in people:
                people.append(owner)
        if notifies:
            told.append((match, opening, people))
    _open_cases(conn, openings, now)
    answers = _answers_of(conn, [m.response.id for m, o, _ in told if o is not None])
    public_url = ctx.settings.public_url.rstrip("/")
    messages: list[tuple[Sequence[int], int | None, Message]] = []
    units: list[tuple[Sequence[int], int | None, Message]] = []  # the units' own channels
    item: tuple[Sequence[int], int | None, Message]
    for match, opening, people in told:
        names = " · ".join(r.name for r in match.rules)
        unit = unit_names[match.chain[0]]
        at = match.response.submitted_at or match.response.received_at
        if opening is not None:
            item = (people, opening.case_id, Message(
                "case.opened", opening.rule.name, unit, names, _link(ctx, opening.public_id),
                complaint_summary(conn, match.response, answers.get(match.response.id, []),
                                  ctx.db.immutable_cache), at=at,
                due=min(opening.due.values()) if opening.due else None))
        else:
            item = (people, None, Message(
                "alert", match.rules[0].name, unit, names,
                f"{public_url}/responses/{match.response.public_id}", at=at))
        if people:
            messages.append(item)
        units.append((match.chain, item[1], item[2]))
    queue_many(conn, messages, now, ctx.settings.timezone)
    queue_for_units(conn, units, now, ctx.settings.timezone)
    return [o.public_id for o in openings]


def _open_cases(conn: Connection, openings: Sequence[_Opening], now: dt.datetime) -> None:
    """Add the cases, their SLA timers, timer jobs, "opened" events and callback tasks."""
    if not openings:
        return
    ids = store.insert_cases(conn, now=now, rows=[{
        "public_id": o.public_id, "response_id": o.response.id, "rule_id": o.rule.id,
        "unit_id": o.response.unit_id, "customer_id": o.response.customer_id,
        "owner_user_id": o.owner, "title": o.rule.name[:300],
        "due_at": min(o.due.values()) if o.due else None} for o in openings])
    timer_jobs: dict[dt.datetime, list[tuple[str, dict[str, Any]]]] = {}
    for opening, case_id in zip(openings, ids, strict=True):
        opening.case_id = case_id
        for at in sorted(set(opening.due.values())):
            timer_jobs.setdefault(at, []).append((CHECK_TIMERS, {"case_id": case_id}))
    store.insert_case_rules(conn, [(o.case_id, [r.id for r in o.rules] or [o.rule.id])
                                   for o in openings])
    store.insert_timers_of(conn, [(o.case_id, o.due) for o in openings])
    for at, jobs in sorted(timer_jobs.items()):  # enqueue_many: one statement per due time
        enqueue_many(conn, jobs, run_at=at)
    store.log_events(conn, at=now, user_id=None, kind="opened", events=[
        (o.case_id, {"rule": o.rule.name, "rules": [r.name for r in o.rules],
                     "owner_user_id": o.owner,
                     "route_role": o.action.route_role,
                     "due": {k: v.isoformat() for k, v in o.due.items()}}) for o in openings])
    callbacks = [o for o in openings if o.callback]
    if callbacks:
        from tiyan.services.callbacks import open_callback_tasks

        open_callback_tasks(conn, [(o.response, o.case_id, o.owner) for o in callbacks], now,
                            reason="case")


def _answers_of(conn: Connection, response_ids: Sequence[int]) -> dict[int, list[Any]]:
    import sqlalchemy as sa

    found: dict[int, list[Any]] = {}
    if response_ids:
        for row in conn.execute(sa.select(t.answer.c.response_id, t.answer.c.question_key,
                                          t.answer.c.value_num, t.answer.c.value_text)
                                .where(among(conn, t.answer.c.response_id, list(response_ids)))
                                .order_by(t.answer.c.response_id, t.answer.c.question_key)):
            found.setdefault(row.response_id, []).append(row)
    return found


SUMMARY_SCORES = 6  # score answers quoted in a case notification
SUMMARY_COMMENT = 500  # characters of the comment quoted
SCORE_WORDS = {locale: (scores, COMMENT_LINE[locale])
               for locale, scores in (("zh-CN", "评分"), ("en", "Scores"))}


def complaint_summary(conn: Connection, response: RowMapping, answers: Sequence[Any] | None = None,
                      cache: dict[object, object] | None = None) -> dict[str, list[str]]:
    """What the customer said, for the case's notifications, in each language: the score
    answers with their question texts and the comment with personal data masked (`answers`:
    the response's answers when already read, by question key)."""
    from tiyan.domain.surveys import QuestionType
    from tiyan.store.surveys import version_definition
    from tiyan.text.redact import redact

    if answers is None:
        answers = _answers_of(conn, [response.id]).get(response.id, [])
    questions = {}
    if response.survey_version_id is not None:
        definition = version_definition(conn, response.survey_version_id, cache)
        questions = {q.key: q for q in definition.questions}
    scores = [(questions.get(a.question_key), a) for a in answers if a.value_num is not None]
    scores.sort(key=lambda pair: list(questions).index(pair[1].question_key)
                if pair[1].question_key in questions else len(questions))
    comments = [a.value_text for a in answers if a.value_text and (
        a.question_key not in questions
        or questions[a.question_key].type == QuestionType.TEXT)]
    out: dict[str, list[str]] = {}
    for locale, (score_word, comment_word) in SCORE_WORDS.items():
        lines = []
        shown = [f"{(q.text.get(locale) or q.key) if q else a.question_key} "
                 f"{a.value_num:g}" for q, a in scores[:SUMMARY_SCORES]]
        if shown:
            lines.append(f"{score_word}: " + " · ".join(shown))
        if comments:
            text = " / ".join(redact(c).text for c in comments)
            cut = text[:SUMMARY_COMMENT] + ("…" if len(text) > SUMMARY_COMMENT else "")
            lines.append(f"{comment_word}: {cut}")
        out[locale] = lines
    return out


def sla_due(policy: Any, start: dt.datetime, calendar: BusinessCalendar) -> dict[str, dt.datetime]:
    due: dict[str, dt.datetime] = {}
    for kind, target in policy.targets.items():
        span = dt.timedelta(hours=target.hours)
        due[kind.value] = add_working_time(start, span, calendar) if target.working \
            else start + span
    return due


def _route(conn: Connection, chain: Sequence[int], role: str) -> int | None:
    found = pick_owner(chain, store.role_holders(conn, role, chain))
    return found[1] if found else None


def _unit_names(conn: Connection, unit_id: int) -> dict[str, str]:
    """The unit's name in each language a message may be written in."""
    import sqlalchemy as sa

    row = conn.execute(sa.select(t.org_unit.c.name_zh, t.org_unit.c.name_en)
                       .where(t.org_unit.c.id == unit_id)).one()
    return {"zh-CN": row.name_zh, "en": row.name_en}


def _link(ctx: Context, public_id: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/cases/{public_id}"


# --- working a case ----------------------------------------------------------------------------

def do_change_status(ctx: Context, actor: Actor, public_id: str, status: str,
                     note: str | None = None) -> str:
    target = parse_status(status)
    now = ctx.now()
    with ctx.db.write() as conn:
        case = store.get_case(conn, actor, public_id)
        actor.require(store.CASE_PERMISSION, case.unit_id)
        event = check_transition(CaseStatus(case.status), target)
        store.update_case(conn, case.id, now, status=target.value, **_stamps(case, target, now))
        store.meet_timers(conn, case.id, [k.value for k in MEETS.get(target, ())], now)
        store.log_event(conn, case.id, at=now, user_id=actor.user_id, kind=event,
                        detail={"from": case.status, "to": target.value,
                                **({"note": _note(note)} if note else {})})
    return event


def _stamps(case: RowMapping, target: CaseStatus, now: dt.datetime) -> dict[str, Any]:
    stamps: dict[str, Any] = {}
    if target in (CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS) and not case.acknowledged_at:
        stamps["acknowledged_at"] = now
    if target == CaseStatus.IN_PROGRESS and not case.first_contact_at:
        stamps["first_contact_at"] = now
    if target == CaseStatus.RESOLVED:
        stamps["resolved_at"] = now
    if target == CaseStatus.CLOSED:
        stamps["closed_at"] = now
    if target == CaseStatus.IN_PROGRESS and case.status in ("resolved", "closed"):
        stamps.update(resolved_at=None, closed_at=None)
    return stamps


def _note(text: str | None) -> str:
    text = (text or "").strip()
    if not text or len(text) > MAX_NOTE:
        raise InvalidInput("cases.note_characters", max_note=MAX_NOTE, where="note")
    return text


def do_add_note(ctx: Context, actor: Actor, public_id: str, note: str) -> None:
    text = _note(note)
    now = ctx.now()
    with ctx.db.write() as conn:
        case = store.get_case(conn, actor, public_id)
        actor.require(store.CASE_PERMISSION, case.unit_id)
        store.log_event(conn, case.id, at=now, user_id=actor.user_id, kind="note",
                        detail={"note": text})
        store.update_case(conn, case.id, now)


def do_set_root_cause(ctx: Context, actor: Actor, public_id: str, code: str) -> None:
    node = root_causes(ctx).get(code)
    now = ctx.now()
    with ctx.db.write() as conn:
        case = store.get_case(conn, actor, public_id)
        actor.require(store.CASE_PERMISSION, case.unit_id)
        store.update_case(conn, case.id, now, root_cause=node.code)
        store.log_event(conn, case.id, at=now, user_id=actor.user_id, kind="root_cause",
                        detail={"from": case.root_cause, "to": node.code})


def record_first_contact(conn: Connection, case_id: int, user_id: int | None,
                         now: dt.datetime) -> None:
    """A callback reached the customer: the acknowledge and first-contact timers are met, and
    a case still new or acknowledged is in progress from now on (its status never says "new"
    once the customer was reached; the move is in the history under the caller's name)."""
    import sqlalchemy as sa

    store.meet_timers(conn, case_id, ["contact", "acknowledge"], now)
    case = conn.execute(sa.select(t.cx_case).where(t.cx_case.c.id == case_id)).mappings().one()
    if case.status in (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED):
        store.update_case(conn, case_id, now, status=CaseStatus.IN_PROGRESS.value,
                          **_stamps(case, CaseStatus.IN_PROGRESS, now))
        store.log_event(conn, case_id, at=now, user_id=user_id, kind="in_progress",
                        detail={"from": case.status, "to": CaseStatus.IN_PROGRESS.value})
        return
    conn.execute(sa.update(t.cx_case).where(t.cx_case.c.id == case_id,
                                            t.cx_case.c.first_contact_at.is_(None))
                 .values(first_contact_at=now))


# --- escalation ---------------------------------------------------------------------------------

@job_handler(CHECK_TIMERS)
def check_timers_job(ctx: Context, payload: dict[str, Any]) -> None:
    escalate_overdue_cases(ctx)


def escalate_overdue_cases(ctx: Context) -> int:
    """Escalate every case with a timer that ran out: the next level up the hierarchy that has
    a manager is told, and the case records it. Returns how many timers were escalated."""
    now = ctx.now()
    with ctx.db.read() as conn:
        overdue = store.overdue_timers(conn, now)
    count = 0
    for timer in overdue:
        with ctx.db.write() as conn:
            if not store.mark_breached(conn, timer.id, now):
                continue
            count += 1
            _escalate(ctx, conn, timer, now)
    return count


def _escalate(ctx: Context, conn: Connection, timer: RowMapping, now: dt.datetime) -> None:
    import sqlalchemy as sa

    # the case's level now, not when the overdue timers were listed: timers that ran out
    # together climb one step each
    level = store.raise_escalation_level(conn, timer.case_id, now)
    owner = conn.execute(sa.select(t.cx_case.c.owner_user_id)
                         .where(t.cx_case.c.id == timer.case_id)).scalar_one()
    target = escalation_step(escalation_ladder_of(conn, timer.unit_id, owner), level)
    store.log_event(conn, timer.case_id, at=now, user_id=None, kind="escalated",
                    detail=escalated_detail(timer.kind, timer.due_at, level, target))
    if target:
        queue_for_users(conn, user_ids=[target[1]], case_id=timer.case_id, now=now,
                        zone=ctx.settings.timezone,
                        message=Message("case.escalated", timer.title,
                                        _unit_names(conn, timer.unit_id), None,
                                        _link(ctx, timer.public_id), due=timer.due_at,
                                        timer=timer.kind))


def escalated_detail(timer: str, due_at: dt.datetime, level: int,
                     target: tuple[int, int] | None) -> dict[str, Any]:
    """What the history keeps of one escalation."""
    return {"timer": timer, "due_at": due_at.isoformat(), "level": level,
            "to_user_id": target[1] if target else None,
            "to_unit_id": target[0] if target else None}


def escalation_ladder_of(conn: Connection, unit_id: int,
                         owner: int | None) -> list[tuple[int, int]]:
    """Whom each escalation level of a case of `unit_id` owned by `owner` goes to: one step
    further up at each level — the managers above the owner, nearest first, then the CX
    manager, then the administrators (the top, told again at every later level)."""
    from tiyan.services.alerts import _chain

    chain = _chain(conn, unit_id)
    above = chain[_owner_level(conn, owner, chain) + 1:]
    return escalation_ladder(above, chain, {role: store.role_holders(conn, role, chain)
                                            for role in ESCALATION_ROLES}, ESCALATION_ROLES,
                             owner)


def _owner_level(conn: Connection, owner: int | None, chain: Sequence[int]) -> int:
    """Index in `chain` of the unit where the case's owner holds a role (0 without owner)."""
    import sqlalchemy as sa

    if owner is None:
        return 0
    units = set(conn.execute(sa.select(t.role_grant.c.unit_id)
                             .where(t.role_grant.c.user_id == owner)).scalars())
    return next((i for i, unit in enumerate(chain) if unit in units), 0)


# --- attachments ---------------------------------------------------------------------------------

SAFE_NAME = re.compile(r"[^\w.\- ()\u4e00-\u9fff]+")


def attachment_key(case_public_id: str, file_id: str) -> str:
    """Where a case's file is kept in the object store (tiyan.services.storage)."""
    return f"cases/{case_public_id}/{file_id}"


def do_attach_file(ctx: Context, actor: Actor, public_id: str, name: str,
                   content: bytes, content_type: str | None) -> str:
    """Store a file on the case (in the object store, where every process reads it; its name,
    size and type in the case history); returns the file's id. Too large or empty files are
    refused."""
    limit = int(ctx.settings.attachment_max_mb * 1024 * 1024)
    if not content:
        raise InvalidInput("cases.file_empty", where="file")
    if len(content) > limit:
        raise InvalidInput("cases.file_bytes_most", n_content=len(content), limit=limit,
                           where="file")
    clean = SAFE_NAME.sub("_", Path(name or "file").name).strip()[:200] or "file"
    file_id = secrets.token_hex(16)
    now = ctx.now()
    with ctx.db.read() as conn:
        case = store.get_case(conn, actor, public_id)
    actor.require(store.CASE_PERMISSION, case.unit_id)
    objects = object_store(ctx)
    key = attachment_key(case.public_id, file_id)
    objects.put(key, io.BytesIO(content), now=now, content_type=(content_type or "")[:100])
    try:
        with ctx.db.write() as conn:
            store.log_event(conn, case.id, at=now, user_id=actor.user_id, kind="attachment",
                            detail={"file_id": file_id, "name": clean, "size": len(content),
                                    "content_type": (content_type or "")[:100]})
            store.update_case(conn, case.id, now)
    except Exception:
        objects.delete(key)
        raise
    return file_id


def attachments_of(events: Sequence[RowMapping]) -> list[dict[str, Any]]:
    return [dict(e.detail) for e in events if e.kind == "attachment"]


def access_attachment(ctx: Context, actor: Actor, public_id: str,
                      file_id: str) -> tuple[str, dict[str, Any]]:
    """The stored file's key and its description, when the actor may see the case."""
    with ctx.db.read() as conn:
        case = store.get_case(conn, actor, public_id)
        found = [a for a in attachments_of(store.events_of(conn, case.id))
                 if a.get("file_id") == file_id]
    key = attachment_key(case.public_id, file_id)
    if not found or found[0].get("erased") or object_store(ctx).size(key) is None:
        from tiyan.errors import NotFound

        raise NotFound("cases.case_no_file", public_id=public_id, file_id=file_id,
                       where="attachment")
    return key, found[0]
