"""Registering a visit: decide, in one transaction, whether and when to survey it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import Clock, from_ms, local_day, to_ms
from bot.core.policy import CLOCK_SKEW, SURVEY_DEADLINE, SurveyPolicy
from bot.outbox.contracts import Priority
from storage import customers, locations, outbox, rollups, surveys, visits
from storage.db import Connection, Database
from storage.locations import LocationSource
from storage.models import Customer, Visit

# Before this, a visited_at is a mistake (an unset till clock says 1970 or year 1).
EARLIEST_VISIT = datetime(2000, 1, 1, tzinfo=UTC)
VISITED_AT_BOUNDS = "from 2000-01-01T00:00:00Z to now (5 minutes of clock skew allowed)"


class VisitError(ValueError):
    """The visit cannot be accepted as given (the message says which field and why)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


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
        """`register` for each request in order, in one transaction; a request that is
        already an error (refused by the caller's parsing) stays one, in its place."""
        now = self._clock.now()
        checked: list[tuple[VisitRequest, datetime] | VisitError] = []
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
            checked.append((request, visited_at))
        results: list[VisitOutcome | VisitError] = []
        if all(isinstance(item, VisitError) for item in checked):
            return [item for item in checked if isinstance(item, VisitError)]
        async with self._db.transaction() as conn:
            for item in checked:
                if isinstance(item, VisitError):
                    results.append(item)
                    continue
                try:  # refusals are raised before the visit writes anything
                    results.append(await self._register(conn, item[0], item[1], now))
                except VisitError as error:
                    results.append(error)
        scheduled = any(
            isinstance(r, VisitOutcome) and r.status == "scheduled" and not r.duplicate
            for r in results
        )
        if scheduled and self._on_scheduled:
            self._on_scheduled()
        return results

    async def _register(
        self, conn: Connection, request: VisitRequest, visited_at: datetime, now: datetime
    ) -> VisitOutcome:
        existing = await visits.by_key(conn, request.visit_key)
        if existing is not None:
            return await _outcome_of(conn, existing, duplicate=True)
        location = await locations.get(conn, request.location) if request.location else None
        if request.location and location is None:
            if self._refuse_unknown:
                raise VisitError("location", f"{request.location!r} is not in the catalogue")
            await locations.ensure(conn, request.location, LocationSource.VISIT, to_ms(now))
        # The customer's clock: the offset the till sent, else their location's zone,
        # else the business TIMEZONE (offset None). It drives quiet hours, now and for
        # later messages (bot/core/quiet.py), and the day the visit counts on.
        zone = self._policy.zone
        offset = _offset_minutes(request.visited_at) if request.visited_at else None
        if location is not None and location.time_zone:
            zone = ZoneInfo(location.time_zone)
            if offset is None:
                offset = _offset_minutes(visited_at.astimezone(zone))
        customer = await _find_customer(conn, request)
        if customer is not None:  # locked: two visits at once must see one cooldown
            customer = await customers.lock(conn, customer.id)
        reason = self._skip_reason(customer, visited_at, now)
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
        new_visit = visits.NewVisit(
            visit_key=request.visit_key,
            customer_id=customer.id if customer else None,
            visited_at=to_ms(visited_at),
            utc_offset_minutes=offset,
            location=request.location,
            staff=request.staff,
            touchpoint=request.touchpoint,
            source=request.source,
            day=day,
        )
        now_ms = to_ms(now)
        status = "skipped" if reason else "scheduled"
        visit = await visits.insert(conn, new_visit, status, reason, now_ms)
        if visit is None:  # the same key arrived concurrently
            raced = await visits.by_key(conn, request.visit_key)
            assert raced is not None
            return await _outcome_of(conn, raced, duplicate=True)
        await rollups.add_funnel(conn, day, request.location, "reported")
        if customer is not None:
            await customers.since_from_visit(conn, customer.id, day)
        if reason is not None or customer is None or due_at is None:
            await rollups.add_funnel(conn, day, request.location, f"skipped:{reason}")
            return VisitOutcome(visit.id, "skipped", reason, None, None)
        survey_id = await surveys.create(
            conn,
            visit_id=visit.id,
            customer_id=customer.id,
            location=request.location,
            staff=request.staff,
            touchpoint=request.touchpoint,
            day=day,
            due_at=to_ms(due_at),
            deadline_at=to_ms(visited_at + SURVEY_DEADLINE),
            now=now_ms,
        )
        assert customer.telegram_id is not None
        await outbox.enqueue(
            conn,
            kind="survey",
            chat_id=customer.telegram_id,
            priority=Priority.SURVEY,
            due_at=to_ms(due_at),
            deadline_at=to_ms(max(visited_at + SURVEY_DEADLINE, due_at)),
            now=now_ms,
            ref_id=survey_id,
            dedupe_key=surveys.outbox_key(survey_id),
        )
        await customers.set_last_surveyed(conn, customer.id, to_ms(visited_at))
        await rollups.add_funnel(conn, day, request.location, "scheduled")
        return VisitOutcome(visit.id, "scheduled", None, survey_id, due_at)

    def _skip_reason(
        self, customer: Customer | None, visited_at: datetime, now: datetime
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
        if customer.last_surveyed_at is not None and self._policy.cooldown:
            since_last = abs(visited_at - from_ms(customer.last_surveyed_at))
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


async def _find_customer(conn: Connection, request: VisitRequest) -> Customer | None:
    if request.telegram_id is not None:
        return await customers.by_telegram_id(conn, request.telegram_id)
    if request.external_id:
        return await customers.by_external_id(conn, request.external_id)
    if request.phone:
        return await customers.by_phone(conn, request.phone)
    return None


def _offset_minutes(moment: datetime) -> int | None:
    offset = moment.utcoffset()
    return None if offset is None else int(offset / timedelta(minutes=1))


async def _outcome_of(conn: Connection, visit: Visit, *, duplicate: bool) -> VisitOutcome:
    survey = await visits.survey_for_visit(conn, visit.id)
    return VisitOutcome(
        visit_id=visit.id,
        status=visit.outcome,
        reason=visit.skip_reason,
        survey_id=survey.id if survey else None,
        due_at=from_ms(survey.due_at) if survey else None,
        duplicate=duplicate,
    )
