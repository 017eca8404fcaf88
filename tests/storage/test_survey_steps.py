"""The survey's steps on SQLite and PostgreSQL: a score typed at the step that waits
for it, a reason given at a later score step, and an edited reason replacing the
stored one only while the survey's answer window lasts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from storage import surveys
from storage.db import Database
from tests.storage.test_answers import (
    ANN,
    World,
    assert_rollups_equal_rebuilt,
    flush_sent,
    make_world,
    queued_survey,
    start_sending,
)

REASON_MESSAGE = 9001


@pytest.fixture
def world(db: Database, clock: FakeClock, tmp_path: Path) -> World:
    return make_world(db, clock, tmp_path)


async def sent_survey(w: World, key: str = "pos-1") -> int:
    survey_id = await queued_survey(w, key=key)
    await flush_sent(w, await start_sending(w))
    return survey_id


async def test_the_survey_waiting_for_a_score_is_found_at_its_step(world: World) -> None:
    survey_id = await sent_survey(world)
    async with world.db.read() as conn:
        found = await surveys.awaiting_score(conn, ANN, ("nps", "ces"))
        assert found is not None and found.id == survey_id
        assert await surveys.awaiting_score(conn, ANN, ("ces",)) is None
    assert (await world.surveys.answer_nps(survey_id, ANN, 8)).ok
    assert (await world.surveys.awaiting_score(ANN)) is not None
    assert (await world.surveys.answer_ces(survey_id, ANN, 6)).ok
    assert await world.surveys.awaiting_score(ANN) is None


async def test_a_reason_at_the_ces_step_ends_the_survey_only_when_early(world: World) -> None:
    survey_id = await sent_survey(world)
    assert (await world.surveys.answer_nps(survey_id, ANN, 4)).ok
    refused = await world.surveys.answer_reason(survey_id, ANN, "Cold coffee")
    assert not refused.ok
    result = await world.surveys.answer_reason(
        survey_id, ANN, "Cold coffee", message_id=REASON_MESSAGE, early=True
    )
    assert result.ok and result.survey is not None
    survey = result.survey
    assert (survey.nps, survey.ces, survey.reason, survey.status, survey.step) == (
        4,
        None,
        "Cold coffee",
        "completed",
        "done",
    )
    assert survey.reason_message_id == REASON_MESSAGE
    await assert_rollups_equal_rebuilt(world)


async def test_an_edited_reason_replaces_the_stored_one_until_the_survey_expires(
    world: World,
) -> None:
    survey_id = await sent_survey(world)
    assert (await world.surveys.answer_nps(survey_id, ANN, 2)).ok
    assert (await world.surveys.answer_ces(survey_id, ANN, 2)).ok
    assert (
        await world.surveys.answer_reason(survey_id, ANN, "Slow", message_id=REASON_MESSAGE)
    ).ok
    edited = await world.surveys.edit_reason(ANN, REASON_MESSAGE, "  Very slow  ")
    assert edited is not None and edited.reason == "Very slow"
    # The same text again, another message, another chat: nothing to change.
    assert await world.surveys.edit_reason(ANN, REASON_MESSAGE, "Very slow") is None
    assert await world.surveys.edit_reason(ANN, REASON_MESSAGE + 1, "Other") is None
    assert await world.surveys.edit_reason(ANN + 1, REASON_MESSAGE, "Other") is None
    assert await world.surveys.edit_reason(ANN, REASON_MESSAGE, "   ") is None
    world.clock.advance(timedelta(hours=24))
    assert await world.surveys.edit_reason(ANN, REASON_MESSAGE, "Too late") is None
    async with world.db.read() as conn:
        stored = await surveys.get(conn, survey_id)
    assert stored is not None and stored.reason == "Very slow"
    await assert_rollups_equal_rebuilt(world)
