"""What a customer types instead of tapping, and the edits of what they typed.

- A score typed at a score step ("7", "7/10", " 9 ", "4/5") is taken exactly like the
  tap: the same service call (its once-record in the answer's transaction, the same
  guarded update, so a tap and a typed score racing store one), and the survey message
  moves to the next question as with a tap. A number out of the step's scale (or over
  another scale: "7/10" at CES) gets a hint.
- Other text at a score step: at the NPS it is not a reason yet (no score was given),
  so the customer is hinted to tap or type one; at a later score step (CES, CSAT) a
  text with letters is the reason, which ends the survey (the steps left stay
  unanswered, as in an expired survey); anything else gets the hint. A customer with
  an open case has their text go to the case thread first (bot/cases/handlers.py).
- An edit of the message that gave the reason replaces it while the survey's answer
  window lasts (SurveyService.edit_reason); later edits change nothing.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message

from bot.i18n import Texts
from bot.survey.service import AnswerResult, Refusal, SurveyService
from bot.survey.texts import Wording, thanks_text
from bot.survey.views import step_view
from bot.telegram.once import IN_TRANSACTION, UpdateClaim
from storage.models import Survey, SurveyStep

# The scale of each score step: lowest and highest score.
SCALES: dict[str, tuple[int, int]] = {
    SurveyStep.NPS: (0, 10),
    SurveyStep.CES: (1, 7),
    SurveyStep.CSAT: (1, 5),
}

# "7", " 9 ", "7/10", "4 / 5", "10!"; digits of any script (int() reads them).
_SCORE = re.compile(r"\s*(\d{1,2})\s*(?:/\s*(\d{1,2}))?\s*[.!]*\s*", re.UNICODE)
_LETTER = re.compile(r"[^\W\d_]")


def parse_score(text: str) -> tuple[int, int | None] | None:
    """A typed score and the scale's top it names ("7/10": 10), or None for text that
    is not a number."""
    match = _SCORE.fullmatch(text)
    if match is None:
        return None
    top = match.group(2)
    return int(match.group(1)), int(top) if top is not None else None


def score_for(step: str, typed: tuple[int, int | None]) -> int | None:
    """The score a typed number gives at `step`, or None when it is off the scale."""
    low, high = SCALES[step]
    value, top = typed
    if top is not None and top != high:
        return None
    return value if low <= value <= high else None


def register_scores(router: Router) -> None:
    # The once-record is written in the answer's transaction, as for a tap.
    router.message.register(
        typed_score, F.chat.type == "private", F.text, _typed_score_filter, flags=IN_TRANSACTION
    )


def register_texts(router: Router) -> None:
    router.message.register(score_step_text, F.chat.type == "private", F.text, _at_score_step)
    router.edited_message.register(reason_edited, F.chat.type == "private", F.text)


async def _typed_score_filter(message: Message, surveys: SurveyService) -> bool | dict[str, Any]:
    """A number typed while a survey of this customer waits for a score."""
    typed = parse_score(message.text or "")
    if typed is None or message.from_user is None:
        return False
    survey = await surveys.awaiting_score(message.from_user.id)
    return {"survey": survey, "typed": typed} if survey is not None else False


async def _at_score_step(message: Message, surveys: SurveyService) -> bool | dict[str, Any]:
    if message.from_user is None or (message.text or "").startswith("/"):
        return False
    survey = await surveys.awaiting_score(message.from_user.id)
    return {"survey": survey} if survey is not None else False


def hint_text(texts: Texts, step: str) -> str:
    low, high = SCALES[step]
    return texts("survey-type-score", low=str(low), high=str(high))


async def typed_score(
    message: Message,
    survey: Survey,
    typed: tuple[int, int | None],
    texts: Texts,
    surveys: SurveyService,
    wording: Wording,
    update_claim: UpdateClaim | None = None,
) -> None:
    assert message.from_user is not None
    score = score_for(survey.step, typed)
    update_id = update_claim.update_id if update_claim else None
    if score is None:
        if update_claim is not None and update_id is not None:
            if not await surveys.claim_update(update_id):
                return
            update_claim.recorded = True
        await message.answer(hint_text(texts, survey.step))
        return
    user_id = message.from_user.id
    if survey.step == SurveyStep.NPS:
        result = await surveys.answer_nps(survey.id, user_id, score, update_id=update_id)
    elif survey.step == SurveyStep.CES:
        result = await surveys.answer_ces(survey.id, user_id, score, update_id=update_id)
    else:
        result = await surveys.answer_csat(survey.id, user_id, score, update_id=update_id)
    if result.refusal is Refusal.DUPLICATE:
        return  # handled already, by this instance or another
    if update_claim is not None and update_id is not None:
        update_claim.recorded = True  # a failure from here on releases it
    if not result.ok or result.survey is None:
        await message.answer(texts(_refusal_key(result)))
        return
    await _show_step(message, texts, wording, result.survey)


def _refusal_key(result: AnswerResult) -> str:
    if result.refusal is Refusal.ALREADY_ANSWERED:
        return "survey-already-answered"
    return "survey-closed"


async def _show_step(message: Message, texts: Texts, wording: Wording, survey: Survey) -> None:
    """Move the survey message to the next question, as a tap does."""
    if survey.message_id is None or message.bot is None:
        return
    text, keyboard = step_view(texts, wording, survey)
    with contextlib.suppress(TelegramBadRequest):
        # Answers are already stored; a failed edit only costs the customer a tap.
        await message.bot.edit_message_text(
            text, chat_id=message.chat.id, message_id=survey.message_id, reply_markup=keyboard
        )


async def score_step_text(
    message: Message, survey: Survey, texts: Texts, surveys: SurveyService
) -> None:
    """Text (not a score) while the survey waits for a score."""
    assert message.from_user is not None and message.text is not None
    if survey.step == SurveyStep.NPS or _LETTER.search(message.text) is None:
        await message.answer(hint_text(texts, survey.step))
        return
    result = await surveys.answer_reason(
        survey.id, message.from_user.id, message.text, message_id=message.message_id, early=True
    )
    if not result.ok or result.survey is None:
        await message.answer(texts(_refusal_key(result)))
        return
    if result.survey.message_id is not None and message.bot is not None:
        with contextlib.suppress(TelegramBadRequest):
            await message.bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=result.survey.message_id, reply_markup=None
            )
    await message.answer(thanks_text(texts, result.survey.nps))


async def reason_edited(message: Message, surveys: SurveyService) -> None:
    """The customer edited a message: if it gave an open survey's reason, the edit
    replaces it; otherwise (another message, a closed survey) nothing changes."""
    assert message.text is not None
    await surveys.edit_reason(message.chat.id, message.message_id, message.text)
