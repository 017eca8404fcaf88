"""Playing a demo plan through the bot's own services, as if it happened live.

A discrete-event simulation: every step of the plan (a visit reported, its survey
sent, an answer, a manager taking a case) is an event at its moment; the injected
FakeClock is set to that moment and the step calls the same service the bot would
(VisitService, SurveyService, CaseService, the survey renderer's send outcome).
Maintenance (expiry, reminders, escalations, follow-ups) runs at every whole hour
of the simulated time, as the scheduler would. So every counter and every state is
exactly what the live bot would have written; nothing reaches Telegram.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from bot.cases.service import Direction
from bot.core.clock import FakeClock, from_ms, to_ms
from bot.demo.chain import REGIONS
from bot.demo.plan import (
    DAY,
    MINUTE,
    REPORT_DELAY,
    TICK,
    Delivery,
    DemoPlan,
    Ending,
    VisitPlan,
    ceil_tick,
)
from bot.locations.service import RegionBody
from bot.outbox.contracts import SendError, SendResult, Unreachable
from bot.visits.service import VisitRequest
from bot.wiring import Services, create_renderers
from storage import cases as case_rows
from storage import customers as customer_rows
from storage import outbox, surveys
from storage.customers import CrmCustomer, TelegramProfile
from storage.locations import LocationFields, LocationSource
from storage.models import OutboxStatus

Step = Callable[[], Awaitable[None]]
# The customers joined the bot this long before the demo's first day.
JOINED_BEFORE = 60 * DAY


@dataclass(slots=True)
class LiveSummary:
    """What the play did, for the command's output and the tests."""

    visits: int = 0
    surveys: int = 0
    answers: int = 0
    # Cases opened (detractors) and taken by a manager.
    opened: int = 0
    cases: int = 0
    refused: list[str] = field(default_factory=list)


class LivePlayer:
    """Plays `plan` through `services`, whose clock must be `clock`."""

    def __init__(self, services: Services, clock: FakeClock, plan: DemoPlan) -> None:
        if services.clock is not clock:
            raise ValueError("the services must run on the player's clock")
        self._s = services
        self._clock = clock
        self._plan = plan
        self._events: list[tuple[int, int, Step]] = []
        self._order = itertools.count()
        self._message_ids = itertools.count(1)
        self._renderer = create_renderers(
            services.settings, services.db, clock, services.translator, services.taxonomy
        )["survey"]
        self.summary = LiveSummary()

    def _at(self, moment: int, step: Step) -> None:
        if moment <= self._plan.now:
            heapq.heappush(self._events, (moment, next(self._order), step))

    async def play(self) -> LiveSummary:
        start = self._plan.day_start(self._plan.start_day) - JOINED_BEFORE
        self._clock.set(from_ms(start))
        await self._catalogue()
        await self._customers()
        next_tick = ceil_tick(start + TICK)
        for demo_day in self._plan.days():
            for visit in demo_day.visits:
                self._at(visit.at + REPORT_DELAY, self._register_step(visit))
            day_end = self._plan.day_start(demo_day.day + timedelta(days=1))
            # Events of this day (and earlier ones' later steps) up to the day's end:
            # the next day's visits are not known yet, but none is earlier than that.
            next_tick = await self._run_until(min(day_end, self._plan.now), next_tick)
        next_tick = await self._run_until(self._plan.now, next_tick)
        self._clock.set(from_ms(self._plan.now))
        await self._maintenance()
        return self.summary

    async def _run_until(self, limit: int, next_tick: int) -> int:
        while True:
            event_at = self._events[0][0] if self._events else None
            if next_tick <= limit and (event_at is None or next_tick <= event_at):
                self._clock.set(from_ms(next_tick))
                await self._maintenance()
                next_tick += TICK
                continue
            if event_at is None or event_at > limit:
                return next_tick
            moment, _, step = heapq.heappop(self._events)
            self._clock.set(from_ms(moment))
            await step()

    async def _maintenance(self) -> None:
        """What the maintenance job runs that the plan relies on."""
        await self._s.surveys.expire_due()
        await self._s.surveys.remind_due()
        await self._s.case_outbox.maintenance()

    # --- the catalogue and the customers -------------------------------------------

    async def _catalogue(self) -> None:
        for region in REGIONS:
            await self._s.locations.put_region(
                region.code, RegionBody(name=region.name, manager_chat_id=region.manager_chat_id)
            )
        for branch in self._plan.branches:
            await self._s.locations.put(
                branch.code,
                LocationFields(
                    name=branch.name,
                    time_zone=branch.time_zone,
                    manager_chat_id=branch.manager_chat_id,
                    region=branch.region,
                    opening_hours=branch.opening_hours,
                ),
                LocationSource.IMPORT,
            )

    async def _customers(self) -> None:
        """The customers who opened the bot (as /start registers them, in one
        transaction: there are thousands), the CRM's records of those who never did,
        and the few who sent /stop."""
        everyone = self._plan.all_customers()
        now = to_ms(self._clock.now())
        async with self._s.db.transaction() as conn:
            for customer in everyone:
                if customer.telegram_id is not None:
                    profile = TelegramProfile(
                        customer.telegram_id, customer.name, None, customer.language
                    )
                    await customer_rows.upsert_telegram(conn, profile, now)
        for customer in everyone:
            if customer.telegram_id is None:
                await self._s.accounts.upsert_crm(
                    CrmCustomer(
                        external_id=f"crm-{customer.number}",
                        phone=customer.phone,
                        name=customer.name,
                        language=customer.language,
                        customer_since=None,
                    )
                )
            elif customer.opted_out:
                await self._s.surveys.opt_out(customer.telegram_id)

    # --- a visit's steps -------------------------------------------------------------

    def _register_step(self, visit: VisitPlan) -> Step:
        async def register() -> None:
            customer = visit.customer
            outcome = await self._s.visits.register(
                VisitRequest(
                    visit_key=visit.key,
                    telegram_id=customer.telegram_id if customer and not visit.phone else None,
                    phone=visit.phone,
                    # As the branch's till sends it: in its local time.
                    visited_at=from_ms(visit.at).astimezone(
                        timezone(timedelta(minutes=visit.offset))
                    ),
                    location=visit.location,
                    staff=visit.staff,
                    touchpoint=visit.touchpoint,
                    source="demo",
                )
            )
            self.summary.visits += 1
            if outcome.reason != visit.skip:
                self._refused(f"{visit.key}: skipped {outcome.reason}, planned {visit.skip}")
            if outcome.survey_id is None or visit.delivery is None:
                return
            self.summary.surveys += 1
            self._at(visit.sent_at, self._deliver_step(visit, outcome.survey_id))

        return register

    def _deliver_step(self, visit: VisitPlan, survey_id: int) -> Step:
        async def deliver() -> None:
            now = to_ms(self._clock.now())
            async with self._s.db.transaction() as conn:
                item = await outbox.by_dedupe_key(conn, surveys.outbox_key(survey_id))
                assert item is not None
                if visit.delivery == Delivery.SENT:
                    message_id = next(self._message_ids)
                    await outbox.mark_sent(conn, item.id, message_id, now)
                    await self._renderer.on_sent(conn, item, SendResult(message_id))
                    self._answers(visit, survey_id, message_id)
                    return
                error = (
                    Unreachable("Forbidden: bot was blocked by the user")
                    if visit.delivery == Delivery.BLOCKED
                    else SendError("Bad Request: message is too long")
                )
                await outbox.finish(conn, item.id, OutboxStatus.FAILED, error.reason, now)
                await self._renderer.on_failed(conn, item, error)

        return deliver

    def _answers(self, visit: VisitPlan, survey_id: int, message_id: int) -> None:
        customer = visit.customer
        if visit.nps is None or customer is None or customer.telegram_id is None:
            return
        telegram_id = customer.telegram_id
        service = self._s.surveys
        nps, ces, reason = visit.nps, visit.ces, visit.reason

        async def answer_nps() -> None:
            self._check(
                visit, (await service.answer_nps(survey_id, telegram_id, nps, message_id)).ok
            )
            self.summary.answers += 1

        async def answer_ces() -> None:
            assert ces is not None
            self._check(visit, (await service.answer_ces(survey_id, telegram_id, ces)).ok)

        async def answer_reason() -> None:
            self._check(visit, (await service.answer_reason(survey_id, telegram_id, reason)).ok)

        self._at(visit.nps_at, answer_nps)
        if ces is not None:
            self._at(visit.ces_at, answer_ces)
            if visit.reason_step:
                self._at(visit.reason_at, answer_reason)
        if visit.case is not None:
            self.summary.opened += visit.case_opened_at <= self._plan.now
            self._case_steps(visit, survey_id, telegram_id)

    # --- a case's steps --------------------------------------------------------------

    def _case_steps(self, visit: VisitPlan, survey_id: int, telegram_id: int) -> None:
        plan = visit.case
        assert plan is not None
        cases = self._s.cases
        manager = plan.manager
        if plan.take_after is None:
            return
        taken_at = visit.case_opened_at + plan.take_after
        ended_at = taken_at + plan.end_after

        async def case_id() -> int:
            async with self._s.db.read() as conn:
                case = await case_rows.get_by_survey(conn, survey_id)
            assert case is not None, f"{visit.key}: no case"
            return case.id

        async def take() -> None:
            result = await cases.take(await case_id(), manager.telegram_id, manager.name)
            self._check(visit, result.ok)
            self.summary.cases += 1

        async def write() -> None:
            assert plan.message is not None
            result = await cases.record_message(
                await case_id(), Direction.OUT, manager.telegram_id, manager.name, plan.message
            )
            self._check(visit, result.ok)

        async def reply() -> None:
            result = await cases.record_message(
                await case_id(), Direction.IN, telegram_id, None, plan.reply
            )
            self._check(visit, result.ok)

        async def end() -> None:
            if plan.ending == Ending.CLOSED:
                result = await cases.close_without_fix(
                    await case_id(), manager.telegram_id, plan.text, manager_name=manager.name
                )
            else:
                result = await cases.resolve(
                    await case_id(),
                    manager.telegram_id,
                    plan.text,
                    notify_customer=plan.ending == Ending.NOTIFY,
                    manager_name=manager.name,
                )
            self._check(visit, result.ok)

        async def followup() -> None:
            assert plan.fixed is not None
            result = await cases.answer_followup(await case_id(), telegram_id, plan.fixed)
            self._check(visit, result.ok)

        self._at(taken_at, take)
        if plan.message is not None:
            self._at(taken_at + 5 * MINUTE, write)
            self._at(taken_at + 25 * MINUTE, reply)
        if plan.ending is None:
            return
        self._at(ended_at, end)
        followup_after = self._s.cases.followup_after
        if plan.ending == Ending.NOTIFY and followup_after and plan.fixed is not None:
            asked = ceil_tick(ended_at + int(followup_after / timedelta(milliseconds=1)))
            self._at(asked + plan.fixed_after, followup)

    def _check(self, visit: VisitPlan, ok: bool) -> None:
        if not ok:
            self._refused(f"{visit.key}: a step was refused at {self._clock.now():%Y-%m-%d %H:%M}")

    def _refused(self, what: str) -> None:
        self.summary.refused.append(what)
