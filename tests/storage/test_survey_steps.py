"""The survey's steps on SQLite and PostgreSQL: a score typed at the step that waits
for it, a reason given at a later score step, and an edited reason replacing the
stored one only while the survey's answer window lasts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.survey.service import Refusal
from storage import surveys
from storage.db import Database
from storage.reports import rebuild_rollups
from tests.storage.test_answers import (
    ANN,
    EVE,
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


async def sent_survey(w: World, key: str = "pos-1", telegram_id: int = ANN) -> int:
    survey_id = await queued_survey(w, telegram_id, key=key)
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


CSAT_STEPS = ("nps", "ces", "csat", "reason")


@pytest.fixture
def csat_world(db: Database, clock: FakeClock, tmp_path: Path) -> World:
    return make_world(db, clock, tmp_path, survey_steps=",".join(CSAT_STEPS))


async def csat_counters(w: World) -> list[tuple[str, int, int, int]]:
    """(table, csat_sum, csat_count, csat_satisfied) of the total rows and the fine one."""
    found = []
    async with w.db.read() as conn:
        for table, where in (
            ("daily_rollups", "1 = 1"),
            ("daily_segment_rollups", "kind = 'total'"),
            ("monthly_segment_rollups", "kind = 'total'"),
            ("monthly_segment_rollups", "kind = 'location'"),
        ):
            row = await conn.fetch_one(
                f"SELECT SUM(csat_sum) AS s, SUM(csat_count) AS n, SUM(csat_satisfied) AS ok"
                f" FROM {table} WHERE {where}"
            )
            assert row is not None
            found.append((table, int(row["s"] or 0), int(row["n"] or 0), int(row["ok"] or 0)))
    return found


async def test_csat_is_counted_in_every_rollup_tier_and_rebuilt_alike(
    csat_world: World,
) -> None:
    w = csat_world
    first = await sent_survey(w, "pos-1", ANN)
    assert (await w.surveys.answer_nps(first, ANN, 9)).ok
    # CSAT waits its turn: asked after the CES.
    assert (await w.surveys.answer_csat(first, ANN, 5)).refusal is Refusal.ALREADY_ANSWERED
    assert (await w.surveys.answer_ces(first, ANN, 6)).ok
    assert (await w.surveys.answer_csat(first, ANN, 6)).refusal is Refusal.OUT_OF_RANGE
    result = await w.surveys.answer_csat(first, ANN, 4)
    assert result.ok and result.survey is not None
    assert (result.survey.csat, result.survey.step) == (4, "reason")
    # A second press is refused and counts nothing.
    assert (await w.surveys.answer_csat(first, ANN, 1)).refusal is Refusal.ALREADY_ANSWERED
    second = await sent_survey(w, "pos-2", EVE)
    assert (await w.surveys.answer_nps(second, EVE, 3)).ok
    assert (await w.surveys.answer_ces(second, EVE, 2)).ok
    assert (await w.surveys.answer_csat(second, EVE, 2)).ok
    expected = [
        ("daily_rollups", 6, 2, 1),
        ("daily_segment_rollups", 6, 2, 1),
        ("monthly_segment_rollups", 6, 2, 1),
        ("monthly_segment_rollups", 6, 2, 1),
    ]
    assert await csat_counters(w) == expected
    await assert_rollups_equal_rebuilt(w)
    async with w.db.transaction() as conn:
        await conn.execute(
            "UPDATE daily_rollups SET csat_sum = 0, csat_count = 0, csat_satisfied = 0"
        )
        await rebuild_rollups(conn)
    assert await csat_counters(w) == expected


async def test_without_ces_the_nps_leads_to_the_next_step_asked(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    w = make_world(db, clock, tmp_path, survey_steps="nps,csat,reason")
    survey_id = await sent_survey(w)
    result = await w.surveys.answer_nps(survey_id, ANN, 7)
    assert result.ok and result.survey is not None and result.survey.step == "csat"
    assert (await w.surveys.answer_ces(survey_id, ANN, 5)).refusal is Refusal.ALREADY_ANSWERED
    result = await w.surveys.answer_csat(survey_id, ANN, 3)
    assert result.ok and result.survey is not None and result.survey.step == "reason"
    await assert_rollups_equal_rebuilt(w)
