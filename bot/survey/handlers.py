"""The customer answering: score buttons, the 'why?' as text, or Skip."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from bot.i18n import Texts
from bot.survey import typed
from bot.survey.callbacks import SurveyCallback, SurveyStep
from bot.survey.service import AnswerResult, Refusal, SurveyService
from bot.survey.texts import Wording, thanks_text
from bot.survey.views import step_view
from bot.telegram.media import has_media, label_of
from bot.telegram.once import IN_TRANSACTION, UpdateClaim
from storage.models import Survey
from storage.models import SurveyStep as AnsweredStep

logger = logging.getLogger(__name__)

_REFUSAL_KEYS = {
    Refusal.NOT_FOUND: "survey-closed",
    Refusal.CLOSED: "survey-closed",
    Refusal.NOT_YOURS: "survey-not-yours",
    Refusal.ALREADY_ANSWERED: "survey-already-answered",
    Refusal.OUT_OF_RANGE: "survey-closed",
    Refusal.DUPLICATE: "survey-already-answered",  # never shown: a duplicate does nothing
}


def get_buttons_router() -> Router:
    """Score buttons: the busiest updates, so the dispatcher tries this router first."""
    router = Router(name="survey-buttons")
    # The update's once-record is written in the answer's own transaction.
    router.callback_query.register(survey_button, SurveyCallback.filter(), flags=IN_TRANSACTION)
    # Unknown or outdated button data (an older bot version) is answered, not ignored.
    router.callback_query.register(stale_button, F.data.startswith("sv"))
    # A score typed instead of tapped, taken like the tap (before a case thread reads it).
    typed.register_scores(router)
    return router


def get_reason_router() -> Router:
    """Any other private text answers 'why?': a catch-all, so this router goes last.
    So does a voice message, photo, video... (bot/telegram/media.py): its label is the
    reason, and a detractor's case copies the media to the managers."""
    router = Router(name="survey-reason")
    # Text at a score step (a hint, or the reason after the NPS); an edited reason.
    typed.register_texts(router)
    router.message.register(reason_message, F.chat.type == "private", F.text, _awaiting_reason)
    router.message.register(reason_media, F.chat.type == "private", has_media, _awaiting_media)
    # Anything else falls through to unprompted feedback (bot/cases/handlers.py).
    return router


async def _awaiting_reason(message: Message, surveys: SurveyService) -> bool | dict[str, Any]:
    """The customer's survey asks 'why?' (no survey: not the survey's message)."""
    if message.from_user is None or (message.text or "").startswith("/"):
        return False
    pending = await surveys.awaiting_reason(message.from_user.id)
    return {"pending": pending} if pending is not None else False


async def _awaiting_media(message: Message, surveys: SurveyService) -> bool | dict[str, Any]:
    """Media while the customer's survey asks 'why?' or waits for a score."""
    if message.from_user is None:
        return False
    pending = await surveys.awaiting_reason(message.from_user.id)
    if pending is None:
        pending = await surveys.awaiting_score(message.from_user.id)
    return {"pending": pending} if pending is not None else False


async def survey_button(
    query: CallbackQuery,
    callback_data: SurveyCallback,
    texts: Texts,
    surveys: SurveyService,
    wording: Wording,
    update_claim: UpdateClaim | None = None,
) -> None:
    """Store the tapped score and move the message to the next question."""
    user_id = query.from_user.id
    survey_id, value = callback_data.survey_id, callback_data.value
    update_id = update_claim.update_id if update_claim else None
    if callback_data.step is SurveyStep.NPS:
        message_id = query.message.message_id if query.message else None
        result = await surveys.answer_nps(
            survey_id, user_id, value, message_id, update_id=update_id
        )
    elif callback_data.step is SurveyStep.CES:
        result = await surveys.answer_ces(survey_id, user_id, value, update_id=update_id)
    elif callback_data.step is SurveyStep.CSAT:
        result = await surveys.answer_csat(survey_id, user_id, value, update_id=update_id)
    else:
        result = await surveys.answer_reason(survey_id, user_id, None, update_id=update_id)
    if result.refusal is Refusal.DUPLICATE:
        return  # handled already, by this instance or another
    if update_claim is not None and update_id is not None:
        update_claim.recorded = True  # a failure from here on releases it
    if not result.ok:
        await _refuse(query, texts, result)
        return
    await query.answer()
    assert result.survey is not None
    await _show_next_step(query, texts, wording, result.survey)


async def _refuse(query: CallbackQuery, texts: Texts, result: AnswerResult) -> None:
    assert result.refusal is not None
    await query.answer(texts(_REFUSAL_KEYS[result.refusal]), show_alert=False)
    # The customer's own finished survey should not keep live buttons.
    if result.refusal is Refusal.CLOSED and result.survey is not None and query.message:
        await _safe_edit_markup(query)


async def _show_next_step(
    query: CallbackQuery, texts: Texts, wording: Wording, survey: Survey
) -> None:
    message = query.message
    if not isinstance(message, Message):
        return
    text, keyboard = step_view(texts, wording, survey)
    try:
        await message.edit_text(text, reply_markup=keyboard)
    except TelegramBadRequest as error:
        # Answers are already stored; a failed edit only costs the customer a tap.
        logger.warning(
            "survey %s: could not edit the survey message: %s", survey.id, error.message
        )


async def _safe_edit_markup(query: CallbackQuery) -> None:
    message = query.message
    if isinstance(message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=None)


async def stale_button(query: CallbackQuery, texts: Texts) -> None:
    """A button this version no longer understands, or data no button of ours carries."""
    if (query.data or "").startswith(f"{SurveyCallback.__prefix__}:"):
        # Today's prefix with data our keyboards never make: forged or garbled. The
        # message may be the customer's live survey, so nothing is changed.
        await query.answer(texts("survey-button-invalid"))
        return
    await query.answer(texts("survey-closed"))
    await _safe_edit_markup(query)


async def reason_message(
    message: Message, pending: Survey, texts: Texts, surveys: SurveyService, wording: Wording
) -> None:
    """A text from a customer whose survey asks 'why?' is the answer to it."""
    assert message.text is not None
    await _answer_reason(message, pending, texts, surveys, message.text, media=False)


async def reason_media(
    message: Message, pending: Survey, texts: Texts, surveys: SurveyService
) -> None:
    """A media message answers 'why?' as its label ("[voice 0:12]"), the message kept
    for the case to copy; acknowledged as a text reason is. At a score step after the
    NPS it is the reason, as words are there (bot/survey/typed.py); at the NPS the
    customer is asked for the score first."""
    label = label_of(message)
    assert label is not None
    if pending.step == AnsweredStep.NPS:
        await message.answer(typed.hint_text(texts, pending.step))
        return
    await _answer_reason(message, pending, texts, surveys, label, media=True)


async def _answer_reason(
    message: Message,
    pending: Survey,
    texts: Texts,
    surveys: SurveyService,
    reason: str,
    *,
    media: bool,
) -> None:
    assert message.from_user is not None
    early = pending.step != AnsweredStep.REASON
    result = await surveys.answer_reason(
        pending.id,
        message.from_user.id,
        reason,
        message_id=message.message_id,
        early=early,
        media=media,
    )
    if not result.ok or result.survey is None:
        await message.answer(texts("survey-no-open"))
        return
    survey = result.survey
    if survey.message_id is not None:
        with contextlib.suppress(TelegramBadRequest):
            await message.bot.edit_message_reply_markup(  # type: ignore[union-attr]
                chat_id=message.chat.id, message_id=survey.message_id, reply_markup=None
            )
    await message.answer(thanks_text(texts, survey.nps))
