"""Customers arriving: /start (plain, CRM link, counter QR), phone sharing, /stop, /help."""

from __future__ import annotations

import hashlib
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message, ReplyKeyboardRemove

from bot.config import Settings
from bot.core.clock import Clock
from bot.customers.keyboards import share_phone_keyboard
from bot.customers.service import (
    CUSTOMER_LINK_PREFIX,
    CustomerService,
    StartResult,
)
from bot.i18n import Texts
from bot.locations.qr import QR_LINK_PREFIX
from bot.locations.service import LocationService
from bot.survey.service import SurveyService
from bot.survey.texts import score_steps
from bot.visits.service import VisitRequest, VisitService
from storage.customers import TelegramProfile


def profile_of(message: Message) -> TelegramProfile:
    user = message.from_user
    assert user is not None
    return TelegramProfile(
        telegram_id=user.id,
        name=user.full_name,
        username=user.username,
        language=user.language_code,
    )


def get_router() -> Router:
    router = Router(name="start")
    router.message.filter(F.chat.type == "private")
    router.message.register(start_command, CommandStart())
    router.message.register(shared_contact, F.contact)
    router.message.register(stop_command, Command("stop"))
    router.message.register(help_command, Command("help"))
    return router


async def start_command(
    message: Message,
    command: CommandObject,
    texts: Texts,
    settings: Settings,
    clock: Clock,
    accounts: CustomerService,
    visits: VisitService,
    locations: LocationService,
) -> None:
    """Register the customer; a CRM link or a counter's signed QR code says more (a
    forged or altered QR link registers nothing: the customer just gets the welcome).

    One message answers it all (the greeting, the QR visit, the offer to share the
    phone with its button): in a rush every customer is answered by one send, and the
    handler is done once it is out (bot/outbox/replies.py paces it)."""
    payload = command.args or ""
    token = payload.removeprefix(CUSTOMER_LINK_PREFIX) if payload.startswith("c_") else None
    result = await accounts.start(profile_of(message), token)
    name = result.customer.name or ""
    parts = [_greeting(texts, settings, result, name)]
    if payload.startswith(QR_LINK_PREFIX):
        location = await locations.from_qr(payload)
        if location is not None:
            parts.append(
                await _register_qr_visit(
                    message, texts, clock, visits, location.code, location.name
                )
            )
    keyboard = None
    if result.customer.phone is None:
        parts.append(texts("start-share-phone"))
        keyboard = share_phone_keyboard(texts)
    await message.answer("\n\n".join(parts), reply_markup=keyboard)


def _greeting(texts: Texts, settings: Settings, result: StartResult, name: str) -> str:
    if result.linked is True:
        return texts("start-linked", name=name, company=settings.company_name)
    welcome = texts(
        "start-welcome",
        name=name,
        company=settings.company_name,
        taps=score_steps(settings.survey_steps),
    )
    if result.linked is False:
        return welcome + "\n\n" + texts("start-link-invalid")
    if result.opted_back_in:
        return texts("start-back")
    return welcome


async def _register_qr_visit(
    message: Message, texts: Texts, clock: Clock, visits: VisitService, location: str, name: str
) -> str:
    """Register the visit the QR code names; returns what to tell the customer."""
    assert message.from_user is not None
    # One QR visit per customer, location and hour: a second scan is the same visit.
    hour = clock.now().strftime("%Y%m%d%H")
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    outcome = await visits.register(
        VisitRequest(
            visit_key=f"qr:{message.from_user.id}:{digest}:{hour}",
            telegram_id=message.from_user.id,
            location=location,
            touchpoint="qr",
            source="qr",
        )
    )
    key = "start-visit-registered" if outcome.status == "scheduled" else "start-visit-skipped"
    return texts(key, location=escape(name))


async def shared_contact(message: Message, texts: Texts, accounts: CustomerService) -> None:
    """Save the customer's own phone so that visits reported by phone find them."""
    assert message.contact is not None and message.from_user is not None
    if message.contact.user_id != message.from_user.id:
        await message.answer(texts("start-phone-not-yours"))
        return
    customer = await accounts.share_phone(profile_of(message), message.contact.phone_number)
    if customer is None:
        await message.answer(texts("start-phone-not-yours"))
        return
    await message.answer(texts("start-phone-saved"), reply_markup=ReplyKeyboardRemove())


async def stop_command(message: Message, texts: Texts, surveys: SurveyService) -> None:
    """Opt out of every future survey."""
    assert message.from_user is not None
    done = await surveys.opt_out(message.from_user.id)
    await message.answer(texts("stop-done" if done else "stop-unknown"))


async def help_command(message: Message, texts: Texts, settings: Settings) -> None:
    """Say what the bot does and which commands a customer has."""
    await message.answer(texts("help-text", company=settings.company_name))
