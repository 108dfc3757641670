"""A small organisation whose every user-editable text is an attack, built through the API.

Each hostile string carries a label naming the field it was typed into, and three ways out of
the place it lands: closing a <script> element, an attribute, or plain markup. If any of them
reaches a page as markup, an element appears that the browser test finds (and, without the
Content-Security-Policy, `__xss(label)` would run).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.world import token_for
from tiyan.context import Context
from tiyan.services.accounts import do_create_user
from tiyan.services.jobs import run_until_idle
from tiyan.services.org import do_create_unit
from tiyan.store import org
from tiyan.web.app import create_app

PASSWORD = "hostile world 1"
ADMIN = "admin@hostile.test"
MANAGER = "manager@hostile.test"


def hostile(label: str) -> str:
    """An attack that names where it was typed; short enough for a 200-character name."""
    return (f'{label}</script><img src=x onerror=__xss("{label}")>'
            f'"\'><svg onload=__xss("{label}")>{{{{7*7}}}}')


def short_hostile(label: str) -> str:
    """For fields of at most 100 characters."""
    return f'{label}<img src=x onerror=__xss("{label}")>'


@dataclass
class HostileWorld:
    labels: list[str] = field(default_factory=list)  # every field that took an attack
    respond_path: str = ""  # the survey's anonymous link at store e1, for respondents

    def text(self, label: str, *, short: bool = False) -> str:
        self.labels.append(label)
        return short_hostile(label) if short else hostile(label)


def build_hostile_world(ctx: Context) -> HostileWorld:
    world = HostileWorld()
    _organisation(ctx, world)
    token = token_for(ctx, ADMIN)
    with TestClient(create_app(ctx), base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {token}"
        api = _Api(client)
        _journey(api, world)
        _survey(api, world)
        customers = _customers(api, world)
        _responses(api, world, customers)
        _rules(api, world)
        run_until_idle(ctx)
        _cases(api, world)
        _plan(api, world)
        _feedback(api, world)
        _transactions(api, world, customers)
        run_until_idle(ctx)
    return world


class _Api:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.client.request(method, f"/api/v1{path}", **kwargs)
        assert reply.status_code < 300, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None


def _organisation(ctx: Context, world: HostileWorld) -> None:
    units = (("hq", None, "group"), ("east", "hq", "region"), ("e1", "east", "store"),
             ("e2", "east", "store"))
    for code, parent, kind in units:
        do_create_unit(ctx, None, code=code, name_zh=world.text(f"unit-zh-{code}"),
                       name_en=world.text(f"unit-en-{code}"), kind=kind, parent_code=parent)
    do_create_user(ctx, None, email=ADMIN, name=world.text("user-admin"), password=PASSWORD,
                   role="admin", unit_code="hq")
    do_create_user(ctx, None, email=MANAGER, name=world.text("user-manager"),
                   password=PASSWORD, role="unit_manager", unit_code="e1")
    with ctx.db.write() as conn:
        unit_id = org.unit_id_by_code(conn, "e1")
        for code in ("s1", "s2"):
            org.insert_staff(conn, unit_id=unit_id, code=code, name=world.text(f"staff-{code}"),
                             title=world.text(f"staff-title-{code}", short=True), now=ctx.now())


def _journey(api: _Api, world: HostileWorld) -> None:
    api.call("POST", "/journeys", json={
        "code": "after_sales", "name_zh": world.text("journey-zh"),
        "name_en": world.text("journey-en"), "description": world.text("journey-description")})
    for position, code in enumerate(("arrive", "repair", "pay"), start=1):
        api.call("POST", "/journeys/after_sales/touchpoints", json={
            "code": code, "name_zh": world.text(f"touchpoint-zh-{code}"),
            "name_en": world.text(f"touchpoint-en-{code}"), "position": position})
    api.call("POST", "/journeys/after_sales/touchpoints", json={
        "code": "wash", "parent": "repair", "name_zh": world.text("subtouchpoint-zh"),
        "name_en": world.text("subtouchpoint-en")})


def _texts(world: HostileWorld, label: str) -> dict[str, str]:
    return {"zh-CN": world.text(f"{label}-zh"), "en": world.text(f"{label}-en")}


def _survey(api: _Api, world: HostileWorld) -> None:
    items = [{"key": f"item{i}", "type": "csat", "item_code": f"item{i}", "required": True,
              "text": _texts(world, f"question-item{i}")} for i in range(1, 4)]
    definition = {
        "title": _texts(world, "survey-title"),
        "questions": [
            {"key": "nps", "type": "nps", "item_code": "nps", "required": True,
             "text": _texts(world, "question-nps")},
            *items,
            {"key": "clean", "type": "yesno", "item_code": "clean",
             "text": _texts(world, "question-yesno")},
            {"key": "what", "type": "multi", "item_code": "what",
             "text": _texts(world, "question-choice"),
             "options": [{"code": "wait", "text": _texts(world, "option-wait")},
                         {"code": "price", "text": _texts(world, "option-price")}]},
            {"key": "comment", "type": "text", "item_code": "comment",
             "text": _texts(world, "question-comment")},
        ],
    }
    api.call("POST", "/surveys", json={
        "code": "visit", "name": world.text("survey-name"), "unit_code": "hq",
        "definition": definition,
        "touchpoint": {"journey": "after_sales", "touchpoint": "repair"}})
    api.call("POST", "/surveys/visit/publish")
    link = api.call("GET", "/surveys/visit/links", params={"unit": "e1"})["url"]
    world.respond_path = urlsplit(link).path


def _customers(api: _Api, world: HostileWorld) -> list[str]:
    ids = []
    for n in range(3):
        event = api.call("POST", "/events", json={
            "type": "repair_closed", "unit": "e1", "data": {"order": world.text(f"event-{n}")},
            "customer": {"external_id": f"c{n}", "name": world.text(f"customer-{n}"),
                         "email": f"c{n}@hostile.test", "phone": f"1380013800{n}"}})
        ids.append(event["customer_id"])
    return ids


def _responses(api: _Api, world: HostileWorld, customers: list[str]) -> None:
    survey_id = api.call("GET", "/surveys/visit")["id"]
    now = dt.datetime.now(dt.UTC)
    for n in range(40):
        nps = (n * 7) % 11
        api.call("POST", "/responses", json={
            "survey_id": survey_id, "unit_code": "e1" if n % 3 else "e2",
            "staff_code": "s1" if n % 3 else None, "customer_id": customers[n % 3],
            "submitted_at": (now - dt.timedelta(days=n % 20, hours=1)).isoformat(),
            "answers": {"nps": nps, "item1": 1 + n % 5, "item2": 1 + (n * 3) % 5,
                        "item3": 1 + (n + nps) % 5, "clean": n % 4 != 0,
                        "what": ["wait"] if n % 2 else ["price"],
                        "comment": f"等待太久，价格不透明 {world.text(f'comment-{n}')}"}})


def _rules(api: _Api, world: HostileWorld) -> None:
    api.call("POST", "/alert-rules", json={
        "name": world.text("alert-rule"), "unit_code": "hq", "active": True,
        "condition": {"score": {"item": "nps", "op": "<=", "value": 6}},
        "action": {"kind": "case", "callback": True}})
    api.call("POST", "/invitation-rules", json={
        "name": world.text("invitation-rule"), "event_type": "repair_closed", "survey": "visit",
        "unit": "e1", "channel": "email", "delay_minutes": 60, "expires_days": 7,
        "reminder_days": [], "sampling_percent": 100, "active": True})


def _cases(api: _Api, world: HostileWorld) -> None:
    cases = api.call("GET", "/cases")
    items = cases["items"] if isinstance(cases, dict) else cases
    for n, case in enumerate(items[:3]):
        api.call("POST", f"/cases/{case['id']}/notes", json={"note": world.text(f"note-{n}")})


def _plan(api: _Api, world: HostileWorld) -> None:
    today = dt.date.today()
    api.call("POST", "/plans", json={
        "title": world.text("plan-title"), "kpi": "nps", "units": ["e1"],
        "start_date": (today - dt.timedelta(days=10)).isoformat(),
        "tasks": [{"title": world.text("plan-task")}]})


def _feedback(api: _Api, world: HostileWorld) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["内容", "时间", "门店", "评分", "作者"])
    for n in range(3):
        writer.writerow([world.text(f"review-{n}"), f"2026-11-2{n} 10:00", "e1", 2,
                         world.text(f"review-author-{n}")])
    data = out.getvalue().encode()
    api.call("POST", "/feedback/imports", data={"source": "review"},
             files={"file": ("reviews.csv", io.BytesIO(data), "text/csv")})


def _transactions(api: _Api, world: HostileWorld, customers: list[str]) -> None:
    now = dt.datetime.now(dt.UTC)
    api.call("POST", "/transactions", json={"transactions": [
        {"customer": customers[n % 3], "time": (now - dt.timedelta(days=30 * n)).isoformat(),
         "amount": "1200.00", "kind": "purchase", "external_id": f"t{n}"} for n in range(6)]})
