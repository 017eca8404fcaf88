"""Answering a survey through SurveyService, on SQLite and on PostgreSQL: the guard
(whose survey it is, whether it is open), a press that overtakes the record of the
survey's send, the update's once-record written in the answer's transaction, and the
one-trip transaction that carries it (Database.run_in_transaction)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.cases.outbox import CaseOutbox
from bot.cases.service import CaseService
from bot.chats.service import ChatDirectory
from bot.core.clock import FakeClock, to_ms
from bot.core.policy import SurveyPolicy
from bot.core.quiet import CustomerQuietHours
from bot.i18n import load_translator
from bot.locations.routing import Routing
from bot.outbox.contracts import SendError, SendResult
from bot.survey.outbox import RenderContext, SurveyRenderer
from bot.survey.service import Refusal, SurveyService
from bot.survey.texts import Wording
from bot.visits.service import VisitRequest, VisitService
from storage import customers, outbox, updates
from storage.customers import TelegramProfile
from storage.db import Connection, Database, SqliteDatabase
from storage.models import OutboxItem, OutboxStatus, SurveyStatus
from storage.reports import rebuild_rollups
from tests.support.settings import make_settings

ANN, EVE = 501, 777
MESSAGE_ID = 4242
ROLLUPS = (
    "daily_rollups",
    "daily_segment_rollups",
    "monthly_segment_rollups",
    "funnel_daily",
    "funnel_monthly",
)


@dataclass
class World:
    db: Database
    clock: FakeClock
    surveys: SurveyService
    visits: VisitService
    renderer: SurveyRenderer

    def now(self) -> int:
        return to_ms(self.clock.now())


@pytest.fixture
def world(db: Database, clock: FakeClock, tmp_path: Path) -> World:
    """The real services, wired as bot/wiring.py wires them, on the `db` under test."""
    return make_world(db, clock, tmp_path)


def make_world(db: Database, clock: FakeClock, tmp_path: Path, **overrides: Any) -> World:
    """`world` with settings `overrides`."""
    settings = make_settings(tmp_path, **overrides)
    policy = SurveyPolicy.from_settings(settings)
    translator = load_translator()
    chats = ChatDirectory(db, clock, settings.manager_chat_id, settings.alert_escalation_chat_id)
    case_outbox = CaseOutbox(
        CaseService.from_settings(db, clock, settings),
        db,
        clock,
        translator,
        settings.default_language,
        routing=Routing(db, chats),
        admin_ids=list(settings.admin_ids),
        kick=lambda: None,
        quiet=CustomerQuietHours.from_settings(settings),
    )
    context = RenderContext(
        db=db,
        clock=clock,
        translator=translator,
        policy=policy,
        wording=Wording.from_settings(settings),
        manager_language=settings.default_language,
        zone=settings.zone,
    )
    return World(
        db,
        clock,
        SurveyService(
            db,
            clock,
            policy,
            on_detractor=case_outbox.on_detractor,
            on_media_reason=case_outbox.on_media_reason,
        ),
        VisitService(db, clock, policy),
        SurveyRenderer(context),
    )


async def queued_survey(w: World, telegram_id: int = ANN, key: str = "pos-1") -> int:
    """A customer and the survey of their visit, queued (scheduled, outbox row pending)."""
    async with w.db.transaction() as conn:
        for user in (ANN, EVE):
            await customers.upsert_telegram(
                conn, TelegramProfile(user, "Ann", None, "uk"), w.now()
            )
    outcome = await w.visits.register(VisitRequest(key, telegram_id=telegram_id))
    assert outcome.survey_id is not None, outcome
    return outcome.survey_id


async def start_sending(w: World) -> OutboxItem:
    """What the delivery worker does before the request: claim the row, mark it sending."""
    now = w.now()
    async with w.db.transaction() as conn:
        [item] = await outbox.claim_due(conn, now=now, owner="w1", lease_ms=60_000, limit=5)
        assert await outbox.start_sending(conn, [item.id], owner="w1", until=now + 300_000)
    return item


async def flush_sent(w: World, item: OutboxItem) -> None:
    """What the worker's outcome flush writes for a survey Telegram accepted."""
    async with w.db.transaction() as conn:
        await outbox.mark_sent_many(conn, [(item.id, MESSAGE_ID, w.now())])
        await w.renderer.on_sent_many(conn, [(item, SendResult(MESSAGE_ID))])


async def survey_row(w: World, survey_id: int) -> dict[str, Any]:
    async with w.db.read() as conn:
        row = await conn.fetch_one(
            "SELECT status, chat_id, message_id, language, nps, ces, step, closed_reason"
            " FROM surveys WHERE id = :id",
            {"id": survey_id},
        )
    assert row is not None
    return row


async def counters(w: World) -> dict[str, int]:
    async with w.db.read() as conn:
        funnel = await conn.fetch_all(
            "SELECT event, SUM(count) AS n FROM funnel_daily GROUP BY event"
        )
        total = await conn.fetch_one(
            "SELECT sent, answered, detractors FROM monthly_segment_rollups WHERE kind = 'total'"
        )
        cases = await conn.fetch_one("SELECT COUNT(*) AS n FROM cases")
    found = {f"funnel:{row['event']}": int(row["n"]) for row in funnel}
    if total is not None:
        found.update({key: int(value) for key, value in total.items()})
    assert cases is not None
    found["cases"] = int(cases["n"])
    return found


async def snapshot(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        table: await conn.fetch_all(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4")
        for table in ROLLUPS
        if table != "funnel_daily"  # no raw source: the rebuild keeps it
    }


async def assert_rollups_equal_rebuilt(w: World) -> None:
    async with w.db.transaction() as conn:
        maintained = await snapshot(conn)
        await rebuild_rollups(conn)
        assert await snapshot(conn) == maintained


# --- a press that overtakes the record of the send ---------------------------------


async def test_a_press_before_the_outcome_is_written_counts_and_the_flush_adds_nothing(
    world: World,
) -> None:
    survey_id = await queued_survey(world)
    item = await start_sending(world)
    # Telegram delivered the survey; the customer presses before the outcome flush.
    result = await world.surveys.answer_nps(survey_id, ANN, 3, MESSAGE_ID)
    assert result.ok, result
    assert await survey_row(world, survey_id) == {
        "status": SurveyStatus.SENT,
        "chat_id": ANN,
        "message_id": MESSAGE_ID,
        "language": "uk",
        "nps": 3,
        "ces": None,
        "step": "ces",
        "closed_reason": None,
    }
    expected = {
        "funnel:reported": 1,
        "funnel:scheduled": 1,
        "funnel:sent": 1,
        "funnel:answered": 1,
        "sent": 1,
        "answered": 1,
        "detractors": 1,
        "cases": 1,
    }
    assert await counters(world) == expected
    # The outcome arrives later: the survey is not recorded (or counted) twice.
    world.clock.advance(0.05)
    await flush_sent(world, item)
    assert await counters(world) == expected
    row = await survey_row(world, survey_id)
    assert (row["status"], row["message_id"], row["nps"]) == (SurveyStatus.SENT, MESSAGE_ID, 3)
    async with world.db.read() as conn:
        sent = await outbox.get(conn, item.id)
    assert sent is not None and sent.status == OutboxStatus.SENT
    assert (await world.surveys.answer_ces(survey_id, ANN, 6)).ok
    await assert_rollups_equal_rebuilt(world)


async def test_a_press_after_the_outcome_is_written_is_answered_as_before(world: World) -> None:
    survey_id = await queued_survey(world)
    await flush_sent(world, await start_sending(world))
    assert (await world.surveys.answer_nps(survey_id, ANN, 9, MESSAGE_ID)).ok
    counted = await counters(world)
    assert (counted["funnel:sent"], counted["sent"], counted["answered"]) == (1, 1, 1)
    await assert_rollups_equal_rebuilt(world)


async def test_a_failed_outcome_after_the_press_leaves_the_survey_answerable(
    world: World,
) -> None:
    """The outcome of a delivered survey may still be a failure (a network error after
    Telegram accepted it): the press proved it arrived, so the survey stays open."""
    survey_id = await queued_survey(world)
    item = await start_sending(world)
    assert (await world.surveys.answer_nps(survey_id, ANN, 8, MESSAGE_ID)).ok
    async with world.db.transaction() as conn:
        await outbox.finish(conn, item.id, OutboxStatus.FAILED, outbox.OUTCOME_UNKNOWN, 0)
        await world.renderer.on_failed(conn, item, SendError(outbox.OUTCOME_UNKNOWN))
    assert (await survey_row(world, survey_id))["status"] == SurveyStatus.SENT
    assert (await world.surveys.answer_ces(survey_id, ANN, 7)).ok
    assert (await counters(world)).get("funnel:failed", 0) == 0


async def test_a_strangers_press_is_refused_while_the_send_is_recorded(world: World) -> None:
    survey_id = await queued_survey(world)
    item = await start_sending(world)
    result = await world.surveys.answer_nps(survey_id, EVE, 0, MESSAGE_ID)
    assert result.refusal is Refusal.NOT_YOURS
    assert (await survey_row(world, survey_id))["status"] == SurveyStatus.SCHEDULED
    await flush_sent(world, item)
    assert (await world.surveys.answer_nps(survey_id, EVE, 0)).refusal is Refusal.NOT_YOURS
    row = await survey_row(world, survey_id)
    assert (row["status"], row["chat_id"], row["nps"]) == (SurveyStatus.SENT, ANN, None)


async def test_a_survey_not_being_sent_is_not_opened_by_a_press(world: World) -> None:
    """Only a send under way proves delivery: a survey whose row is still pending is
    closed to presses (none can exist), and nothing is recorded as sent."""
    survey_id = await queued_survey(world)
    result = await world.surveys.answer_nps(survey_id, ANN, 5, MESSAGE_ID)
    assert result.refusal is Refusal.CLOSED
    row = await survey_row(world, survey_id)
    assert (row["status"], row["chat_id"], row["nps"]) == (SurveyStatus.SCHEDULED, None, None)
    assert "sent" not in await counters(world)


@pytest.mark.parametrize(
    "ending", [SurveyStatus.EXPIRED, SurveyStatus.SKIPPED, SurveyStatus.COMPLETED]
)
async def test_an_ended_survey_stays_closed_even_while_its_row_is_sending(
    world: World, ending: SurveyStatus
) -> None:
    survey_id = await queued_survey(world)
    await start_sending(world)
    async with world.db.transaction() as conn:
        await conn.execute(
            "UPDATE surveys SET status = :status WHERE id = :id",
            {"status": ending, "id": survey_id},
        )
    result = await world.surveys.answer_nps(survey_id, ANN, 10, MESSAGE_ID)
    assert result.refusal is Refusal.CLOSED
    assert (await survey_row(world, survey_id))["status"] == ending


async def test_a_missing_survey_is_not_found(world: World) -> None:
    await queued_survey(world)
    assert (await world.surveys.answer_nps(999_999, ANN, 5)).refusal is Refusal.NOT_FOUND


# --- the update's once-record in the answer's transaction --------------------------


async def test_a_duplicate_update_changes_nothing(world: World) -> None:
    survey_id = await queued_survey(world)
    await flush_sent(world, await start_sending(world))
    first = await world.surveys.answer_nps(survey_id, ANN, 2, MESSAGE_ID, update_id=71)
    assert first.ok
    before = await counters(world)
    again = await world.surveys.answer_nps(survey_id, ANN, 2, MESSAGE_ID, update_id=71)
    assert again.refusal is Refusal.DUPLICATE
    # A different update with the same press is an ordinary double press.
    other = await world.surveys.answer_nps(survey_id, ANN, 2, MESSAGE_ID, update_id=72)
    assert other.refusal is Refusal.ALREADY_ANSWERED
    assert await counters(world) == before
    async with world.db.read() as conn:
        assert await updates.is_processed(conn, 71)
        assert await updates.is_processed(conn, 72)


async def test_every_refused_press_still_records_its_update(world: World) -> None:
    survey_id = await queued_survey(world)
    assert (await world.surveys.answer_nps(survey_id, ANN, 11, update_id=81)).refusal is (
        Refusal.OUT_OF_RANGE
    )
    assert (await world.surveys.answer_nps(survey_id, EVE, 1, update_id=82)).refusal is (
        Refusal.NOT_YOURS
    )
    assert (await world.surveys.answer_ces(555_555, ANN, 1, update_id=83)).refusal is (
        Refusal.NOT_FOUND
    )
    async with world.db.read() as conn:
        for update_id in (81, 82, 83):
            assert await updates.is_processed(conn, update_id)
    assert (await world.surveys.answer_nps(survey_id, EVE, 1, update_id=82)).refusal is (
        Refusal.DUPLICATE
    )


# --- run_in_transaction ------------------------------------------------------------


async def test_run_in_transaction_commits_and_returns(db: Database) -> None:
    async def body(conn: Connection) -> int:
        await updates.claim(conn, 1, now=5)
        row = await conn.fetch_one("SELECT COUNT(*) AS n FROM processed_updates")
        assert row is not None
        return int(row["n"])

    assert await db.run_in_transaction(body) == 1
    async with db.read() as conn:
        assert await updates.is_processed(conn, 1)


async def test_run_in_transaction_rolls_back_when_the_body_raises(db: Database) -> None:
    async def body(conn: Connection) -> None:
        await updates.claim(conn, 2, now=5)
        raise LookupError("the body failed")

    with pytest.raises(LookupError, match="the body failed"):
        await db.run_in_transaction(body)
    async with db.read() as conn:
        assert not await updates.is_processed(conn, 2)
    # The connection is usable afterwards: nothing was left open.
    async with db.transaction() as conn:
        assert await updates.claim(conn, 2, now=5)


async def test_on_sqlite_a_body_that_awaits_anything_else_is_refused(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "one-trip.sqlite3")
    await db.connect()
    try:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE t (x INTEGER)")

        async def body(conn: Connection) -> None:
            await conn.execute("INSERT INTO t (x) VALUES (1)")
            await asyncio.sleep(0)  # suspends: not allowed on the database's thread

        with pytest.raises(RuntimeError, match="awaited something other than its connection"):
            await db.run_in_transaction(body)
        async with db.read() as conn:
            assert await conn.fetch_all("SELECT x FROM t") == []
    finally:
        await db.close()


async def test_concurrent_bodies_each_commit_and_a_failing_one_is_rolled_back_alone(
    db: Database,
) -> None:
    """Each caller gets its own body's result or error; one that raises takes back only
    its own writes (on SQLite the trips queue on one thread, on PostgreSQL they run at
    once on the pool)."""

    async def claim(update_id: int) -> int:
        async def body(conn: Connection) -> int:
            assert await updates.claim(conn, update_id, now=5)
            if update_id % 3 == 0:
                raise LookupError(update_id)
            return update_id * 10

        return await db.run_in_transaction(body)

    results = await asyncio.gather(*(claim(i) for i in range(1, 31)), return_exceptions=True)
    for update_id, result in enumerate(results, start=1):
        if update_id % 3 == 0:
            assert isinstance(result, LookupError) and result.args == (update_id,)
        else:
            assert result == update_id * 10
    async with db.read() as conn:
        rows = await conn.fetch_all("SELECT update_id FROM processed_updates")
    assert {row["update_id"] for row in rows} == {i for i in range(1, 31) if i % 3}


async def test_answers_written_together_survive_one_that_fails(world: World) -> None:
    """Answers arriving together share one transaction; when it fails because of one
    of them (here a trigger refuses one survey's update), the others are written again
    on their own and kept, counted once; only the failing caller gets the error."""
    if not isinstance(world.db, SqliteDatabase):
        pytest.skip("the failure is injected with an SQLite trigger")
    first = await queued_survey(world, ANN, "pos-1")
    second = await queued_survey(world, EVE, "pos-2")
    async with world.db.transaction() as conn:
        items = await outbox.claim_due(conn, now=world.now(), owner="w1", lease_ms=9, limit=5)
        await outbox.start_sending(conn, [i.id for i in items], owner="w1", until=world.now() + 9)
        await conn.execute(
            f"CREATE TRIGGER refuse_second BEFORE UPDATE OF nps ON surveys"
            f" WHEN NEW.id = {second} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    results = await asyncio.gather(
        world.surveys.answer_nps(first, ANN, 9, MESSAGE_ID, update_id=1),
        world.surveys.answer_nps(second, EVE, 2, MESSAGE_ID + 1, update_id=2),
        return_exceptions=True,
    )
    assert not isinstance(results[0], BaseException) and results[0].ok
    assert isinstance(results[1], Exception) and "refused by the test" in str(results[1])
    assert (await survey_row(world, first))["nps"] == 9
    assert (await survey_row(world, second))["status"] == SurveyStatus.SCHEDULED
    counted = await counters(world)
    assert (counted["answered"], counted["sent"], counted["cases"]) == (1, 1, 0)
    async with world.db.read() as conn:
        assert await updates.is_processed(conn, 1)
        assert not await updates.is_processed(conn, 2)
