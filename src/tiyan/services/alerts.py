"""Alert rules: configure them (audit-logged), and evaluate them on every new response after its
text analysis (job `alerts.evaluate`, enqueued by the text-analysis job in the same transaction
that stores the analysis)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Role
from tiyan.domain.alerts import RuleAction, RuleScope, parse_action, parse_condition
from tiyan.domain.cases import escalation_chain, parse_sla
from tiyan.domain.responses import Channel
from tiyan.errors import InvalidInput, Phrase
from tiyan.services.jobs import ClaimedJob, batch_job_handler, enqueue_many
from tiyan.store import alert_facts, audit, org
from tiyan.store import alert_rules as store
from tiyan.store import tables as t
from tiyan.store.scoped import parent_map

ALERTS_EVALUATE = "alerts.evaluate"
ROLES = tuple(r.value for r in Role)
CHANNELS = tuple(c.value for c in Channel)


@dataclass(frozen=True)
class RuleRequest:
    name: str
    unit_code: str
    condition: Any
    action: Any
    scope: Any = None  # {"surveys": [code…], "touchpoints": [code…]}
    sla: Any = None
    active: bool = True


def check_request(conn: Connection, req: RuleRequest) -> dict[str, Any]:
    name = req.name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("alerts.rule_needs_name_characters", where="name")
    condition = parse_condition(req.condition)
    action = parse_action(req.action, ROLES)
    sla = parse_sla(req.sla)
    return {"name": name, "unit_id": org.unit_id_by_code(conn, req.unit_code),
            "condition": condition.to_json(), "action": action.to_json(),
            "scope": _scope_ids(conn, req.scope), "sla": sla.to_json(), "active": req.active}


def _scope_ids(conn: Connection, raw: Any) -> dict[str, Any]:
    import sqlalchemy as sa

    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"surveys", "touchpoints", "channels"}:
        raise InvalidInput("alerts.expected_surveys_codes_touchpoints_2", where="scope")
    out: dict[str, Any] = {}
    channels = raw.get("channels") or []
    if not isinstance(channels, list) or any(c not in CHANNELS for c in channels):
        raise InvalidInput("alerts.expected_list_channels", channels=", ".join(CHANNELS),
                           where="scope.channels")
    if channels:
        out["channels"] = sorted(set(channels))
    for key, table in (("surveys", t.survey), ("touchpoints", t.touchpoint)):
        codes = raw.get(key) or []
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise InvalidInput("alerts.expected_list_codes", where=f"scope.{key}")
        found = dict(conn.execute(sa.select(table.c.code, table.c.id)
                                  .where(table.c.code.in_(codes))).all())
        for code in codes:
            if code not in found:
                raise InvalidInput("alerts.no_code", v_key=Phrase(f"alerts.scope.{key}"), code=code,
                                   where=f"scope.{key}")
        if codes:
            out[key] = sorted(found[c] for c in codes)
    return out


def do_create_rule(ctx: Context, actor: Actor, req: RuleRequest) -> str:
    now = ctx.now()
    with ctx.db.write() as conn:
        values = check_request(conn, req)
        actor.require(store.RULE_PERMISSION, values["unit_id"])
        public_id = store.insert_rule(conn, values=values, now=now)
        audit.record(conn, at=now, user_id=actor.user_id, action="alert_rule.create",
                     entity="alert_rule", entity_id=public_id, unit_id=values["unit_id"],
                     detail={"name": values["name"], "condition": values["condition"],
                             "action": values["action"]})
    return public_id


def do_update_rule(ctx: Context, actor: Actor, public_id: str, req: RuleRequest) -> None:
    now = ctx.now()
    with ctx.db.write() as conn:
        row = store.get_rule(conn, actor, public_id)
        values = check_request(conn, req)
        actor.require(store.RULE_PERMISSION, values["unit_id"])
        store.update_rule(conn, row.id, values, now)
        audit.record(conn, at=now, user_id=actor.user_id, action="alert_rule.update",
                     entity="alert_rule", entity_id=public_id, unit_id=values["unit_id"],
                     detail={"name": values["name"], "condition": values["condition"],
                             "action": values["action"], "active": values["active"]})


def do_delete_rule(ctx: Context, actor: Actor, public_id: str) -> bool:
    """Delete the rule (or deactivate it when it already opened cases); True when deleted."""
    now = ctx.now()
    with ctx.db.write() as conn:
        row = store.get_rule(conn, actor, public_id)
        deleted = store.delete_rule(conn, row.id)
        audit.record(conn, at=now, user_id=actor.user_id,
                     action="alert_rule.delete" if deleted else "alert_rule.deactivate",
                     entity="alert_rule", entity_id=public_id, unit_id=row.unit_id,
                     detail={"name": row.name})
    return deleted


# --- evaluation -------------------------------------------------------------------------------

def enqueue_evaluation(conn: Connection, response_ids: list[int], now: Any) -> None:
    """Called by the text-analysis job inside the transaction that stores the analysis."""
    enqueue_evaluations(conn, [response_ids], now)


def enqueue_evaluations(conn: Connection, groups: Sequence[Sequence[int]], now: Any) -> None:
    """One evaluation job per group of responses (a batch of analysis jobs keeps its jobs'
    groups, so the rules of one response fail or retry without the others')."""
    enqueue_many(conn, [(ALERTS_EVALUATE, {"response_ids": list(ids)}) for ids in groups if ids],
                 run_at=now)


@batch_job_handler(ALERTS_EVALUATE)
def evaluate_batch(ctx: Context, jobs: list[ClaimedJob]) -> dict[int, Exception]:
    evaluate_rules_for_responses(
        ctx, [int(i) for job in jobs for i in job.payload.get("response_ids", [])])
    return {}


def evaluate_rules_for_response(ctx: Context, response_id: int) -> list[str]:
    """Run every active rule that covers the response; act on the matches. Returns the public
    ids of the cases opened (none when a case already exists: a retried job is harmless)."""
    return evaluate_rules_for_responses(ctx, [response_id])


def evaluate_rules_for_responses(ctx: Context, response_ids: Sequence[int]) -> list[str]:
    """The same for many responses: the rules and the hierarchy read once, every match acted on
    in one transaction. Returns the public ids of the cases opened."""
    from tiyan.services.cases import Match, act_on_all_matches

    with ctx.db.read() as conn:
        # a response flagged as a suspected duplicate (tiyan.services.link_guard) acts on
        # nothing: a scripted flood through one link opens no cases and tells nobody; restored,
        # it is evaluated then
        rows = [row for row in alert_facts.response_rows(conn, response_ids)
                if row.status != "flagged"]
        parents = parent_map(conn)
        chains = {row.id: escalation_chain(row.unit_id, parents) for row in rows}
        all_rules = store.active_rules_for_units(
            conn, sorted({unit for chain in chains.values() for unit in chain}))
        matched = rules_matching(conn, rows, all_rules, chains, ctx.db.immutable_cache)
    matches = [Match(row, chains[row.id], matched[row.id]) for row in rows if matched[row.id]]
    return act_on_all_matches(ctx, matches) if matches else []


def rules_matching(conn: Connection, rows: Sequence[RowMapping], rules: Sequence[Any],
                   chains: Mapping[int, Sequence[int]],
                   cache: dict[object, object] | None = None) -> dict[int, list[Any]]:
    """Response id → the rules (in the given order) that cover the response (set on its unit or
    an ancestor, `chains`; in scope) and whose condition it meets. The one test the worker and
    the builder's preview share; the facts are read only for responses some rule covers."""
    covering = {row.id: [r for r in rules if r.unit_id in chains[row.id] and _in_scope(r, row)]
                for row in rows}
    facts = alert_facts.responses_facts(conn, [row for row in rows if covering[row.id]], cache)
    conditions = {id(r): parse_condition(r.condition) for r in rules}
    return {row.id: [r for r in covering[row.id]
                     if row.id in facts and conditions[id(r)].test(facts[row.id])]
            for row in rows}


def _chain(conn: Connection, unit_id: int) -> list[int]:
    from tiyan.domain.cases import escalation_chain
    from tiyan.store.scoped import parent_map

    return escalation_chain(unit_id, parent_map(conn))


def _in_scope(rule: Any, response: RowMapping) -> bool:
    scope = rule.scope or {}
    return RuleScope(frozenset(scope.get("surveys", ())),
                     frozenset(scope.get("touchpoints", ())),
                     frozenset(scope.get("channels", ()))).covers(
        response.survey_id, response.touchpoint_id, response.channel)


def rule_action(rule: RowMapping) -> RuleAction:
    return parse_action(rule.action, ROLES)
