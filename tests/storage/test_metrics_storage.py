"""The counts GET /metrics reads at scrape time, on SQLite and PostgreSQL: the outbox's
unfinished rows by kind and state, and the open cases by age; and every transaction
timed through the database's hook."""

from __future__ import annotations

import pytest

from storage import cases, outbox
from storage.db import Connection, Database
from storage.models import OutboxStatus
from tests.storage.test_cases_service import add_customer, add_survey

NOW = 1_800_000_000_000
HOUR = 3_600_000


async def _row(db: Database, kind: str, status: OutboxStatus, due_at: int = NOW) -> None:
    async with db.transaction() as conn:
        item = await outbox.enqueue(
            conn, kind=kind, chat_id=1, priority=0, due_at=due_at, now=NOW - HOUR
        )
        await conn.execute(
            "UPDATE outbox SET status = :status WHERE id = :id", {"status": status, "id": item}
        )


async def test_outbox_depth_counts_unfinished_rows_by_kind_and_state(db: Database) -> None:
    await _row(db, "survey", OutboxStatus.PENDING)  # due now
    await _row(db, "survey", OutboxStatus.PENDING, due_at=NOW - 5)  # overdue
    await _row(db, "survey", OutboxStatus.PENDING, due_at=NOW + 1)  # not yet
    await _row(db, "survey", OutboxStatus.SENDING)
    await _row(db, "alert", OutboxStatus.HELD)
    await _row(db, "alert", OutboxStatus.CLAIMED)
    for ended in (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.EXPIRED):
        await _row(db, "survey", ended)
    async with db.read() as conn:
        depth = sorted(await outbox.depth(conn, now=NOW))
    assert depth == [
        ("alert", "claimed", 1),
        ("alert", "held", 1),
        ("survey", "pending", 2),
        ("survey", "scheduled", 1),
        ("survey", "sending", 1),
    ]


async def test_open_cases_are_counted_by_age_and_closed_ones_not(db: Database) -> None:
    ages = [0, HOUR - 1, HOUR, 3 * HOUR, 30 * HOUR, 30 * HOUR]
    for number, age in enumerate([*ages, 2 * HOUR]):
        # (Those helpers' annotation says SQLite; their plain SQL runs on both.)
        customer = await add_customer(db, NOW, telegram_id=1000 + number)  # type: ignore[arg-type]
        survey = await add_survey(db, customer, NOW, key=f"v{number}")  # type: ignore[arg-type]
        async with db.transaction() as conn:
            case = await cases.insert(
                conn, survey_id=survey, customer_id=customer, now=NOW - age, take_due_at=NOW
            )
            if number == 1:
                await conn.execute(
                    "UPDATE cases SET status = 'taken' WHERE id = :id", {"id": case}
                )
            if number == len(ages):  # the last one is resolved: not open
                await conn.execute(
                    "UPDATE cases SET status = 'resolved' WHERE id = :id", {"id": case}
                )
    async with db.read() as conn:
        counts = await cases.open_by_age(conn, now=NOW, bounds_ms=[HOUR, 4 * HOUR, 24 * HOUR])
    # [0, 1h): 0 and 1h-1ms; [1h, 4h): 1h and 3h; [4h, 24h): none; older: two of 30h.
    assert counts == [2, 2, 0, 2]


async def test_every_transaction_is_timed_through_the_hook(db: Database) -> None:
    timed: list[float] = []
    db.on_transaction = timed.append
    try:
        async with db.transaction() as conn:
            await conn.execute("SELECT 1")
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                raise RuntimeError("rolled back: timed too")

        async def body(conn: Connection) -> int:
            return len(await conn.fetch_all("SELECT 1 AS one"))

        assert await db.run_in_transaction(body) == 1
        async with db.read() as conn:
            await conn.fetch_all("SELECT 1 AS one")  # a read is no transaction
    finally:
        db.on_transaction = None
    assert len(timed) == 3
    assert all(0 <= seconds < 5 for seconds in timed)
