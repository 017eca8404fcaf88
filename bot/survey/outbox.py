"""Renderers of the outbox kinds of the core loop: what each row looks like when it
is due, and what its success or failure means for the survey and the customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from aiogram.types import ReplyParameters

from bot.core.clock import Clock, from_ms, to_ms
from bot.core.metrics import Metrics
from bot.core.policy import SurveyPolicy, customer_zone
from bot.i18n import Texts, Translator
from bot.outbox.contracts import Outgoing, Renderer, SendError, SendResult, Unreachable
from bot.survey.keyboards import nps_keyboard
from bot.survey.texts import Wording, nps_text, reminder_text
from bot.topics import Taxonomy, load_taxonomy
from storage import customers, rollups, surveys
from storage.db import Connection, Database
from storage.models import OutboxItem, Survey, SurveyStatus, SurveyStep


@dataclass(frozen=True, slots=True)
class RenderContext:
    db: Database
    clock: Clock
    translator: Translator
    policy: SurveyPolicy
    wording: Wording
    manager_language: str
    zone: ZoneInfo
    # The topics' labels on the managers' cards (TOPICS_FILE; the wiring's own).
    taxonomy: Taxonomy = field(default_factory=load_taxonomy)
    # Where renderers count what they know of (survey lateness, alerts); None: nowhere.
    metrics: Metrics | None = None


class SurveyRenderer:
    """The first survey message: the NPS question with its 11 buttons."""

    def __init__(self, ctx: RenderContext) -> None:
        self._ctx = ctx

    async def render(self, item: OutboxItem) -> Outgoing | None:
        ctx = self._ctx
        now = to_ms(ctx.clock.now())
        async with ctx.db.transaction() as conn:
            found = await surveys.context(conn, item.ref_id or 0)
            if found is None or found.survey.status != SurveyStatus.SCHEDULED:
                return None
            reason = self._skip_reason(found, now)
            if reason is not None:
                survey = found.survey
                await surveys.close(conn, survey.id, SurveyStatus.SKIPPED, reason, now)
                await rollups.add_funnel(conn, survey.day, survey.location, f"skipped:{reason}")
                return None
        return self._message(item, found)

    async def render_many(self, items: Sequence[OutboxItem]) -> list[Outgoing | None]:
        """render() of a window of rows with one read of what they all need; the rare
        row to skip or drop takes render()'s guarded path."""
        now = to_ms(self._ctx.clock.now())
        async with self._ctx.db.read() as conn:
            found = await surveys.contexts(conn, [item.ref_id or 0 for item in items])
        messages: list[Outgoing | None] = []
        for item in items:
            context = found.get(item.ref_id or 0)
            if (
                context is None
                or context.survey.status != SurveyStatus.SCHEDULED
                or self._skip_reason(context, now) is not None
            ):
                messages.append(await self.render(item))
            else:
                messages.append(self._message(item, context))
        return messages

    def _skip_reason(self, found: surveys.SurveyContext, now: int) -> str | None:
        customer = found.customer
        if customer.opted_out or customer.forgotten_at:
            return "opted_out"
        if customer.unreachable:
            return "unreachable"
        if self._ctx.policy.too_old(found.visited_at, found.survey.due_at, now):
            # Overdue after downtime: a survey about a visit this old would only annoy.
            return "too_old"
        return None

    def _message(self, item: OutboxItem, found: surveys.SurveyContext) -> Outgoing:
        texts = Texts(self._ctx.translator, found.customer.language)
        zone = customer_zone(self._ctx.policy.zone, found.utc_offset_minutes)
        visit_day = from_ms(found.visited_at).astimezone(zone).date()
        yesterday = visit_day < self._ctx.clock.now().astimezone(zone).date()
        return Outgoing(
            chat_id=item.chat_id,
            text=nps_text(texts, self._ctx.wording, found.place, yesterday=yesterday),
            keyboard=nps_keyboard(found.survey.id),
        )

    def _late(self, survey: Survey, now: int) -> None:
        """Seconds from the survey's own due time (not its row's, which pacing may have
        moved) to now, when its send is recorded. Counted inside the outcomes'
        transaction: a batch that fails and is written again row by row counts twice."""
        if self._ctx.metrics is not None:
            self._ctx.metrics.survey_late((now - survey.due_at) / 1000)

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        survey = await surveys.get(conn, item.ref_id or 0)
        if survey is None or result.message_id is None:
            return
        customer = await customers.get(conn, survey.customer_id)
        now = to_ms(self._ctx.clock.now())
        self._late(survey, now)
        language = Texts(self._ctx.translator, customer.language if customer else None).language
        marked = await surveys.mark_sent(
            conn,
            survey.id,
            chat_id=item.chat_id,
            message_id=result.message_id,
            language=language,
            sent_at=now,
            expires_at=now + int(self._ctx.policy.expires_after.total_seconds() * 1000),
        )
        if marked:
            await rollups.add_sent(
                conn, rollups.Segment(survey.day, survey.location, survey.staff, survey.touchpoint)
            )
            await rollups.add_funnel(conn, survey.day, survey.location, "sent")

    async def on_sent_many(
        self, conn: Connection, sent: Sequence[tuple[OutboxItem, SendResult]]
    ) -> None:
        """on_sent() of a batch: one read of the surveys, and the rollups summed in one
        Tally, written once for the batch (each statement is a round trip)."""
        found = await surveys.contexts(conn, [item.ref_id or 0 for item, _ in sent])
        now = to_ms(self._ctx.clock.now())
        expires_at = now + int(self._ctx.policy.expires_after.total_seconds() * 1000)
        tally = rollups.Tally()
        for item, result in sent:
            context = found.get(item.ref_id or 0)
            if context is None or result.message_id is None:
                continue
            survey = context.survey
            self._late(survey, now)
            language = Texts(self._ctx.translator, context.customer.language).language
            if await surveys.mark_sent(
                conn,
                survey.id,
                chat_id=item.chat_id,
                message_id=result.message_id,
                language=language,
                sent_at=now,
                expires_at=expires_at,
            ):
                tally.add_sent(
                    rollups.Segment(survey.day, survey.location, survey.staff, survey.touchpoint)
                )
                tally.add_funnel(survey.day, survey.location, "sent")
        await tally.write(conn)

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        survey = await surveys.get(conn, item.ref_id or 0)
        now = to_ms(self._ctx.clock.now())
        blocked = isinstance(error, Unreachable)
        if blocked:
            await customers.mark_unreachable(conn, item.chat_id, error.reason, now)
        # Only a survey still scheduled: one already recorded as sent was pressed by its
        # customer before this outcome was written, which proves it arrived.
        if survey is not None and await surveys.close(
            conn, survey.id, SurveyStatus.FAILED, error.reason, now, unsent_only=True
        ):
            event = "blocked" if blocked else "failed"
            await rollups.add_funnel(conn, survey.day, survey.location, event)


class ReminderRenderer:
    """The one gentle reminder, as a reply to the unanswered survey."""

    def __init__(self, ctx: RenderContext) -> None:
        self._ctx = ctx

    async def render(self, item: OutboxItem) -> Outgoing | None:
        ctx = self._ctx
        async with ctx.db.read() as conn:
            found = await surveys.context(conn, item.ref_id or 0)
        if found is None:
            return None
        survey, customer = found.survey, found.customer
        if (
            survey.status != SurveyStatus.SENT
            or survey.step != SurveyStep.NPS
            or customer.opted_out
        ):
            return None
        texts = Texts(ctx.translator, survey.language or customer.language)
        return Outgoing(
            chat_id=item.chat_id,
            text=reminder_text(texts, ctx.wording, found.place),
            extra={
                "reply_parameters": ReplyParameters(
                    message_id=survey.message_id or 0, allow_sending_without_reply=True
                )
            },
        )

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """Nothing to record: the survey noted the reminder when it was queued."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        if isinstance(error, Unreachable):
            await customers.mark_unreachable(
                conn, item.chat_id, error.reason, to_ms(self._ctx.clock.now())
            )


class SurveyCloseRenderer:
    """An expired survey loses its buttons, so it cannot be answered any more."""

    def __init__(self, ctx: RenderContext) -> None:
        self._ctx = ctx

    async def render(self, item: OutboxItem) -> Outgoing | None:
        async with self._ctx.db.read() as conn:
            survey = await surveys.get(conn, item.ref_id or 0)
        if survey is None or survey.message_id is None or survey.chat_id is None:
            return None
        return Outgoing(
            chat_id=survey.chat_id,
            edit_message_id=survey.message_id,
            edit_keyboard_only=True,
            keyboard=None,
        )

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """The keyboard is gone; nothing else changes."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """The survey is closed either way; a stale keyboard only answers 'closed'."""


def core_renderers(ctx: RenderContext) -> dict[str, Renderer]:
    return {
        "survey": SurveyRenderer(ctx),
        "reminder": ReminderRenderer(ctx),
        "survey_close": SurveyCloseRenderer(ctx),
    }
