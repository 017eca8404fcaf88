"""The anniversaries' Send / Cancel button and its callback data."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts


class AnnivAction(StrEnum):
    SEND = "s"
    CANCEL = "c"


class AnnivCallback(CallbackData, prefix="an1"):
    action: AnnivAction
    # The day as YYYYMMDD (no ':' allowed inside callback data fields).
    day: str


def anniversaries_keyboard(texts: Texts, day: str, count: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("anniv-button-send", count=count),
        callback_data=AnnivCallback(action=AnnivAction.SEND, day=day),
    )
    builder.button(
        text=texts("anniv-button-cancel"),
        callback_data=AnnivCallback(action=AnnivAction.CANCEL, day=day),
    )
    return builder.as_markup()
