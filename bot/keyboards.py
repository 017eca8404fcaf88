"""Builders of the bot's keyboards; texts come translated from the caller."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import SurveyCallback, SurveyStep
from bot.i18n import Texts


def nps_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    """0..10 in two rows (6 + 5), so every label stays readable on a phone."""
    builder = InlineKeyboardBuilder()
    for score in range(11):
        builder.button(
            text=str(score),
            callback_data=SurveyCallback(survey_id=survey_id, step=SurveyStep.NPS, value=score),
        )
    builder.adjust(6, 5)
    return builder.as_markup()


def ces_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for score in range(1, 8):
        builder.button(
            text=str(score),
            callback_data=SurveyCallback(survey_id=survey_id, step=SurveyStep.CES, value=score),
        )
    builder.adjust(7)
    return builder.as_markup()


def skip_reason_keyboard(survey_id: int, texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("survey-skip"),
        callback_data=SurveyCallback(survey_id=survey_id, step=SurveyStep.SKIP_REASON),
    )
    return builder.as_markup()


def share_phone_keyboard(texts: Texts) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=texts("start-share-phone-button"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
