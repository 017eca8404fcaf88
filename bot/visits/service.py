"""Registering a visit: decide, in one transaction, whether and when to survey it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import Clock, from_ms, local_day, to_ms
from bot.core.policy import CLOCK_SKEW, SURVEY_DEADLINE, SurveyPolicy
from bot.outbox.contracts import Priority
from storage import customers, locations, outbox, rollups, surveys, visits
from storage.db import Connection, Database
from storage.locations import Location, LocationSource
from storage.models import Customer

# Before this, a visited_at is a mistake (an unset till clock says 1970 or year 1).
EARLIEST_VISIT = datetime(2000, 1, 1, tzinfo=UTC)
VISITED_AT_BOUNDS = "from 2000-01-01T00:00:00Z to now (5 minutes of clock skew allowed)"


class VisitError(ValueError):
    """The visit cannot be accepted as given (the message says which field and why)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.detail = message


@dataclass(frozen=True, slots=True)
class VisitRequest:
    visit_key: str
    telegram_id: int | None = None
    phone: str | None = None
    external_id: str | None = None
    visited_at: datetime | None = None
    location: str = ""
    staff: str = ""
    touchpoint: str = ""
    source: str = "api"


@dataclass(frozen=True, slots=True)
class VisitOutcome:
    visit_id: int
    status: str  # "scheduled" | "skipped"
    reason: str | None
    survey_id: int | None
    due_at: datetime | None
    duplicate: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "visit_id": self.visit_id,
            "status": self.status,
            "reason": self.reason,
            "survey_id": self.survey_id,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "duplicate": self.duplicate,
        }


class VisitService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: SurveyPolicy,
        on_scheduled: Callable[[], None] | None = None,
        *,
        refuse_unknown_locations: bool = False,
    ) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._on_scheduled = on_scheduled
        self._refuse_unknown = refuse_unknown_locations

    async def register(self, request: VisitRequest) -> VisitOutcome:
        """Record the visit once (visit_key is the idempotency key) and schedule its survey."""
        [result] = await self.register_many([request])
        if isinstance(result, VisitError):
            raise result
        return result

    async def register_many(
        self, requests: Sequence[VisitRequest | VisitError]
    ) -> list[VisitOutcome | VisitError]:
        """`register` for each request in order, in one transaction written many rows per
        statement; a request that is already an error (refused by the caller's parsing)
        stays one, in its place, and so does one refused here (it writes nothing). A
        visit_key already reported, or given earlier in `requests`, gets that visit's
        outcome (duplicate)."""
        now = self._clock.now()
        checked: list[_Checked | VisitError] = []
        for request in requests:
            if isinstance(request, VisitError):
                checked.append(request)
                continue
            visited_at = request.visited_at or now
            try:
                check_visited_at(visited_at, now)
            except VisitError as error:
                checked.append(error)
                continue
            checked.append(_Checked(request, visited_at))
        if all(isinstance(item, VisitError) for item in checked):
            return [item for item in checked if isinstance(item, VisitError)]

        async def body(conn: Connection) -> list[VisitOutcome | VisitError]:
            return await self._register_batch(conn, checked, now)

        for _attempt in range(_RACE_ATTEMPTS):
            try:
                results = await self._db.run_in_transaction(body)
                break
            except _Raced:
                continue  # the keys are committed now: read as duplicates next time
        else:
            raise RuntimeError("visits: the same visit_keys kept arriving concurrently")
        scheduled = any(
            isinstance(r, VisitOutcome) and r.status == "scheduled" and not r.duplicate
            for r in results
        )
        if scheduled and self._on_scheduled:
            self._on_scheduled()
        return results

    async def _register_batch(
        self, conn: Connection, checked: Sequence[_Checked | VisitError], now: datetime
    ) -> list[VisitOutcome | VisitError]:
        """The transaction's body: a few reads for the whole batch (customers, locked;
        visits known already; the catalogue), the decisions in order in memory, then
        every row written many per statement. It awaits nothing but `conn` (on SQLite it
        runs on the database's thread, Database.run_in_transaction)."""
        accepted = [item for item in checked if isinstance(item, _Checked)]
        tids, exts, phones = _named(item.request for item in accepted)
        found = await customers.for_visits(
            conn, telegram_ids=tids, external_ids=exts, phones=phones
        )
        people = _People(found)
        # After the customers' locks: a visit committed meanwhile is seen here.
        known = await visits.known(conn, sorted({item.request.visit_key for item in accepted}))
        codes = sorted({item.request.location for item in accepted if item.request.location})
        catalogue = await locations.get_many(conn, codes)
        now_ms = to_ms(now)
        plan = _Plan()
        # A key's outcome, once decided in this batch: later items with it repeat it.
        first: dict[str, int] = {}
        for index, item in enumerate(checked):
            if isinstance(item, VisitError):
                plan.results.append(item)
                continue
            key = item.request.visit_key
            if key in known:
                plan.results.append(_known_outcome(known[key]))
            elif key in first:
                plan.results.append(_Repeat(first[key]))
            else:
                try:  # a refusal is decided before anything is planned for the visit
                    plan.results.append(self._decide(item, catalogue, people, plan, now))
                except VisitError as error:
                    plan.results.append(error)
                    continue
                first[key] = index
        await locations.ensure_many(conn, sorted(plan.new_locations), LocationSource.VISIT, now_ms)
        inserted = await visits.insert_many(
            conn, [(d.visit, d.status, d.reason) for d in plan.decisions], now_ms
        )
        if len(inserted) < len(plan.decisions):
            raise _Raced  # another transaction inserted one of the keys since `known`
        for decision in plan.decisions:
            decision.visit_id = inserted[decision.visit.visit_key]
            if decision.survey is not None:
                decision.survey.visit_id = decision.visit_id
        survey_ids = await surveys.create_many(
            conn, [d.survey for d in plan.decisions if d.survey is not None], now_ms
        )
        messages: list[outbox.NewMessage] = []
        for decision in plan.decisions:
            if decision.survey is not None:
                decision.survey_id = survey_ids[decision.visit_id]
                assert decision.chat_id is not None
                messages.append(
                    outbox.NewMessage(
                        kind="survey",
                        chat_id=decision.chat_id,
                        priority=Priority.SURVEY,
                        due_at=decision.survey.due_at,
                        deadline_at=max(decision.survey.deadline_at, decision.survey.due_at),
                        ref_id=decision.survey_id,
                        dedupe_key=surveys.outbox_key(decision.survey_id),
                    )
                )
        await outbox.enqueue_many(conn, messages, now_ms)
        await customers.since_from_visits(conn, plan.first_days)
        await customers.set_last_surveyed_many(conn, plan.last_surveyed)
        tally = rollups.Tally()
        for (day, location, event), count in plan.funnel.items():
            tally.add_funnel(day, location, event, count)
        await tally.write(conn)
        return [_finished(result, plan.results) for result in plan.results]

    def _decide(
        self,
        item: _Checked,
        catalogue: dict[str, Location],
        people: _People,
        plan: _Plan,
        now: datetime,
    ) -> _Decision:
        """What becomes of one new visit: its row, and its survey or why there is none;
        counted in `plan` (which the batch's later visits of a customer read)."""
        request, visited_at = item.request, item.visited_at
        location = catalogue.get(request.location) if request.location else None
        if request.location and location is None:
            if self._refuse_unknown:
                raise VisitError("location", f"{request.location!r} is not in the catalogue")
            plan.new_locations.add(request.location)
        # The customer's clock: the offset the till sent, else their location's zone,
        # else the business TIMEZONE (offset None). It drives quiet hours, now and for
        # later messages (bot/core/quiet.py), and the day the visit counts on.
        zone = self._policy.zone
        offset = _offset_minutes(request.visited_at) if request.visited_at else None
        if location is not None and location.time_zone:
            zone = ZoneInfo(location.time_zone)
            if offset is None:
                offset = _offset_minutes(visited_at.astimezone(zone))
        customer = people.find(request)
        last_surveyed = plan.last_surveyed.get(customer.id) if customer else None
        if customer is not None and last_surveyed is None:
            last_surveyed = customer.last_surveyed_at
        reason = self._skip_reason(customer, last_surveyed, visited_at, now)
        due_at = None
        if reason is None:
            wanted = max(visited_at + self._policy.delay, now)
            due_at = self._policy.after_quiet_hours(wanted, offset)
            # Held by quiet hours: asked when they end ("your visit yesterday"), unless
            # the visit would be older than QUIET_HOURS_MAX_HOLD by then.
            limit = self._policy.quiet_max_hold if due_at > wanted else self._policy.max_age
            if due_at - visited_at > limit:
                reason = "quiet_hours"
        day = local_day(visited_at, zone).isoformat()
        decision = _Decision(
            visit=visits.NewVisit(
                visit_key=request.visit_key,
                customer_id=customer.id if customer else None,
                visited_at=to_ms(visited_at),
                utc_offset_minutes=offset,
                location=request.location,
                staff=request.staff,
                touchpoint=request.touchpoint,
                source=request.source,
                day=day,
            ),
            status="skipped" if reason else "scheduled",
            reason=reason,
        )
        plan.decisions.append(decision)
        plan.funnel[day, request.location, "reported"] += 1
        if customer is not None:
            earliest = plan.first_days.get(customer.id)
            plan.first_days[customer.id] = min(day, earliest) if earliest else day
        if reason is not None or customer is None or due_at is None:
            plan.funnel[day, request.location, f"skipped:{reason}"] += 1
            return decision
        assert customer.telegram_id is not None
        decision.chat_id = customer.telegram_id
        decision.survey = surveys.NewSurvey(
            visit_id=0,  # known once the visit is written
            customer_id=customer.id,
            location=request.location,
            staff=request.staff,
            touchpoint=request.touchpoint,
            day=day,
            due_at=to_ms(due_at),
            deadline_at=to_ms(visited_at + SURVEY_DEADLINE),
        )
        decision.due_at = due_at
        plan.last_surveyed[customer.id] = to_ms(visited_at)
        plan.funnel[day, request.location, "scheduled"] += 1
        return decision

    def _skip_reason(
        self,
        customer: Customer | None,
        last_surveyed_at: int | None,
        visited_at: datetime,
        now: datetime,
    ) -> str | None:
        if customer is None or customer.forgotten_at is not None:
            return "unknown_customer"
        if customer.telegram_id is None:
            return "not_linked"
        if customer.opted_out:
            return "opted_out"
        if customer.unreachable:
            return "unreachable"
        if now - visited_at > self._policy.max_age:
            return "too_old"
        if last_surveyed_at is not None and self._policy.cooldown:
            since_last = abs(visited_at - from_ms(last_surveyed_at))
            if since_last < self._policy.cooldown:
                return "cooldown"
        return None


def check_visited_at(visited_at: datetime, now: datetime) -> None:
    """Raise VisitError unless `visited_at` is aware and within VISITED_AT_BOUNDS."""
    if visited_at.tzinfo is None:
        raise VisitError("visited_at", "needs a UTC offset, e.g. 2026-11-23T12:00:00+03:00")
    try:  # year 1 at +14:00 is before year 1 in UTC: no datetime holds it
        in_utc = visited_at.astimezone(UTC)
    except OverflowError:
        raise VisitError("visited_at", f"out of range: {VISITED_AT_BOUNDS}") from None
    if in_utc < EARLIEST_VISIT:
        raise VisitError("visited_at", f"out of range: {VISITED_AT_BOUNDS}")
    if in_utc > now + CLOCK_SKEW:
        raise VisitError("visited_at", "is in the future")


def _offset_minutes(moment: datetime) -> int | None:
    offset = moment.utcoffset()
    return None if offset is None else int(offset / timedelta(minutes=1))


_RACE_ATTEMPTS = 3


class _Raced(Exception):
    """A visit_key was inserted by a concurrent transaction after this one read the
    known keys (PostgreSQL): the batch is rolled back and decided again."""


@dataclass(frozen=True, slots=True)
class _Checked:
    request: VisitRequest
    visited_at: datetime


@dataclass(slots=True)
class _Decision:
    """A new visit's row, and its survey (None: skipped for `reason`)."""

    visit: visits.NewVisit
    status: str
    reason: str | None
    survey: surveys.NewSurvey | None = None
    chat_id: int | None = None
    due_at: datetime | None = None
    visit_id: int = 0  # known once written
    survey_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Repeat:
    """The same visit_key as the batch's item at `index`: its outcome, as a duplicate."""

    index: int


@dataclass(slots=True)
class _Plan:
    """What a batch will write, decided item by item in order."""

    results: list[_Decision | _Repeat | VisitOutcome | VisitError] = field(default_factory=list)
    decisions: list[_Decision] = field(default_factory=list)
    new_locations: set[str] = field(default_factory=set)
    # The delivery funnel's events (storage/rollups.py), by (day, location, event).
    funnel: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # By customer id: their earliest visit day; the visited_at (ms) of their last survey.
    first_days: dict[int, str] = field(default_factory=dict)
    last_surveyed: dict[int, int] = field(default_factory=dict)


class _People:
    """The batch's customers, found as _find_customer did one by one: by Telegram id,
    else external id, else phone."""

    def __init__(self, found: Sequence[Customer]) -> None:
        self._tid = {c.telegram_id: c for c in found if c.telegram_id is not None}
        self._ext = {c.external_id: c for c in found if c.external_id}
        self._phone = {c.phone: c for c in found if c.phone}

    def find(self, request: VisitRequest) -> Customer | None:
        if request.telegram_id is not None:
            return self._tid.get(request.telegram_id)
        if request.external_id:
            return self._ext.get(request.external_id)
        if request.phone:
            phone = _phone(request)
            return self._phone.get(phone) if phone else None
        return None


def _named(requests: Iterable[VisitRequest]) -> tuple[list[int], list[str], list[str]]:
    """The Telegram ids, external ids and normalized phones that name the requests'
    customers (each request by the first given, as _People.find reads them), sorted."""
    tids: set[int] = set()
    exts: set[str] = set()
    phones: set[str] = set()
    for request in requests:
        if request.telegram_id is not None:
            tids.add(request.telegram_id)
        elif request.external_id:
            exts.add(request.external_id)
        elif phone := _phone(request):
            phones.add(phone)
    return sorted(tids), sorted(exts), sorted(phones)


def _phone(request: VisitRequest) -> str | None:
    return customers.normalize_phone(request.phone) if request.phone else None


def _known_outcome(known: visits.Known) -> VisitOutcome:
    visit = known.visit
    return VisitOutcome(
        visit_id=visit.id,
        status=visit.outcome,
        reason=visit.skip_reason,
        survey_id=known.survey_id,
        due_at=from_ms(known.survey_due_at) if known.survey_due_at is not None else None,
        duplicate=True,
    )


def _finished(
    result: _Decision | _Repeat | VisitOutcome | VisitError,
    results: Sequence[_Decision | _Repeat | VisitOutcome | VisitError],
) -> VisitOutcome | VisitError:
    if isinstance(result, _Repeat):
        repeated = _finished(results[result.index], results)
        assert isinstance(repeated, VisitOutcome)
        return replace(repeated, duplicate=True)
    if isinstance(result, _Decision):
        return VisitOutcome(
            result.visit_id, result.status, result.reason, result.survey_id, result.due_at
        )
    return result
