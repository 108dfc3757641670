"""The one fixture world the tests share, built through the real use cases.

    hq (group)
    ├── north (region)
    │   ├── n1 (store) ── n1-as (department): staff n1-e1, n1-e2
    │   └── n2 (store): staff n2-e1
    └── south (region)
        └── s1 (store): staff s1-e1
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tiyan.context import Context
from tiyan.domain.surveys import parse_definition
from tiyan.services.accounts import do_create_user
from tiyan.services.api_tokens import TokenRequest, do_create_token
from tiyan.services.org import do_create_unit
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import customers, org, surveys
from tiyan.store.scoped import load_actor

PASSWORD = "correct horse 1"


def token_for(ctx: Context, email: str, scope: str = "admin") -> str:
    """An API token acting as the user with `email` with all their rights (admin scope), never
    expiring (tests move the clock), made as the command line makes it."""
    request = TokenRequest("test", scope, never_expires=True)
    return do_create_token(ctx, None, request, email=email).secret


UNITS = (  # code, parent, kind
    ("hq", None, "group"), ("north", "hq", "region"), ("n1", "north", "store"),
    ("n1-as", "n1", "department"), ("n2", "north", "store"), ("south", "hq", "region"),
    ("s1", "south", "store"),
)
STAFF = (("n1-e1", "n1-as", "张一"), ("n1-e2", "n1-as", "李二"), ("n2-e1", "n2", "王三"),
         ("s1-e1", "s1", "赵四"))
USERS = (  # email, role, unit
    ("admin@t.test", "admin", "hq"), ("cx@t.test", "cx_manager", "north"),
    ("mgr.n1@t.test", "unit_manager", "n1"), ("mgr.s1@t.test", "unit_manager", "s1"),
    ("staff.n1@t.test", "frontline", "n1"), ("agent@t.test", "agent", "hq"),
    ("analyst.south@t.test", "analyst", "south"), ("viewer@t.test", "viewer", "north"),
)
RESPONSES = (  # unit, staff, nps, csat
    ("n1-as", "n1-e1", 10, 5), ("n1-as", "n1-e1", 9, 4), ("n1-as", "n1-e2", 3, 2),
    ("n2", "n2-e1", 8, 4), ("n2", "n2-e1", 6, 3), ("s1", "s1-e1", 10, 5), ("s1", "s1-e1", 2, 1),
)
SUBTREE = {
    "hq": {"hq", "north", "n1", "n1-as", "n2", "south", "s1"},
    "north": {"north", "n1", "n1-as", "n2"}, "n1": {"n1", "n1-as"}, "n1-as": {"n1-as"},
    "n2": {"n2"}, "south": {"south", "s1"}, "s1": {"s1"},
}
SURVEY = {
    "title": {"zh-CN": "测试问卷", "en": "Test survey"},
    "questions": [
        {"key": "nps", "type": "nps", "item_code": "nps", "required": True,
         "text": {"zh-CN": "推荐", "en": "Recommend"}},
        {"key": "overall", "type": "csat", "item_code": "csat",
         "text": {"zh-CN": "满意", "en": "Satisfied"}},
        {"key": "why", "type": "text", "item_code": "comment", "show_if":
         {"question": "nps", "op": "<=", "value": 6},
         "text": {"zh-CN": "哪里不好", "en": "What went wrong"}},
        {"key": "comment", "type": "text", "item_code": "comment",
         "text": {"zh-CN": "评论", "en": "Comment"}},
    ],
}


def comment_for(index: int) -> str:
    return f"comment-{index}-{RESPONSES[index][0]}"


@dataclass
class World:
    ctx: Context
    unit_ids: dict[str, int] = field(default_factory=dict)
    survey_id: int = 0
    response_ids: dict[int, str] = field(default_factory=dict)  # index in RESPONSES -> public id
    customer_ids: dict[str, str] = field(default_factory=dict)  # store -> public id
    tokens: dict[str, str] = field(default_factory=dict)  # email -> API token

    def actor(self, email: str):  # type: ignore[no-untyped-def]
        from tiyan.store.users import user_by_email

        with self.ctx.db.read() as conn:
            row = user_by_email(conn, email)
            assert row is not None
            return load_actor(conn, row["id"])


def build_world(ctx: Context) -> World:
    world = World(ctx)
    for code, parent, kind in UNITS:
        world.unit_ids[code] = do_create_unit(ctx, None, code=code, name_zh=f"{code}单位",
                                              name_en=f"Unit {code}", kind=kind,
                                              parent_code=parent)
    now = ctx.now()
    with ctx.db.write() as conn:
        for code, unit, name in STAFF:
            org.insert_staff(conn, unit_id=world.unit_ids[unit], code=code, name=name,
                             title="顾问", now=now)
        world.survey_id, _ = surveys.insert_survey(
            conn, code="test", name="Test", unit_id=world.unit_ids["hq"],
            definition=parse_definition(SURVEY), now=now, created_by=None)
        for store in ("n1", "n2", "s1"):
            cid = customers.insert_customer(
                conn, unit_id=world.unit_ids[store], now=now, name=f"客户{store}",
                attributes={"phone": "13800138000", "name": f"客户{store}"},
                identities={"phone": f"1380013{world.unit_ids[store]:04d}"})
            world.customer_ids[store] = _public_customer_id(conn, cid)
    for email, role, unit in USERS:
        do_create_user(ctx, None, email=email, name=email.split("@")[0], password=PASSWORD,
                       role=role, unit_code=unit)
        world.tokens[email] = token_for(ctx, email)
    _link_frontline(ctx, world)
    admin = world.actor("admin@t.test")
    for index, (unit, staff, nps, csat) in enumerate(RESPONSES):
        answers: dict[str, object] = {"nps": nps, "overall": csat, "comment": comment_for(index)}
        stored = do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=unit, staff_code=staff, answers=answers,
            submitted_at=now - dt.timedelta(hours=index + 1)))
        world.response_ids[index] = stored.public_id
    return world


def _public_customer_id(conn, customer_id: int) -> str:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from tiyan.store import tables as t

    return str(conn.execute(sa.select(t.customer.c.public_id)
                            .where(t.customer.c.id == customer_id)).scalar_one())


def _link_frontline(ctx: Context, world: World) -> None:
    import sqlalchemy as sa

    from tiyan.store import tables as t
    from tiyan.store.users import user_by_email

    with ctx.db.write() as conn:
        user = user_by_email(conn, "staff.n1@t.test")
        assert user is not None
        conn.execute(sa.update(t.staff).where(t.staff.c.code == "n1-e1")
                     .values(user_id=user["id"]))


def visible_units(email: str) -> set[str]:
    """The units a user may see, worked out from the tree above (independently of the code)."""
    _, role, unit = next(u for u in USERS if u[0] == email)
    return set(SUBTREE[unit])


def visible_responses(email: str) -> set[int]:
    _, role, _ = next(u for u in USERS if u[0] == email)
    units = visible_units(email)
    if role == "viewer":
        return set()
    return {i for i, (unit, staff, _, _) in enumerate(RESPONSES)
            if unit in units and (role != "frontline" or staff == "n1-e1")}
