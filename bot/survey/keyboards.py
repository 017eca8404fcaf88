"""Builders of the bot's keyboards; texts come translated from the caller."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from bot.i18n import Texts
from bot.survey.callbacks import SurveyCallback, SurveyStep


def nps_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    """0..10 in two rows (6 + 5), so every label stays readable on a phone."""
    return _score_keyboard(survey_id, SurveyStep.NPS, [range(0, 6), range(6, 11)])


def ces_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    return _score_keyboard(survey_id, SurveyStep.CES, [range(1, 8)])


def csat_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    return _score_keyboard(survey_id, SurveyStep.CSAT, [range(1, 6)])


def _score_keyboard(survey_id: int, step: SurveyStep, rows: list[range]) -> InlineKeyboardMarkup:
    # Built directly and packed once: InlineKeyboardBuilder and a CallbackData per button
    # cost ~2 ms per survey, most of a paid broadcast's CPU per message. `value` is
    # SurveyCallback's last field, so its packed form ends with ":<value>".
    prefix = SurveyCallback(survey_id=survey_id, step=step, value=0).pack()[: -len(":0")]
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=str(score), callback_data=f"{prefix}:{score}")
                for score in row
            ]
            for row in rows
        ]
    )


def skip_reason_keyboard(survey_id: int, texts: Texts) -> InlineKeyboardMarkup:
    # Built directly, as the score keyboards are: the builder deep-copies its buttons,
    # a large share of answering a CES press.
    data = SurveyCallback(survey_id=survey_id, step=SurveyStep.SKIP_REASON).pack()
    button = InlineKeyboardButton(text=texts("survey-skip"), callback_data=data)
    return InlineKeyboardMarkup(inline_keyboard=[[button]])
