"""Outbox kinds of the anniversary send and the jobs around it.

`anniversary` carries one thank-you (payload["text"]); its outcome is written to the
never-twice ledger. `anniversary_progress` edits the admin's progress message (at most
one queued edit per run and second; it renders the counts as they are when it goes
out). `anniversary_summary` posts the final summary of a run without a progress
message (automatic or command-line sends) to every admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from bot.anniversaries import service
from bot.config import Settings
from bot.core.clock import Clock, to_ms
from bot.core.quiet import CustomerQuietHours
from bot.i18n import Translator
from bot.outbox.contracts import Outgoing, Priority, Renderer, SendError, SendResult, Unreachable
from storage import anniversaries as store
from storage import customers
from storage.db import Connection, Database
from storage.models import OutboxItem
from storage.outbox import enqueue

PROGRESS_KIND = "anniversary_progress"
SUMMARY_KIND = "anniversary_summary"


@dataclass(frozen=True, slots=True)
class AdminContext:
    db: Database
    clock: Clock
    translator: Translator
    settings: Settings

    @property
    def language(self) -> str:
        return self.settings.default_language

    def now(self) -> int:
        return to_ms(self.clock.now())


async def after_change(conn: Connection, ctx: AdminContext, run_id: int | None) -> None:
    """A thank-you of `run_id` ended: queue a progress edit, or close the run."""
    if run_id is None:
        return
    run = await store.get_run(conn, run_id)
    if run is None:
        return
    now = ctx.now()
    progress = await store.run_progress(conn, run_id)
    if progress.left == 0:
        if await store.finish_run(conn, run_id, now):
            await queue_summary(conn, ctx, run)
        return
    if run.chat_id is not None and run.message_id is not None:
        await enqueue(
            conn,
            kind=PROGRESS_KIND,
            chat_id=run.chat_id,
            priority=Priority.CASE,
            due_at=now,
            now=now,
            ref_id=run_id,
            dedupe_key=f"{PROGRESS_KIND}:{run_id}:{now // 1000}",
        )


async def queue_summary(conn: Connection, ctx: AdminContext, run: store.AnniversaryRun) -> None:
    """The progress message becomes the summary; runs without one tell every admin."""
    now = ctx.now()
    if run.chat_id is not None and run.message_id is not None:
        await enqueue(
            conn,
            kind=PROGRESS_KIND,
            chat_id=run.chat_id,
            priority=Priority.CASE,
            due_at=now,
            now=now,
            ref_id=run.id,
            dedupe_key=f"{PROGRESS_KIND}:{run.id}:final",
        )
        return
    for admin_id in ctx.settings.admin_ids:
        await enqueue(
            conn,
            kind=SUMMARY_KIND,
            chat_id=admin_id,
            priority=Priority.CASE,
            due_at=now,
            now=now,
            ref_id=run.id,
            dedupe_key=f"{SUMMARY_KIND}:{run.id}:{admin_id}",
        )


class AnniversaryRenderer:
    """One thank-you; the ledger learns whether it went out."""

    def __init__(self, ctx: AdminContext) -> None:
        self._ctx = ctx

    async def render(self, item: OutboxItem) -> Outgoing | None:
        async with self._ctx.db.transaction() as conn:
            customer = await customers.get(conn, item.ref_id or 0)
            reason = None
            if customer is None or customer.forgotten_at is not None:
                reason = "forgotten"
            elif customer.opted_out:
                reason = "opted_out"
            elif customer.unreachable:
                reason = "unreachable"
            if reason is not None:
                # The worker expires the row; the ledger ends as failed so "left" reaches 0.
                await store.mark_failed(conn, item.id, self._ctx.now(), f"expired: {reason}")
                await after_change(conn, self._ctx, _run_id(item))
                return None
        return Outgoing(chat_id=item.chat_id, text=escape(str(item.data.get("text", ""))))

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        await store.mark_sent(conn, item.id, self._ctx.now())
        await after_change(conn, self._ctx, _run_id(item))

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        now = self._ctx.now()
        if isinstance(error, Unreachable):
            await customers.mark_unreachable(conn, item.chat_id, error.reason, now)
        await store.mark_failed(conn, item.id, now, error.reason)
        await after_change(conn, self._ctx, _run_id(item))


def _run_id(item: OutboxItem) -> int | None:
    value = item.data.get("run_id")
    return int(value) if value is not None else None


async def run_text(ctx: AdminContext, run_id: int, *, auto_title: bool = False) -> str | None:
    """Progress while the run is going, the summary once it is done."""
    async with ctx.db.read() as conn:
        run = await store.get_run(conn, run_id)
        if run is None:
            return None
        progress = await store.run_progress(conn, run_id)
    if run.status == store.RUNNING:
        day = date.fromisoformat(run.day)
        return service.progress_text(ctx.translator, ctx.language, day, progress)
    text = service.summary_text(ctx.translator, ctx.language, run, progress)
    at = ctx.settings.anniversary_auto_send_at
    if auto_title and run.mode == store.AUTO and at is not None:
        title = ctx.translator.get(ctx.language, "anniv-auto-title", time=at.strftime("%H:%M"))
        text = f"{title}\n{text}"
    return text


class ProgressRenderer:
    """Edits the admin's progress message with the counts as they are now."""

    def __init__(self, ctx: AdminContext) -> None:
        self._ctx = ctx

    async def render(self, item: OutboxItem) -> Outgoing | None:
        async with self._ctx.db.read() as conn:
            run = await store.get_run(conn, item.ref_id or 0)
        if run is None or run.message_id is None:
            return None
        text = await run_text(self._ctx, run.id)
        if text is None:
            return None
        return Outgoing(chat_id=item.chat_id, text=escape(text), edit_message_id=run.message_id)

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """Nothing to record: the run's counts live in the ledger."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """An edit with unchanged counts is refused by Telegram; that is harmless."""


class SummaryRenderer:
    """The summary of a run without a progress message, posted to one admin."""

    def __init__(self, ctx: AdminContext) -> None:
        self._ctx = ctx

    async def render(self, item: OutboxItem) -> Outgoing | None:
        text = await run_text(self._ctx, item.ref_id or 0, auto_title=True)
        return None if text is None else Outgoing(chat_id=item.chat_id, text=escape(text))

    async def on_sent(self, conn: Connection, item: OutboxItem, result: SendResult) -> None:
        """Nothing to record."""

    async def on_failed(self, conn: Connection, item: OutboxItem, error: SendError) -> None:
        """Recorded on the outbox row; an admin is not a customer."""


def admin_renderers(ctx: AdminContext) -> dict[str, Renderer]:
    return {
        store.OUTBOX_KIND: AnniversaryRenderer(ctx),
        PROGRESS_KIND: ProgressRenderer(ctx),
        SUMMARY_KIND: SummaryRenderer(ctx),
    }


# --- jobs ------------------------------------------------------------------------------


async def queue_day(
    conn: Connection,
    ctx: AdminContext,
    day_plan: service.AnniversaryPlan,
    *,
    mode: str,
    started_by: int | None,
) -> service.QueuedRun:
    """Queue a day's planned thank-yous (the ledger makes a second call queue nobody)."""
    now = ctx.now()
    settings = ctx.settings
    queued = await service.queue_plan(
        conn,
        day_plan,
        translator=ctx.translator,
        company=settings.company_name,
        now=now,
        due_at=now,
        quiet=CustomerQuietHours.from_settings(settings),
        mode=mode,
        started_by=started_by,
        template=settings.anniversary_text,
        default_language=settings.default_language,
        priority=Priority.BULK,
    )
    return queued


async def auto_send(ctx: AdminContext) -> service.QueuedRun | None:
    """ANNIVERSARY_AUTO_SEND_AT: once a day, at or after that local time, thank everyone."""
    at = ctx.settings.anniversary_auto_send_at
    if at is None:
        return None
    local = ctx.clock.now().astimezone(ctx.settings.zone)
    if local.time().replace(tzinfo=None) < at.replace(tzinfo=None):
        return None
    day = local.date()
    async with ctx.db.transaction() as conn:
        if await store.runs_on(conn, day, store.AUTO):
            return None
        day_plan = await service.plan_for(conn, day, ctx.settings.default_language)
        queued = await queue_day(conn, ctx, day_plan, mode=store.AUTO, started_by=None)
        if queued.queued == 0:
            run = await store.get_run(conn, queued.run_id)
            if run is not None:
                await queue_summary(conn, ctx, run)
    return queued


async def close_finished_runs(ctx: AdminContext) -> None:
    """After a restart: runs whose every thank-you ended get closed and summarized."""
    async with ctx.db.transaction() as conn:
        for run in await store.unfinished_runs(conn):
            await after_change(conn, ctx, run.id)
