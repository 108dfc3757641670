"""Month by month, the demo's visits: who came, who served them, how it went, what they said."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from tiyan.demo import comments, scores, spec
from tiyan.demo.bulk import ResponseDraft
from tiyan.demo.people import CustomerPool, StaffMember
from tiyan.domain.responses import AnswerValue
from tiyan.domain.survey_templates import OPTIONAL_HOTEL_ITEMS

TZ = ZoneInfo("Asia/Shanghai")
PER_MONTH = {"after-sales": 215, "hotel-stay": 135, "car-sales": 30}
CHANNELS = {
    "after-sales": (("phone", 6), ("sms", 3), ("qr", 1)),
    "hotel-stay": (("email", 6), ("qr", 2.5), ("link", 1.5)),
    "car-sales": (("sms", 7), ("phone", 3)),
}
Visit = tuple[ResponseDraft, list[dict[str, Any]]]


class SurveyRefLike(Protocol):
    @property
    def survey_id(self) -> int: ...
    @property
    def version_id(self) -> int: ...
    @property
    def touchpoint_id(self) -> int | None: ...


class VisitFactory:
    def __init__(self, rng: random.Random, unit_ids: Mapping[str, int],
                 staff: Mapping[str, list[StaffMember]], surveys: Mapping[str, SurveyRefLike],
                 pool: CustomerPool, agent_user_id: int | None, anchor: dt.datetime) -> None:
        self.rng, self.unit_ids, self.staff = rng, unit_ids, staff
        self.surveys, self.pool, self.agent_user_id = surveys, pool, agent_user_id
        self.anchor = anchor
        self.quality = {u.code: u.quality for u in spec.units()}

    def planned(self, start: dt.datetime, end: dt.datetime) -> int:
        return sum(self._count(kind, start, end) * len(units)
                   for kind, units in self._units_by_kind().items())

    def month(self, start: dt.datetime, end: dt.datetime) -> Iterator[Visit]:
        mood = self._mood(start, end)
        for kind, units in self._units_by_kind().items():
            for unit in units:
                for _ in range(self._count(kind, start, end)):
                    at = self._moment(start, end)
                    yield getattr(self, f"_{kind.replace('-', '_')}")(unit, at, mood)

    def _units_by_kind(self) -> dict[str, list[str]]:
        dealers = [d[0] for d in spec.DEALERS]
        return {"after-sales": dealers, "hotel-stay": [h[0] for h in spec.HOTELS],
                "car-sales": dealers}

    @staticmethod
    def _count(kind: str, start: dt.datetime, end: dt.datetime) -> int:
        return round(PER_MONTH[kind] * min(1.0, (end - start).total_seconds() / (30.4 * 86400)))

    def _mood(self, start: dt.datetime, end: dt.datetime) -> float:
        """The whole group's slow improvement over the year, with a dip around Spring Festival."""
        months_ago = (self.anchor - start).days / 30.4
        local = start.astimezone(TZ)
        festival = -0.12 if local.month in (1, 2) else 0.0
        return 0.12 - 0.02 * months_ago + festival

    def _moment(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        span = (end - start).total_seconds()
        moment = start + dt.timedelta(seconds=self.rng.random() * span)
        local = moment.astimezone(TZ)
        if not 9 <= local.hour < 21:
            local = local.replace(hour=self.rng.randint(9, 20))
            moment = local.astimezone(dt.UTC)
        return min(moment, end - dt.timedelta(seconds=1))

    def _channel(self, kind: str) -> str:
        options, weights = zip(*CHANNELS[kind], strict=True)
        return self.rng.choices(options, weights)[0]

    def _draft(self, survey: str, unit: str, at: dt.datetime, staff: StaffMember,
               answers: list[AnswerValue], channel: str, customer_id: int,
               snapshot: dict[str, Any], language: str = "zh-CN") -> ResponseDraft:
        ref = self.surveys[survey]
        return ResponseDraft(
            survey_id=ref.survey_id, survey_version_id=ref.version_id,
            unit_id=self.unit_ids[unit], channel=channel, language=language, submitted_at=at,
            started_at=at - dt.timedelta(seconds=self.rng.randint(40, 600)), answers=answers,
            touchpoint_id=ref.touchpoint_id, staff_id=staff.id, customer_id=customer_id,
            agent_user_id=self.agent_user_id if channel == "phone" else None,
            customer_snapshot=snapshot)

    def _after_sales(self, dealer: str, at: dt.datetime, mood: float) -> Visit:
        advisor = self.rng.choice(self.staff[f"{dealer}:advisor"])
        visit = scores.after_sales_visit(self.rng, self.quality[dealer] + advisor.effect + mood)
        text = comments.after_sales_comment(self.rng, visit, advisor_name=advisor.name)
        customer = self.pool.pick(self.rng, dealer)
        self.pool.after_experience(customer, int(visit["nps"]))
        repaired = at - dt.timedelta(hours=self.rng.randint(20, 70))
        txs = [self.pool.transaction(customer, "repair", _amount(self.rng, 7.0, 0.6), repaired)]
        if self.rng.random() < 0.7:  # a visit nobody surveyed
            earlier = at - dt.timedelta(days=self.rng.randint(5, 25))
            txs.append(self.pool.transaction(customer, "repair", _amount(self.rng, 6.6, 0.7),
                                             earlier))
        draft = self._draft("after-sales", f"{dealer}-as", at, advisor, _answers(visit, text),
                            self._channel("after-sales"), customer.id, customer.snapshot)
        return draft, txs

    def _hotel_stay(self, hotel: str, at: dt.datetime, mood: float) -> Visit:
        clerk = self.rng.choice(self.staff[f"{hotel}:frontdesk"])
        stay = scores.hotel_stay(self.rng, self.quality[hotel] + clerk.effect + mood,
                                 sorted(OPTIONAL_HOTEL_ITEMS))
        english = self.rng.random() < 0.15
        text = comments.hotel_comment(self.rng, stay, language="en" if english else "zh")
        guest = self.pool.pick(self.rng, hotel)
        self.pool.after_experience(guest, int(stay["nps"]))
        nights = self.rng.choice((1, 1, 1, 2, 2, 3, 4))
        txs = [self.pool.transaction(guest, "stay", _amount(self.rng, 6.7, 0.4) * nights,
                                     at - dt.timedelta(hours=self.rng.randint(2, 30)))]
        draft = self._draft("hotel-stay", hotel, at, clerk, _answers(stay, text),
                            self._channel("hotel-stay"), guest.id, guest.snapshot,
                            "en" if english else "zh-CN")
        return draft, txs

    def _car_sales(self, dealer: str, at: dt.datetime, mood: float) -> Visit:
        consultant = self.rng.choice(self.staff[f"{dealer}:consultant"])
        journey = scores.car_purchase(self.rng, self.quality[dealer] + consultant.effect + mood)
        text = comments.sales_comment(self.rng, journey, consultant_name=consultant.name)
        buyer = self.pool.pick(self.rng, f"{dealer}:buyer")
        price = Decimal(self.rng.randrange(89_800, 329_800, 1000))
        txs = [self.pool.transaction(buyer, "purchase", price,
                                     at - dt.timedelta(days=self.rng.randint(1, 6)))]
        draft = self._draft("car-sales", f"{dealer}-sales", at, consultant,
                            _answers(journey, text), self._channel("car-sales"), buyer.id,
                            buyer.snapshot)
        return draft, txs


def _amount(rng: random.Random, mu: float, sigma: float) -> Decimal:
    return Decimal(str(round(rng.lognormvariate(mu, sigma), 2))).quantize(Decimal("0.01"))


def _answers(values: Mapping[str, int | bool], comment: str | None) -> list[AnswerValue]:
    out = [AnswerValue("overall" if code == "csat" else code, code, value_num=float(value))
           for code, value in values.items()]
    if comment:
        out.append(AnswerValue("comment", "comment", value_text=comment))
    return out
