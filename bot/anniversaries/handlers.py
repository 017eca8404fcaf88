"""/anniversaries for admins in a private chat: a day's thank-yous previewed, then
queued by Send (never twice) with a progress message that the worker keeps current."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from bot.anniversaries import service
from bot.anniversaries.keyboards import AnnivAction, AnnivCallback, anniversaries_keyboard
from bot.anniversaries.outbox import AdminContext, queue_day
from bot.chats.access import IsAdmin
from bot.config import Settings
from bot.core.clock import Clock
from bot.i18n import Texts, Translator
from storage import anniversaries as store
from storage.db import Database


def get_router() -> Router:
    router = Router(name="anniversaries")
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.message.register(anniversaries_command, Command("anniversaries"))
    router.callback_query.register(anniversaries_button, AnnivCallback.filter())
    return router


def _message_of(query: CallbackQuery) -> Message | None:
    message = query.message
    return None if message is None or isinstance(message, InaccessibleMessage) else message


async def anniversaries_command(
    message: Message,
    command: CommandObject,
    manager_texts: Texts,
    settings: Settings,
    clock: Clock,
    db: Database,
    translator: Translator,
) -> None:
    """Show a day's anniversaries, a preview per language, and Send / Cancel."""
    try:
        day = service.parse_day(command.args) if command.args else None
    except ValueError:
        await message.answer(escape(manager_texts("anniv-date-invalid")))
        return
    day = day or service.today_in(settings.zone, clock)
    async with db.read() as conn:
        plan = await service.plan_for(conn, day, settings.default_language)
    previews = service.preview_texts(
        translator,
        plan,
        company=settings.company_name,
        template=settings.anniversary_text,
        default_language=settings.default_language,
    )
    text = service.admin_preview_text(translator, manager_texts.language, plan, previews)
    keyboard = None
    if plan.count:
        keyboard = anniversaries_keyboard(manager_texts, day.strftime("%Y%m%d"), plan.count)
    await message.answer(escape(text), reply_markup=keyboard)


async def anniversaries_button(
    query: CallbackQuery,
    callback_data: AnnivCallback,
    manager_texts: Texts,
    settings: Settings,
    clock: Clock,
    db: Database,
    translator: Translator,
    kick_delivery: Callable[[], None],
) -> None:
    """Send: queue the thank-yous (never twice) and turn the plan into a progress message."""
    message = _message_of(query)
    if message is None:
        await query.answer()
        return
    day = date.fromisoformat(callback_data.day)  # YYYYMMDD
    if callback_data.action is AnnivAction.CANCEL:
        await message.edit_text(escape(manager_texts("anniv-cancelled")))
        await query.answer()
        return
    ctx = AdminContext(db, clock, translator, settings)
    async with db.read() as conn:
        plan = await service.plan_for(conn, day, settings.default_language)
    if plan.count == 0:
        # Pressed again, or another admin was faster: the first progress message stays.
        await query.answer(manager_texts("anniv-nothing-to-send", date=day.isoformat()))
        return
    # The progress message exists before any thank-you can go out, so the worker's
    # later edits (progress, summary) can never be overwritten by this one.
    zero = store.RunProgress(sent=0, failed=0, left=plan.count)
    progress = service.progress_text(translator, manager_texts.language, day, zero)
    await message.edit_text(escape(progress))
    await query.answer()
    async with db.transaction() as conn:
        plan = await service.plan_for(conn, day, settings.default_language)
        queued = await queue_day(conn, ctx, plan, mode=store.MANUAL, started_by=query.from_user.id)
        if queued.queued:
            await store.set_run_message(conn, queued.run_id, message.chat.id, message.message_id)
    if not queued.queued:
        await message.edit_text(escape(manager_texts("anniv-nothing-to-send", date=str(day))))
        return
    kick_delivery()
