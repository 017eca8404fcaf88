"""Answering a survey, reminding, expiring, and a customer's opt-out: the survey's rules.

Each answer is stored the moment it is given, in one transaction with its rollup,
its funnel count and, for a detractor, the alert to the managers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from bot.core.clock import Clock, to_ms
from bot.core.policy import SurveyPolicy, is_detractor
from bot.core.quiet import CustomerQuietHours
from bot.outbox.contracts import Priority
from storage import customers, outbox, rollups, surveys
from storage.db import Connection, Database
from storage.models import Survey, SurveyStatus

MAX_REASON_LENGTH = 2000


class Refusal(StrEnum):
    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"
    CLOSED = "closed"
    ALREADY_ANSWERED = "already_answered"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True, slots=True)
class AnswerResult:
    survey: Survey | None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


class DetractorHook(Protocol):
    """Called inside the answer's transaction when a survey first qualifies as a
    detractor, and again (first=False) when later answers add to what the managers
    should see. Cases plug in here (cases/alerts.py); the survey knows nothing of them."""

    async def __call__(
        self, conn: Connection, survey: Survey, now: int, *, first: bool
    ) -> None: ...


def segment_of(survey: Survey) -> rollups.Segment:
    return rollups.Segment(survey.day, survey.location, survey.staff, survey.touchpoint)


class SurveyService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: SurveyPolicy,
        *,
        on_detractor: DetractorHook,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._quiet = CustomerQuietHours(policy.quiet_hours, policy.zone)
        self._on_detractor = on_detractor
        self._on_enqueued = on_enqueued

    def _now(self) -> int:
        return to_ms(self._clock.now())

    async def _guarded(
        self, conn: Connection, survey_id: int, telegram_id: int, message_id: int | None
    ) -> AnswerResult:
        """Refuse a press on a survey that is missing, someone else's or finished."""
        survey = await surveys.get(conn, survey_id)
        if survey is None:
            return AnswerResult(None, Refusal.NOT_FOUND)
        if survey.status == SurveyStatus.FAILED and await self._recover_delivered(
            conn, survey, telegram_id, message_id
        ):
            survey = await surveys.get(conn, survey_id)
            assert survey is not None
        if survey.chat_id != telegram_id:
            return AnswerResult(None, Refusal.NOT_YOURS)
        if survey.status != SurveyStatus.SENT:
            return AnswerResult(survey, Refusal.CLOSED)
        return AnswerResult(survey)

    async def _recover_delivered(
        self, conn: Connection, survey: Survey, telegram_id: int, message_id: int | None
    ) -> bool:
        """A survey whose send ended "outcome unknown" (its instance died mid-request) did
        reach the customer if they press its button: record it as sent, so that what
        they say is kept, not refused."""
        if not (survey.closed_reason or "").startswith(outbox.OUTCOME_UNKNOWN_PREFIX):
            return False
        customer = await customers.get(conn, survey.customer_id)
        if customer is None or customer.telegram_id != telegram_id:
            return False
        now = self._now()
        expires_at = now + int(self._policy.expires_after.total_seconds() * 1000)
        if not await surveys.recover_delivered(
            conn,
            survey.id,
            chat_id=telegram_id,
            message_id=message_id,
            sent_at=now,
            expires_at=expires_at,
            unknown_prefix=outbox.OUTCOME_UNKNOWN_PREFIX,
        ):
            return False
        await rollups.add_sent(conn, segment_of(survey))
        await rollups.add_funnel(conn, survey.day, survey.location, "sent")
        await rollups.add_funnel(conn, survey.day, survey.location, "failed", -1)
        return True

    async def _answer(
        self,
        survey_id: int,
        telegram_id: int,
        store: Callable[[Connection, int], Awaitable[bool]],
        consequences: Callable[[Connection, Survey, int], Awaitable[None]],
        message_id: int | None = None,
    ) -> AnswerResult:
        """One answer: guard, guarded update, then its consequences, in one transaction."""
        now = self._now()
        async with self._db.transaction() as conn:
            guard = await self._guarded(conn, survey_id, telegram_id, message_id)
            if not guard.ok:
                return guard
            if not await store(conn, now):
                return AnswerResult(guard.survey, Refusal.ALREADY_ANSWERED)
            survey = await surveys.get(conn, survey_id)
            assert survey is not None
            await consequences(conn, survey, now)
        self._wake()
        return AnswerResult(survey)

    async def answer_nps(
        self, survey_id: int, telegram_id: int, score: int, message_id: int | None = None
    ) -> AnswerResult:
        """`message_id` is the survey message pressed: it lets a survey whose delivery
        was never confirmed be recovered with its message (expiry removes its buttons)."""
        if not 0 <= score <= 10:
            return AnswerResult(None, Refusal.OUT_OF_RANGE)

        async def consequences(conn: Connection, survey: Survey, now: int) -> None:
            await rollups.add_nps(conn, segment_of(survey), score)
            await rollups.add_funnel(conn, survey.day, survey.location, "answered")
            if is_detractor(score, None, self._policy.detractor_ces_max):
                await self._on_detractor(conn, survey, now, first=True)

        return await self._answer(
            survey_id,
            telegram_id,
            lambda conn, now: surveys.answer_nps(conn, survey_id, score, now),
            consequences,
            message_id,
        )

    async def answer_ces(self, survey_id: int, telegram_id: int, score: int) -> AnswerResult:
        if not 1 <= score <= 7:
            return AnswerResult(None, Refusal.OUT_OF_RANGE)

        async def consequences(conn: Connection, survey: Survey, now: int) -> None:
            await rollups.add_ces(conn, segment_of(survey), score)
            ces_max = self._policy.detractor_ces_max
            if is_detractor(survey.nps, score, ces_max):
                first = not is_detractor(survey.nps, None, ces_max)
                await self._on_detractor(conn, survey, now, first=first)

        return await self._answer(
            survey_id,
            telegram_id,
            lambda conn, now: surveys.answer_ces(conn, survey_id, score, now),
            consequences,
        )

    async def answer_reason(
        self, survey_id: int, telegram_id: int, reason: str | None
    ) -> AnswerResult:
        """Store the free-text reason (None when skipped) and finish the survey."""
        text = (reason.strip()[:MAX_REASON_LENGTH] if reason else None) or None

        async def consequences(conn: Connection, survey: Survey, now: int) -> None:
            if text and is_detractor(survey.nps, survey.ces, self._policy.detractor_ces_max):
                await self._on_detractor(conn, survey, now, first=False)

        return await self._answer(
            survey_id,
            telegram_id,
            lambda conn, now: surveys.answer_reason(conn, survey_id, text, now),
            consequences,
        )

    async def awaiting_reason(self, telegram_id: int) -> Survey | None:
        async with self._db.read() as conn:
            return await surveys.awaiting_reason(conn, telegram_id)

    async def expire_due(self) -> int:
        """Close surveys past their expiry and queue the removal of their buttons.

        An abandoned survey keeps whatever was answered: its NPS stays in the reports."""
        now = self._now()
        count = 0
        async with self._db.transaction() as conn:
            for survey in await surveys.due_to_expire(conn, now):
                if not await surveys.close(
                    conn, survey.id, SurveyStatus.EXPIRED, "not answered in time", now
                ):
                    continue
                count += 1
                await rollups.add_funnel(conn, survey.day, survey.location, "expired")
                assert survey.chat_id is not None
                await outbox.enqueue(
                    conn,
                    kind="survey_close",
                    chat_id=survey.chat_id,
                    priority=Priority.REMINDER,
                    due_at=now,
                    now=now,
                    ref_id=survey.id,
                    dedupe_key=f"survey_close:{survey.id}",
                )
        if count:
            self._wake()
        return count

    async def remind_due(self) -> int:
        """Queue the one gentle reminder for surveys sent long ago and not answered.

        A reminder that quiet hours would hold until the survey has expired is dropped
        (it could only point at closed buttons); the survey is still marked reminded,
        so it is not weighed again at every tick."""
        if self._policy.reminder_after is None:
            return 0
        now = self._now()
        sent_before = now - int(self._policy.reminder_after / timedelta(milliseconds=1))
        count = 0
        async with self._db.transaction() as conn:
            due = await surveys.due_for_reminder(conn, sent_before)
            due_at = await self._quiet.due_ats(conn, [s.customer_id for s in due], now)
            for survey in due:
                if not await surveys.mark_reminded(conn, survey.id, now):
                    continue
                at = due_at[survey.customer_id]
                if survey.expires_at is not None and at >= survey.expires_at:
                    continue
                assert survey.chat_id is not None
                queued = await outbox.enqueue(
                    conn,
                    kind="reminder",
                    chat_id=survey.chat_id,
                    priority=Priority.REMINDER,
                    due_at=at,
                    now=now,
                    ref_id=survey.id,
                    dedupe_key=f"reminder:{survey.id}",
                )
                count += queued is not None
        if count:
            self._wake()
        return count

    async def opt_out(self, telegram_id: int) -> bool:
        """/stop: never survey this customer again; surveys still waiting are skipped."""
        now = self._now()
        async with self._db.transaction() as conn:
            customer = await customers.by_telegram_id(conn, telegram_id)
            if customer is None:
                return False
            await customers.set_opted_out(conn, customer.id, True, now)
            for survey in await surveys.scheduled_for_customer(conn, customer.id):
                if await surveys.close(conn, survey.id, SurveyStatus.SKIPPED, "opted_out", now):
                    await rollups.add_funnel(
                        conn, survey.day, survey.location, "skipped:opted_out"
                    )
            await outbox.expire_pending_for_chat(conn, telegram_id, "opted out", now)
        return True

    def _wake(self) -> None:
        if self._on_enqueued is not None:
            self._on_enqueued()
