"""CallbackData and keyboards of the admin tools (/customer, /forget, /broadcast_test)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Texts


class ForgetAction(StrEnum):
    ASK = "a"
    CONFIRM = "y"
    CANCEL = "n"


class ForgetCallback(CallbackData, prefix="fg1"):
    """An admin erasing customer #customer_id."""

    action: ForgetAction
    customer_id: int


class SelfForgetCallback(CallbackData, prefix="fs1"):
    """A customer erasing themselves: always the presser's own record, never an id."""

    action: ForgetAction


class SurveyPreviewCallback(CallbackData, prefix="ts1"):
    value: int


def customer_keyboard(texts: Texts, customer_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("admin-customer-button-forget"),
        callback_data=ForgetCallback(action=ForgetAction.ASK, customer_id=customer_id),
    )
    return builder.as_markup()


def forget_keyboard(texts: Texts, customer_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("admin-forget-button-confirm"),
        callback_data=ForgetCallback(action=ForgetAction.CONFIRM, customer_id=customer_id),
    )
    builder.button(
        text=texts("admin-forget-button-cancel"),
        callback_data=ForgetCallback(action=ForgetAction.CANCEL, customer_id=customer_id),
    )
    return builder.as_markup()


def self_forget_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("admin-forget-button-confirm"),
        callback_data=SelfForgetCallback(action=ForgetAction.CONFIRM),
    )
    builder.button(
        text=texts("admin-forget-button-cancel"),
        callback_data=SelfForgetCallback(action=ForgetAction.CANCEL),
    )
    return builder.as_markup()


def survey_preview_keyboard() -> InlineKeyboardMarkup:
    """The NPS buttons as a customer sees them; presses only answer "test"."""
    builder = InlineKeyboardBuilder()
    for score in range(11):
        builder.button(text=str(score), callback_data=SurveyPreviewCallback(value=score))
    builder.adjust(6, 5)
    return builder.as_markup()
