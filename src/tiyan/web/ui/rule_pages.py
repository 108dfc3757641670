"""Alert rules without JSON: the list (each condition in words), the builder (conditions as
rows in groups, scope, action, SLA as fields; a preview on the last 30 days), and for
administrators the advanced JSON editor. One form with several buttons, as the survey editor:
add and remove rows and groups (nothing saved), preview, save. With htmx the form swaps itself;
without it every button posts the page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tiyan.context import Context
from tiyan.domain import json_depth
from tiyan.domain import rule_form as rf
from tiyan.domain.access import Actor, Role
from tiyan.domain.alerts import ACTIONS, parse_condition
from tiyan.domain.cases import TimerKind, parse_sla
from tiyan.errors import Forbidden, InvalidInput, TiyanError
from tiyan.services import alerts, rule_builder
from tiyan.store import alert_rules as rule_store
from tiyan.store import org
from tiyan.web.deps import MAX_FORM_FIELDS, ContextDep, PageActor, translator
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
ROLES = tuple(r.value for r in Role)
TIMERS = tuple(k.value for k in TimerKind)
Errors = dict[str, tuple[str, Mapping[str, Any]]]


async def _posted(request: Request) -> FormData:
    return await request.form(max_fields=MAX_FORM_FIELDS)


Posted = Annotated[FormData, Depends(_posted)]


def is_admin(actor: Actor) -> bool:
    return any(g.role == Role.ADMIN for g in actor.scope.grants)


# --- the list --------------------------------------------------------------------------------

@router.get("/alert-rules", response_class=HTMLResponse)
def rules_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(rule_store.RULE_PERMISSION)
    return _list_page(request, ctx, actor)


def _list_page(request: Request, ctx: Context, actor: Actor, *, status_code: int = 200,
               **values: Any) -> HTMLResponse:
    locale = translator(request).locale
    with ctx.db.read() as conn:
        rows = rule_store.list_rules(conn, actor)
        units = {u["code"]: u for u in org.list_units(conn, actor)}
        catalogue = rule_builder.catalogue(conn, actor, locale)
    outlines = {r.public_id: rf.outline(parse_condition(r.condition)) for r in rows}
    return render(request, "alert_rules.html", actor=actor, rows=rows, outlines=outlines,
                  units=units, cat=catalogue, admin=is_admin(actor), status_code=status_code,
                  values=values.pop("values", {}), **values)


@router.post("/alert-rules", response_class=HTMLResponse)
def create_rule_json(request: Request, ctx: ContextDep, actor: PageActor,
                     fields: Posted) -> Response:
    """The advanced form (administrators): a rule's condition and SLA as JSON."""
    _require_admin(actor)
    one = {k: str(fields.get(k) or "") for k in ("name", "unit_code", "condition", "kind",
                                                   "route_role", "callback", "sla")}
    try:
        alerts.do_create_rule(ctx, actor, alerts.RuleRequest(
            name=one["name"][:200], unit_code=one["unit_code"][:64],
            condition=_json(one["condition"], "condition"),
            sla=_json(one["sla"], "sla") if one["sla"].strip() else None,
            action={"kind": one["kind"] or "both",
                    "route_role": one["route_role"] or "unit_manager",
                    "callback": bool(one["callback"])}))
    except TiyanError as exc:
        return _list_page(request, ctx, actor, status_code=exc.status, error=exc, values=one)
    return RedirectResponse("/alert-rules", status_code=303)


@router.post("/alert-rules/{rule_id}/delete")
def delete_rule(request: Request, rule_id: str, ctx: ContextDep, actor: PageActor) -> Response:
    alerts.do_delete_rule(ctx, actor, rule_id[:32])
    return RedirectResponse("/alert-rules", status_code=303)


def _require_admin(actor: Actor) -> None:
    if not is_admin(actor):
        raise Forbidden("rule_pages.only_administrators_edit_rule",
                        where="condition")


def _json(text: str, where: str) -> Any:
    try:
        return json_depth.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("case_pages.not_valid_json_line", msg=exc.msg, lineno=exc.lineno,
                           colno=exc.colno,
                           where=where) from None


# --- the builder -----------------------------------------------------------------------------

def _fresh_values(unit_code: str) -> dict[str, Any]:
    sla = parse_sla(None).to_json()
    return {"name": "", "unit_code": unit_code, "kind": "both", "route_role": "unit_manager",
            "callback": False, "active": True, "surveys": [], "touchpoints": [], "channels": [],
            **_sla_fields(sla)}


def _sla_fields(sla: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in TIMERS:
        target = sla.get(kind)
        out[f"sla.{kind}.hours"] = "" if target is None else f"{target['hours']:g}"
        out[f"sla.{kind}.working"] = bool(target and target.get("working"))
    return out


@router.get("/alert-rules/new", response_class=HTMLResponse)
def new_rule(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(rule_store.RULE_PERMISSION)
    with ctx.db.read() as conn:
        units = _units(conn, actor)
    values = _fresh_values(units[0]["code"] if units else "")
    return _builder(request, ctx, actor, None, rf.default_form(), values)


@router.get("/alert-rules/{rule_id}", response_class=HTMLResponse)
def edit_rule(request: Request, rule_id: str, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(rule_store.RULE_PERMISSION)
    with ctx.db.read() as conn:
        row = rule_store.get_rule(conn, actor, rule_id[:32])
        scope = rule_store.scope_codes(conn, row.scope)
    values = {"name": row.name, "unit_code": row.unit_code, "kind": row.action.get("kind"),
              "route_role": row.action.get("route_role", "unit_manager"),
              "callback": bool(row.action.get("callback")), "active": row.active,
              "surveys": scope.get("surveys", []), "touchpoints": scope.get("touchpoints", []),
              "channels": scope.get("channels", []), **_sla_fields(row.sla or {})}
    form = rf.form_of(parse_condition(row.condition))
    return _builder(request, ctx, actor, row, form, values)


@router.post("/alert-rules/build", response_class=HTMLResponse)
def build_rule(request: Request, ctx: ContextDep, actor: PageActor, fields: Posted) -> Response:
    """Every button of the builder: add-row:i, remove-row:i.j, add-group, remove-group:i,
    refresh (nothing saved), preview, save."""
    actor.require(rule_store.RULE_PERMISSION)
    rule_id = str(fields.get("rule_id") or "")[:32]
    with ctx.db.read() as conn:
        row = rule_store.get_rule(conn, actor, rule_id) if rule_id else None
    multi = {k: [str(v) for v in fields.getlist(k)] for k in fields}
    values = _values_from(multi)
    action = str(fields.get("action") or "refresh")
    if row is not None and "g0.r0.field" not in multi and action in ("save", "preview"):
        form = rf.form_of(parse_condition(row.condition))  # a rule the rows cannot hold
    else:
        form = rf.form_from_fields(multi)
    if action not in ("save", "preview"):
        if form is not None:
            rf.apply_action(form, action)
        return _builder(request, ctx, actor, row, form, values, unsaved=True)
    errors: Errors = {}
    try:
        request_ = _request(values, form, row, errors)
        if action == "preview":  # a condition can be tried before the rule has a name
            errors.pop("name", None)
        if errors:
            raise rf.FormErrors(errors)
        if action == "preview":
            shown = rule_builder.preview(
                ctx, actor, replace(request_, name=request_.name or "preview"))
            return _builder(request, ctx, actor, row, form, values, preview=shown, unsaved=True)
        if row is None:
            alerts.do_create_rule(ctx, actor, request_)
        else:
            alerts.do_update_rule(ctx, actor, row.public_id, request_)
    except rf.FormErrors as exc:
        return _builder(request, ctx, actor, row, form, values, errors=exc.errors,
                        unsaved=True, status_code=_error_status(request))
    except InvalidInput as exc:
        return _builder(request, ctx, actor, row, form, values, error=exc, unsaved=True,
                        status_code=_error_status(request))
    return _redirect(request, "/alert-rules?saved=1")


@router.post("/alert-rules/{rule_id}/json", response_class=HTMLResponse)
def save_rule_json(request: Request, rule_id: str, ctx: ContextDep, actor: PageActor,
                   fields: Posted) -> Response:
    """The advanced editor of an existing rule (administrators): its condition as JSON."""
    _require_admin(actor)
    with ctx.db.read() as conn:
        row = rule_store.get_rule(conn, actor, rule_id[:32])
    text = str(fields.get("condition") or "")
    try:
        alerts.do_update_rule(ctx, actor, row.public_id, alerts.RuleRequest(
            name=row.name, unit_code=row.unit_code, condition=_json(text, "condition"),
            action=row.action, scope=_scope_of(ctx, row), sla=row.sla, active=row.active))
    except InvalidInput as exc:
        form = rf.form_of(parse_condition(row.condition))
        return _builder(request, ctx, actor, row, form, None, error=exc, json_text=text,
                        status_code=exc.status)
    return RedirectResponse(f"/alert-rules/{row.public_id}?saved=1", status_code=303)


def _scope_of(ctx: Context, row: Any) -> dict[str, list[str]] | None:
    with ctx.db.read() as conn:
        return rule_store.scope_codes(conn, row.scope) or None


def _values_from(multi: dict[str, list[str]]) -> dict[str, Any]:
    def one(name: str, limit: int = 200) -> str:
        found = multi.get(name) or [""]
        return found[-1].strip()[:limit]

    values: dict[str, Any] = {
        "name": one("name"), "unit_code": one("unit_code", 64), "kind": one("kind", 16),
        "route_role": one("route_role", 32), "callback": bool(one("callback")),
        "active": bool(one("active")) or "active_shown" not in multi}
    for key in ("surveys", "touchpoints", "channels"):
        values[key] = [v[:64] for v in multi.get(key, []) if v][:200]
    for kind in TIMERS:
        values[f"sla.{kind}.hours"] = one(f"sla.{kind}.hours", 20)
        values[f"sla.{kind}.working"] = bool(one(f"sla.{kind}.working"))
    return values


def _request(values: dict[str, Any], form: rf.ConditionForm | None, row: Any,
             errors: Errors) -> alerts.RuleRequest:
    """The rule the fields describe; each input that is wrong goes into `errors`."""
    if not values["name"]:
        errors["name"] = ("required", {})
    if values["kind"] not in ACTIONS:
        errors["kind"] = ("kind", {})
    if values["route_role"] not in ROLES:
        errors["route_role"] = ("role", {})
    sla: dict[str, Any] = {}
    for kind in TIMERS:
        text = values[f"sla.{kind}.hours"]
        if not text:
            continue
        try:
            hours = float(text.replace(",", "."))
        except ValueError:
            hours = -1
        if not 0 < hours <= 2160:
            errors[f"sla.{kind}.hours"] = ("hours", {})
            continue
        sla[kind] = {"hours": hours, "working": values[f"sla.{kind}.working"]}
    condition: Any = None
    if form is None:
        condition = row.condition  # kept as it is: the builder cannot show it as rows
    else:
        try:
            condition = rf.condition_of(form).to_json()
        except rf.FormErrors as exc:
            errors.update(exc.errors)
    scope = {k: values[k] for k in ("surveys", "touchpoints", "channels") if values[k]}
    return alerts.RuleRequest(
        name=values["name"], unit_code=values["unit_code"], condition=condition,
        action={"kind": values["kind"], "route_role": values["route_role"],
                "callback": values["callback"]},
        scope=scope or None, sla=sla, active=values["active"])


def _builder(request: Request, ctx: Context, actor: Actor, row: Any,
             form: rf.ConditionForm | None, values: dict[str, Any] | None, *,
             errors: Errors | None = None, error: TiyanError | None = None,
             preview: rule_builder.Preview | None = None, json_text: str | None = None,
             unsaved: bool = False, status_code: int = 200) -> HTMLResponse:
    locale = translator(request).locale
    with ctx.db.read() as conn:
        units = _units(conn, actor)
        catalogue = rule_builder.catalogue(conn, actor, locale)
        if values is None:
            values = _fresh_values(row.unit_code)
            scope = rule_store.scope_codes(conn, row.scope)
            values.update(name=row.name, kind=row.action.get("kind"),
                          route_role=row.action.get("route_role", "unit_manager"),
                          callback=bool(row.action.get("callback")), active=row.active,
                          **{k: scope.get(k, []) for k in ("surveys", "touchpoints",
                                                           "channels")},
                          **_sla_fields(row.sla or {}))
    outline = rf.outline(parse_condition(row.condition)) if row is not None and form is None \
        else None
    if json_text is None and row is not None:
        json_text = json.dumps(row.condition, ensure_ascii=False, indent=1)
    return render(request, "alert_rule_edit.html", actor=actor, rule=row, form=form,
                  v=values, units=units, cat=catalogue, roles=ROLES, actions=ACTIONS,
                  timers=TIMERS, errors=errors or {}, error=error, preview=preview,
                  outline=outline, admin=is_admin(actor), json_text=json_text,
                  unsaved=unsaved, fields=rf.FIELDS, ops=("<=", "<", ">=", ">", "==", "!="),
                  status_code=status_code)


def _units(conn: Any, actor: Actor) -> list[Any]:
    reach = actor.scope.visibility(rule_store.RULE_PERMISSION).unit_ids
    return [u for u in org.list_units(conn, actor) if u["id"] in reach]


def _error_status(request: Request) -> int:
    return 200 if request.headers.get("hx-request") else 422


def _redirect(request: Request, url: str) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
