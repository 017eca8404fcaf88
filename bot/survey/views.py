"""What the survey message shows at each step: one place for a tap and a typed score."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import Texts
from bot.survey.keyboards import ces_keyboard, csat_keyboard, skip_reason_keyboard
from bot.survey.texts import Wording, ces_text, csat_text, reason_text, thanks_text
from storage.models import Survey, SurveyStep


def step_view(
    texts: Texts, wording: Wording, survey: Survey
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The survey message's text and buttons for the step the survey waits at now."""
    if survey.step == SurveyStep.CES:
        return ces_text(texts, wording, survey.nps or 0), ces_keyboard(survey.id)
    if survey.step == SurveyStep.CSAT:
        return csat_text(texts, wording, survey.nps or 0), csat_keyboard(survey.id)
    if survey.step == SurveyStep.REASON:
        return reason_text(texts, survey.nps), skip_reason_keyboard(survey.id, texts)
    return thanks_text(texts, survey.nps), None
