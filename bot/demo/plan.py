"""The demo's story, decided up front: who visits which branch when, whether the survey
reaches them, what they answer, and what the managers do with each case.

A plan is pure (no database, no services): a seed, the clock's now and the settings
give the same plan every time. Two writers play it: `bot.demo.live` through the bot's
own services (the counters then are exactly as if it had happened live) and
`bot.demo.bulk` straight into the tables in large batches (for the benchmark's million
answers). So the plan predicts what the services will decide (a cooldown, a customer
who blocked the bot) by the same rules, and `tests/storage/test_demo.py` checks that
both writers leave the same counters.

Visits come day by day (`days()`), so a million answers never sit in memory at once.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.core.clock import to_ms
from bot.core.policy import is_detractor
from bot.demo import texts
from bot.demo.chain import BRANCHES, LANGUAGES, TOUCHPOINTS, Branch, Manager
from bot.locations.service import WEEKDAYS, parse_span

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
# The till reports a visit this long after it; the survey goes out 2 s after it is due.
REPORT_DELAY = 30_000
SEND_DELAY = 2_000
# Maintenance (expiry, reminders, escalations, follow-ups) runs at every whole hour.
TICK = HOUR
# Answers come well before a survey expires (24 h by default).
LATEST_ANSWER = 20 * HOUR
# The last days' cases are still being worked on.
RECENT = 5 * DAY


class Delivery(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the customer blocked the bot: unreachable from then on
    FAILED = "failed"


class Ending(StrEnum):
    """How a taken case ends: resolved telling the customer (then followed up),
    resolved quietly, or closed without a fix."""

    NOTIFY = "notify"
    SILENT = "silent"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    """A customer: in Telegram (telegram_id), or only a CRM record with a phone."""

    number: int
    telegram_id: int | None
    phone: str | None
    name: str
    language: str
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class CasePlan:
    """What the managers do with a case, as delays from the step before; None: it has
    not happened (yet)."""

    manager: Manager
    language: str
    take_after: int | None
    # The manager writes to the customer, who answers (None: they do not talk).
    message: str | None
    reply: str
    ending: Ending | None
    end_after: int
    text: str
    # The customer's answer to "did we fix it?" and how long after being asked.
    fixed: bool | None
    fixed_after: int


@dataclass(slots=True)
class VisitPlan:
    key: str
    at: int
    location: str
    staff: str
    touchpoint: str
    day: str
    customer: DemoCustomer | None
    # The till identifies the customer by this phone instead of their Telegram id.
    phone: str | None
    skip: str | None = None
    delivery: Delivery | None = None
    nps: int | None = None
    nps_after: int = 0
    ces: int | None = None
    ces_after: int = 0
    # The customer reached the last question (a reason, or skipped it): completed.
    reason_step: bool = False
    reason: str | None = None
    reason_after: int = 0
    case: CasePlan | None = None
    # SURVEY_DELAY_SECONDS in ms: the survey is due this long after the visit.
    delay: int = field(default=0, repr=False)
    # The till's UTC offset (the branch's, in minutes): quiet hours follow it.
    offset: int = 0

    @property
    def sent_at(self) -> int:
        return self.at + self.delay + SEND_DELAY

    @property
    def nps_at(self) -> int:
        return self.sent_at + self.nps_after

    @property
    def ces_at(self) -> int:
        return self.nps_at + self.ces_after

    @property
    def reason_at(self) -> int:
        return self.ces_at + self.reason_after

    @property
    def case_opened_at(self) -> int:
        """The answer that made the survey a detractor's opens the case."""
        return self.nps_at if self.nps is not None and self.nps <= 6 else self.ces_at


@dataclass(frozen=True, slots=True)
class DemoDay:
    day: date
    visits: list[VisitPlan]


@dataclass(frozen=True, slots=True)
class Scale:
    """How big: `visits` multiplies every branch's visits per day; `copies` repeats the
    chain's branches (kyiv-podil, kyiv-podil-2, ...); `response` makes more of them
    answer (a benchmark wants answers, not skipped visits)."""

    days: int = 90
    visits: float = 1.0
    copies: int = 1
    # Multiplies every branch's response rate (at most 95% answer).
    response: float = 1.0


DEMO = Scale()


def ceil_tick(moment: int) -> int:
    """The first maintenance tick at or after `moment`."""
    return -(-moment // TICK) * TICK


class DemoPlan:
    """The plan of a demo ending at `now` (epoch ms): `days` days of visits."""

    def __init__(
        self, settings: Settings, now: datetime, *, seed: int = 1, scale: Scale = DEMO
    ) -> None:
        self.settings = settings
        self.now = to_ms(now)
        self.seed = seed
        self.scale = scale
        self.branches = _branches(scale.copies)
        self._delay = settings.survey_delay_seconds * 1000
        self._cooldown = settings.survey_cooldown_days * DAY
        rng = random.Random(f"{seed}:customers")
        self.customers: dict[str, list[DemoCustomer]] = {}
        self._weights: dict[str, list[float]] = {}
        number = 0
        for branch in self.branches:
            size = max(40, int(branch.visits_per_day * scale.visits * 40))
            pool = []
            for _ in range(size):
                number += 1
                pool.append(_customer(rng, number, branch))
            self.customers[branch.code] = pool
            # A few regulars come often, most now and then (cumulative weights: a draw
            # costs a bisection, not a pass over the pool).
            self._weights[branch.code] = list(
                itertools.accumulate(1 / (1 + index) ** 0.6 for index in range(size))
            )
        # What the services will remember of each customer while the plan unfolds.
        self._last_surveyed: dict[int, int] = {}
        self._unreachable_from: dict[int, int] = {}

    @property
    def start_day(self) -> date:
        return self._today() - timedelta(days=self.scale.days - 1)

    def day_start(self, day: date) -> int:
        """The moment `day` begins in the business time zone (epoch ms)."""
        return to_ms(datetime.combine(day, time(0), tzinfo=ZoneInfo(self.settings.timezone)))

    def _today(self) -> date:
        zone = ZoneInfo(self.settings.timezone)
        return datetime.fromtimestamp(self.now / 1000, zone).date()

    def all_customers(self) -> list[DemoCustomer]:
        return [customer for pool in self.customers.values() for customer in pool]

    def days(self) -> Iterator[DemoDay]:
        """Each day's visits in time order, up to the clock's now. Every branch's day
        draws from its own seed; what the services decide (a cooldown) follows from
        the days before, so iterate once, from the start."""
        day = self.start_day
        while day <= self._today():
            visits = [
                visit
                for branch in self.branches
                for visit in self._branch_day(branch, day)
                if visit.at + REPORT_DELAY <= self.now
            ]
            visits.sort(key=lambda visit: (visit.at, visit.key))
            for visit in visits:
                self._decide(visit)
            yield DemoDay(day, visits)
            day += timedelta(days=1)

    # --- one branch's day ---------------------------------------------------------

    def _branch_day(self, branch: Branch, day: date) -> list[VisitPlan]:
        rng = random.Random(f"{self.seed}:{branch.code}:{day.isoformat()}")
        age = (self._today() - day).days
        if age >= self.scale.days or (
            branch.opened_days_ago is not None and age >= branch.opened_days_ago
        ):
            return []
        span = branch.opening_hours.get(WEEKDAYS[day.weekday()])
        if not span:
            return []
        opens, closes = parse_span(span)
        if closes < opens:
            closes += 24 * 60
        weekend = 1.25 if day.weekday() >= 5 else 1.0
        count = _poisson(rng, branch.visits_per_day * self.scale.visits * weekend)
        zone = ZoneInfo(branch.time_zone)
        noon = datetime.combine(day, time(12), tzinfo=zone)
        # The day's local midnight by its noon offset: exact whenever the branch is
        # open (clocks change at night).
        midnight = to_ms(noon) - 12 * HOUR
        offset = int((noon.utcoffset() or timedelta()) / timedelta(minutes=1))
        # Late in the period a branch slips or improves (Branch.trend).
        trend = branch.trend if age < 30 else 0
        visits = []
        for index in range(count):
            minute = _visit_minute(rng, opens, closes)
            at = midnight + minute * MINUTE + rng.randrange(MINUTE)
            local_day = (day + timedelta(days=minute // (24 * 60))).isoformat()
            visit = self._visit(rng, branch, index, day, at, local_day, trend)
            visit.offset = offset
            visits.append(visit)
        return visits

    def _visit(
        self,
        rng: random.Random,
        branch: Branch,
        index: int,
        day: date,
        at: int,
        local_day: str,
        trend: int,
    ) -> VisitPlan:
        staff = rng.choice(branch.staff)
        touchpoint = rng.choices(_TOUCHPOINT_NAMES, cum_weights=_TOUCHPOINT_WEIGHTS)[0]
        key = f"Z-{branch.code}-{day.strftime('%Y%m%d')}-{index:04d}"
        roll = rng.random()
        customer: DemoCustomer | None
        phone: str | None = None
        if roll < 0.04:  # a phone the CRM does not know
            customer = None
            phone = f"+38067{rng.randrange(10**7):07d}"
        else:
            pool = self.customers[branch.code]
            customer = rng.choices(pool, cum_weights=self._weights[branch.code])[0]
            if customer.telegram_id is None:
                phone = customer.phone
        visit = VisitPlan(key, at, branch.code, staff, touchpoint, local_day, customer, phone)
        visit.delay = self._delay
        # The customer's answers are drawn now, whatever the services decide, so that
        # one visit's draws never change another's.
        bias = dict(branch.staff_bias).get(staff, 0) + trend
        self._draw_answers(rng, branch, visit, bias)
        return visit

    def _draw_answers(
        self, rng: random.Random, branch: Branch, visit: VisitPlan, bias: int
    ) -> None:
        delivery = rng.random()
        visit.delivery = (
            Delivery.BLOCKED
            if delivery < 0.012
            else Delivery.FAILED
            if delivery < 0.02
            else Delivery.SENT
        )
        if rng.random() >= min(0.95, branch.response_rate * self.scale.response):
            return
        score = rng.choices(_SCORES, branch.nps_mix)[0]
        # Each point of bias moves half of the scores by one.
        shift = sum(rng.random() < 0.5 for _ in range(abs(bias)))
        visit.nps = min(10, max(0, score + (shift if bias > 0 else -shift)))
        visit.nps_after = _lognormal(rng, 7 * MINUTE, 1.2, LATEST_ANSWER // 2)
        if rng.random() < 0.88:
            ces = round(1.2 + visit.nps * 0.55 + rng.gauss(0, 0.9))
            visit.ces = min(7, max(1, ces))
            visit.ces_after = int(rng.uniform(8_000, 60_000))
            if rng.random() < 0.9:
                visit.reason_step = True
                visit.reason_after = int(rng.uniform(30_000, 4 * MINUTE))
                wants = 0.85 if visit.nps <= 6 else 0.5 if visit.nps <= 8 else 0.4
                if rng.random() < wants:
                    visit.reason = _reason(rng, visit.nps, _language(visit, branch))
        if is_detractor(visit.nps, visit.ces, self.settings.detractor_ces_max):
            visit.case = self._case(rng, branch, visit)

    def _case(self, rng: random.Random, branch: Branch, visit: VisitPlan) -> CasePlan:
        recent = self.now - visit.at < RECENT
        manager = rng.choice(branch.managers)
        language = branch.manager_language
        roll = rng.random()
        take_after: int | None = _lognormal(rng, 14 * MINUTE, 1.0, 3 * DAY)
        if recent and roll < 0.3:
            take_after = None  # nobody has taken it: open, soon overdue
        ending_roll = rng.random()
        ending: Ending | None
        if ending_roll < 0.55:
            ending = Ending.NOTIFY
        elif ending_roll < 0.75:
            ending = Ending.SILENT
        elif ending_roll < 0.9:
            ending = Ending.CLOSED
        else:
            ending = None if recent or ending_roll > 0.98 else Ending.NOTIFY
        if recent and rng.random() < 0.35:
            ending = None  # still being worked on
        pool = texts.CLOSE_REASONS if ending == Ending.CLOSED else texts.RESOLUTION_NOTES
        fixed_roll = rng.random()
        return CasePlan(
            manager=manager,
            language=language,
            take_after=take_after,
            message=rng.choice(texts.MANAGER_MESSAGES[language]) if rng.random() < 0.4 else None,
            reply=rng.choice(texts.CUSTOMER_REPLIES[_language(visit, branch)]),
            ending=ending,
            end_after=_lognormal(rng, 5 * HOUR, 1.1, 6 * DAY),
            text=rng.choice(pool[language]),
            fixed=True if fixed_roll < 0.7 else False if fixed_roll < 0.9 else None,
            fixed_after=_lognormal(rng, 40 * MINUTE, 1.0, 2 * DAY),
        )

    # --- what the services will decide ---------------------------------------------

    def _decide(self, visit: VisitPlan) -> None:
        """The skip reason VisitService gives (its rules, in its order), and what the
        customer's record will say afterwards."""
        customer = visit.customer
        registered = visit.at + REPORT_DELAY
        if customer is None:
            visit.skip = "unknown_customer"
        elif customer.telegram_id is None:
            visit.skip = "not_linked"
        elif customer.opted_out:
            visit.skip = "opted_out"
        elif self._unreachable_from.get(customer.number, registered + 1) <= registered:
            visit.skip = "unreachable"
        elif (
            last := self._last_surveyed.get(customer.number)
        ) is not None and visit.at - last < self._cooldown:
            visit.skip = "cooldown"
        if visit.skip is not None or customer is None:
            visit.delivery = None
            visit.nps = visit.ces = visit.case = None
            visit.reason_step = False
            visit.reason = None
            return
        self._last_surveyed[customer.number] = visit.at
        if visit.sent_at > self.now:
            visit.delivery = None
        if visit.delivery == Delivery.BLOCKED:
            self._unreachable_from.setdefault(customer.number, visit.sent_at)
        if visit.delivery != Delivery.SENT:
            visit.nps = visit.ces = visit.case = None
            visit.reason_step = False
            visit.reason = None


def _branches(copies: int) -> tuple[Branch, ...]:
    if copies <= 1:
        return BRANCHES
    from dataclasses import replace

    extra = []
    for number in range(2, copies + 1):
        for branch in BRANCHES:
            extra.append(
                replace(
                    branch,
                    code=f"{branch.code}-{number}",
                    name=f"{branch.name} {number}",
                    manager_chat_id=branch.manager_chat_id - 1000 * number,
                )
            )
    return BRANCHES + tuple(extra)


def _customer(rng: random.Random, number: int, branch: Branch) -> DemoCustomer:
    language = rng.choices(LANGUAGES, branch.languages)[0]
    name = f"{rng.choice(texts.FIRST_NAMES)} {rng.choice(texts.LAST_INITIALS)}."
    phone = f"+38050{number:07d}"
    if rng.random() < 0.06:  # in the CRM, never opened the bot
        return DemoCustomer(number, None, phone, name, language)
    telegram_id = 7_000_000_000 + number
    return DemoCustomer(number, telegram_id, None, name, language, rng.random() < 0.03)


def _language(visit: VisitPlan, branch: Branch) -> str:
    return visit.customer.language if visit.customer else branch.manager_language


def _reason(rng: random.Random, nps: int, language: str) -> str:
    pool = (
        texts.DETRACTOR_REASONS
        if nps <= 6
        else texts.PASSIVE_REASONS
        if nps <= 8
        else texts.PROMOTER_REASONS
    )
    return rng.choice(pool)[LANGUAGES.index(language)]


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: a normal approximation for large means, Knuth's for small."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _lognormal(rng: random.Random, median: int, sigma: float, cap: int) -> int:
    return int(min(cap, median * math.exp(rng.gauss(0, sigma))))


# Rush hours (local hour, weight): breakfast, lunch and after work.
_PEAKS = ((8.7, 3.0), (13.0, 3.0), (18.0, 2.0))
_PEAK_HOURS = [hour for hour, _ in _PEAKS]
_PEAK_WEIGHTS = list(itertools.accumulate(weight for _, weight in _PEAKS))
_TOUCHPOINT_NAMES = [name for name, _ in TOUCHPOINTS]
_TOUCHPOINT_WEIGHTS = list(itertools.accumulate(weight for _, weight in TOUCHPOINTS))
_SCORES = range(11)


def _visit_minute(rng: random.Random, opens: int, closes: int) -> int:
    """A minute of the local day inside the opening hours, busier at rush hours."""
    for _ in range(4):
        if rng.random() < 0.25:
            break
        hour = rng.choices(_PEAK_HOURS, cum_weights=_PEAK_WEIGHTS)[0]
        minute = int(rng.gauss(hour * 60, 55))
        if opens <= minute < closes - 5:
            return minute
    return rng.randrange(opens, max(opens + 1, closes - 5))
