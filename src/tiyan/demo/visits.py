"""Month by month, the demo's visits: who came, who served them, how it went, what they said.

Car owners come back on their own service cycle (about every 5–13 months), so an after-sales
month holds the services that fell due in it; some are surveyed. A car buyer buys one car and
then services it at the dealer. Hotel stays and car sales follow each store's size and the
season. Before the survey programme began only the visits themselves are on record."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from tiyan.demo import comments, scores, spec
from tiyan.demo.bulk import ResponseDraft
from tiyan.demo.people import SERVICE_DAYS, Customer, CustomerPool, StaffMember
from tiyan.domain.responses import AnswerValue
from tiyan.domain.survey_templates import OPTIONAL_HOTEL_ITEMS

TZ = ZoneInfo("Asia/Shanghai")
PER_MONTH = {"hotel-stay": 150, "car-sales": 30}  # for a store of size 1, in an average month
SURVEYED = 0.75  # of the after-sales services, the share with a survey answer
FESTIVAL_EARLIER = 0.5  # services due in February brought forward before Spring Festival
CHANNELS = {
    "after-sales": (("phone", 6), ("sms", 3), ("qr", 1)),
    "hotel-stay": (("email", 6), ("qr", 2.5), ("link", 1.5)),
    "car-sales": (("sms", 7), ("phone", 3)),
}
Visit = tuple[ResponseDraft | None, list[dict[str, Any]]]  # no draft: nobody was surveyed


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
        """About how many visits the month holds (for the progress bar)."""
        days = (end - start).total_seconds() / 86400
        owners = sum(len(self.pool.by_unit[d[0]]) for d in spec.DEALERS)
        services = round(owners * days / SERVICE_DAYS[0])
        return services + sum(self._count(kind, unit, start, end)
                              for kind, units in self._units_by_kind().items()
                              for unit in units)

    def history(self, start: dt.datetime, end: dt.datetime) -> Iterator[dict[str, Any]]:
        """The services between ``start`` and ``end``, before the survey programme: each a
        transaction, the experience unrecorded (it still decides who leaves)."""
        for dealer, *_ in spec.DEALERS:
            for owner in self.pool.by_unit[dealer]:
                while not owner.gone and owner.next_due is not None and owner.next_due < end:
                    at = self._service_time(owner.next_due, start, end)
                    advisor = self.rng.choice(self.staff[f"{dealer}:advisor"])
                    visit = scores.after_sales_visit(
                        self.rng, self.quality[dealer] + advisor.effect + self._mood(at, end))
                    yield self._service(owner, at)
                    self.pool.after_experience(owner, int(visit["nps"]))

    def month(self, start: dt.datetime, end: dt.datetime) -> Iterator[Visit]:
        mood = self._mood(start, end)
        for dealer, *_ in spec.DEALERS:
            due = [o for o in self.pool.by_unit[dealer]
                   if not o.gone and o.next_due is not None and o.next_due < end]
            for owner in sorted(due, key=lambda o: (o.next_due, o.id)):
                yield self._after_sales(dealer, owner, self._service_time(owner.next_due, start,
                                                                           end), mood)
        for kind, units in self._units_by_kind().items():
            for unit in units:
                for _ in range(self._count(kind, unit, start, end)):
                    at = self._moment(start, end)
                    yield getattr(self, f"_{kind.replace('-', '_')}")(unit, at, mood)

    def _units_by_kind(self) -> dict[str, list[str]]:
        dealers = [d[0] for d in spec.DEALERS]
        return {"hotel-stay": [h[0] for h in spec.HOTELS], "car-sales": dealers}

    @staticmethod
    def _count(kind: str, unit: str, start: dt.datetime, end: dt.datetime) -> int:
        season = spec.SEASON[kind][start.astimezone(TZ).month - 1]
        share = min(1.0, (end - start).total_seconds() / (30.4 * 86400))
        return round(PER_MONTH[kind] * spec.SIZE[unit] * season * share)

    def _service_time(self, due: dt.datetime | None, start: dt.datetime,
                      end: dt.datetime) -> dt.datetime:
        """A working-hours moment on the day a service falls due (within the month)."""
        moment = max(due or start, start)
        local = moment.astimezone(TZ).replace(hour=self.rng.randint(8, 17),
                                              minute=self.rng.randint(0, 59))
        return min(max(local.astimezone(dt.UTC), start), end - dt.timedelta(seconds=1))

    def _service(self, owner: Customer, at: dt.datetime) -> dict[str, Any]:
        """The service's transaction; the owner's next one falls due a cycle later."""
        cycle = owner.service_days * self.rng.uniform(0.85, 1.15)
        due = at + dt.timedelta(days=cycle)
        if due.astimezone(TZ).month == 2 and self.rng.random() < FESTIVAL_EARLIER:
            due -= dt.timedelta(days=self.rng.randint(14, 28))
        owner.next_due = due
        return self.pool.transaction(owner, "repair", _amount(self.rng, 7.2, 0.6), at)

    def _mood(self, start: dt.datetime, end: dt.datetime) -> float:
        """The whole group's slow improvement over the year, with a dip around Spring Festival."""
        months_ago = min((self.anchor - start).days / 30.4, 12.0)
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

    def _after_sales(self, dealer: str, owner: Customer, at: dt.datetime,
                     mood: float) -> Visit:
        advisor = self.rng.choice(self.staff[f"{dealer}:advisor"])
        visit = scores.after_sales_visit(self.rng, self.quality[dealer] + advisor.effect + mood)
        answered = at + dt.timedelta(hours=self.rng.randint(20, 70))
        surveyed = self.rng.random() < SURVEYED and answered < self.anchor
        txs = [self._service(owner, at)]
        self.pool.after_experience(owner, int(visit["nps"]))
        if not surveyed:
            return None, txs
        text = comments.after_sales_comment(self.rng, visit, advisor_name=advisor.name)
        draft = self._draft("after-sales", f"{dealer}-as", answered, advisor,
                            _answers(visit, text), self._channel("after-sales"), owner.id,
                            owner.snapshot)
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
        buyer = self.pool.next_buyer(dealer)
        price = Decimal(self.rng.randrange(89_800, 329_800, 1000))
        bought = at - dt.timedelta(days=self.rng.randint(1, 6))
        txs = [self.pool.transaction(buyer, "purchase", price, bought)]
        self.pool.becomes_owner(self.rng, buyer, dealer, bought)
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
