"""Admin tools in a private chat (ADMIN_IDS only, others get no answer): /admin,
/broadcast_test, /qr, /customer, /forget; and /forget for customers themselves."""

from __future__ import annotations

import io
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InaccessibleMessage, Message

from bot.admin.keyboards import (
    ForgetAction,
    ForgetCallback,
    SelfForgetCallback,
    SurveyPreviewCallback,
    customer_keyboard,
    forget_keyboard,
    self_forget_keyboard,
    survey_preview_keyboard,
)
from bot.chats.access import IsAdmin
from bot.config import Settings
from bot.core.clock import Clock, from_ms, to_ms
from bot.customers.service import CustomerService
from bot.i18n import Texts
from bot.locations.service import LocationService
from bot.survey.texts import Wording, nps_text
from storage import privacy
from storage.db import Database

NONE = "—"
# `/forget me`: an admin erasing their own data as a customer.
FORGET_ME = "me"


def get_router() -> Router:
    router = Router(name="admin")
    admin = Router(name="admin-only")
    admin.message.filter(IsAdmin())
    admin.callback_query.filter(IsAdmin())
    admin.message.register(help_command, Command("admin"))
    admin.message.register(broadcast_test_command, Command("broadcast_test"))
    admin.callback_query.register(survey_preview_button, SurveyPreviewCallback.filter())
    admin.message.register(qr_command, Command("qr"))
    admin.message.register(customer_command, Command("customer"))
    admin.message.register(forget_command, Command("forget"))
    admin.callback_query.register(forget_button, ForgetCallback.filter())
    customers = Router(name="self-forget")
    customers.message.filter(F.chat.type == "private")
    customers.message.register(self_forget_command, Command("forget"))
    customers.callback_query.register(self_forget_button, SelfForgetCallback.filter())
    router.include_routers(admin, customers)
    return router


def _message_of(query: CallbackQuery) -> Message | None:
    message = query.message
    return None if message is None or isinstance(message, InaccessibleMessage) else message


async def help_command(message: Message, manager_texts: Texts) -> None:
    """List the admin commands."""
    await message.answer(escape(manager_texts("admin-help")))


# --- survey preview, QR codes -----------------------------------------------------------


async def broadcast_test_command(
    message: Message, texts: Texts, manager_texts: Texts, wording: Wording
) -> None:
    """Send the admin the survey exactly as a customer sees it; nothing is recorded."""
    await message.answer(escape(manager_texts("admin-broadcast-test-intro")))
    await message.answer(nps_text(texts, wording, ""), reply_markup=survey_preview_keyboard())


async def survey_preview_button(query: CallbackQuery) -> None:
    """A press on the test survey: acknowledged, never stored."""
    await query.answer("test")


def qr_png(link: str) -> bytes:
    # Loaded by the first /qr, not at start-up.
    import segno

    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


async def qr_command(
    message: Message,
    command: CommandObject,
    manager_texts: Texts,
    bot: Bot,
    locations: LocationService,
) -> None:
    """A PNG QR code with the signed deep link that registers a visit at a catalogued
    location."""
    code = (command.args or "").strip()
    found = await locations.qr_payload(code) if code else None
    if found is None:
        key = "admin-qr-unknown" if code else "admin-qr-usage"
        await message.answer(escape(manager_texts(key, location=code)))
        return
    location, payload = found
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={payload}"
    caption = manager_texts("admin-qr-caption", location=location.name, link=link)
    await message.answer_photo(
        BufferedInputFile(qr_png(link), filename="qr.png"), caption=escape(caption)
    )


# --- customers --------------------------------------------------------------------------


async def _find_one(
    message: Message, manager_texts: Texts, db: Database, query: str
) -> int | None:
    async with db.read() as conn:
        found = await privacy.find_customers(conn, query)
    if not found:
        await message.answer(escape(manager_texts("admin-customer-not-found", query=query)))
        return None
    if len(found) > 1:
        text = manager_texts("admin-customer-ambiguous", count=len(found), query=query)
        await message.answer(escape(text))
        return None
    return found[0].id


def _day_of(ms: int | None, settings: Settings) -> str:
    return NONE if ms is None else from_ms(ms).astimezone(settings.zone).date().isoformat()


def card_text(texts: Texts, card: privacy.CustomerCard, settings: Settings) -> str:
    """The customer card: contacts, status, latest visits and answers, cases."""
    c = card.customer
    lang_name = texts(f"anniv-language-{c.language}") if c.language in ("en", "ru", "uk") else NONE
    lines = [
        texts("admin-customer-title", id=c.id),
        texts("admin-customer-name", name=c.name or NONE),
        texts(
            "admin-customer-contacts",
            telegram_id=str(c.telegram_id) if c.telegram_id else NONE,
            username=f"@{c.username}" if c.username else "",
            phone=c.phone or NONE,
            external_id=c.external_id or NONE,
        ),
        texts("admin-customer-since", date=c.customer_since or NONE, lang_name=lang_name),
        _status_line(texts, card, settings),
        texts("admin-customer-visits", count=card.visits_count),
    ]
    lines += [
        texts("admin-customer-visit-line", date=visit.day, location=visit.location or NONE)
        for visit in card.last_visits
    ]
    lines.append(texts("admin-customer-answers", count=card.answers_count))
    lines += [
        texts(
            "admin-customer-answer-line",
            date=answer.day,
            nps=NONE if answer.nps is None else str(answer.nps),
            ces=NONE if answer.ces is None else str(answer.ces),
            reason=answer.reason or NONE,
        )
        for answer in card.last_answers
    ]
    lines.append(texts("admin-customer-cases", count=card.cases_count, open=card.open_cases))
    return "\n".join(lines)


def _status_line(texts: Texts, card: privacy.CustomerCard, settings: Settings) -> str:
    if card.forgotten:
        date_text = _day_of(card.customer.forgotten_at, settings)
        return texts("admin-customer-status-forgotten", date=date_text)
    if card.opted_out:
        return texts("admin-customer-status-opted-out")
    if card.unreachable:
        reason = card.customer.unreachable_reason or NONE
        return texts("admin-customer-status-unreachable", reason=reason)
    return texts("admin-customer-status-active")


async def customer_command(
    message: Message,
    command: CommandObject,
    manager_texts: Texts,
    settings: Settings,
    db: Database,
) -> None:
    """Show a customer's card, with a button to forget them."""
    query = (command.args or "").strip()
    if not query:
        await message.answer(escape(manager_texts("admin-customer-usage")))
        return
    customer_id = await _find_one(message, manager_texts, db, query)
    if customer_id is None:
        return
    async with db.read() as conn:
        card = await privacy.customer_card(conn, customer_id)
    assert card is not None
    keyboard = None if card.forgotten else customer_keyboard(manager_texts, customer_id)
    await message.answer(escape(card_text(manager_texts, card, settings)), reply_markup=keyboard)


async def forget_command(
    message: Message,
    command: CommandObject,
    manager_texts: Texts,
    texts: Texts,
    db: Database,
    accounts: CustomerService,
) -> None:
    """Ask an admin to confirm erasing a customer's (or, with `me`, their own) data."""
    query = (command.args or "").strip()
    if not query:
        # A bare /forget from an admin is far more likely a forgotten argument than a
        # wish to be erased: explain both instead of offering to erase the admin.
        await message.answer(escape(manager_texts("admin-forget-usage")))
        return
    if query.lower() == FORGET_ME:
        await _ask_self_forget(message, texts, accounts)
        return
    customer_id = await _find_one(message, manager_texts, db, query)
    if customer_id is not None:
        await _ask_forget(message, manager_texts, customer_id)


async def _ask_forget(message: Message, manager_texts: Texts, customer_id: int) -> None:
    await message.answer(
        escape(manager_texts("admin-forget-confirm", id=customer_id)),
        reply_markup=forget_keyboard(manager_texts, customer_id),
    )


async def forget_button(
    query: CallbackQuery,
    callback_data: ForgetCallback,
    manager_texts: Texts,
    clock: Clock,
    db: Database,
) -> None:
    """Forget: ask (from the card), erase on confirmation, or cancel."""
    message = _message_of(query)
    await query.answer()
    if message is None:
        return
    customer_id = callback_data.customer_id
    if callback_data.action is ForgetAction.ASK:
        await _ask_forget(message, manager_texts, customer_id)
        return
    if callback_data.action is ForgetAction.CANCEL:
        await message.edit_text(escape(manager_texts("admin-forget-cancelled")))
        return
    async with db.transaction() as conn:
        erased = await privacy.forget_customer(conn, customer_id, to_ms(clock.now()))
    key = "admin-forget-done" if erased else "admin-forget-already"
    await message.edit_text(escape(manager_texts(key, id=customer_id)))


async def self_forget_command(message: Message, texts: Texts, accounts: CustomerService) -> None:
    """A customer asks to be forgotten: confirm first."""
    await _ask_self_forget(message, texts, accounts)


async def _ask_self_forget(message: Message, texts: Texts, accounts: CustomerService) -> None:
    assert message.from_user is not None
    customer = await accounts.by_telegram_id(message.from_user.id)
    if customer is None or customer.forgotten_at is not None:
        await message.answer(escape(texts("admin-forget-self-nothing")))
        return
    await message.answer(
        escape(texts("admin-forget-self-confirm")), reply_markup=self_forget_keyboard(texts)
    )


async def self_forget_button(
    query: CallbackQuery,
    callback_data: SelfForgetCallback,
    texts: Texts,
    clock: Clock,
    db: Database,
    accounts: CustomerService,
) -> None:
    """Erase the presser's own record (never anyone else's: no id travels in the button)."""
    message = _message_of(query)
    await query.answer()
    if message is None:
        return
    if callback_data.action is ForgetAction.CANCEL:
        await message.edit_text(escape(texts("admin-forget-cancelled")))
        return
    customer = await accounts.by_telegram_id(query.from_user.id)
    erased = False
    if customer is not None:
        async with db.transaction() as conn:
            erased = await privacy.forget_customer(conn, customer.id, to_ms(clock.now()))
    key = "admin-forget-self-done" if erased else "admin-forget-self-nothing"
    await message.edit_text(escape(texts(key)))
