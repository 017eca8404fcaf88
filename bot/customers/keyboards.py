"""The customer's "share my phone number" button, so visits reported by phone find them."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

from bot.i18n import Texts


def share_phone_keyboard(texts: Texts) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=texts("start-share-phone-button"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
