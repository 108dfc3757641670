"""The demo's staff and customers (with identities, attributes, transactions, segments)."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.demo import names, spec
from tiyan.demo.bulk import demo_public_id
from tiyan.store import org, segment_aggregates
from tiyan.store import tables as t

OWNERS_PER_DEALER = 3000  # car owners who service here, for a store of size 1
GUESTS_PER_HOTEL = 1400
SERVICE_DAYS = (240.0, 0.25, 150.0, 400.0)  # an owner's service cycle: median, spread, limits
FIRST_SERVICE_SHARE = 0.75  # a new car's first service comes sooner than the usual cycle
DRIFT_AWAY = 0.03  # after any visit: moved, sold the car, changed brand
CITY = {"gz": "广州", "sz": "深圳", "sh": "上海", "hz": "杭州", "nj": "南京", "bj": "北京",
        "cd": "成都"}
PLATE_PROVINCE = {"gz": "粤", "sz": "粤", "sh": "沪", "hz": "浙", "nj": "苏"}


@dataclass(frozen=True)
class StaffMember:
    id: int
    code: str
    name: str
    effect: float


def create_staff(conn: Connection, rng: random.Random, unit_ids: dict[str, int],
                 now: dt.datetime) -> dict[str, list[StaffMember]]:
    staff: dict[str, list[StaffMember]] = {}
    for dealer, *_ in spec.DEALERS:
        staff[f"{dealer}:advisor"] = [
            _member(conn, rng, unit_ids[f"{dealer}-as"], f"{dealer}-sa{i + 1}", "服务顾问", now,
                    spec.STAFF_EFFECTS.get((dealer, i), rng.gauss(0, 0.12)))
            for i in range(spec.ADVISORS_PER_DEALER)]
        staff[f"{dealer}:consultant"] = [
            _member(conn, rng, unit_ids[f"{dealer}-sales"], f"{dealer}-sc{i + 1}", "销售顾问", now,
                    rng.gauss(0, 0.15))
            for i in range(spec.CONSULTANTS_PER_DEALER)]
    for hotel, *_ in spec.HOTELS:
        staff[f"{hotel}:frontdesk"] = [
            _member(conn, rng, unit_ids[hotel], f"{hotel}-fd{i + 1}", "前台接待", now,
                    rng.gauss(0, 0.15))
            for i in range(spec.FRONT_DESK_PER_HOTEL)]
    return staff


def _member(conn: Connection, rng: random.Random, unit_id: int, code: str, title: str,
            now: dt.datetime, effect: float) -> StaffMember:
    name = names.person_name(rng)
    staff_id = org.insert_staff(conn, unit_id=unit_id, code=code, name=name, title=title, now=now)
    return StaffMember(staff_id, code, name, effect)


@dataclass
class Customer:
    id: int
    unit_code: str
    snapshot: dict[str, Any]
    phone: str = ""
    email: str | None = None  # hotel guests
    spend: Decimal = Decimal("0")
    visits: int = 0
    gone: bool = False  # left after a bad experience: never comes back
    service_days: float = 0.0  # a car owner's usual days between services
    next_due: dt.datetime | None = None  # a car owner's next service


# Chance that a customer leaves for good after a visit, by its NPS answer: most customers who
# leave do so because of how they were treated.
LEAVE_CHANCE = ((4, 0.55), (6, 0.25), (8, 0.06), (10, 0.015))


@dataclass
class CustomerPool:
    by_unit: dict[str, list[Customer]] = field(default_factory=dict)
    unit_ids: dict[str, int] = field(default_factory=dict)
    # Draws of who leaves, kept apart from the world's generator so that scores and comments
    # stay the same whichever customers have left.
    churn_rng: random.Random = field(default_factory=lambda: random.Random(7919))
    bought: dict[str, int] = field(default_factory=dict)  # buyers used so far, by dealer

    @classmethod
    def create(cls, conn: Connection, rng: random.Random, unit_ids: dict[str, int],
               now: dt.datetime, buyers: dict[str, int]) -> CustomerPool:
        """Car owners (sized by store), ``buyers[dealer]`` people who will buy a car there
        (each buys one), and hotel guests (sized by hotel)."""
        pool = cls(unit_ids=unit_ids)
        phones: set[str] = set()
        for dealer, *_ in spec.DEALERS:
            owners = round(OWNERS_PER_DEALER * spec.SIZE[dealer])
            pool.by_unit[dealer] = _insert(conn, rng, dealer, unit_ids[dealer], owners,
                                           "car_owner", phones, now)
            pool.by_unit[f"{dealer}:buyer"] = _insert(conn, rng, dealer, unit_ids[dealer],
                                                      buyers[dealer], "buyer", phones, now)
        for hotel, *_ in spec.HOTELS:
            guests = round(GUESTS_PER_HOTEL * spec.SIZE[hotel])
            pool.by_unit[hotel] = _insert(conn, rng, hotel, unit_ids[hotel], guests, "guest",
                                          phones, now)
        return pool

    def schedule_services(self, rng: random.Random, since: dt.datetime) -> None:
        """Give every car owner a service cycle and a first visit due after ``since``."""
        for dealer, *_ in spec.DEALERS:
            for owner in self.by_unit[dealer]:
                owner.service_days = service_cycle(rng)
                owner.next_due = since + dt.timedelta(days=rng.random() * owner.service_days)

    def next_buyer(self, dealer: str) -> Customer:
        """The next of the dealer's buyers who has not bought yet: each buys one car."""
        buyers = self.by_unit[f"{dealer}:buyer"]
        bought = self.bought.get(dealer, 0)
        self.bought[dealer] = bought + 1
        return buyers[bought]

    def becomes_owner(self, rng: random.Random, buyer: Customer, dealer: str,
                      bought_at: dt.datetime) -> None:
        """A buyer services the new car at the dealer: the first service about 6 months on."""
        buyer.service_days = service_cycle(rng)
        first = buyer.service_days * FIRST_SERVICE_SHARE
        buyer.next_due = bought_at + dt.timedelta(days=first)
        self.by_unit[dealer].append(buyer)

    @property
    def size(self) -> int:
        """How many customers (a buyer who became an owner counts once)."""
        return len(self.everyone())

    def everyone(self) -> list[Customer]:
        """Every customer once (a buyer who became an owner is in two lists), in pool order."""
        return list({c.id: c for group in self.by_unit.values() for c in group}.values())

    def pick(self, rng: random.Random, key: str) -> Customer:
        customers = self.by_unit[key]
        # A loyal core visits often: favour the first third of the pool.
        index = int(len(customers) * (rng.random() ** 1.6))
        customer = customers[min(index, len(customers) - 1)]
        for _ in range(50):  # someone who left is replaced by another customer
            if not customer.gone:
                break
            index = int(len(customers) * (self.churn_rng.random() ** 1.6))
            customer = customers[min(index, len(customers) - 1)]
        return customer

    def after_experience(self, customer: Customer, nps: int) -> None:
        """The customer may leave for good after this visit, the likelier the worse it went."""
        chance = next(p for top, p in LEAVE_CHANCE if nps <= top) + DRIFT_AWAY
        if self.churn_rng.random() < chance:
            customer.gone = True

    def transaction(self, customer: Customer, kind: str, amount: Decimal,
                    at: dt.datetime) -> dict[str, Any]:
        customer.spend += amount
        customer.visits += 1
        return {"customer_id": customer.id, "unit_id": self.unit_ids[customer.unit_code],
                "kind": kind, "external_id": None, "amount": amount, "currency": "CNY",
                "occurred_at": at, "attributes": {}}

    def write_transactions(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(sa.insert(t.customer_transaction), rows)

    def write_segments(self, conn: Connection) -> None:
        everyone = self.everyone()
        spends = sorted(c.spend for c in everyone)
        vip_line = spends[int(len(spends) * 0.9)] if spends else Decimal("0")
        rows = [{"cid": c.id, "seg": _segment(c, vip_line)} for c in everyone]
        segment_aggregates.set_segments(conn, rows)


def service_cycle(rng: random.Random) -> float:
    """Days between one owner's services: around 8 months, from 5 to 13."""
    median, spread, shortest, longest = SERVICE_DAYS
    return min(max(rng.lognormvariate(math.log(median), spread), shortest), longest)


def _segment(c: Customer, vip_line: Decimal) -> str:
    if c.visits == 0:
        return "prospect"
    if c.spend >= vip_line:
        return "vip"
    return "loyal" if c.visits >= 3 else "regular"


def _insert(conn: Connection, rng: random.Random, unit_code: str, unit_id: int, count: int,
            kind: str, phones: set[str], now: dt.datetime) -> list[Customer]:
    city = CITY[unit_code.removeprefix("htl-")[:2]]
    rows: list[dict[str, Any]] = []
    identities: list[str] = []
    for index in range(count):
        name = names.person_name(rng)
        phone = _unique_phone(rng, phones)
        attributes: dict[str, Any] = {"name": name, "phone": phone, "city": city, "kind": kind}
        if kind == "car_owner":
            attributes.update(plate=names.plate_number(rng, PLATE_PROVINCE[unit_code[:2]]),
                              vin=names.vin(rng), car_model=names.car_model(rng))
        elif kind == "guest":
            attributes["email"] = names.email_for(name, rng)
            attributes["member_tier"] = rng.choices(["none", "silver", "gold"], [6, 3, 1])[0]
        public_id = demo_public_id("customer", f"{unit_code}:{kind}:{index}", now)
        rows.append({"public_id": public_id, "unit_id": unit_id, "external_id": None,
                     "name": name, "segment": None, "language": "zh-CN",
                     "attributes": attributes, "consent_email": kind == "guest",
                     "consent_sms": rng.random() < 0.85, "created_at": now})
        identities.append(phone)
    result = conn.execute(sa.insert(t.customer).returning(t.customer.c.id,
                                                          sort_by_parameter_order=True), rows)
    ids = [int(r[0]) for r in result]
    conn.execute(sa.insert(t.customer_identity),
                 [{"customer_id": cid, "kind": "phone", "value": phone}
                  for cid, phone in zip(ids, identities, strict=True)])
    snapshots = [{k: row["attributes"][k] for k in ("city", "kind", "car_model", "member_tier")
                  if k in row["attributes"]} for row in rows]
    return [Customer(cid, unit_code, snap, phone=row["attributes"]["phone"],
                     email=row["attributes"].get("email"))
            for cid, snap, row in zip(ids, snapshots, rows, strict=True)]


def _unique_phone(rng: random.Random, used: set[str]) -> str:
    """A mainland mobile number not given yet, stored as every phone is: in E.164 (+86…)."""
    while True:
        phone = "+86" + names.mobile_number(rng).replace(" ", "").replace("-", "")
        if phone not in used:
            used.add(phone)
            return phone
