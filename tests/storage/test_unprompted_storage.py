"""Unprompted feedback's storage on SQLite and PostgreSQL: a case without a survey (one
open per customer), where it is heard, what the webhooks say of it, and what it must
not touch (the NPS counters, the closing-the-loop counters and their rebuild); and
0025 making cases.survey_id nullable on a database that has cases already."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cases.service import CaseService, Direction
from bot.config import Settings
from bot.core.clock import FakeClock, to_ms
from storage import cases as case_repo
from storage import dashboard, locations, recovery, visits
from storage import webhooks as hooks
from storage.db import Connection, Database, migrate, migration_files
from tests.storage.test_privacy import add_answered_visit, add_customer
from tests.storage.test_webhooks import put
from tests.support.databases import database_before

UNPROMPTED_MIGRATION = 25
TID = 501


async def _counters(conn: Connection) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for table in ("recovery_daily", "recovery_monthly", "daily_rollups"):
        found[table] = await conn.fetch_all(f"SELECT * FROM {table} ORDER BY 1, 2, 3")
    return found


async def test_one_open_unprompted_case_per_customer_heard_where_they_last_were(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    cases = CaseService.from_settings(db, clock, settings)
    async with db.transaction() as conn:
        await put(conn, "crm", ["case.opened"])
        ann = await add_customer(conn, telegram_id=TID, name="Ann")
        await add_answered_visit(conn, ann, "pos-1", day="2026-11-20", nps=10)
        before = await _counters(conn)
        location = await visits.latest_location(conn, ann) or ""
        first = await cases.open_unprompted(conn, ann, location, clock.now())
        again = await cases.open_unprompted(conn, ann, location, clock.now())
        nobody = await add_customer(conn, telegram_id=TID + 1)
        assert await visits.latest_location(conn, nobody) is None
        other = await cases.open_unprompted(conn, nobody, "", clock.now())
    assert first is not None and again is None and other is not None
    async with db.read() as conn:
        case = await case_repo.get(conn, first)
        card = await case_repo.card(conn, first)
        assert await case_repo.location_of(conn, first) == "center"
        assert await case_repo.location_of(conn, other) == ""
        listed = await case_repo.open_cases(conn, to_ms(clock.now()), 10, ["center"])
        payload = [json.loads(d.payload) for d in await hooks.log(conn, limit=10)]
    assert case is not None and case.unprompted and case.unprompted_location == "center"
    assert card is not None and (card.location, card.nps, card.customer_telegram_id) == (
        "center",
        None,
        TID,
    )
    assert [item.id for item in listed] == [first]
    opened = next(p["data"]["case"] for p in payload if p["data"]["case"]["id"] == first)
    assert opened["unprompted"] is True and opened["response_id"] is None
    assert (opened["nps"], opened["ces"], opened["visit_id"]) == (None, None, None)
    assert opened["location"] == "center"

    # Worked like any case: taken, resolved; then the customer may open another.
    assert (await cases.take(first, 900, "Alice")).ok
    assert (await cases.resolve(first, 900, "called back", True, manager_name="Alice")).ok
    async with db.transaction() as conn:
        assert await cases.open_unprompted(conn, ann, "center", clock.now()) is not None
        # Neither NPS nor closing-the-loop counters saw any of it, nor does a rebuild.
        assert await _counters(conn) == before
        await recovery.rebuild(conn)
        assert await _counters(conn) == before


# --- 0025 on a database that has cases ------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
async def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database migrated up to, not including, 0025."""
    async with database_before(request.param, tmp_path, UNPROMPTED_MIGRATION) as database:
        yield database


async def test_0025_keeps_every_case_its_id_history_and_indexes(old_db: Database) -> None:
    now = int(datetime(2026, 11, 23, 12, tzinfo=UTC).timestamp() * 1000)
    async with old_db.transaction() as conn:
        ann = await add_customer(conn, telegram_id=TID)
        survey = await add_answered_visit(conn, ann, "pos-1", day="2026-11-23", nps=2)
        case_id = await case_repo.insert(
            conn, survey_id=survey, customer_id=ann, now=now, take_due_at=now + 1
        )
        assert case_id is not None
        await case_repo.add_event(conn, case_id, at=now, kind="opened")
        await conn.execute(
            "UPDATE cases SET reopened_count = 2, pending_draft = 'draft' WHERE id = :id",
            {"id": case_id},
        )
        before = await conn.fetch_all("SELECT * FROM cases ORDER BY id")
    assert await migrate(old_db) == [
        version for version, _, _ in migration_files() if version >= UNPROMPTED_MIGRATION
    ]
    async with old_db.transaction() as conn:
        # Not the text read before: PostgreSQL's cached plan of that one is stale now.
        after = await conn.fetch_all("SELECT * FROM cases c ORDER BY c.id")
        assert [{**row, "unprompted_location": None} for row in before] == after
        assert [e.kind for e in await case_repo.events(conn, case_id)] == ["opened"]
        # The survey's case is still the only one its survey may have; a case may now
        # have none, and ids go on from where they were.
        assert (
            await case_repo.insert(
                conn, survey_id=survey, customer_id=ann, now=now, take_due_at=now
            )
            is None
        )
        new = await case_repo.insert_unprompted(
            conn, customer_id=ann, location="", now=now, take_due_at=now
        )
        assert new is not None and new > case_id
        if old_db.dialect == "sqlite":
            indexes = await conn.fetch_all(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases'"
                " AND sql IS NOT NULL ORDER BY name"
            )
            assert len(indexes) == 7
            assert not await conn.fetch_all("PRAGMA foreign_key_check")


async def test_the_dashboard_lists_unprompted_cases_with_their_first_message(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    cases = CaseService.from_settings(db, clock, settings)
    async with db.transaction() as conn:
        ann = await add_customer(conn, telegram_id=TID, name="Ann")
        survey = await add_answered_visit(conn, ann, "pos-1", day="2026-11-20", nps=2)
        detractor = await cases.open_case(conn, survey, ann, clock.now(), location="center")
        case_id = await cases.open_unprompted(conn, ann, "center", clock.now())
        assert case_id is not None and detractor is not None
    for text in ("The music is too loud", "and the door"):
        assert (await cases.record_message(case_id, Direction.IN, TID, "Ann", text)).ok
    async with db.read() as conn:
        listed = await dashboard.open_cases_by_due(conn, ["center"])
        elsewhere = await dashboard.open_cases_by_due(conn, ["lviv"])
        counts = await dashboard.count_open_cases(conn, ["center"], now=0)
        # The screen's one read for a scope gives the same.
        assert await dashboard.open_cases_page(conn, ["center"], 0) == (listed, counts)
    assert [(c.id, c.unprompted, c.reason, c.nps) for c in listed] == [
        (detractor, False, None, 2),
        (case_id, True, "The music is too loud", None),
    ]
    assert elsewhere == [] and counts.open == 2


async def test_a_location_with_open_unprompted_feedback_is_not_deleted(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    cases = CaseService.from_settings(db, clock, settings)
    async with db.transaction() as conn:
        await locations.ensure(conn, "center", locations.LocationSource.API, 0)
        ann = await add_customer(conn, telegram_id=TID)
        case_id = await cases.open_unprompted(conn, ann, "center", clock.now())
        assert case_id is not None
        assert await locations.has_open_cases(conn, "center")
        assert not await locations.delete(conn, "center")
    assert (await cases.close_without_fix(case_id, 900, "spam", manager_name="Alice")).ok
    async with db.transaction() as conn:
        assert not await locations.has_open_cases(conn, "center")
        assert await locations.delete(conn, "center")
