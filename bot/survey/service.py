"""Answering a survey, reminding, expiring, and a customer's opt-out: the survey's rules.

Each answer is stored the moment it is given, in one transaction with its rollup,
its funnel count and, for a detractor, the alert to the managers (and, for a button
press, the update's once-record), committed before the caller gets its result.
Answers that arrive while others are being written go together in the next
transaction (AnswerBatches): on SQLite one trip to the database's thread, and the
counters they all touch written once for the lot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from bot.core.clock import Clock, to_ms
from bot.core.metrics import Metrics
from bot.core.policy import SurveyPolicy, is_detractor
from bot.core.quiet import CustomerQuietHours
from bot.i18n import normalize_language
from bot.outbox.contracts import Priority
from bot.webhooks import events as webhooks
from bot.webhooks.events import Event
from storage import customers, outbox, recovery, rollups, surveys, topics, updates
from storage.db import Connection, Database
from storage.models import OutboxStatus, Survey, SurveyStatus, SurveyStep

MAX_REASON_LENGTH = 2000
# Answers written together at most: bounds how long one transaction holds the writer.
ANSWER_BATCH_MAX = 100

logger = logging.getLogger(__name__)


class Refusal(StrEnum):
    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"
    CLOSED = "closed"
    ALREADY_ANSWERED = "already_answered"
    OUT_OF_RANGE = "out_of_range"
    # The update was handled already (Telegram redelivered it): do nothing at all.
    DUPLICATE = "duplicate"


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


class MediaReasonHook(Protocol):
    """Called inside the answer's transaction, after the detractor hook, when a
    detractor's reason is a media message (survey.reason_message_id): cases copy it to
    the managers (cases/outbox.py)."""

    async def __call__(self, conn: Connection, survey: Survey, now: int) -> None: ...


# The topics of a reason (bot/topics' classifier, loaded once per process by the wiring).
Classify = Callable[[str], Sequence[str]]


def segment_of(survey: Survey) -> rollups.Segment:
    return rollups.Segment(survey.day, survey.location, survey.staff, survey.touchpoint)


def topic_key(survey: Survey) -> topics.SurveyKey:
    """Where the survey's topics are counted (storage/topics.py)."""
    return topics.SurveyKey(survey.id, survey.day, survey.location, survey.nps)


# One answer's work inside a batch's transaction: its statements, and its counts added
# to the batch's tally (written once, at the end of the transaction). It may await
# nothing but the connection (Database.run_in_transaction).
AnswerWork = Callable[[Connection, rollups.Tally], Awaitable["AnswerResult"]]


def _together(
    works: list[AnswerWork],
) -> Callable[[Connection], Awaitable[list[AnswerResult]]]:
    async def body(conn: Connection) -> list[AnswerResult]:
        tally = rollups.Tally()
        results = [await work(conn, tally) for work in works]
        await tally.write(conn)
        return results

    return body


class AnswerBatches:
    """Group commit for answers. Answers submitted while a batch is being written go
    together in the next one: one transaction, the counters written once. Each caller
    returns once its answer is committed, with its own result. If a batch fails, each
    of its answers is written again in a transaction of its own, so one answer's error
    cannot cost the others theirs. A cancelled caller's answer is still written."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queued: list[tuple[AnswerWork, asyncio.Future[AnswerResult]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, work: AnswerWork) -> AnswerResult:
        future: asyncio.Future[AnswerResult] = asyncio.get_running_loop().create_future()
        self._queued.append((work, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        return await future

    async def _write_queued(self) -> None:
        while self._queued:
            batch = self._queued[:ANSWER_BATCH_MAX]
            del self._queued[:ANSWER_BATCH_MAX]
            try:
                results = await self._db.run_in_transaction(_together([w for w, _ in batch]))
            except Exception:
                if len(batch) > 1:
                    logger.exception("%d answers not written together; one by one", len(batch))
                await self._one_by_one(batch)
                continue
            except BaseException:
                # Cancelled (the loop is closing): nobody is left to take a result.
                for _, future in batch + self._queued:
                    future.cancel()
                self._queued.clear()
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(
        self, batch: list[tuple[AnswerWork, asyncio.Future[AnswerResult]]]
    ) -> None:
        for work, future in batch:
            try:
                [result] = await self._db.run_in_transaction(_together([work]))
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(result)


class SurveyService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: SurveyPolicy,
        *,
        on_detractor: DetractorHook,
        on_enqueued: Callable[[], None] | None = None,
        classify: Classify | None = None,
        on_media_reason: MediaReasonHook | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._classify = classify
        self._on_media_reason = on_media_reason
        self._clock = clock
        self._policy = policy
        self._quiet = CustomerQuietHours(policy.quiet_hours, policy.zone)
        self._on_detractor = on_detractor
        self._on_enqueued = on_enqueued
        self._batches = AnswerBatches(db)

    def _now(self) -> int:
        return to_ms(self._clock.now())

    async def _guarded(
        self,
        conn: Connection,
        tally: rollups.Tally,
        survey_id: int,
        telegram_id: int,
        message_id: int | None,
        now: int,
    ) -> AnswerResult:
        """Refuse a press on a survey that is missing, someone else's or finished.

        The survey is its customer's from the moment it is queued: ownership is the
        customer's Telegram id, not the chat_id that recording the send writes, so a
        press that overtakes that record (outcomes are written in batches) is the
        customer's like any other, and it proves the survey arrived."""
        found = await surveys.pressed(conn, survey_id)
        if found is None:
            return AnswerResult(None, Refusal.NOT_FOUND)
        survey = found.survey
        if found.owner_telegram_id is None or found.owner_telegram_id != telegram_id:
            return AnswerResult(None, Refusal.NOT_YOURS)
        if survey.status == SurveyStatus.SCHEDULED and found.send_status in (
            OutboxStatus.SENDING,
            OutboxStatus.SENT,
        ):
            await self._record_delivered(conn, tally, found, message_id, now)
        elif survey.status != SurveyStatus.SENT and not (
            survey.status == SurveyStatus.FAILED
            and await self._recover_delivered(conn, tally, survey, telegram_id, message_id, now)
        ):
            return AnswerResult(survey, Refusal.CLOSED)
        # What the press changes is a conditional UPDATE of a sent survey at the
        # expected step: a survey still not sent (or closed meanwhile) changes no row.
        return AnswerResult(survey)

    def _expires_at(self, now: int) -> int:
        return now + int(self._policy.expires_after.total_seconds() * 1000)

    async def _record_delivered(
        self,
        conn: Connection,
        tally: rollups.Tally,
        found: surveys.Pressed,
        message_id: int | None,
        now: int,
    ) -> None:
        """The press arrived before the send's outcome was written: record the survey
        as sent now, as the outcome will (which then changes nothing: both are
        conditional on the survey still being scheduled, so whichever is second is a
        no-op, also between instances)."""
        survey = found.survey
        assert found.owner_telegram_id is not None
        if await surveys.mark_sent(
            conn,
            survey.id,
            chat_id=found.owner_telegram_id,
            message_id=message_id,
            language=normalize_language(found.owner_language, self._policy.default_language),
            sent_at=now,
            expires_at=self._expires_at(now),
        ):
            tally.add_sent(segment_of(survey))
            tally.add_funnel(survey.day, survey.location, "sent")

    async def _recover_delivered(
        self,
        conn: Connection,
        tally: rollups.Tally,
        survey: Survey,
        telegram_id: int,
        message_id: int | None,
        now: int,
    ) -> bool:
        """A survey whose send ended "outcome unknown" (its instance died mid-request) did
        reach the customer if they press its button: record it as sent, so that what
        they say is kept, not refused. Any other failed survey stays closed."""
        if not (survey.closed_reason or "").startswith(outbox.OUTCOME_UNKNOWN_PREFIX):
            return False
        if not await surveys.recover_delivered(
            conn,
            survey.id,
            chat_id=telegram_id,
            message_id=message_id,
            sent_at=now,
            expires_at=self._expires_at(now),
            unknown_prefix=outbox.OUTCOME_UNKNOWN_PREFIX,
        ):
            return False
        tally.add_sent(segment_of(survey))
        tally.add_funnel(survey.day, survey.location, "sent")
        tally.add_funnel(survey.day, survey.location, "failed", -1)
        return True

    async def _answer(
        self,
        survey_id: int,
        telegram_id: int,
        store: Callable[[Connection, int], Awaitable[Survey | None]],
        consequences: Callable[[Connection, rollups.Tally, Survey, int], Awaitable[None]],
        message_id: int | None,
        update_id: int | None,
        *,
        question: str | None,
        in_range: bool = True,
    ) -> AnswerResult:
        """One answer in one transaction (with the others of its batch): the update's
        once-record (`update_id`, when the caller folds it in here), the guard, the
        guarded update, its consequences. Nothing in it may await anything but the
        connection (Database.run_in_transaction)."""
        now = self._now()

        async def work(conn: Connection, tally: rollups.Tally) -> AnswerResult:
            if update_id is not None and not await updates.claim(conn, update_id, now=now):
                return AnswerResult(None, Refusal.DUPLICATE)
            if not in_range:
                return AnswerResult(None, Refusal.OUT_OF_RANGE)
            guard = await self._guarded(conn, tally, survey_id, telegram_id, message_id, now)
            if not guard.ok:
                return guard
            survey = await store(conn, now)
            if survey is None:
                return AnswerResult(await surveys.get(conn, survey_id), Refusal.ALREADY_ANSWERED)
            await consequences(conn, tally, survey, now)
            return AnswerResult(survey)

        result = await self._batches.submit(work)
        if result.ok:
            if self._metrics is not None and question is not None:
                self._metrics.answered(question)  # committed: counted once
            self._wake()
        return result

    async def answer_nps(
        self,
        survey_id: int,
        telegram_id: int,
        score: int,
        message_id: int | None = None,
        *,
        update_id: int | None = None,
    ) -> AnswerResult:
        """`message_id` is the survey message pressed: it lets a survey whose delivery
        was not recorded yet (or never confirmed) be recorded with its message (expiry
        removes its buttons). `update_id`: write the update's once-record in the
        answer's transaction (bot/telegram/once.py); a duplicate is refused DUPLICATE.
        Every answer writes that record, whatever it is refused for, unless it raises."""

        async def consequences(
            conn: Connection, tally: rollups.Tally, survey: Survey, now: int
        ) -> None:
            tally.add_nps(segment_of(survey), score)
            tally.add_funnel(survey.day, survey.location, "answered")
            if survey.reason:
                await topics.count_answered(conn, tally, topic_key(survey))
            await webhooks.response(conn, Event.RESPONSE_CREATED, survey.id, now)
            # A detractor coming back: their previous survey learns this score (won back).
            await recovery.note_comeback(conn, tally, survey.id, survey.customer_id, score)
            if is_detractor(score, None, self._policy.detractor_ces_max):
                await self._on_detractor(conn, survey, now, first=True)

        return await self._answer(
            survey_id,
            telegram_id,
            lambda conn, now: surveys.answer_nps(
                conn, survey_id, score, now, self._policy.step_after(SurveyStep.NPS)
            ),
            consequences,
            message_id,
            update_id,
            question="nps",
            in_range=0 <= score <= 10,
        )

    async def answer_ces(
        self, survey_id: int, telegram_id: int, score: int, *, update_id: int | None = None
    ) -> AnswerResult:
        async def consequences(
            conn: Connection, tally: rollups.Tally, survey: Survey, now: int
        ) -> None:
            tally.add_ces(segment_of(survey), score)
            await webhooks.response(conn, Event.RESPONSE_UPDATED, survey.id, now, changed=("ces",))
            ces_max = self._policy.detractor_ces_max
            if is_detractor(survey.nps, score, ces_max):
                first = not is_detractor(survey.nps, None, ces_max)
                await self._on_detractor(conn, survey, now, first=first)

        return await self._answer(
            survey_id,
            telegram_id,
            lambda conn, now: surveys.answer_ces(
                conn, survey_id, score, now, self._policy.step_after(SurveyStep.CES)
            ),
            consequences,
            None,
            update_id,
            question="ces",
            in_range=1 <= score <= 7,
        )

    async def answer_csat(
        self, survey_id: int, telegram_id: int, score: int, *, update_id: int | None = None
    ) -> AnswerResult:
        """CSAT (1-5), when SURVEY_STEPS asks it: counted in the rollups; a detractor's
        card shows it (CSAT itself makes no one a detractor)."""

        async def consequences(
            conn: Connection, tally: rollups.Tally, survey: Survey, now: int
        ) -> None:
            tally.add_csat(segment_of(survey), score)
            await webhooks.response(
                conn, Event.RESPONSE_UPDATED, survey.id, now, changed=("csat",)
            )
            if is_detractor(survey.nps, survey.ces, self._policy.detractor_ces_max):
                await self._on_detractor(conn, survey, now, first=False)

        return await self._answer(
            survey_id,
            telegram_id,
            lambda conn, now: surveys.answer_csat(
                conn, survey_id, score, now, self._policy.step_after(SurveyStep.CSAT)
            ),
            consequences,
            None,
            update_id,
            question="csat",
            in_range=1 <= score <= 5,
        )

    async def answer_reason(
        self,
        survey_id: int,
        telegram_id: int,
        reason: str | None,
        *,
        update_id: int | None = None,
        message_id: int | None = None,
        early: bool = False,
        media: bool = False,
    ) -> AnswerResult:
        """Store the free-text reason (None when skipped) and finish the survey.
        `message_id`: the customer's message that gave it (its edits replace it);
        `early`: the text came at a score step after the NPS (the score steps left
        stay unanswered, as in a survey that expires); `media`: the message is a voice
        message, photo... whose label (bot/telegram/media.py) is the reason, and which
        a detractor's case copies to the managers (`on_media_reason`)."""
        text = (reason.strip()[:MAX_REASON_LENGTH] if reason else None) or None
        # Classified before the transaction: it holds the writer for no CPU work.
        # A media reason's topics are its caption's (the label itself says nothing).
        said = text.partition("] ")[2] if media and text else text
        found = self.topics_of(said) if said else ()
        steps = (SurveyStep.REASON, *self.LATER_SCORE_STEPS) if early else (SurveyStep.REASON,)

        async def consequences(
            conn: Connection, tally: rollups.Tally, survey: Survey, now: int
        ) -> None:
            if text:
                await topics.store(conn, tally, topic_key(survey), found)
                await webhooks.response(
                    conn, Event.RESPONSE_UPDATED, survey.id, now, changed=("reason",)
                )
            await webhooks.response(conn, Event.RESPONSE_COMPLETED, survey.id, now)
            if text and is_detractor(survey.nps, survey.ces, self._policy.detractor_ces_max):
                await self._on_detractor(conn, survey, now, first=False)
                if media and self._on_media_reason is not None:
                    await self._on_media_reason(conn, survey, now)

        return await self._answer(
            survey_id,
            telegram_id,
            lambda conn, now: surveys.answer_reason(
                conn, survey_id, text, now, message_id=message_id, steps=steps
            ),
            consequences,
            None,
            update_id,
            question="reason" if text else None,  # a skipped reason is no answer
        )

    def topics_of(self, text: str) -> tuple[str, ...]:
        """The topics of a reason (none without a classifier). A changed reason's new
        reading goes in with `storage.topics.replace` in the change's transaction."""
        if self._classify is None:
            return ()
        return tuple(self._classify(text))

    async def edit_reason(self, chat_id: int, message_id: int, reason: str) -> Survey | None:
        """The customer edited the message that gave a reason: while the survey's answer
        window lasts the edit replaces the stored reason, and what a stored reason sets
        off runs again (its topics, the response.updated webhook, a detractor's case
        card). None
        when nothing changed (no such reason, the window closed, the same text)."""
        text = reason.strip()[:MAX_REASON_LENGTH]
        if not text:
            return None
        now = self._now()
        found = self.topics_of(text)

        async def work(conn: Connection, tally: rollups.Tally) -> AnswerResult:
            survey = await surveys.edit_reason(conn, chat_id, message_id, text, now)
            if survey is None:
                return AnswerResult(None, Refusal.CLOSED)
            await topics.replace(conn, tally, topic_key(survey), found)
            await webhooks.response(
                conn, Event.RESPONSE_UPDATED, survey.id, now, changed=("reason",)
            )
            if is_detractor(survey.nps, survey.ces, self._policy.detractor_ces_max):
                await self._on_detractor(conn, survey, now, first=False)
            return AnswerResult(survey)

        result = await self._batches.submit(work)
        if result.ok:
            self._wake()
        return result.survey if result.ok else None

    async def claim_update(self, update_id: int) -> bool:
        """Write an update's once-record on its own, for a handler registered to write it
        in its answer's transaction that ends up storing nothing (a typed score off the
        scale gets a hint): False for a duplicate."""
        async with self._db.transaction() as conn:
            return await updates.claim(conn, update_id, now=self._now())

    async def awaiting_reason(self, telegram_id: int) -> Survey | None:
        async with self._db.read() as conn:
            return await surveys.awaiting_reason(conn, telegram_id)

    # The score steps a survey may wait at, and those after the NPS.
    SCORE_STEPS = (SurveyStep.NPS, SurveyStep.CES, SurveyStep.CSAT)
    LATER_SCORE_STEPS = (SurveyStep.CES, SurveyStep.CSAT)

    async def awaiting_score(self, telegram_id: int) -> Survey | None:
        """The customer's open survey waiting for a score, if any."""
        async with self._db.read() as conn:
            return await surveys.awaiting_score(conn, telegram_id, self.SCORE_STEPS)

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
            if not customer.opted_out:
                await webhooks.customer(conn, Event.CUSTOMER_OPTED_OUT, customer.id, now)
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
