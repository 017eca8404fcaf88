"""A media reason on SQLite and PostgreSQL: the survey keeps its label and the
customer's message, and a detractor's case queues the copy to the managers once."""

from __future__ import annotations

from typing import Any

from bot.cases.copies import COPY_KIND
from storage import surveys
from tests.storage import test_answers
from tests.storage.test_answers import (
    ANN,
    EVE,
    MESSAGE_ID,
    World,
    flush_sent,
    queued_survey,
    start_sending,
)

world = test_answers.world  # the services on the `db` under test (both databases)

VOICE_ID = 77


async def _copies(w: World) -> list[dict[str, Any]]:
    async with w.db.read() as conn:
        return await conn.fetch_all(
            "SELECT chat_id, ref_id, payload, dedupe_key FROM outbox WHERE kind = :kind",
            {"kind": COPY_KIND},
        )


async def _sent_survey(w: World, key: str, telegram_id: int = ANN) -> int:
    survey_id = await queued_survey(w, telegram_id, key=key)
    await flush_sent(w, await start_sending(w))
    return survey_id


async def test_a_detractors_media_reason_is_its_label_and_one_copy(world: World) -> None:
    survey_id = await _sent_survey(world, "pos-1")
    assert (await world.surveys.answer_nps(survey_id, ANN, 2, MESSAGE_ID)).ok
    assert (await world.surveys.answer_ces(survey_id, ANN, 3)).ok
    result = await world.surveys.answer_reason(
        survey_id, ANN, "[voice 0:12]", message_id=VOICE_ID, media=True
    )
    assert result.ok and result.survey is not None
    assert (result.survey.reason, result.survey.reason_message_id) == ("[voice 0:12]", VOICE_ID)
    [copy] = await _copies(world)
    assert copy["chat_id"] < 0 and copy["ref_id"] == 1
    assert copy["dedupe_key"] == f"{COPY_KIND}:{ANN}:{VOICE_ID}"
    # The survey is over: a second answer stores nothing and copies nothing.
    again = await world.surveys.answer_reason(
        survey_id, ANN, "[photo]", message_id=VOICE_ID + 1, media=True
    )
    assert not again.ok
    assert len(await _copies(world)) == 1
    async with world.db.read() as conn:
        stored = await surveys.get(conn, survey_id)
    assert stored is not None and stored.reason_message_id == VOICE_ID


async def test_a_promoters_media_reason_and_a_text_reason_copy_nothing(world: World) -> None:
    promoter = await _sent_survey(world, "pos-1")
    assert (await world.surveys.answer_nps(promoter, ANN, 10, MESSAGE_ID)).ok
    assert (await world.surveys.answer_ces(promoter, ANN, 7)).ok
    assert (
        await world.surveys.answer_reason(promoter, ANN, "[photo]", message_id=5, media=True)
    ).ok
    detractor = await _sent_survey(world, "pos-2", EVE)
    assert (await world.surveys.answer_nps(detractor, EVE, 1, MESSAGE_ID)).ok
    assert (await world.surveys.answer_ces(detractor, EVE, 1)).ok
    # A text reason keeps its message (for edits), but only media is copied.
    result = await world.surveys.answer_reason(detractor, EVE, "rude", message_id=6)
    assert result.ok and result.survey is not None and result.survey.reason_message_id == 6
    assert await _copies(world) == []
